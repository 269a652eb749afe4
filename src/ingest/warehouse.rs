//! The Parquet warehouse: `transactions/month=YYYY-MM/part-<batch>.parquet` files (zstd), each
//! written under a temporary name, checked by reading its footer back, then renamed into place.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::atomic_file;
use crate::error::{EngineContext, Error, Result};
use crate::ingest::manifest::{Manifest, Part};

/// Canonical column order of warehouse files.
pub const CANONICAL: [&str; 7] = [
    "customer_id",
    "ts",
    "amount",
    "quantity",
    "order_id",
    "product_id",
    "source_batch",
];

/// Columns that identify a transaction for de-duplication (everything but the batch).
pub const IDENTITY: [&str; 6] = [
    "customer_id",
    "ts",
    "amount",
    "quantity",
    "order_id",
    "product_id",
];

/// Scan options: the files are listed explicitly and carry every column, so the `month=`
/// folder names must not be turned into an extra column.
pub fn scan_args() -> ScanArgsParquet {
    ScanArgsParquet {
        hive_options: HiveOptions::new_disabled(),
        ..ScanArgsParquet::default()
    }
}

/// Lazily scans the committed parts listed in `manifest`.
pub fn scan(warehouse: &Path, manifest: &Manifest) -> Result<Option<LazyFrame>> {
    scan_parts(warehouse, manifest, |_| true)
}

/// Lazily scans the committed parts of the given months only.
pub fn scan_months(
    warehouse: &Path,
    manifest: &Manifest,
    months: &[String],
) -> Result<Option<LazyFrame>> {
    scan_parts(warehouse, manifest, |p| months.contains(&p.month))
}

/// Each committed part as its own lazy scan, oldest month first (the native engine reads one
/// part at a time so that only one is in memory).
pub fn scan_each_part(warehouse: &Path, manifest: &Manifest) -> Result<Vec<LazyFrame>> {
    let mut parts: Vec<&Part> = manifest.batches.iter().flat_map(|b| &b.parts).collect();
    parts.sort_by(|a, b| a.month.cmp(&b.month));
    parts
        .into_iter()
        .map(|p| {
            let path = warehouse.join(&p.path);
            LazyFrame::scan_parquet_files(
                [PlRefPath::new(path.to_string_lossy().as_ref())]
                    .into_iter()
                    .collect(),
                scan_args(),
            )
            .engine(|| format!("scanning {}", path.display()))
        })
        .collect()
}

fn scan_parts(
    warehouse: &Path,
    manifest: &Manifest,
    keep: impl Fn(&Part) -> bool,
) -> Result<Option<LazyFrame>> {
    let paths: Vec<PlRefPath> = manifest
        .batches
        .iter()
        .flat_map(|b| &b.parts)
        .filter(|p| keep(p))
        .map(|p| PlRefPath::new(warehouse.join(&p.path).to_string_lossy().as_ref()))
        .collect();
    if paths.is_empty() {
        return Ok(None);
    }
    LazyFrame::scan_parquet_files(paths.into_iter().collect(), scan_args())
        .engine(|| format!("scanning the warehouse {}", warehouse.display()))
        .map(Some)
}

/// Writes one Parquet file atomically, verifying the footer's row count before renaming.
pub fn write_parquet_file(path: &Path, df: &mut DataFrame) -> Result<()> {
    let rows = df.height() as u64;
    write_atomically(path, rows, |file| {
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::full())
            .finish(df)
            .engine(|| format!("writing {}", path.display()))?;
        Ok(())
    })
}

/// Rows per batch of [`write_parquet_batches`]: polars' default row group.
pub const BATCH_ROWS: usize = 512 * 512;

/// Like [`write_parquet_file`] for a frame of `rows` rows built `BATCH_ROWS` at a time by
/// `batch(start, len)`: only one batch is ever in memory (a table of millions of customers
/// converted whole doubled the peak of scoring).
pub fn write_parquet_batches(
    path: &Path,
    rows: usize,
    batch: impl Fn(usize, usize) -> Result<DataFrame>,
) -> Result<()> {
    write_atomically(path, rows as u64, |file| {
        let first = batch(0, rows.min(BATCH_ROWS))?;
        let mut writer = ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::full())
            .batched(first.schema())
            .engine(|| format!("writing {}", path.display()))?;
        let mut next = Some(first);
        let mut start = 0;
        while let Some(df) = next.take() {
            writer
                .write_batch(&df)
                .engine(|| format!("writing {}", path.display()))?;
            start += df.height();
            if start < rows {
                next = Some(batch(start, (rows - start).min(BATCH_ROWS))?);
            }
        }
        writer
            .finish()
            .engine(|| format!("writing {}", path.display()))?;
        Ok(())
    })
}

/// Runs `write` on a temporary file next to `path`, syncs it, checks that its footer holds
/// `rows` rows, and renames it into place; on any failure the temporary file is removed.
fn write_atomically(path: &Path, rows: u64, write: impl FnOnce(&File) -> Result<()>) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))?;
    let tmp = atomic_file::temp_path(path);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        write(&file)?;
        file.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
        let found = parquet_row_count(&tmp)?;
        if found != rows {
            return Err(Error::Artifact(format!(
                "{} holds {found} rows after writing, expected {rows}",
                tmp.display()
            )));
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    atomic_file::commit(&tmp, path)
}

/// Row count from a Parquet footer (arrow-rs, independent of the writer).
pub fn parquet_row_count(path: &Path) -> Result<u64> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| {
        Error::Artifact(format!(
            "{} is not a readable Parquet file: {e}",
            path.display()
        ))
    })?;
    Ok(reader.metadata().file_metadata().num_rows() as u64)
}

/// Removes parts and temporary files that no committed manifest names (left by a crashed run).
pub fn remove_uncommitted(warehouse: &Path, manifest: &Manifest) -> Result<Vec<PathBuf>> {
    let committed: std::collections::HashSet<PathBuf> =
        manifest.part_paths(warehouse).into_iter().collect();
    let mut removed = Vec::new();
    let root = warehouse.join("transactions");
    if !root.exists() {
        return Ok(removed);
    }
    for month in fs::read_dir(&root).map_err(|e| Error::io("listing", &root, e))? {
        let month = month.map_err(|e| Error::io("listing", &root, e))?.path();
        if !month.is_dir() {
            continue;
        }
        for file in fs::read_dir(&month).map_err(|e| Error::io("listing", &month, e))? {
            let file = file.map_err(|e| Error::io("listing", &month, e))?.path();
            if !committed.contains(&file) {
                fs::remove_file(&file).map_err(|e| Error::io("removing", &file, e))?;
                removed.push(file);
            }
        }
    }
    Ok(removed)
}
