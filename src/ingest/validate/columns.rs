//! The helper columns validation reads: each mapped column stripped, and parsed to its type,
//! once per chunk, so no rule strips or parses again.

use polars::prelude::*;

use crate::domain::input::{Field, FieldKind};
use crate::domain::zone::Zone;
use crate::error::{EngineContext, Result};
use crate::ingest::number::NumberFormat;
use crate::ingest::timestamp::Times;

pub(super) fn text(name: &str) -> Expr {
    col(name).str().strip_chars(lit(NULL))
}

pub(super) fn null_of(kind: FieldKind) -> Expr {
    lit(NULL).cast(match kind {
        FieldKind::Text => DataType::String,
        FieldKind::Timestamp => DataType::Datetime(TimeUnit::Milliseconds, None),
        FieldKind::Number => DataType::Float64,
    })
}

pub(super) fn parse_with(expr: Expr, format: &str) -> Expr {
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
        // With an offset in the format polars gives a UTC-aware datetime; the warehouse keeps
        // naive UTC, the same instant (the physical value is already UTC).
        expr.str()
            .to_datetime(Some(TimeUnit::Milliseconds), None, options, lit("raise"))
            .cast(DataType::Int64)
            .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
    } else {
        expr.str()
            .to_date(options)
            .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
    }
}

/// Parses a timestamp column with the configured format; without one, the ISO date/datetime
/// layouts were parsed up front by [`crate::ingest::timestamp`] into [`iso_column`].
pub(super) fn parse_timestamp(name: &str, format: Option<&str>) -> Expr {
    match format {
        Some(f) => parse_with(col(stripped(name)), f),
        None => col(iso_column(name)),
    }
}

/// The helper column holding `name` with surrounding blanks stripped (computed once per chunk;
/// every rule and the parsed values read it).
pub(super) fn stripped(name: &str) -> String {
    format!("__s_{name}")
}

/// The helper column holding field `f` parsed to its type (computed once per chunk).
pub(super) fn value_column(f: &Field) -> String {
    format!("__v_{}", f.name)
}

/// The helper column flagging field `f`'s ambiguous numbers (see `number`).
pub(super) fn ambiguous_column(f: &Field) -> String {
    format!("__amb_{}", f.name)
}

/// The declared separators of a number field, when it has any.
pub(super) fn localised(f: &Field) -> Option<&NumberFormat> {
    f.number_format
        .as_ref()
        .filter(|n| f.kind == FieldKind::Number && crate::ingest::number::is_localised(n))
}

/// The helper column holding `name` parsed as an ISO date or datetime.
pub(super) fn iso_column(name: &str) -> String {
    format!("__iso_{name}")
}

pub(super) fn non_empty(name: &str) -> Expr {
    col(stripped(name))
        .is_not_null()
        .and(col(stripped(name)).str().len_bytes().gt(lit(0)))
}

pub(super) fn parse_number(column: &str, format: Option<&NumberFormat>) -> Expr {
    let mut e = col(stripped(column));
    if let Some(f) = format {
        if let Some(c) = &f.currency {
            e = e.str().strip_chars(lit(format!("{c} ")));
        }
        if let Some(t) = &f.thousands {
            e = e.str().replace_all(lit(t.clone()), lit(""), true);
        }
        if let Some(d) = &f.decimal {
            e = e.str().replace_all(lit(d.clone()), lit("."), true);
        }
    }
    e.cast(DataType::Float64)
}

pub(super) fn parsed(f: &Field, column: &str, timestamp_format: Option<&str>) -> Expr {
    match f.kind {
        FieldKind::Text => col(stripped(column)),
        FieldKind::Timestamp => parse_timestamp(column, timestamp_format),
        FieldKind::Number => parse_number(column, f.number_format.as_ref()),
    }
}

/// The value of field `f` (mapped to export column `c`) that the rules and accepted rows read.
pub(super) fn value_of(f: &Field, c: &str) -> Expr {
    match f.kind {
        FieldKind::Text => col(stripped(c)),
        _ => col(value_column(f)),
    }
}

