//! Reads an export into a frame of raw text columns, so that every value can be validated (and
//! quarantined verbatim) instead of failing the whole file on the first bad cell.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{EngineContext, Error, Result};

/// Name of the column holding the 0-based record index.
pub const ROW_INDEX: &str = "__row";

/// Reads the header line and returns the column names (BOM and surrounding quotes removed).
pub fn read_header(path: &Path, delimiter: u8) -> Result<Vec<String>> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut line = String::new();
    BufReader::new(file)
        .read_line(&mut line)
        .map_err(|e| Error::io("reading header of", path, e))?;
    let line = line
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "the file is empty: expected a header line naming the columns".into(),
        });
    }
    Ok(line
        .split(delimiter as char)
        .map(|c| c.trim().trim_matches('"').to_string())
        .collect())
}

/// Reads the header of `path` and fails, naming file, keys and columns, when a mapped column is
/// missing. Returns the header.
pub fn check_header(
    path: &Path,
    delimiter: u8,
    section: &str,
    wanted: &[(&str, &String)],
) -> Result<Vec<String>> {
    let header = read_header(path, delimiter)?;
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(_, name)| !header.contains(name))
        .map(|(key, name)| format!("{name:?} ({section}.columns.{key})"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "missing column(s) {}; the header has {:?}. Check {section}.columns and \
                 {section}.delimiter in the pipeline file",
                missing.join(", "),
                header
            ),
        });
    }
    Ok(header)
}

/// Reads the mapped columns of a CSV export as text, with a record index in [`ROW_INDEX`].
/// `wanted` pairs a pipeline key (for messages) with the export column. Fails with the missing
/// column names when the header lacks a mapped column.
pub fn read_raw(
    path: &Path,
    delimiter: u8,
    section: &str,
    wanted: &[(&str, &String)],
) -> Result<DataFrame> {
    let header = check_header(path, delimiter, section, wanted)?;
    let mut names: Vec<PlSmallStr> = wanted
        .iter()
        .map(|(_, n)| PlSmallStr::from(n.as_str()))
        .collect();
    names.dedup();
    let all_text = Arc::new(Schema::from_iter(
        header
            .iter()
            .map(|h| Field::new(h.as_str().into(), DataType::String)),
    ));
    CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(all_text))
        .with_columns(Some(names.into()))
        .with_row_index(Some(RowIndex {
            name: ROW_INDEX.into(),
            offset: 0,
        }))
        .map_parse_options(|o| o.with_separator(delimiter))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .engine(|| format!("reading {} as CSV", path.display()))
}
