//! CSV: read by polars when the file is well formed, record by record (malformed records set
//! aside with their lines) when it is not, and in chunks of whole records for large files.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use super::header::check_header;
use super::raw::{LINE, Malformed, RawRead};
use super::records::{QuoteLimits, Stray};
use super::split::split_records;
use crate::domain::input::Mapped;
use crate::domain::input::{Dialect, Format};
use crate::error::{EngineContext, Error, Result};

pub(super) fn polars_read(
    path: &Path,
    dialect: Dialect,
    header: &[String],
    wanted: &Mapped,
    line_column: bool,
) -> PolarsResult<DataFrame> {
    let file = File::open(path)?;
    let first_line = if dialect.has_header { 2 } else { 1 };
    polars_read_from(file, dialect, header, wanted, line_column, first_line)
}

/// A column past the header's, filled only by records with too many fields.
pub(super) const EXTRA: &str = "__extra_field";

/// Reads the mapped columns as text; without `line_column` the records are numbered from
/// `first_line`, one line each.
pub(super) fn polars_read_from<R: polars::io::mmap::MmapBytesReader>(
    source: R,
    dialect: Dialect,
    header: &[String],
    wanted: &Mapped,
    line_column: bool,
    first_line: i64,
) -> PolarsResult<DataFrame> {
    let mut names: Vec<PlSmallStr> = wanted
        .iter()
        .map(|(_, n)| PlSmallStr::from(n.as_str()))
        .collect();
    names.dedup();
    let mut fields: Vec<Field> = header
        .iter()
        .map(|h| Field::new(h.as_str().into(), DataType::String))
        .collect();
    if line_column {
        fields.push(Field::new(LINE.into(), DataType::Int64));
        names.push(LINE.into());
    }
    // polars skips the fields of a record beyond the last projected column, so a record with
    // too many fields would pass unnoticed: one more column catches them.
    fields.push(Field::new(EXTRA.into(), DataType::String));
    names.push(EXTRA.into());
    let df = CsvReadOptions::default()
        .with_has_header(dialect.has_header)
        .with_schema(Some(Arc::new(Schema::from_iter(fields))))
        .with_columns(Some(names.into()))
        .with_row_index(Some(RowIndex {
            name: "__row".into(),
            offset: 0,
        }))
        .map_parse_options(|o| {
            o.with_separator(dialect.delimiter)
                .with_quote_char(Some(dialect.quote))
        })
        .into_reader_with_file_handle(source)
        .finish()?;
    let extra = df.column(EXTRA)?;
    if extra.null_count() < extra.len() {
        polars_bail!(ComputeError: "a record has more fields than the header");
    }
    let df = df.drop(EXTRA)?;
    if line_column {
        return df.drop("__row");
    }
    df.lazy()
        .with_column((col("__row").cast(DataType::Int64) + lit(first_line)).alias(LINE))
        .drop(cols(["__row"]))
        .collect()
}

/// Reads one chunk of whole records (see [`crate::ingest::read::chunks`]) like [`super::read_raw`], with
/// lines as in the source file. `header` is the file's checked header.
pub fn read_chunk(
    chunk: crate::ingest::read::chunks::Chunk,
    dialect: Dialect,
    header: &[String],
    wanted: &Mapped,
    staging: &Path,
    shown: &Path,
) -> Result<RawRead> {
    let first_line = chunk.first_line as i64;
    let strays = as_malformed(chunk.strays, dialect.limits);
    // As for a whole file: the direct read is right only when every record is one line (polars
    // reads a chunk of blank lines as a record of nulls, so those take the record path too).
    let records = &chunk.text[chunk.records_start..];
    let blank = records.starts_with(b"\n")
        || records.starts_with(b"\r\n")
        || memchr::memmem::find(records, b"\n\n").is_some()
        || memchr::memmem::find(records, b"\n\r\n").is_some();
    let direct = if blank {
        None
    } else {
        polars_read_from(
            std::io::Cursor::new(&chunk.text),
            dialect,
            header,
            wanted,
            false,
            first_line,
        )
        .ok()
    };
    if let Some(frame) = direct.filter(|f| f.height() as u64 == chunk.lines) {
        return Ok(RawRead {
            frame,
            malformed: strays,
            header: header.to_vec(),
        });
    }
    std::fs::create_dir_all(staging).map_err(|e| Error::io("creating directory", staging, e))?;
    let staged = staging.join(format!("{}-chunk-{first_line}.csv", std::process::id()));
    let result = std::fs::write(&staged, &chunk.text)
        .map_err(|e| Error::io("writing", &staged, e))
        .and_then(|()| read_records(&staged, dialect, wanted, staging, shown));
    let _ = std::fs::remove_file(&staged);
    let mut read = result?;
    // The staged copy has the header on line 1 and the chunk's records from line 2.
    let shift = first_line - 2;
    read.frame = read
        .frame
        .lazy()
        .with_column(col(LINE) + lit(shift))
        .collect()
        .engine(|| "numbering the lines of a chunk".into())?;
    for m in &mut read.malformed {
        m.line = (m.line as i64 + shift) as u64;
    }
    read.malformed.extend(strays);
    read.malformed.sort_by_key(|m| m.line);
    Ok(read)
}

