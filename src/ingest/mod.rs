//! Ingest: export file -> validated, de-duplicated rows -> monthly Parquet parts, a quarantine
//! file for rejected rows, and a new manifest. Re-ingesting a file with the same content is a
//! no-op; a failure at any point leaves the previous warehouse as it was.

pub mod gate;
pub mod identity;
pub mod number;
pub mod orders;
pub mod pending;
pub mod prepare;
pub mod read;
pub mod restate;
pub mod side;
pub mod stage;
pub mod timestamp;
pub mod validate;
/// Time zones moved to the domain floor; `ingest::zone` keeps naming them.
pub use crate::domain::zone;

use std::path::Path;

use polars::prelude::*;

use crate::config::{Pipeline, Source};
use crate::error::{Error, Result};
use crate::util::hashing::hash_file;
use crate::warehouse::manifest::{self, Batch, Manifest, Part};
use crate::warehouse::parts;
use validate::{Bounds, Field, FieldKind};

use crate::error::EngineContext;

/// What one ingest did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestReport {
    pub source: String,
    pub source_sha256: String,
    pub batch_id: String,
    /// True when this content had been ingested before and nothing was done.
    pub already_ingested: bool,
    /// True when this content's batch was retracted: nothing was done either.
    pub retracted: bool,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub rows_duplicate: u64,
    /// Rows that restated orders already in the warehouse (stored, replacing the earlier rows).
    pub rows_restated: u64,
    /// Orders of earlier batches replaced.
    pub orders_replaced: u64,
    pub quarantine: Option<String>,
    pub warnings: Vec<String>,
}

impl IngestReport {
    /// The manifest entry of this ingest, which wrote `parts`.
    pub fn batch(&self, source_bytes: u64, parts: Vec<Part>) -> Batch {
        let r = self;
        Batch {
            batch_id: r.batch_id.clone(),
            source_path: r.source.clone(),
            source_sha256: r.source_sha256.clone(),
            source_bytes,
            ingested_at: chrono::Utc::now().to_rfc3339(),
            rows_read: r.rows_read,
            rows_accepted: r.rows_accepted,
            rows_rejected: r.rows_rejected,
            rows_duplicate: r.rows_duplicate,
            rows_restated: r.rows_restated,
            orders_replaced: r.orders_replaced,
            quarantine: r.quarantine.clone(),
            parts,
            superseded: Vec::new(),
        }
    }
}

impl IngestReport {
    /// A file already in the warehouse that needs no one's attention (not retracted, no
    /// warning): such files are reported together, in one line.
    pub fn is_quiet_repeat(&self) -> bool {
        self.already_ingested && !self.retracted && self.warnings.is_empty()
    }

    /// The report of a file whose content was ingested before.
    pub fn already(source: String, sha: String, batch_id: String) -> Self {
        IngestReport {
            source,
            source_sha256: sha,
            batch_id,
            already_ingested: true,
            retracted: false,
            rows_read: 0,
            rows_accepted: 0,
            rows_rejected: 0,
            rows_duplicate: 0,
            rows_restated: 0,
            orders_replaced: 0,
            quarantine: None,
            warnings: vec![],
        }
    }
}

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

