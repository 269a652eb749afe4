//! Reads an export into a frame of raw text columns, so that every value can be validated (and
//! quarantined verbatim) instead of failing the whole file on the first bad cell. CSV
//! (`csv.rs`, with `records.rs` and `chunks.rs` for quoting and chunking, `split.rs` for
//! malformed files), JSON lines (`jsonl.rs`) and Parquet (`parquet.rs`); `raw.rs` holds what
//! they all return.

pub mod chunks;
mod csv;
mod header;
mod jsonl;
mod parquet;
mod raw;
pub mod records;
mod split;

use std::path::Path;

use crate::domain::input::Mapped;
pub use crate::domain::input::{Dialect, Format};
pub use header::check_header;
pub use parquet::is_parquet;
pub use raw::{LINE, Malformed, RawRead};

use crate::error::Result;

/// Reads the mapped columns of an export as text, with each record's line in [`LINE`].
/// `wanted` pairs a pipeline key (for messages) with the export column. Parquet is recognised by
/// its content whatever `format` says. Fails with the missing column names when a mapped column
/// is absent.
pub fn read_raw(
    path: &Path,
    format: Format,
    section: &str,
    wanted: &Mapped,
    staging: &Path,
) -> Result<RawRead> {
    if is_parquet(path)? {
        return parquet::read_parquet_raw(path, section, wanted);
    }
    match format {
        Format::Csv(dialect) => csv::read_csv_raw(path, dialect, section, wanted, staging),
        Format::JsonLines => jsonl::read_jsonl_raw(path, section, wanted),
    }
}

/// Reads an export piece by piece, calling `each` on the pieces in file order, so that memory is
/// bounded by `chunk_bytes` of text rather than by the file. A CSV file with a header is read in
/// chunks of whole records; JSON lines, Parquet and header-less CSV are read whole, as one piece.
pub fn for_each_raw(
    path: &Path,
    format: Format,
    section: &str,
    wanted: &Mapped,
    staging: &Path,
    chunk_bytes: usize,
    mut each: impl FnMut(RawRead) -> Result<()>,
) -> Result<()> {
    match format {
        Format::Csv(dialect) if dialect.has_header && !is_parquet(path)? => {
            let header = check_header(path, format, section, wanted)?;
            let mut chunks = chunks::RecordChunks::open(path, dialect.syntax(), chunk_bytes)?;
            while let Some(chunk) = chunks.next_chunk()? {
                each(csv::read_chunk(
                    chunk, dialect, &header, wanted, staging, path,
                )?)?;
            }
            Ok(())
        }
        _ => each(read_raw(path, format, section, wanted, staging)?),
    }
}
