//! Side tables (customer master, arrears snapshots, events): validated and quarantined like
//! transactions, stored as `warehouse/<table>/part-<batch>.parquet` and listed in the manifest.
//! Later deliveries win: the customer master keeps each customer's latest row, arrears each
//! (customer, day)'s latest snapshot.

use std::path::Path;

use polars::prelude::*;

use crate::config::SideTable;
use crate::error::{EngineContext, Result};
use crate::ingest::prepare::read_prepared;
use crate::ingest::read;
use crate::ingest::report::IngestReport;
use crate::ingest::validate;
use crate::util::hashing::hash_file;
use crate::warehouse::manifest::{Intent, Manifest};
use crate::warehouse::parts;

/// Ingests one side table; a file with the same content as before is a no-op.
///
/// Long by design: one ordered commit sequence, as for transactions (`batch::ingest_file`).
pub fn ingest_side(wh: &Path, t: &SideTable, file: &Path) -> Result<IngestReport> {
    let mut manifest = Manifest::load(wh)?;
    let source = file.display().to_string();
    let (sha, bytes) = hash_file(file)?;
    let table = t.kind.name();
    if let Some(b) = manifest.find_side_by_hash(&sha, table) {
        return Ok(IngestReport::already(source, sha, b.batch_id.clone()));
    }
    if let Some(r) = manifest.find_retracted(&sha) {
        let mut report = IngestReport::already(source, sha, r.batch_id.clone());
        report.retracted = true;
        report.warnings.push(format!(
            "{} has the content of batch {}, retracted at {}: not ingested again",
            report.source, r.batch_id, r.at
        ));
        return Ok(report);
    }
    let batch_id = format!("b{}", &sha[..16]);
    let staging = wh.join(".staging");
    let read = read_prepared(file, t.encoding, &staging, |path| {
        read::read_raw(path, t.format, table, &t.mapped(), &staging)
    })?;
    let rows_read = (read.frame.height() + read.malformed.len()) as u64;
    let mut v = validate::validate(
        read.frame,
        &t.fields,
        validate::Times {
            format: t.timestamp_format.as_deref(),
            zone: t.timezone,
        },
        &source,
        vec![],
        false,
    )?;
    v.rejected = validate::with_malformed(v.rejected, &read.malformed, &read.header, &source)?;
    let rows_rejected = v.rejected.height() as u64;
    crate::ingest::gate::refuse_if_broken(
        &source,
        rows_read,
        &v.rejected,
        t.max_rejected_share,
        &format!("{table}.max_rejected_share"),
    )?;
    let mut accepted = v
        .accepted
        .lazy()
        .unique_stable(None, UniqueKeepStrategy::First)
        .with_column(lit(batch_id.clone()).alias("source_batch"))
        .collect()
        .engine(|| format!("de-duplicating {source}"))?;
    let rows_duplicate = rows_read - rows_rejected - accepted.height() as u64;
    let quarantine = if rows_rejected > 0 {
        let rel = format!("quarantine/{table}-{batch_id}.csv");
        crate::util::atomic_file::write_csv(&wh.join(&rel), &mut v.rejected.clone(), false)?;
        Some(rel)
    } else {
        None
    };
    let rel = format!("{table}/part-{batch_id}.parquet");
    let ingested_at = chrono::Utc::now().to_rfc3339();
    Manifest::ensure_exists(wh)?;
    let mut announced = vec![rel.clone()];
    announced.extend(quarantine.clone());
    Intent::announce(wh, &batch_id, &announced)?;
    // For side tables the part's `month` names the table.
    let part = parts::write_part(
        wh,
        &rel,
        &mut accepted,
        &parts::PartFooter {
            table: table.into(),
            batch_id: batch_id.clone(),
            month: table.into(),
            source_path: source.clone(),
            source_sha256: sha.clone(),
            source_bytes: bytes,
            ingested_at: ingested_at.clone(),
            rows_read,
            rows_rejected,
            quarantine: quarantine.clone(),
            superseded_from: None,
        },
    )?;
    let report = IngestReport {
        source,
        source_sha256: sha,
        batch_id,
        already_ingested: false,
        retracted: false,
        rows_read,
        rows_accepted: rows_read - rows_rejected - rows_duplicate,
        rows_rejected,
        rows_duplicate,
        rows_restated: 0,
        orders_replaced: 0,
        quarantine,
        warnings: vec![],
    };
    let mut batch = report.batch(bytes, vec![part]);
    batch.ingested_at = ingested_at;
    manifest.side_batches.push(batch);
    manifest.save(wh)?;
    Intent::done(wh, &report.batch_id)?;
    Ok(report)
}
