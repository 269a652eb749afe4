//! Ingest: export file -> validated, de-duplicated rows -> monthly Parquet parts, a quarantine
//! file for rejected rows, and a new manifest. Re-ingesting a file with the same content is a
//! no-op; a failure at any point leaves the previous warehouse as it was.

mod batch;
pub mod gate;
pub mod identity;
pub mod number;
pub mod orders;
pub mod pending;
pub mod prepare;
pub mod read;
mod report;
pub mod restate;
pub mod side;
pub mod source_hash;
pub mod stage;
pub mod timestamp;
pub mod validate;
/// Time zones moved to the domain floor; `ingest::zone` keeps naming them.
pub use crate::domain::zone;

use crate::config::Pipeline;
use crate::error::{Error, Result};
use crate::warehouse::manifest::Manifest;
use crate::warehouse::parts;

pub use prepare::read_prepared;
pub use report::IngestReport;

/// Ingests the transactions and every configured side table.
pub fn ingest_all(p: &Pipeline) -> Result<Vec<IngestReport>> {
    let mut reports = Vec::new();
    ingest_all_into(p, &mut reports)?;
    Ok(reports)
}

/// [`ingest_all`], pushing each file's report onto `done` once its batch is committed: when a
/// later file fails, `done` says what the night committed before it.
pub fn ingest_all_into(p: &Pipeline, done: &mut Vec<IngestReport>) -> Result<()> {
    ingest_into(p, done)?;
    for t in [&p.customers, &p.arrears, &p.events].into_iter().flatten() {
        for file in prepare::expand(&t.path)? {
            done.push(side::ingest_side(&p.warehouse_dir(), t, &file)?);
        }
    }
    Ok(())
}

/// Ingests every file the pipeline's source names (a file, a folder or a glob), each as its own
/// batch committed on its own. The caller holds the workdir lock.
pub fn ingest(p: &Pipeline) -> Result<Vec<IngestReport>> {
    let mut reports = Vec::new();
    ingest_into(p, &mut reports)?;
    Ok(reports)
}

fn ingest_into(p: &Pipeline, done: &mut Vec<IngestReport>) -> Result<()> {
    let wh = p.warehouse_dir();
    let manifest = Manifest::load(&wh)?;
    parts::verify(&wh, &manifest)?;
    let cleanup = parts::clean_uncommitted(&wh, &manifest)?;
    // Staged copies and spilled rows of a killed run: nothing refers to them, and a later file
    // would not reuse their batch folder, so they would otherwise stay forever.
    let staging = wh.join(".staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io("removing", &staging, e))?;
    }
    let files = prepare::expand(&p.source.path)?;
    let bar = crate::util::progress::bar(files.len() as u64, "ingesting files");
    let first = done.len();
    for file in &files {
        done.push(batch::ingest_file(p, file)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(first) = done.get_mut(first) {
        first.warnings.splice(0..0, cleanup);
    }
    Ok(())
}
