//! What an ingest would do, without doing it (`run --dry-run`): each file the pipeline names,
//! and whether its content is new, already in the warehouse, or retracted. Reads the manifest
//! and hashes the files; writes nothing.

use std::path::PathBuf;

use crate::config::Pipeline;
use crate::error::Result;
use crate::ingest::prepare;
use crate::util::hashing::hash_file;
use crate::warehouse::manifest::Manifest;

/// What an ingest would do with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// New content: it would be validated and added as a new batch.
    New,
    /// New content at a path ingested before with other content (a redelivery).
    Changed { previous_batch: String },
    /// Content already in the warehouse as this batch: nothing would be done.
    Already { batch_id: String },
    /// Content of a retracted batch: refused again.
    Retracted { batch_id: String },
}

/// One file the pipeline names.
#[derive(Debug, Clone)]
pub struct PendingFile {
    /// `source` or a side table's name.
    pub table: &'static str,
    pub path: PathBuf,
    pub bytes: u64,
    pub status: Pending,
}

/// Every file of the source and the side tables, with what an ingest would do.
pub fn pending(p: &Pipeline) -> Result<Vec<PendingFile>> {
    let manifest = Manifest::load(&p.warehouse_dir())?;
    let mut out = Vec::new();
    for file in prepare::expand(&p.source.path)? {
        let (sha, bytes) = hash_file(&file)?;
        let name = file.display().to_string();
        let status = if let Some(b) = manifest.find_by_hash(&sha) {
            Pending::Already {
                batch_id: b.batch_id.clone(),
            }
        } else if let Some(r) = manifest.find_retracted(&sha) {
            Pending::Retracted {
                batch_id: r.batch_id.clone(),
            }
        } else if let Some(b) = manifest
            .batches
            .iter()
            .rev()
            .find(|b| b.source_path == name)
        {
            Pending::Changed {
                previous_batch: b.batch_id.clone(),
            }
        } else {
            Pending::New
        };
        out.push(PendingFile {
            table: "source",
            path: file,
            bytes,
            status,
        });
    }
    for t in [&p.customers, &p.arrears, &p.events].into_iter().flatten() {
        let table = t.kind.name();
        for file in prepare::expand(&t.path)? {
            let (sha, bytes) = hash_file(&file)?;
            let status = side_status(&manifest, table, &sha);
            out.push(PendingFile {
                table,
                path: file,
                bytes,
                status,
            });
        }
    }
    Ok(out)
}

fn side_status(manifest: &Manifest, table: &str, sha: &str) -> Pending {
    if let Some(b) = manifest.find_side_by_hash(sha, table) {
        return Pending::Already {
            batch_id: b.batch_id.clone(),
        };
    }
    match manifest.find_retracted(sha) {
        Some(r) => Pending::Retracted {
            batch_id: r.batch_id.clone(),
        },
        None => Pending::New,
    }
}

/// Lines for the terminal: one per file that would change something, one for all the rest.
pub fn describe(files: &[PendingFile]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut already = 0;
    for f in files {
        let path = f.path.display();
        match &f.status {
            Pending::New => lines.push(format!(
                "would ingest {} file {path} ({} bytes, new content)",
                f.table, f.bytes
            )),
            Pending::Changed { previous_batch } => lines.push(format!(
                "would ingest {} file {path} ({} bytes; ingested before as batch \
                 {previous_batch} with other content)",
                f.table, f.bytes
            )),
            Pending::Retracted { batch_id } => lines.push(format!(
                "would skip {path}: it has the content of retracted batch {batch_id}"
            )),
            Pending::Already { .. } => already += 1,
        }
    }
    if already > 0 {
        lines.push(format!(
            "{already} file(s) already ingested: nothing to do for them"
        ));
    }
    if lines.is_empty() {
        lines.push("no files to ingest".into());
    }
    lines
}

/// Whether an ingest would change the warehouse.
pub fn would_change(files: &[PendingFile]) -> bool {
    files
        .iter()
        .any(|f| matches!(f.status, Pending::New | Pending::Changed { .. }))
}
