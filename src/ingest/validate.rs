//! Row validation: turns raw text columns into the canonical transaction schema and splits off
//! every row that cannot be parsed, with the column and a reason a person can act on.

use polars::prelude::*;

use crate::config::ColumnMap;
use crate::error::{EngineContext, Result};
use crate::ingest::reader::ROW_INDEX;

/// Timestamp formats tried, in order, when the pipeline file names none.
const DATETIME_FORMATS: [&str; 6] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];
const DATE_FORMAT: &str = "%Y-%m-%d";

/// Columns of a quarantine file before the raw source columns.
pub const QUARANTINE_LEADING: [&str; 4] = ["source_file", "line", "column", "reason"];

/// The two halves of a validated file.
pub struct Validated {
    /// Canonical rows: customer_id, ts, amount, quantity, order_id, product_id.
    pub accepted: DataFrame,
    /// Rejected rows: source_file, line, column, reason, then the raw mapped columns.
    pub rejected: DataFrame,
}

fn text(name: &str) -> Expr {
    col(name).str().strip_chars(lit(NULL))
}

fn null_text() -> Expr {
    lit(NULL).cast(DataType::String)
}

fn parse_with(expr: Expr, format: &str) -> Expr {
    let options = StrptimeOptions {
        format: Some(format.into()),
        strict: false,
        exact: true,
        cache: true,
    };
    let has_time = ["%H", "%T", "%R", "%s", "%c"]
        .iter()
        .any(|t| format.contains(t));
    if has_time {
        expr.str()
            .to_datetime(Some(TimeUnit::Milliseconds), None, options, lit("raise"))
    } else {
        expr.str()
            .to_date(options)
            .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
    }
}

/// Parses the timestamp column with the configured format, or ISO date/datetime formats.
fn parse_timestamp(name: &str, format: Option<&str>) -> Expr {
    match format {
        Some(f) => parse_with(text(name), f),
        None => {
            let mut tries: Vec<Expr> = DATETIME_FORMATS
                .iter()
                .map(|f| parse_with(text(name), f))
                .collect();
            tries.push(parse_with(text(name), DATE_FORMAT));
            coalesce(&tries)
        }
    }
}

fn non_empty(name: &str) -> Expr {
    text(name)
        .is_not_null()
        .and(text(name).str().len_bytes().gt(lit(0)))
}

/// Validates `raw` (text columns named as in the export) against `columns`.
pub fn validate(
    raw: DataFrame,
    columns: &ColumnMap,
    timestamp_format: Option<&str>,
    source_file: &str,
) -> Result<Validated> {
    let c = columns;
    let ts = parse_timestamp(&c.timestamp, timestamp_format);
    let amount = text(&c.amount).cast(DataType::Float64);
    let ts_expected = timestamp_format
        .map(|f| format!("expected format {f}"))
        .unwrap_or_else(|| "expected an ISO date (YYYY-MM-DD) or datetime".into());

    // (failure test, column, reason): the first failing rule names the row's problem.
    let mut rules: Vec<(Expr, &str, String)> = vec![
        (
            non_empty(&c.customer_id).not(),
            &c.customer_id,
            "missing customer id".into(),
        ),
        (
            non_empty(&c.timestamp).not(),
            &c.timestamp,
            "missing timestamp".into(),
        ),
        (
            ts.clone().is_null(),
            &c.timestamp,
            format!("unparseable timestamp; {ts_expected}"),
        ),
        (
            non_empty(&c.amount).not(),
            &c.amount,
            "missing amount".into(),
        ),
        (
            amount.clone().is_null(),
            &c.amount,
            "amount is not a number".into(),
        ),
        (
            amount.clone().is_finite().not(),
            &c.amount,
            "amount is not a finite number".into(),
        ),
    ];
    if let Some(q) = &c.quantity {
        let qty = text(q).cast(DataType::Float64);
        rules.push((
            non_empty(q).and(qty.clone().is_null().or(qty.is_finite().not())),
            q,
            "quantity is not a number".into(),
        ));
    }
    let mut reason = null_text();
    let mut column = null_text();
    for (fails, col_name, why) in rules.into_iter().rev() {
        reason = when(fails.clone()).then(lit(why)).otherwise(reason);
        column = when(fails)
            .then(lit(col_name.to_string()))
            .otherwise(column);
    }

    let checked = raw
        .lazy()
        .with_columns([reason.alias("reason"), column.alias("column")])
        .collect()
        .engine(|| format!("validating rows of {source_file}"))?;

    let mut canonical = vec![
        text(&c.customer_id).alias("customer_id"),
        ts.alias("ts"),
        amount.alias("amount"),
    ];
    let optional_text = |name: &Option<String>, alias: &str| match name {
        Some(n) => when(non_empty(n))
            .then(text(n))
            .otherwise(null_text())
            .alias(alias),
        None => null_text().alias(alias),
    };
    canonical.push(match &c.quantity {
        Some(q) => text(q).cast(DataType::Float64).alias("quantity"),
        None => lit(NULL).cast(DataType::Float64).alias("quantity"),
    });
    canonical.push(optional_text(&c.order_id, "order_id"));
    canonical.push(optional_text(&c.product_id, "product_id"));

    let accepted = checked
        .clone()
        .lazy()
        .filter(col("reason").is_null())
        .select(canonical)
        .collect()
        .engine(|| format!("parsing accepted rows of {source_file}"))?;

    let raw_names: Vec<Expr> = checked
        .get_column_names()
        .into_iter()
        .filter(|n| !matches!(n.as_str(), "reason" | "column" | ROW_INDEX))
        .map(|n| col(n.clone()))
        .collect();
    let mut quarantine = vec![
        lit(source_file.to_string()).alias("source_file"),
        // Line 1 is the header; one record per line is assumed for the line number.
        (col(ROW_INDEX).cast(DataType::Int64) + lit(2i64)).alias("line"),
        col("column"),
        col("reason"),
    ];
    quarantine.extend(raw_names);
    let rejected = checked
        .lazy()
        .filter(col("reason").is_not_null())
        .select(quarantine)
        .collect()
        .engine(|| format!("collecting rejected rows of {source_file}"))?;
    Ok(Validated { accepted, rejected })
}
