//! Reads an export into a frame of raw text columns, so that every value can be validated (and
//! quarantined verbatim) instead of failing the whole file on the first bad cell.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{EngineContext, Error, Result};

/// Name of the column holding each record's line number in the source file (header = line 1).
pub const LINE: &str = "__line";

/// A record that could not even be split into the header's fields.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub line: u64,
    pub reason: String,
    /// The record's fields as far as they could be read (lossy UTF-8).
    pub fields: Vec<String>,
}

/// An export read as text.
pub struct RawRead {
    /// Mapped columns as text plus [`LINE`].
    pub frame: DataFrame,
    /// Records rejected before parsing (wrong field count, invalid UTF-8).
    pub malformed: Vec<Malformed>,
    /// The header, for placing malformed fields under their columns.
    pub header: Vec<String>,
}

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
    let missing = missing_columns(&header, section, wanted);
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

fn polars_read(
    path: &Path,
    delimiter: u8,
    header: &[String],
    wanted: &[(&str, &String)],
    line_column: bool,
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
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(Schema::from_iter(fields))))
        .with_columns(Some(names.into()))
        .with_row_index(Some(RowIndex {
            name: "__row".into(),
            offset: 0,
        }))
        .map_parse_options(|o| o.with_separator(delimiter))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()?;
    if line_column {
        return df.drop("__row");
    }
    // Fast path: one record per line, so the line is the record index plus the header line.
    df.lazy()
        .with_column((col("__row").cast(DataType::Int64) + lit(2i64)).alias(LINE))
        .drop(cols(["__row"]))
        .collect()
}

/// Splits `path` record by record (quotes and embedded newlines understood) into a clean copy
/// with each record's line number, and the records that cannot be used.
fn split_records(
    path: &Path,
    delimiter: u8,
    staged: &Path,
) -> Result<(Vec<String>, Vec<Malformed>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut out = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_path(staged)
        .map_err(|e| Error::io("creating", staged, std::io::Error::other(e.to_string())))?;
    let mut header: Vec<String> = Vec::new();
    let mut malformed = Vec::new();
    let mut record = csv::ByteRecord::new();
    let write_err =
        |e: csv::Error| Error::io("writing", staged, std::io::Error::other(e.to_string()));
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    message: format!("unreadable CSV: {e}"),
                });
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if header.is_empty() {
            header = record
                .iter()
                .map(|f| {
                    String::from_utf8_lossy(f)
                        .trim_start_matches('\u{feff}')
                        .trim()
                        .to_string()
                })
                .collect();
            let mut h = csv::ByteRecord::new();
            for f in &header {
                h.push_field(f.as_bytes());
            }
            h.push_field(LINE.as_bytes());
            out.write_byte_record(&h).map_err(write_err)?;
            continue;
        }
        let lossy: Vec<String> = record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        // Short records get empty trailing fields, as polars' direct read gives them, so both
        // paths treat a file alike; validation then rejects a missing required value.
        while record.len() < header.len() {
            record.push_field(b"");
        }
        let reason = if record.len() > header.len() {
            Some(format!(
                "expected {} fields, found {}",
                header.len(),
                record.len()
            ))
        } else if record.iter().any(|f| std::str::from_utf8(f).is_err()) {
            Some("not valid UTF-8 text (check source.encoding)".to_string())
        } else {
            None
        };
        match reason {
            Some(reason) => malformed.push(Malformed {
                line,
                reason,
                fields: lossy,
            }),
            None => {
                let mut r = record.clone();
                r.push_field(line.to_string().as_bytes());
                out.write_byte_record(&r).map_err(write_err)?;
            }
        }
    }
    out.flush().map_err(|e| Error::io("writing", staged, e))?;
    Ok((header, malformed))
}

/// Reads the mapped columns of a CSV export as text, with each record's line in [`LINE`].
/// `wanted` pairs a pipeline key (for messages) with the export column. Fails with the missing
/// column names when the header lacks a mapped column. A well-formed file is read directly; when
/// polars cannot parse it, the file is split record by record so that malformed records are
/// quarantined instead of failing the whole file.
pub fn read_raw(
    path: &Path,
    delimiter: u8,
    section: &str,
    wanted: &[(&str, &String)],
    staging: &Path,
) -> Result<RawRead> {
    let header = check_header(path, delimiter, section, wanted)?;
    if let Ok(frame) = polars_read(path, delimiter, &header, wanted, false) {
        return Ok(RawRead {
            frame,
            malformed: Vec::new(),
            header,
        });
    }
    std::fs::create_dir_all(staging).map_err(|e| Error::io("creating directory", staging, e))?;
    let staged = staging.join(format!("{}-records.csv", std::process::id()));
    let result = split_records(path, delimiter, &staged).and_then(|(header, malformed)| {
        let frame = polars_read(&staged, delimiter, &header, wanted, true)
            .engine(|| format!("reading {} as CSV", path.display()))?;
        Ok(RawRead {
            frame,
            malformed,
            header,
        })
    });
    let _ = std::fs::remove_file(&staged);
    result
}

/// The mapped columns `header` lacks, each with its pipeline key.
fn missing_columns(header: &[String], section: &str, wanted: &[(&str, &String)]) -> Vec<String> {
    wanted
        .iter()
        .filter(|(_, name)| !header.contains(name))
        .map(|(key, name)| format!("{name:?} ({section}.columns.{key})"))
        .collect()
}

/// True when `path` is a Parquet file (it starts with the magic bytes `PAR1`).
pub fn is_parquet(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(|e| Error::io("reading", path, e))?;
    Ok(n == 4 && &magic == b"PAR1")
}

/// Reads the mapped columns of a Parquet export as text (dates and datetimes in ISO form), so
/// the same validation applies; [`LINE`] holds the row number (1-based, Parquet has no lines).
pub fn read_parquet_raw(path: &Path, section: &str, wanted: &[(&str, &String)]) -> Result<RawRead> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let df = ParquetReader::new(file)
        .finish()
        .engine(|| format!("reading {} as Parquet", path.display()))?;
    let header: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let missing = missing_columns(&header, section, wanted);
    if !missing.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "missing column(s) {}; the file has {header:?}",
                missing.join(", ")
            ),
        });
    }
    let mut names: Vec<&String> = wanted.iter().map(|(_, n)| *n).collect();
    names.dedup();
    let mut exprs: Vec<Expr> = Vec::new();
    for n in &names {
        let dtype = df
            .column(n.as_str())
            .engine(|| format!("reading column {n}"))?
            .dtype()
            .clone();
        let e = match dtype {
            DataType::String => col(n.as_str()),
            DataType::Datetime(..) => col(n.as_str()).dt().strftime("%Y-%m-%d %H:%M:%S%.f"),
            DataType::Date => col(n.as_str()).dt().strftime("%Y-%m-%d"),
            d if d.is_primitive_numeric() || d == DataType::Boolean => {
                col(n.as_str()).cast(DataType::String)
            }
            other => {
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    message: format!(
                        "column {n:?} has type {other}, expected text, a number or a date"
                    ),
                });
            }
        };
        exprs.push(e.alias(n.as_str()));
    }
    exprs.push(
        (int_range(lit(0i64), len().cast(DataType::Int64), 1, DataType::Int64) + lit(1i64))
            .alias(LINE),
    );
    let frame = df
        .lazy()
        .select(exprs)
        .collect()
        .engine(|| format!("reading {}", path.display()))?;
    Ok(RawRead {
        frame,
        malformed: Vec::new(),
        header,
    })
}
