//! Row validation: turns raw text columns into typed canonical columns and splits off every row
//! that cannot be parsed, with the column and a reason a person can act on. One mechanism serves
//! transactions and the side tables; each describes its fields as a list of [`Field`]s.

use polars::prelude::*;

mod columns;
mod rules;

use crate::error::{EngineContext, Result};
use crate::ingest::read::{LINE, Malformed};
use columns::{non_empty, null_of, value_of};

pub use crate::ingest::timestamp::{Times, format_has_offset};
pub use rules::FOUND;

/// Column of accepted rows holding their source line, when asked for.
pub const ACCEPTED_LINE: &str = "__line";

/// A reason without the value found: what rows are grouped by when reasons are counted.
pub fn reason_kind(reason: &str) -> &str {
    reason.split(FOUND).next().unwrap_or(reason)
}

/// Columns of a quarantine file before the raw source columns.
pub const QUARANTINE_LEADING: [&str; 4] = ["source_file", "line", "column", "reason"];

pub use crate::domain::input::{Bounds, Field, FieldKind};

/// The two halves of a validated file.
pub struct Validated {
    /// Canonical rows: one column per field, in field order.
    pub accepted: DataFrame,
    /// Rejected rows: source_file, line, column, reason, then the raw mapped columns.
    pub rejected: DataFrame,
}

/// Validates `raw` (text columns named as in the export) against `fields`; timestamps come out
/// as UTC (converted from `times.zone` only when a value has no offset of its own).
/// `extra_rules` (failure test, column, reason) run after the field rules, e.g. over columns the
/// caller added to `raw` (named with a leading `__`, never written to quarantine).
pub fn validate(
    raw: DataFrame,
    fields: &[Field],
    times: Times,
    source_file: &str,
    extra_rules: Vec<(Expr, String, String)>,
    keep_line: bool,
) -> Result<Validated> {
    let raw = columns::parse(raw, fields, times, source_file)?;
    let rules = rules::rules(fields, times.format, extra_rules);
    split(raw, fields, rules, source_file, keep_line)
}

/// Splits the parsed rows by the first rule each fails: the accepted ones as canonical typed
/// columns (with their line when `keep_line`), the rejected ones for quarantine.
fn split(
    raw: DataFrame,
    fields: &[Field],
    rules: Vec<(Expr, String, Expr)>,
    source_file: &str,
    keep_line: bool,
) -> Result<Validated> {
    // Each row gets the number of the first rule it fails (an integer: string-valued when/then
    // chains over every row were a visible cost of ingest); the reason and column texts are
    // attached to the rejected rows only.
    let mut rule = lit(NULL).cast(DataType::Int32);
    for (k, (fails, _, _)) in rules.iter().enumerate().rev() {
        rule = when(fails.clone()).then(lit(k as i32)).otherwise(rule);
    }
    let mut reason = null_of(FieldKind::Text);
    let mut column = null_of(FieldKind::Text);
    for (k, (_, col_name, why)) in rules.into_iter().enumerate().rev() {
        let hit = col("__rule").eq(lit(k as i32));
        reason = when(hit.clone()).then(why).otherwise(reason);
        column = when(hit).then(lit(col_name)).otherwise(column);
    }

    let checked = raw
        .lazy()
        .with_column(rule.alias("__rule"))
        .collect()
        .engine(|| format!("validating rows of {source_file}"))?;

    let canonical: Vec<Expr> = fields
        .iter()
        .map(|f| match &f.column {
            // Accepted rows passed the "missing" rule: a required value is there.
            Some(c) if f.required => value_of(f, c).alias(f.name),
            Some(c) => when(non_empty(c))
                .then(value_of(f, c))
                .otherwise(null_of(f.kind))
                .alias(f.name),
            None => null_of(f.kind).alias(f.name),
        })
        .collect();
    let mut canonical = canonical;
    if keep_line {
        // The source line rides along (as ACCEPTED_LINE) for rows quarantined later on.
        canonical.push(col(LINE).cast(DataType::Int64).alias(ACCEPTED_LINE));
    }
    let accepted = checked
        .clone()
        .lazy()
        .filter(col("__rule").is_null())
        .select(canonical)
        .collect()
        .engine(|| format!("parsing accepted rows of {source_file}"))?;

    let raw_names: Vec<Expr> = checked
        .get_column_names()
        .into_iter()
        .filter(|n| !n.starts_with("__"))
        .map(|n| col(n.clone()))
        .collect();
    let mut quarantine = vec![
        lit(source_file.to_string()).alias("source_file"),
        col(LINE).cast(DataType::Int64).alias("line"),
        col("__column").alias("column"),
        col("__reason").alias("reason"),
    ];
    quarantine.extend(raw_names);
    let rejected = checked
        .lazy()
        .filter(col("__rule").is_not_null())
        .with_columns([reason.alias("__reason"), column.alias("__column")])
        .select(quarantine)
        .collect()
        .engine(|| format!("collecting rejected rows of {source_file}"))?;
    Ok(Validated { accepted, rejected })
}

/// Adds records that could not be split into fields to the rejected rows, in line order, with
/// their fields placed under the header's column names.
pub fn with_malformed(
    rejected: DataFrame,
    malformed: &[Malformed],
    header: &[String],
    source_file: &str,
) -> Result<DataFrame> {
    if malformed.is_empty() {
        return Ok(rejected);
    }
    let raw_names: Vec<String> = rejected
        .get_column_names()
        .iter()
        .skip(QUARANTINE_LEADING.len())
        .map(|n| n.to_string())
        .collect();
    let mut columns = vec![
        Column::new("source_file".into(), vec![source_file; malformed.len()]),
        Column::new(
            "line".into(),
            malformed.iter().map(|m| m.line as i64).collect::<Vec<_>>(),
        ),
        Column::new("column".into(), vec!["(whole record)"; malformed.len()]),
        Column::new(
            "reason".into(),
            malformed
                .iter()
                .map(|m| m.reason.clone())
                .collect::<Vec<_>>(),
        ),
    ];
    for name in &raw_names {
        let idx = header.iter().position(|h| h == name);
        let values: Vec<Option<String>> = malformed
            .iter()
            .map(|m| idx.and_then(|i| m.fields.get(i).cloned()))
            .collect();
        columns.push(Column::new(name.as_str().into(), values));
    }
    let extra =
        DataFrame::new_infer_height(columns).engine(|| "listing malformed records".into())?;
    rejected
        .vstack(&extra)
        .and_then(|df| df.sort(["line"], SortMultipleOptions::default()))
        .engine(|| "collecting rejected rows".into())
}

/// The rejected rows of a file's chunks, in line order (chunks come in file order); None when
/// the file had no chunk.
pub fn concat_rejected(chunks: Vec<DataFrame>) -> Result<Option<DataFrame>> {
    let mut chunks = chunks.into_iter();
    let Some(mut all) = chunks.next() else {
        return Ok(None);
    };
    for c in chunks {
        all.vstack_mut(&c)
            .engine(|| "collecting rejected rows".into())?;
    }
    Ok(Some(all))
}
