//! Taking batches out of the warehouse: `churnflow retract` (a delivery that was wrong) and
//! `churnflow repair` (a lost or unreadable manifest, a damaged part). Both change the warehouse
//! through one manifest commit, and neither deletes data: files a batch no longer needs are
//! moved under `_retracted/` or `_damaged/`, files no manifest can vouch for under `_orphans/`.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{EngineContext, Error, Result};
use crate::warehouse::layout;
use crate::warehouse::manifest::{Batch, Intent, MANIFEST_FILE, Manifest, Part, Retracted};
use crate::warehouse::parts::{self, PartFooter};
pub use crate::warehouse::rebuild::Repair;

/// What a retract did.
#[derive(Debug)]
pub struct Retraction {
    pub batch_id: String,
    pub source_path: String,
    pub rows_removed: u64,
    /// Rows of earlier batches this batch had replaced, put back.
    pub rows_restored: u64,
    /// Where the batch's files went.
    pub moved_to: PathBuf,
}

/// Removes batch `batch_id` (transactions or a side table) in one commit: its parts leave the
/// manifest, rows it had superseded return to their batches (unless a later batch holds their
/// order now), its files move to `_retracted/<batch>/`, and its source is remembered so the same
/// file is not ingested again. With `remember` false (repair), the source may be ingested again.
pub fn retract(wh: &Path, batch_id: &str, remember: bool, to: &str) -> Result<Retraction> {
    let mut manifest = Manifest::load(wh)?;
    let side = manifest
        .side_batches
        .iter()
        .position(|b| b.batch_id == batch_id);
    let tx = manifest.batches.iter().position(|b| b.batch_id == batch_id);
    let batch = match (tx, side) {
        (Some(i), _) => manifest.batches.remove(i),
        (None, Some(i)) => manifest.side_batches.remove(i),
        (None, None) => {
            let known: Vec<&str> = manifest
                .batches
                .iter()
                .chain(&manifest.side_batches)
                .rev()
                .take(10)
                .map(|b| b.batch_id.as_str())
                .collect();
            return Err(Error::Usage(format!(
                "no batch {batch_id:?} in {}; the latest are: {}",
                wh.join(MANIFEST_FILE).display(),
                if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    };
    let mut obsolete: Vec<String> = batch.parts.iter().map(|p| p.path.clone()).collect();
    obsolete.extend(batch.superseded.iter().map(|s| s.part.path.clone()));
    obsolete.extend(batch.quarantine.clone());
    Intent::announce(wh, batch_id, &obsolete)?;
    let (restored, old_versions) = restore(wh, &mut manifest, &batch)?;
    if remember {
        manifest.retracted.push(Retracted {
            batch_id: batch.batch_id.clone(),
            source_path: batch.source_path.clone(),
            source_sha256: batch.source_sha256.clone(),
            at: chrono::Utc::now().to_rfc3339(),
        });
    }
    manifest.save(wh)?;
    let moved_to = wh.join(to).join(batch_id);
    let files: Vec<PathBuf> = obsolete.iter().map(|f| wh.join(f)).collect();
    layout::move_aside(wh, &files, &moved_to)?;
    // Parts that took restored rows back were rewritten whole: their old versions are spare.
    for f in old_versions {
        let path = wh.join(f);
        fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
    }
    Intent::done(wh, batch_id)?;
    Ok(Retraction {
        batch_id: batch.batch_id.clone(),
        source_path: batch.source_path.clone(),
        rows_removed: batch.parts.iter().map(|p| p.rows).sum(),
        rows_restored: restored,
        moved_to,
    })
}

/// Puts back the rows `batch` had superseded into their batches' parts, except rows of orders a
/// committed part now holds; the rewritten parts are announced in the intent of `batch`. Returns
/// the rows restored and the parts whose old versions the manifest no longer names.
///
/// Long by design: restoring a retracted batch's superseded rows is one ordered sequence, like a
/// commit.
fn restore(wh: &Path, manifest: &mut Manifest, batch: &Batch) -> Result<(u64, Vec<String>)> {
    let (mut restored, mut old_versions) = (0, Vec::new());
    for s in &batch.superseded {
        let Some(owner) = manifest
            .batches
            .iter()
            .position(|b| b.batch_id == s.batch_id)
        else {
            continue; // That batch was retracted too: nothing to return the rows to.
        };
        let rows = parts::read_part(&wh.join(&s.part.path))?;
        let ids = rows
            .column("order_id")
            .engine(|| "reading superseded orders".into())?
            .as_materialized_series()
            .unique()
            .engine(|| "reading superseded orders".into())?;
        // Orders some committed part holds now stay as they are.
        let mut held: HashSet<String> = HashSet::new();
        for path in manifest.part_paths(wh) {
            let found = LazyFrame::scan_parquet_files(
                [PlRefPath::new(path.to_string_lossy().as_ref())]
                    .into_iter()
                    .collect(),
                parts::scan_args(),
            )
            .and_then(|lf| {
                lf.select([col("order_id")])
                    .filter(col("order_id").is_in(lit(ids.clone()).implode(false), false))
                    .collect()
            })
            .engine(|| format!("reading {}", path.display()))?;
            held.extend(crate::util::frame::str_values(&found, "order_id")?);
        }
        let keep: Vec<bool> = crate::util::frame::opt_str_values(&rows, "order_id")?
            .iter()
            .map(|id| id.as_ref().is_none_or(|id| !held.contains(id)))
            .collect();
        let back = rows
            .filter(&BooleanChunked::from_slice("".into(), &keep))
            .engine(|| "selecting rows to restore".into())?;
        if back.height() == 0 {
            continue;
        }
        restored += back.height() as u64;
        let month = s.part.month.clone();
        let owner_batch = &mut manifest.batches[owner];
        let existing = owner_batch.parts.iter().position(|p| p.month == month);
        let (mut merged, footer_from) = match existing {
            Some(i) => {
                let path = wh.join(&owner_batch.parts[i].path);
                let mut df = parts::read_part(&path)?;
                df.vstack_mut(&back)
                    .engine(|| "merging restored rows".into())?;
                (df, path)
            }
            None => (back, wh.join(&s.part.path)),
        };
        merged = merged
            .sort(
                ["ts"],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .engine(|| "ordering restored rows".into())?;
        let mut footer: PartFooter = parts::read_footer(&footer_from)?.ok_or_else(|| {
            Error::Warehouse(format!(
                "{} has no churnflow footer; run `churnflow repair PIPELINE` first",
                footer_from.display()
            ))
        })?;
        footer.table = "transactions".into();
        footer.batch_id = s.batch_id.clone();
        footer.superseded_from = None;
        footer.month = month.clone();
        let rel = format!(
            "transactions/month={month}/part-{}.r{}.parquet",
            s.batch_id, batch.batch_id
        );
        Intent::announce(wh, &batch.batch_id, std::slice::from_ref(&rel))?;
        let part = parts::write_part(wh, &rel, &mut merged, &footer)?;
        match existing {
            Some(i) => {
                let old = std::mem::replace(&mut owner_batch.parts[i], part);
                // The old version is spare once committed: announce it as such.
                Intent::announce(wh, &batch.batch_id, std::slice::from_ref(&old.path))?;
                old_versions.push(old.path);
            }
            None => owner_batch.parts.push(part),
        }
    }
    Ok((restored, old_versions))
}

/// Repairs the warehouse: rebuilds a missing or unreadable manifest from the parts' footers, or
/// checks every committed part (size, rows, SHA-256) and sets aside each batch with a damaged
/// part, so that the next ingest reads its source again.
pub fn repair(wh: &Path) -> Result<Repair> {
    let path = wh.join(MANIFEST_FILE);
    let readable = path.exists() && crate::util::atomic_file::read_json::<Manifest>(&path).is_ok();
    if !readable && !parts::part_files(wh)?.is_empty() {
        return crate::warehouse::rebuild::rebuild(wh);
    }
    let mut out = Repair::default();
    let manifest = Manifest::load(wh)?;
    let mut damaged = Vec::new();
    for b in manifest.batches.iter().chain(&manifest.side_batches) {
        let bad = b.parts.iter().any(|p| !part_is_sound(&wh.join(&p.path), p));
        if bad {
            damaged.push(b.batch_id.clone());
        }
    }
    for id in &damaged {
        retract(wh, id, false, "_damaged")?;
    }
    out.dropped = damaged;
    let manifest = Manifest::load(wh)?;
    let warnings = parts::clean_uncommitted(wh, &manifest)?;
    if !warnings.is_empty() {
        out.orphaned.push(wh.join("_orphans"));
    }
    out.batches = manifest.batches.len() + manifest.side_batches.len();
    out.parts = manifest.part_paths(wh).len();
    Ok(out)
}

/// True when a part is there, holds its rows and matches its recorded size and checksum.
fn part_is_sound(path: &Path, part: &Part) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    if part.bytes.is_some_and(|b| b != meta.len()) {
        return false;
    }
    if !parts::parquet_row_count(path).is_ok_and(|n| n == part.rows) {
        return false;
    }
    match &part.sha256 {
        Some(sha) => crate::util::hashing::hash_file(path).is_ok_and(|(h, _)| &h == sha),
        None => true,
    }
}
