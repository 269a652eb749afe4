//! The Parquet warehouse: `transactions/month=YYYY-MM/part-<batch>.parquet` files (zstd), each
//! written under a temporary name, checked by reading its footer back, then renamed into place.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{EngineContext, Error, Result};
use crate::util::atomic_file;
use std::collections::HashSet;

use crate::warehouse::layout::{self, DATA_DIRS, collect_files, is_temporary};
use crate::warehouse::manifest::{Intent, Manifest, Part};

pub use crate::warehouse::footer::{PartFooter, parquet_row_count, read_footer, text_range};
pub use crate::warehouse::layout::part_files;

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

/// Each committed part as its own lazy scan, oldest month first (the native engine reads one
/// part at a time so that only one is in memory).
pub fn scan_each_part(warehouse: &Path, manifest: &Manifest) -> Result<Vec<LazyFrame>> {
    each_part_path(warehouse, manifest)
        .into_iter()
        .map(|path| {
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

/// The transaction parts' paths in the order [`scan_each_part`] scans them: by month, a month's
/// parts in batch order.
pub fn each_part_path(warehouse: &Path, manifest: &Manifest) -> Vec<std::path::PathBuf> {
    let mut parts: Vec<&Part> = manifest.batches.iter().flat_map(|b| &b.parts).collect();
    parts.sort_by(|a, b| a.month.cmp(&b.month));
    parts.iter().map(|p| warehouse.join(&p.path)).collect()
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
    write_with_footer(path, df, None)
}

fn write_with_footer(path: &Path, df: &mut DataFrame, footer: Option<&PartFooter>) -> Result<()> {
    let rows = df.height() as u64;
    let metadata = match footer {
        Some(f) => Some(KeyValueMetadata::from_static(vec![(
            crate::warehouse::footer::FOOTER_KEY.to_string(),
            serde_json::to_string(f)
                .map_err(|e| Error::Artifact(format!("cannot describe {}: {e}", path.display())))?,
        )])),
        None => None,
    };
    write_atomically(path, rows, |file| {
        ParquetWriter::new(file)
            .with_compression(compression())
            .with_statistics(part_statistics())
            .with_key_value_metadata(metadata)
            .finish(df)
            .engine(|| format!("writing {}", path.display()))?;
        Ok(())
    })
}

/// Writes a warehouse part at `rel` (relative to `warehouse`) with its footer and returns its
/// manifest entry, checksum included.
pub fn write_part(
    warehouse: &Path,
    rel: &str,
    df: &mut DataFrame,
    footer: &PartFooter,
) -> Result<Part> {
    let path = warehouse.join(rel);
    write_with_footer(&path, df, Some(footer))?;
    let (sha, bytes) = crate::util::hashing::hash_file(&path)?;
    Ok(Part {
        path: rel.to_string(),
        month: footer.month.clone(),
        rows: df.height() as u64,
        sha256: Some(sha),
        bytes: Some(bytes),
    })
}

/// Checks that every committed part is there with its recorded size and a readable footer
/// holding its recorded rows; a damaged part is an error (exit 3) naming the part, its batch and
/// source, and `churnflow repair`.
pub fn verify(warehouse: &Path, manifest: &Manifest) -> Result<()> {
    for b in manifest.batches.iter().chain(&manifest.side_batches) {
        for part in &b.parts {
            let path = warehouse.join(&part.path);
            let problem = match fs::metadata(&path) {
                Err(e) => Some(format!("cannot be read ({e})")),
                Ok(m) if part.bytes.is_some_and(|b| b != m.len()) => Some(format!(
                    "has {} bytes, {} when it was written (truncated or overwritten)",
                    m.len(),
                    part.bytes.unwrap_or_default()
                )),
                Ok(_) => match parquet_row_count(&path) {
                    Err(e) => Some(format!("is not readable: {e}")),
                    Ok(n) if n != part.rows => {
                        Some(format!("holds {n} rows, {} when it was written", part.rows))
                    }
                    Ok(_) => None,
                },
            };
            if let Some(problem) = problem {
                return Err(Error::Warehouse(format!(
                    "warehouse part {} (batch {}, from {}) {problem}; nothing was changed. Run \
                     `churnflow repair PIPELINE` to set that batch aside, so that the next \
                     ingest reads {} again",
                    path.display(),
                    b.batch_id,
                    b.source_path,
                    b.source_path
                )));
            }
        }
    }
    Ok(())
}

/// Reads a whole part (every column, in its stored order).
pub fn read_part(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    ParquetReader::new(file)
        .finish()
        .engine(|| format!("reading {}", path.display()))
}

/// Compression of written files: zstd at level 1. Level 3 (polars' default) made the parts 1%
/// smaller and took a third of ingest's part writing.
fn compression() -> ParquetCompression {
    ParquetCompression::Zstd(polars::polars_utils::compression::ZstdLevel::try_new(1).ok())
}

/// Footer statistics of written files: bounds and null counts (read by `footer` to skip parts
/// without reading them), without distinct counts (nothing reads them, and counting them was a
/// hash set of every value of every column).
fn part_statistics() -> StatisticsOptions {
    StatisticsOptions {
        distinct_count: false,
        ..StatisticsOptions::full()
    }
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
            .with_compression(compression())
            .with_statistics(part_statistics())
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

/// A file being written that keeps its first write error (see [`write_atomically`]).
struct Watched<'a> {
    file: &'a File,
    error: Option<std::io::Error>,
}

impl std::io::Write for Watched<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = (&mut &*self.file).write(buf);
        // An interrupted write is retried by the caller: not a failure.
        if let Err(e) = &r
            && e.kind() != std::io::ErrorKind::Interrupted
            && self.error.is_none()
        {
            self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
        }
        r
    }

    fn flush(&mut self) -> std::io::Result<()> {
        (&mut &*self.file).flush()
    }
}

/// Runs `write` on a temporary file next to `path`, syncs it, checks that its footer holds
/// `rows` rows, and renames it into place; on any failure the temporary file is removed.
fn write_atomically(
    path: &Path,
    rows: u64,
    write: impl FnOnce(&mut Watched) -> Result<()>,
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))?;
    atomic_file::sweep_leftovers(path);
    let tmp = atomic_file::temp_path(path);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        let mut watched = Watched {
            file: &file,
            error: None,
        };
        let written = write(&mut watched);
        // The cause first: polars reports a failed footer write as "invalid thrift: transport
        // error", which would hide a full disk.
        if let Some(e) = watched.error {
            return Err(Error::io("writing", path, e));
        }
        written?;
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

