//! `churnflow repair` when the manifest is lost or unreadable: the manifest is rebuilt from what
//! each part says of itself in its footer (batch, source, counts), and files no footer vouches
//! for are moved to `_orphans/`.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::warehouse::layout;
use crate::warehouse::manifest::{Batch, Intent, MANIFEST_FILE, Manifest, Part, Superseded};
use crate::warehouse::parts::{self, PartFooter};

/// What a repair did.
#[derive(Debug, Default)]
pub struct Repair {
    /// True when the manifest was rebuilt from the parts.
    pub rebuilt: bool,
    pub batches: usize,
    pub parts: usize,
    /// Batches set aside because a part was damaged (their sources are read again next night).
    pub dropped: Vec<String>,
    /// Files moved aside because no batch could vouch for them.
    pub orphaned: Vec<PathBuf>,
    /// The broken manifest, kept.
    pub broken_manifest: Option<PathBuf>,
}

/// Rebuilds the manifest from the parts' footers; the broken manifest is kept beside it.
///
/// Long by design: one pass over the parts' footers that regroups them into batches and keeps
/// what it cannot place.
pub fn rebuild(wh: &Path) -> Result<Repair> {
    let mut out = Repair {
        rebuilt: true,
        ..Repair::default()
    };
    let path = wh.join(MANIFEST_FILE);
    if path.exists() {
        let kept = wh.join(format!(
            "{MANIFEST_FILE}.broken-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ));
        fs::rename(&path, &kept).map_err(|e| Error::io("moving aside", &path, e))?;
        out.broken_manifest = Some(kept);
    }
    // (batch id) -> (footer, parts by month: (path, footer, part)).
    type Found = (PartFooter, BTreeMap<String, Vec<(PathBuf, Part)>>);
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    let mut superseded: Vec<(PartFooter, Part)> = Vec::new();
    for file in parts::part_files(wh)? {
        let footer = match parts::read_footer(&file) {
            Ok(Some(f)) => f,
            _ => {
                out.orphaned.push(file);
                continue;
            }
        };
        let (Ok(rows), Ok((sha, bytes))) = (
            parts::parquet_row_count(&file),
            crate::util::hashing::hash_file(&file),
        ) else {
            out.orphaned.push(file);
            continue;
        };
        let rel = file
            .strip_prefix(wh)
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        let part = Part {
            path: rel,
            month: footer.month.clone(),
            rows,
            sha256: Some(sha),
            bytes: Some(bytes),
        };
        if footer.table == "superseded" {
            superseded.push((footer, part));
            continue;
        }
        let entry = found
            .entry(footer.batch_id.clone())
            .or_insert_with(|| (footer.clone(), BTreeMap::new()));
        entry
            .1
            .entry(footer.month.clone())
            .or_default()
            .push((file, part));
    }
    let mut manifest = Manifest::empty();
    let batch_ids: HashSet<String> = found.keys().cloned().collect();
    let mut batches: Vec<(bool, Batch)> = Vec::new();
    for (id, (footer, months)) in found {
        let mut parts = Vec::new();
        for (_, mut versions) in months {
            // A kill between a rewrite's commit and its clean-up leaves two versions of a month:
            // the rewritten one (named `part-<batch>.<by>.parquet`, by a batch that exists) wins.
            versions
                .sort_by_key(|(f, _)| rewritten_by(f).is_some_and(|by| batch_ids.contains(&by)));
            let (_, newest) = versions.pop().expect("a month has a part");
            out.orphaned.extend(versions.into_iter().map(|(f, _)| f));
            parts.push(newest);
        }
        let stored: u64 = parts.iter().map(|p| p.rows).sum();
        let quarantine = footer.quarantine.clone().filter(|q| wh.join(q).exists());
        batches.push((
            footer.table != "transactions",
            Batch {
                batch_id: id,
                source_path: footer.source_path.clone(),
                source_sha256: footer.source_sha256.clone(),
                source_bytes: footer.source_bytes,
                ingested_at: footer.ingested_at.clone(),
                rows_read: footer.rows_read,
                rows_accepted: stored,
                rows_rejected: footer.rows_rejected,
                // Restated rows are not told apart from added ones by a footer.
                rows_duplicate: footer
                    .rows_read
                    .saturating_sub(footer.rows_rejected)
                    .saturating_sub(stored),
                rows_restated: 0,
                orders_replaced: 0,
                quarantine,
                parts,
                superseded: Vec::new(),
            },
        ));
    }
    batches.sort_by(|a, b| a.1.ingested_at.cmp(&b.1.ingested_at));
    for (side, b) in batches {
        if side {
            manifest.side_batches.push(b);
        } else {
            manifest.batches.push(b);
        }
    }
    for (footer, part) in superseded {
        match manifest
            .batches
            .iter_mut()
            .find(|b| b.batch_id == footer.batch_id)
        {
            Some(b) => b.superseded.push(Superseded {
                batch_id: footer.superseded_from.unwrap_or_default(),
                part,
            }),
            None => out.orphaned.push(wh.join(&part.path)),
        }
    }
    layout::move_aside(wh, &out.orphaned, &layout::orphans_dir(wh))?;
    for (p, _) in Intent::all(wh)? {
        let _ = fs::remove_file(p);
    }
    manifest.save(wh)?;
    out.batches = manifest.batches.len() + manifest.side_batches.len();
    out.parts = manifest.part_paths(wh).len();
    Ok(out)
}

/// The batch that rewrote a part, from its name `part-<batch>.<by>.parquet` (or `.r<by>`).
fn rewritten_by(file: &Path) -> Option<String> {
    let stem = file.file_stem()?.to_string_lossy().into_owned();
    let (_, by) = stem.split_once('.')?;
    Some(by.trim_start_matches('r').to_string())
}