/// `raw` with the helper columns every rule reads: each mapped column stripped once, each typed
/// one parsed once (timestamps to UTC, numbers with declared separators by the strict parser).
/// The raw columns stay as read, for quarantine.
///
/// Long by design: the helper columns are added in the order the rules read them (stripped, ISO,
/// parsed, converted, strict numbers).
pub(super) fn parse(
    raw: DataFrame,
    fields: &[Field],
    times: Times,
    source_file: &str,
) -> Result<DataFrame> {
    let timestamp_format = times.format;
    let mut raw = raw;
    if timestamp_format.is_none() {
        for c in fields
            .iter()
            .filter(|f| f.kind == FieldKind::Timestamp)
            .filter_map(|f| f.column.as_ref())
        {
            let parsed = raw
                .column(c)
                .and_then(|c| crate::ingest::timestamp::parse_column(c, times.zone))
                .engine(|| format!("parsing {c} of {source_file}"))?;
            raw.with_column(parsed.with_name(iso_column(c).into()))
                .engine(|| format!("parsing {c} of {source_file}"))?;
        }
    }
    // Strip each mapped column once, then parse each typed one once: the rules and the accepted
    // rows below read these helper columns instead of stripping and parsing again per rule (that
    // repeated work was a large part of ingest). The raw columns stay as read, for quarantine.
    let mapped: Vec<(&Field, &String)> = fields
        .iter()
        .filter_map(|f| f.column.as_ref().map(|c| (f, c)))
        .collect();
    let mut unique: Vec<&String> = mapped.iter().map(|(_, c)| *c).collect();
    unique.sort();
    unique.dedup();
    let strip: Vec<Expr> = unique.iter().map(|c| text(c).alias(stripped(c))).collect();
    let parse: Vec<Expr> = mapped
        .iter()
        .filter(|(f, _)| f.kind != FieldKind::Text && localised(f).is_none())
        .map(|(f, c)| parsed(f, c, timestamp_format).alias(value_column(f)))
        .collect();
    let mut raw = raw
        .lazy()
        .with_columns(strip)
        .with_columns(parse)
        .collect()
        .engine(|| format!("parsing rows of {source_file}"))?;
    // A format without an offset gives wall-clock times of the zone: converted once, here. (ISO
    // values were converted as they were parsed; a format with %z gives UTC already.)
    if timestamp_format.is_some() && !times.format_has_offset() && times.zone != Zone::Utc {
        for (f, _) in mapped
            .iter()
            .filter(|(f, _)| f.kind == FieldKind::Timestamp)
        {
            let name = value_column(f);
            let converted = raw
                .column(&name)
                .and_then(|c| c.cast(&DataType::Int64))
                .and_then(|c| {
                    c.i64()
                        .map(|ca| ca.apply_values(|v| times.zone.local_to_utc_ms(v)))
                })
                .and_then(|ca| {
                    ca.into_series()
                        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
                })
                .engine(|| format!("converting {} of {source_file} to UTC", f.label))?;
            raw.with_column(Column::from(converted.with_name(name.into())))
                .engine(|| format!("converting {} of {source_file} to UTC", f.label))?;
        }
    }
    // Numbers with declared separators take the strict parser (see `number`).
    for (f, c) in &mapped {
        let Some(format) = localised(f) else { continue };
        let text = raw
            .column(&stripped(c))
            .and_then(|s| s.str().cloned())
            .engine(|| format!("parsing {c} of {source_file}"))?;
        let (values, ambiguous) = crate::ingest::number::parse_column(&text, format);
        for column in [
            values.into_series().with_name(value_column(f).into()),
            ambiguous
                .into_series()
                .with_name(ambiguous_column(f).into()),
        ] {
            raw.with_column(Column::from(column))
                .engine(|| format!("parsing {c} of {source_file}"))?;
        }
    }
    Ok(raw)
}