/// Runs `read` on the prepared (decompressed, UTF-8) copy of `file`; errors name `file`.
pub fn read_prepared<T>(
    file: &Path,
    encoding: prepare::Encoding,
    staging: &Path,
    read: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    let prepared = prepare::prepare(file, encoding, staging)?;
    read(&prepared.path).map_err(|e| match e {
        Error::Input { message, .. } => Error::Input {
            path: file.to_path_buf(),
            message,
        },
        other => other,
    })
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
        done.push(ingest_file(p, file)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(first) = done.get_mut(first) {
        first.warnings.splice(0..0, cleanup);
    }
    Ok(())
}

fn ingest_file(p: &Pipeline, file: &Path) -> Result<IngestReport> {
    let wh = p.warehouse_dir();
    let src = &p.source;
    let source_name = file.display().to_string();
    let mut manifest = Manifest::load(&wh)?;

    let (sha, bytes) = hash_file(file)?;
    if let Some(b) = manifest.find_by_hash(&sha) {
        return Ok(IngestReport::already(source_name, sha, b.batch_id.clone()));
    }
    if let Some(r) = manifest.find_retracted(&sha) {
        let mut report = IngestReport::already(source_name, sha, r.batch_id.clone());
        report.retracted = true;
        report.warnings.push(format!(
            "{} has the content of batch {}, retracted at {}: not ingested again (deliver a \
             corrected file, or remove this one)",
            report.source, r.batch_id, r.at
        ));
        return Ok(report);
    }
    let mut warnings = Vec::new();
    if let Some(prev) = manifest
        .batches
        .iter()
        .rev()
        .find(|b| b.source_path == source_name)
    {
        warnings.push(format!(
            "{source_name} was ingested before as batch {} with different content; only rows \
             not already in the warehouse are added{}",
            prev.batch_id,
            if src.columns.order_id.is_some() {
                ", and orders it restates replace their earlier rows"
            } else {
                ""
            }
        ));
    }
    let batch_id = format!("b{}", &sha[..16]);

    let staging = wh.join(".staging");
    let mapped = src.columns.mapped();
    let today = crate::util::dates::to_day(chrono::Utc::now().date_naive());
    let mut chunks = ChunkIngest {
        src,
        fields: transaction_fields(src, today),
        source_name: &source_name,
        orders: match (&src.columns.order_id, src.unique_order_id) {
            (Some(order), true) => Some(orders::OrderIds::new(order, &mapped)),
            _ => None,
        },
        stage: stage::MonthStage::create(staging.join(&batch_id))?,
        rejected: Vec::new(),
        rows_read: 0,
        chunk_bytes: chunk_bytes(),
        file_bytes: 0,
    };
    read_prepared(file, src.encoding, &staging, |path| {
        chunks.file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        read::for_each_raw(
            path,
            src.format,
            "source",
            &mapped,
            &staging,
            chunks.chunk_bytes,
            |read| chunks.add(read),
        )
    })?;
    let ChunkIngest {
        stage,
        rejected,
        rows_read,
        orders,
        fields,
        ..
    } = chunks;
    // The order-id table (about 12 bytes per distinct id) is not needed to write the parts.
    drop(orders);
    let plan = match &src.columns.order_id {
        Some(_) => restate::plan(&wh, &manifest, &stage.scans()?, src.restatements)?,
        None => restate::Plan::default(),
    };
    let mut rejected = validate::concat_rejected(rejected)?;
    let mut rows_quarantined = 0;
    if let Some(q) = stage.quarantined(&plan)? {
        rows_quarantined = q.height() as u64;
        let q = restate::rejects(&q, &plan, &fields, &source_name)?;
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
    }
    let rows_rejected = rejected.as_ref().map_or(0, |r| r.height() as u64);
    if let Some(rejected) = &rejected {
        gate::refuse_if_broken(
            &source_name,
            rows_read,
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
        rows_read,
        rows_rejected,
        quarantine: quarantine.clone(),
        superseded_from: None,
    };
    let written = stage.write_parts(&wh, &manifest, &plan, &footer)?;
    let superseding = restate::supersede(&wh, &manifest, &plan, &batch_id)?;
    // Staged rows = quarantined restatements + dropped as duplicates + written.
    let rows_duplicate = stage.rows() - rows_quarantined - written.stored;
    let report = IngestReport {
        source: source_name,
        source_sha256: sha,
        batch_id: batch_id.clone(),
        already_ingested: false,
        retracted: false,
        rows_read,
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
/// transaction export. Measured at 10^7 rows: 64 MB chunks peaked at 0.93 GB, 16 MB at 0.57 GB,
/// in the same time (4 MB: slower). `CHURNFLOW_INGEST_CHUNK_BYTES` overrides it (tests use tiny
/// chunks to cross chunk boundaries).
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
