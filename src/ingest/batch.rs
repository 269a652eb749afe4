//! One export file's ingest as one batch: known content and redeliveries, reading chunk by
//! chunk (order ids checked, rows validated and staged by month), the quarantine, and the
//! commit that writes the parts, supersedes restated orders and saves the manifest.

use std::path::Path;

use polars::prelude::*;

use super::prepare::read_prepared;
use super::report::IngestReport;
use super::validate::{self, Bounds, Field, FieldKind};
use super::{gate, orders, read, restate, stage};
use crate::config::{Pipeline, Source};
use crate::error::{EngineContext, Error, Result};
use crate::warehouse::manifest::{self, Manifest};
use crate::warehouse::parts;

/// Ingests one export file as one batch: the whole file is read, validated and staged before
/// anything is written, and the manifest commits it.
///
/// Long by design: the commit is one ordered sequence (quarantine, parts, superseded parts,
/// manifest, cleanup) whose order is what keeps a killed ingest recoverable; the steps before it
/// are their own functions.
pub(super) fn ingest_file(p: &Pipeline, file: &Path) -> Result<IngestReport> {
    let wh = p.warehouse_dir();
    let src = &p.source;
    let source_name = file.display().to_string();
    let mut manifest = Manifest::load(&wh)?;

    let (sha, bytes) = super::source_hash::sha256(&p.source_hashes_file(), file)?;
    if let Some(report) = known_content(&manifest, &source_name, &sha) {
        return Ok(report);
    }
    let warnings: Vec<String> = redelivery(&manifest, &source_name, src)
        .into_iter()
        .collect();
    let batch_id = format!("b{}", &sha[..16]);
    let mut staged = read_and_stage(src, file, &source_name, &wh.join(".staging"), &batch_id)?;
    let plan = match &src.columns.order_id {
        Some(_) => restate::plan(&wh, &manifest, &staged.stage.scans()?, src.restatements)?,
        None => restate::Plan::default(),
    };
    let (mut rejected, rows_quarantined) = rejected_rows(&mut staged, &plan, &source_name)?;
    let rows_rejected = rejected.as_ref().map_or(0, |r| r.height() as u64);
    if let Some(rejected) = &rejected {
        gate::refuse_if_broken(
            &source_name,
            staged.rows_read,
            rejected,
            src.max_rejected_share,
            "source.max_rejected_share",
        )?;
    }

    // The first write to a warehouse gives it its (empty) manifest first: a part is then never
    // without one unless the manifest was lost.
    Manifest::ensure_exists(&wh)?;
    let quarantine = match &mut rejected {
        Some(rows) if rows.height() > 0 => {
            let rel = format!("quarantine/{batch_id}.csv");
            manifest::Intent::announce(&wh, &batch_id, std::slice::from_ref(&rel))?;
            crate::util::atomic_file::write_csv(&wh.join(&rel), rows, false)?;
            Some(rel)
        }
        _ => None,
    };
    let footer = parts::PartFooter {
        table: "transactions".into(),
        batch_id: batch_id.clone(),
        month: String::new(),
        source_path: source_name.clone(),
        source_sha256: sha.clone(),
        source_bytes: bytes,
        ingested_at: chrono::Utc::now().to_rfc3339(),
        rows_read: staged.rows_read,
        rows_rejected,
        quarantine: quarantine.clone(),
        superseded_from: None,
    };
    let written = staged.stage.write_parts(&wh, &manifest, &plan, &footer)?;
    let superseding = restate::supersede(&wh, &manifest, &plan, &batch_id)?;
    // Staged rows = quarantined restatements + dropped as duplicates + written.
    let rows_duplicate = staged.stage.rows() - rows_quarantined - written.stored;
    let report = IngestReport {
        source: source_name,
        source_sha256: sha,
        batch_id: batch_id.clone(),
        already_ingested: false,
        retracted: false,
        rows_read: staged.rows_read,
        rows_accepted: written.stored - written.restated,
        rows_rejected,
        rows_duplicate,
        rows_restated: written.restated,
        orders_replaced: plan.orders_replaced(),
        quarantine,
        warnings,
    };
    restate::apply(&mut manifest, &superseding.rewritten);
    let mut batch = report.batch(bytes, written.parts);
    batch.ingested_at = footer.ingested_at.clone();
    batch.superseded = superseding.kept;
    manifest.batches.push(batch);
    manifest.save(&wh)?;
    // Committed: the parts the rewrite replaced are spare now (the intent names them, so a kill
    // before this point leaves them to the next run's cleanup).
    for f in &superseding.obsolete {
        let path = wh.join(f);
        std::fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
    }
    manifest::Intent::done(&wh, &batch_id)?;
    Ok(report)
}