/// A well-formed CSV file is read directly by polars; when polars cannot parse it, the file is
/// split record by record so that malformed records are quarantined instead of failing the file.
pub(super) fn read_csv_raw(
    path: &Path,
    dialect: Dialect,
    section: &str,
    wanted: &Mapped,
    staging: &Path,
) -> Result<RawRead> {
    let header = check_header(path, Format::Csv(dialect), section, wanted)?;
    if let Some(read) = read_with_strays_set_aside(path, dialect, wanted, staging)? {
        return Ok(read);
    }
    // Without a header polars silently drops fields beyond the first record's count, so such
    // files always take the record-level path, which rejects them.
    // The direct read numbers records by position, which is the line only when every record is
    // one line: a quoted newline or a blank line sends the file to the record-level path too.
    let direct = if dialect.has_header {
        polars_read(path, dialect, &header, wanted, false).ok()
    } else {
        None
    };
    let direct = match direct {
        Some(frame) if frame.height() as u64 + 1 == count_lines(path)? => Some(frame),
        _ => None,
    };
    if let Some(frame) = direct {
        return Ok(RawRead {
            frame,
            malformed: Vec::new(),
            header,
        });
    }
    read_records(path, dialect, wanted, staging, path)
}

/// A whole file with a stray quote (see [`crate::ingest::read::chunks`]): the stray records are set
/// aside, the rest is read record by record from a staged copy with their lines blanked (so the
/// lines stay the file's). None when the file has no stray quote.
pub(super) fn read_with_strays_set_aside(
    path: &Path,
    dialect: Dialect,
    wanted: &Mapped,
    staging: &Path,
) -> Result<Option<RawRead>> {
    let text = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    let found = crate::ingest::read::records::scan(&text, dialect.syntax(), text.len(), true);
    // A stray in the header line is left to the header check.
    let strays: Vec<_> = found
        .strays
        .into_iter()
        .filter(|r| !dialect.has_header || r.start > 0)
        .collect();
    if strays.is_empty() {
        return Ok(None);
    }
    let (kept, strays) = crate::ingest::read::records::set_aside(&text, &strays, 1);
    drop(text);
    std::fs::create_dir_all(staging).map_err(|e| Error::io("creating directory", staging, e))?;
    let staged = staging.join(format!("{}-strays.csv", std::process::id()));
    std::fs::write(&staged, kept).map_err(|e| Error::io("writing", &staged, e))?;
    let result = read_records(&staged, dialect, wanted, staging, path);
    let _ = std::fs::remove_file(&staged);
    let mut read = result?;
    read.malformed.extend(as_malformed(strays, dialect.limits));
    read.malformed.sort_by_key(|m| m.line);
    Ok(Some(read))
}

/// Stray-quote records as malformed records, with the reason.
pub(super) fn as_malformed(strays: Vec<Stray>, limits: QuoteLimits) -> Vec<Malformed> {
    strays
        .into_iter()
        .map(|s| Malformed {
            line: s.line,
            reason: crate::ingest::read::records::stray_reason(limits),
            fields: vec![s.text],
        })
        .collect()
}

/// The record-level read: exact lines, and malformed records set aside instead of failing.
/// `shown` is the file messages name (the user's file, never a staged copy).
pub(super) fn read_records(
    path: &Path,
    dialect: Dialect,
    wanted: &Mapped,
    staging: &Path,
    shown: &Path,
) -> Result<RawRead> {
    std::fs::create_dir_all(staging).map_err(|e| Error::io("creating directory", staging, e))?;
    let staged = staging.join(format!("{}-records.csv", std::process::id()));
    let result = split_records(path, dialect, &staged).and_then(|(header, malformed)| {
        let staged_dialect = Dialect {
            has_header: true,
            ..dialect
        };
        let frame = polars_read(&staged, staged_dialect, &header, wanted, true)
            .engine(|| format!("reading {} as CSV", shown.display()))?;
        Ok(RawRead {
            frame,
            malformed,
            header,
        })
    });
    let _ = std::fs::remove_file(&staged);
    result
}

/// Lines in a file: newline characters, plus one when the last line has none.
pub(super) fn count_lines(path: &Path) -> Result<u64> {
    let (mut lines, mut last) = (0u64, b'\n');
    crate::util::hashing::for_each_chunk(path, |chunk| {
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        last = chunk[chunk.len() - 1];
    })?;
    Ok(lines + u64::from(last != b'\n'))
}