/// Clears what killed writes left, deleting only what is provably theirs: temporary files
/// (never committed by definition) and the files an intent announced that the manifest does not
/// name. Any other file no manifest names cannot be proven spare: it is moved to
/// `_orphans/<time>/` (never deleted) and listed in the returned warnings.
pub fn clean_uncommitted(warehouse: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let named: HashSet<PathBuf> = manifest.named_files(warehouse).into_iter().collect();
    for (intent_path, intent) in Intent::all(warehouse)? {
        for f in &intent.files {
            let path = warehouse.join(f);
            if !named.contains(&path) && path.exists() {
                fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
            }
        }
        fs::remove_file(&intent_path).map_err(|e| Error::io("removing", &intent_path, e))?;
    }
    let mut temps = Vec::new();
    for table in DATA_DIRS.iter().chain(&["quarantine"]) {
        collect_files(&warehouse.join(table), &is_temporary, &mut temps)?;
    }
    for t in temps {
        fs::remove_file(&t).map_err(|e| Error::io("removing", &t, e))?;
    }
    let mut warnings = Vec::new();
    let unknown: Vec<PathBuf> = part_files(warehouse)?
        .into_iter()
        .filter(|p| !named.contains(p))
        .collect();
    if !unknown.is_empty() {
        let dest = layout::orphans_dir(warehouse);
        layout::move_aside(warehouse, &unknown, &dest)?;
        warnings.push(format!(
            "{} warehouse file(s) that no manifest names were moved to {} (kept, not deleted; \
             not read)",
            unknown.len(),
            dest.display()
        ));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parts_order_id_range_is_read_from_its_footer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.parquet");
        let mut df = df!(
            "order_id" => [Some("SO17"), None, Some("SO02"), Some("SO33")],
            "amount" => [1.0, 2.0, 3.0, 4.0],
        )
        .unwrap();
        write_parquet_file(&path, &mut df).unwrap();
        let range = text_range(&path, "order_id").unwrap();
        assert_eq!(range, Some((b"SO02".to_vec(), b"SO33".to_vec())));
        assert_eq!(text_range(&path, "nope").unwrap(), None);
    }

    /// A file written a batch at a time holds exactly the rows of the whole frame, in order,
    /// for no rows, one row, and more than one batch.
    #[test]
    fn a_file_written_in_batches_holds_the_whole_frame() {
        let dir = tempfile::tempdir().unwrap();
        for rows in [0, 1, BATCH_ROWS + 3] {
            let path = dir.path().join(format!("b{rows}.parquet"));
            let whole: Vec<i64> = (0..rows as i64).map(|i| i * 7 - 3).collect();
            write_parquet_batches(&path, rows, |start, len| {
                Ok(df!("x" => &whole[start..start + len]).unwrap())
            })
            .unwrap();
            let back = ParquetReader::new(File::open(&path).unwrap())
                .finish()
                .unwrap();
            assert_eq!(back.height(), rows);
            let x: Vec<i64> = back["x"].i64().unwrap().into_no_null_iter().collect();
            assert_eq!(x, whole);
        }
    }
}
