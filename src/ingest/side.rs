//! Side tables (customer master, arrears snapshots, events): validated and quarantined like
//! transactions, stored as `warehouse/<table>/part-<batch>.parquet` and listed in the manifest.
//! Later deliveries win: the customer master keeps each customer's latest row, arrears each
//! (customer, day)'s latest snapshot.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use crate::config::{SideKind, SideTable};
use crate::error::{EngineContext, Result};
use crate::frame;
use crate::ingest::manifest::{Batch, Intent, Manifest};
use crate::ingest::{IngestReport, hash_file, reader, validate, warehouse};

/// Ingests one side table; a file with the same content as before is a no-op.
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
    let read = crate::ingest::read_prepared(file, t.encoding, &staging, |path| {
        reader::read_raw(path, t.format, table, &t.mapped(), &staging)
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
        crate::atomic_file::write_csv(&wh.join(&rel), &mut v.rejected.clone(), false)?;
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
    let part = warehouse::write_part(
        wh,
        &rel,
        &mut accepted,
        &warehouse::PartFooter {
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
    let mut batch = Batch::from_report(&report, bytes, vec![part]);
    batch.ingested_at = ingested_at;
    manifest.side_batches.push(batch);
    manifest.save(wh)?;
    Intent::done(wh, &report.batch_id)?;
    Ok(report)
}

/// All committed rows of a side table, latest delivery last; None when never ingested.
pub fn scan_side(wh: &Path, manifest: &Manifest, kind: SideKind) -> Result<Option<LazyFrame>> {
    let paths: Vec<PlRefPath> = manifest
        .side_batches
        .iter()
        .flat_map(|b| &b.parts)
        .filter(|p| p.month == kind.name())
        .map(|p| PlRefPath::new(wh.join(&p.path).to_string_lossy().as_ref()))
        .collect();
    if paths.is_empty() {
        return Ok(None);
    }
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_disabled(),
        ..ScanArgsParquet::default()
    };
    let lf = LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
        .engine(|| format!("scanning the {} table", kind.name()))?;
    let day = |c: &str| {
        col(c)
            .cast(DataType::Date)
            .cast(DataType::Int32)
            .alias("day")
    };
    Ok(Some(match kind {
        SideKind::Customers => lf,
        SideKind::Arrears => lf.with_column(day("as_of")).unique_stable_generic(
            Some(vec![col("customer_id"), col("day")]),
            UniqueKeepStrategy::Last,
        ),
        SideKind::Events => lf.with_column(day("ts")),
    }))
}

/// Name, owner, region and segment of a customer.
#[derive(Debug, Clone, Default)]
pub struct CustomerInfo {
    pub name: String,
    pub owner: String,
    pub region: String,
    pub segment: String,
}

/// The customer master (latest row per customer); empty when none was ingested.
pub fn customer_master(wh: &Path) -> Result<HashMap<String, CustomerInfo>> {
    let manifest = Manifest::load(wh)?;
    let Some(lf) = scan_side(wh, &manifest, SideKind::Customers)? else {
        return Ok(HashMap::new());
    };
    let df = lf
        .unique_stable_generic(Some(vec![col("customer_id")]), UniqueKeepStrategy::Last)
        .collect()
        .engine(|| "reading the customer master".into())?;
    let ids = frame::str_values(&df, "customer_id")?;
    let get = |c: &str| frame::str_values(&df, c);
    let (name, owner, region, segment) =
        (get("name")?, get("owner")?, get("region")?, get("segment")?);
    Ok(ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            (
                id,
                CustomerInfo {
                    name: name[i].clone(),
                    owner: owner[i].clone(),
                    region: region[i].clone(),
                    segment: segment[i].clone(),
                },
            )
        })
        .collect())
}
