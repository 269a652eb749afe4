//! What a warehouse part says of itself in its Parquet footer: its batch (so a lost manifest can
//! be rebuilt from the parts), its row count, and the bounds of a column (so a lookup can skip a
//! part unread). Read with arrow-rs, independently of the writer.

use std::fs::File;
use std::path::Path;

use crate::error::{Error, Result};

/// Footer key of a warehouse part's description.
pub const FOOTER_KEY: &str = "churnflow.part";

/// What every warehouse part says of itself in its footer, so that a lost manifest can be
/// rebuilt from the parts (`churnflow repair`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PartFooter {
    /// "transactions", a side table's name, or "superseded".
    pub table: String,
    pub batch_id: String,
    pub month: String,
    pub source_path: String,
    pub source_sha256: String,
    pub source_bytes: u64,
    pub ingested_at: String,
    pub rows_read: u64,
    pub rows_rejected: u64,
    pub quarantine: Option<String>,
    /// For superseded rows: the batch they came from (`batch_id` is the one that replaced them).
    #[serde(default)]
    pub superseded_from: Option<String>,
}

/// A Parquet file's footer, read with arrow-rs (independent of the writer).
fn open_footer(path: &Path) -> Result<parquet::file::reader::SerializedFileReader<File>> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    parquet::file::reader::SerializedFileReader::new(file).map_err(|e| {
        Error::Artifact(format!(
            "{} is not a readable Parquet file: {e}",
            path.display()
        ))
    })
}

/// Bounds of a text column over a part's row groups, from its footer statistics; None when some
/// row group has none (the part must then be read to know).
pub fn text_range(path: &Path, column: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    use parquet::file::reader::FileReader;
    let reader = open_footer(path)?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let Some(idx) = (0..schema.num_columns()).find(|&i| schema.column(i).name() == column) else {
        return Ok(None);
    };
    let mut range: Option<(Vec<u8>, Vec<u8>)> = None;
    for rg in meta.row_groups() {
        let Some(st) = rg.column(idx).statistics() else {
            return Ok(None);
        };
        if holds_only_nulls(st, rg.num_rows()) {
            continue;
        }
        let (Some(lo), Some(hi)) = (st.min_bytes_opt(), st.max_bytes_opt()) else {
            return Ok(None);
        };
        // A truncated min or max is still a lower or upper bound (the Parquet format says so),
        // which is all an overlap test needs; the deprecated fields used a signed byte order.
        if st.is_min_max_deprecated() {
            return Ok(None);
        }
        range = Some(match range {
            None => (lo.to_vec(), hi.to_vec()),
            Some((a, b)) => (a.min(lo.to_vec()), b.max(hi.to_vec())),
        });
    }
    // A part whose every value is null holds no order: an empty range that meets nothing.
    Ok(Some(range.unwrap_or((vec![0xff], vec![]))))
}

/// True when a row group's statistics `st` show its `rows` values all null.
fn holds_only_nulls(st: &parquet::file::statistics::Statistics, rows: i64) -> bool {
    let rows = rows as u64;
    match st.null_count_opt() {
        Some(n) if n == rows => true,
        // polars 0.55 counts the nulls of an all-null dictionary-tried string column of more
        // than about 200,000 rows twice; more nulls than rows is that, and only when no value
        // gave the column a minimum or maximum (written for every file).
        Some(n) if n > rows => st.min_bytes_opt().is_none() && st.max_bytes_opt().is_none(),
        _ => false,
    }
}

/// True when a part's footer shows every value of each of `columns` null (a column the part does
/// not have counts as null); false when some row group holds a value, or has no statistics to
/// tell (the part must then be read).
pub fn all_null(path: &Path, columns: &[&str]) -> Result<bool> {
    use parquet::file::reader::FileReader;
    let reader = open_footer(path)?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    for column in columns {
        let Some(idx) = (0..schema.num_columns()).find(|&i| schema.column(i).name() == *column)
        else {
            continue;
        };
        for rg in meta.row_groups() {
            let Some(st) = rg.column(idx).statistics() else {
                return Ok(false);
            };
            if !holds_only_nulls(st, rg.num_rows()) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// The footer description of a part, if it has one.
pub fn read_footer(path: &Path) -> Result<Option<PartFooter>> {
    use parquet::file::reader::FileReader;
    let reader = open_footer(path)?;
    let kv = reader.metadata().file_metadata().key_value_metadata();
    let Some(text) = kv
        .into_iter()
        .flatten()
        .find(|kv| kv.key == FOOTER_KEY)
        .and_then(|kv| kv.value.clone())
    else {
        return Ok(None);
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::Artifact(format!(
            "{} has an unreadable churnflow footer: {e}",
            path.display()
        ))
    })
}

/// Row count from a Parquet footer (arrow-rs, independent of the writer).
pub fn parquet_row_count(path: &Path) -> Result<u64> {
    use parquet::file::reader::FileReader;
    let reader = open_footer(path)?;
    Ok(reader.metadata().file_metadata().num_rows() as u64)
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;

    #[test]
    fn all_null_reads_the_footer_statistics_of_every_row_group() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.parquet");
        let mut df = df!(
            "product_id" => [None::<&str>, None, None],
            "quantity" => [None, Some(2.0), None],
            "amount" => [1.0, 2.0, 3.0],
        )
        .unwrap();
        crate::warehouse::parts::write_parquet_file(&path, &mut df).unwrap();
        assert!(all_null(&path, &["product_id"]).unwrap());
        assert!(!all_null(&path, &["product_id", "quantity"]).unwrap());
        assert!(!all_null(&path, &["amount"]).unwrap());
        assert!(all_null(&path, &["not_there", "product_id"]).unwrap());
        assert!(all_null(&dir.path().join("missing.parquet"), &["x"]).is_err());
    }

    /// polars double-counts the nulls of an all-null string column this long in its footer
    /// (the statistics say 600,000 nulls in 300,000 rows): still all null; one value among them
    /// is not.
    #[test]
    fn all_null_sees_through_double_counted_nulls_of_long_string_columns() {
        let dir = tempfile::tempdir().unwrap();
        let n = 300_000;
        for (name, one_value) in [("none.parquet", false), ("one.parquet", true)] {
            let path = dir.path().join(name);
            let ids: Vec<Option<&str>> = (0..n)
                .map(|i| (one_value && i == n / 2).then_some("P1"))
                .collect();
            let mut df = df!("product_id" => ids, "amount" => vec![1.0; n]).unwrap();
            crate::warehouse::parts::write_parquet_file(&path, &mut df).unwrap();
            assert_eq!(
                all_null(&path, &["product_id"]).unwrap(),
                !one_value,
                "{name}"
            );
        }
    }
}
