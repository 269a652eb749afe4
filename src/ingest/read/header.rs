//! The header of an export: read, or made of positions when the file has none, and checked
//! against the columns the pipeline maps.

use std::fs::File;
use std::path::Path;

use super::jsonl::json_keys;
use super::parquet::{is_parquet, parquet_columns};
use crate::domain::input::Mapped;
use crate::domain::input::{Dialect, Format};
use crate::error::{Error, Result};

/// Column names of a file without a header: 1-based positions.
pub(super) fn positional_names(n: usize) -> Vec<String> {
    (1..=n).map(|i| i.to_string()).collect()
}

/// A reader of raw records (every line, the header too; any field count) in `dialect`.
pub(super) fn record_reader(path: &Path, dialect: Dialect) -> Result<csv::Reader<File>> {
    csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Column names of a header record: BOM and surrounding blanks removed.
pub(super) fn header_names(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string()
        })
        .collect()
}

/// Reads the header record and returns the column names (BOM and surrounding blanks removed),
/// or positional names when the dialect has no header.
pub fn read_header(path: &Path, dialect: Dialect) -> Result<Vec<String>> {
    let mut rdr = record_reader(path, dialect)?;
    let mut record = csv::ByteRecord::new();
    let found = rdr.read_byte_record(&mut record).unwrap_or(false);
    if !found || (record.len() == 1 && record[0].iter().all(|b| b.is_ascii_whitespace())) {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: if dialect.has_header {
                "the file is empty: expected a header line naming the columns".into()
            } else {
                "the file is empty".into()
            },
        });
    }
    if !dialect.has_header {
        return Ok(positional_names(record.len()));
    }
    Ok(header_names(&record))
}

/// Reads the header of `path` (or, for JSON lines, the keys of its first objects) and fails,
/// naming file, keys and columns, when a mapped column is missing. Returns the header.
pub fn check_header(
    path: &Path,
    format: Format,
    section: &str,
    wanted: &Mapped,
) -> Result<Vec<String>> {
    if is_parquet(path)? {
        return parquet_columns(path, section, wanted);
    }
    let header = match format {
        Format::Csv(d) => read_header(path, d)?,
        Format::JsonLines => json_keys(path, 1000)?,
    };
    // A mapped column named twice is ambiguous: which one holds the value?
    for (_, name) in wanted {
        let at: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h == name)
            .map(|(i, _)| i + 1)
            .collect();
        if at.len() > 1 {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: format!(
                    "the header names column {name:?} {} times (columns {}); rename all but one \
                     in the export",
                    at.len(),
                    at.iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    let missing = wanted.missing_from(&header, section);
    if !missing.is_empty() {
        let hint = match format {
            Format::Csv(d) if !d.has_header => format!(
                "the file has {} columns, named by position \"1\"..\"{}\" because \
                 {section}.has_header = false",
                header.len(),
                header.len()
            ),
            Format::Csv(_) => format!(
                "the header has {header:?}. Check {section}.columns and {section}.delimiter in \
                 the pipeline file"
            ),
            Format::JsonLines => format!(
                "the objects have the keys {header:?}. Check {section}.columns in the pipeline \
                 file"
            ),
        };
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: format!("missing column(s) {}; {hint}", missing.join(", ")),
        });
    }
    Ok(header)
}
