//! Parquet exports: recognised by their magic bytes, columns read as text.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use super::raw::{LINE, RawRead};
use crate::domain::input::Mapped;
use crate::error::{EngineContext, Error, Result};

/// True when `path` is a Parquet file (it starts with the magic bytes `PAR1`).
pub fn is_parquet(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(|e| Error::io("reading", path, e))?;
    Ok(n == 4 && &magic == b"PAR1")
}

/// The column names of a Parquet file, from its footer; fails naming the mapped columns it lacks.
pub(super) fn parquet_columns(path: &Path, section: &str, wanted: &Mapped) -> Result<Vec<String>> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let header: Vec<String> = ParquetReader::new(file)
        .schema()
        .engine(|| format!("reading the schema of {} as Parquet", path.display()))?
        .iter_names()
        .map(|c| c.to_string())
        .collect();
    let missing = wanted.missing_from(&header, section);
    if !missing.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "missing column(s) {}; the file has {header:?}",
                missing.join(", ")
            ),
        });
    }
    Ok(header)
}

/// Reads the mapped columns of a Parquet export as text (dates and datetimes in ISO form), so
/// the same validation applies; [`LINE`] holds the row number (1-based, Parquet has no lines).
pub(super) fn read_parquet_raw(path: &Path, section: &str, wanted: &Mapped) -> Result<RawRead> {
    let header = parquet_columns(path, section, wanted)?;
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let df = ParquetReader::new(file)
        .finish()
        .engine(|| format!("reading {} as Parquet", path.display()))?;
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