/// The report of a file whose content is already in the warehouse, or was retracted.
fn known_content(manifest: &Manifest, source_name: &str, sha: &str) -> Option<IngestReport> {
    if let Some(b) = manifest.find_by_hash(sha) {
        return Some(IngestReport::already(
            source_name.to_string(),
            sha.to_string(),
            b.batch_id.clone(),
        ));
    }
    let r = manifest.find_retracted(sha)?;
    let mut report =
        IngestReport::already(source_name.to_string(), sha.to_string(), r.batch_id.clone());
    report.retracted = true;
    report.warnings.push(format!(
        "{} has the content of batch {}, retracted at {}: not ingested again (deliver a \
         corrected file, or remove this one)",
        report.source, r.batch_id, r.at
    ));
    Some(report)
}

/// The warning for a file ingested before under the same name with other content.
fn redelivery(manifest: &Manifest, source_name: &str, src: &Source) -> Option<String> {
    let prev = manifest
        .batches
        .iter()
        .rev()
        .find(|b| b.source_path == source_name)?;
    Some(format!(
        "{source_name} was ingested before as batch {} with different content; only rows \
         not already in the warehouse are added{}",
        prev.batch_id,
        if src.columns.order_id.is_some() {
            ", and orders it restates replace their earlier rows"
        } else {
            ""
        }
    ))
}

/// A file read, validated and staged by month, not yet written to the warehouse.
struct Staged {
    stage: stage::MonthStage,
    /// Rejected rows of each chunk, for the quarantine.
    rejected: Vec<DataFrame>,
    rows_read: u64,
    fields: Vec<Field>,
}

/// Reads `file` chunk by chunk into a staging folder of its batch.
fn read_and_stage(
    src: &Source,
    file: &Path,
    source_name: &str,
    staging: &Path,
    batch_id: &str,
) -> Result<Staged> {
    let mapped = src.columns.mapped();
    let today = crate::util::dates::to_day(chrono::Utc::now().date_naive());
    let mut chunks = ChunkIngest {
        src,
        fields: transaction_fields(src, today),
        source_name,
        orders: match (&src.columns.order_id, src.unique_order_id) {
            (Some(order), true) => Some(orders::OrderIds::new(order, &mapped)),
            _ => None,
        },
        stage: stage::MonthStage::create(staging.join(batch_id))?,
        rejected: Vec::new(),
        rows_read: 0,
        chunk_bytes: chunk_bytes(),
        file_bytes: 0,
    };
    read_prepared(file, src.encoding, staging, |path| {
        chunks.file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        read::for_each_raw(
            path,
            src.format,
            "source",
            &mapped,
            staging,
            chunks.chunk_bytes,
            |read| chunks.add(read),
        )
    })?;
    // The order-id table (about 12 bytes per distinct id) is dropped with `chunks`: it is not
    // needed to write the parts.
    Ok(Staged {
        stage: chunks.stage,
        rejected: chunks.rejected,
        rows_read: chunks.rows_read,
        fields: chunks.fields,
    })
}

/// Every rejected row of the file, in line order: those validation rejected, and the
/// restatements the policy quarantines; with how many of the staged rows the latter are.
fn rejected_rows(
    staged: &mut Staged,
    plan: &restate::Plan,
    source_name: &str,
) -> Result<(Option<DataFrame>, u64)> {
    let mut rejected = validate::concat_rejected(std::mem::take(&mut staged.rejected))?;
    let Some(q) = staged.stage.quarantined(plan)? else {
        return Ok((rejected, 0));
    };
    let rows_quarantined = q.height() as u64;
    let q = restate::rejects(&q, plan, &staged.fields, source_name)?;
    rejected = Some(match rejected {
        Some(r) => validate::concat_rejected(vec![
            r.clone(),
            q.select(r.get_column_names().into_iter().cloned())
                .engine(|| "listing restated orders for quarantine".into())?,
        ])?
        .expect("two frames")
        .sort(["line"], Default::default())
        .engine(|| "ordering rejected rows".into())?,
        None => q,
    });
    Ok((rejected, rows_quarantined))
}

/// One file's ingest in progress: each chunk is checked for reused order ids, validated,
/// converted to UTC, and its rows staged by month; rejected rows are kept for the quarantine.
struct ChunkIngest<'a> {
    src: &'a Source,
    fields: Vec<Field>,
    source_name: &'a str,
    orders: Option<orders::OrderIds>,
    stage: stage::MonthStage,
    rejected: Vec<DataFrame>,
    rows_read: u64,
    chunk_bytes: usize,
    /// Size of the prepared file, to size the order-id table from the first chunk.
    file_bytes: u64,
}

impl ChunkIngest<'_> {
    fn add(&mut self, read: read::RawRead) -> Result<()> {
        let (mut raw, malformed, header) = (read.frame, read.malformed, read.header);
        let mut extra = Vec::new();
        if let (Some(ids), Some(order)) = (&mut self.orders, &self.src.columns.order_id) {
            if self.rows_read == 0 && self.file_bytes > self.chunk_bytes as u64 {
                let chunks = self.file_bytes as f64 / self.chunk_bytes as f64;
                ids.reserve((chunks * raw.height() as f64 * 1.02) as usize);
            }
            ids.mark(&mut raw)?;
            extra.push((col(orders::REUSED), order.clone(), REUSED_ORDER.to_string()));
        }
        self.rows_read += (raw.height() + malformed.len()) as u64;
        let v = validate::validate(
            raw,
            &self.fields,
            validate::Times {
                format: self.src.timestamp_format.as_deref(),
                zone: self.src.timezone,
            },
            self.source_name,
            extra,
            true,
        )?;
        self.rejected.push(validate::with_malformed(
            v.rejected,
            &malformed,
            &header,
            self.source_name,
        )?);
        self.stage.add(v.accepted)
    }
}

const REUSED_ORDER: &str =
    "duplicate order id: an earlier row of this file has the same id with other values";

/// Bytes of text read per chunk of a large CSV export: about 280,000 rows of a typical
/// transaction export, the size that bounds ingest's memory without slowing it
/// (`bench/RESULTS.md` has the measurements). `CHURNFLOW_INGEST_CHUNK_BYTES` overrides it
/// (tests use tiny chunks to cross chunk boundaries).
pub fn chunk_bytes() -> usize {
    std::env::var("CHURNFLOW_INGEST_CHUNK_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(16 << 20)
}

/// The transaction export's fields, in warehouse column order, with the plausibility bounds of
/// `src` (`today` = the ingest day, for the future-date tolerance).
pub fn transaction_fields(src: &Source, today: i32) -> Vec<Field> {
    let c = &src.columns;
    let ms = |day: i32| day as f64 * 86_400_000.0;
    let mut ts = Field::required("ts", "timestamp", &c.timestamp, FieldKind::Timestamp);
    ts.bounds = Some(Bounds {
        min: ms(src.earliest_day),
        max: ms(today + src.max_future_days + 1) - 1.0,
        message: format!(
            "timestamp outside the plausible range {} .. {} (source.earliest_date, source.max_future_days)",
            crate::util::dates::format_day(src.earliest_day),
            crate::util::dates::format_day(today + src.max_future_days)
        ),
    });
    let mut amount = Field::required("amount", "amount", &c.amount, FieldKind::Number);
    amount.number_format = Some(src.amount_format.clone());
    amount.bounds = Some(Bounds {
        min: src.amount_min,
        max: src.amount_max,
        message: format!(
            "amount outside the plausible range {} .. {} (source.amount_min, source.amount_max)",
            src.amount_min, src.amount_max
        ),
    });
    vec![
        Field::required(
            "customer_id",
            "customer id",
            &c.customer_id,
            FieldKind::Text,
        ),
        ts,
        amount,
        Field::optional(
            "quantity",
            "quantity",
            c.quantity.as_ref(),
            FieldKind::Number,
        ),
        Field::optional("order_id", "order id", c.order_id.as_ref(), FieldKind::Text),
        Field::optional(
            "product_id",
            "product id",
            c.product_id.as_ref(),
            FieldKind::Text,
        ),
    ]
}
