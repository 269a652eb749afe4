//! Row validation: turns raw text columns into typed canonical columns and splits off every row
//! that cannot be parsed, with the column and a reason a person can act on. One mechanism serves
//! transactions and the side tables; each describes its fields as a list of [`Field`]s.

use polars::prelude::*;

use crate::error::{EngineContext, Result};
use crate::ingest::read::{LINE, Malformed};
use crate::ingest::zone::Zone;

pub use crate::ingest::number::NumberFormat;

/// Column of accepted rows holding their source line, when asked for.
pub const ACCEPTED_LINE: &str = "__line";

/// What separates a reason from the value found, in quarantine files.
pub const FOUND: &str = "; found \"";

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

fn text(name: &str) -> Expr {
    col(name).str().strip_chars(lit(NULL))
}

fn null_of(kind: FieldKind) -> Expr {
    lit(NULL).cast(match kind {
        FieldKind::Text => DataType::String,
        FieldKind::Timestamp => DataType::Datetime(TimeUnit::Milliseconds, None),
        FieldKind::Number => DataType::Float64,
    })
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
fn parse_timestamp(name: &str, format: Option<&str>) -> Expr {
    match format {
        Some(f) => parse_with(col(stripped(name)), f),
        None => col(iso_column(name)),
    }
}

/// The helper column holding `name` with surrounding blanks stripped (computed once per chunk;
/// every rule and the parsed values read it).
fn stripped(name: &str) -> String {
    format!("__s_{name}")
}

/// The helper column holding field `f` parsed to its type (computed once per chunk).
fn value_column(f: &Field) -> String {
    format!("__v_{}", f.name)
}

/// The helper column flagging field `f`'s ambiguous numbers (see `number`).
fn ambiguous_column(f: &Field) -> String {
    format!("__amb_{}", f.name)
}

/// The declared separators of a number field, when it has any.
fn localised(f: &Field) -> Option<&NumberFormat> {
    f.number_format
        .as_ref()
        .filter(|n| f.kind == FieldKind::Number && crate::ingest::number::is_localised(n))
}

/// The helper column holding `name` parsed as an ISO date or datetime.
fn iso_column(name: &str) -> String {
    format!("__iso_{name}")
}

fn non_empty(name: &str) -> Expr {
    col(stripped(name))
        .is_not_null()
        .and(col(stripped(name)).str().len_bytes().gt(lit(0)))
}

fn parse_number(column: &str, format: Option<&NumberFormat>) -> Expr {
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

fn parsed(f: &Field, column: &str, timestamp_format: Option<&str>) -> Expr {
    match f.kind {
        FieldKind::Text => col(stripped(column)),
        FieldKind::Timestamp => parse_timestamp(column, timestamp_format),
        FieldKind::Number => parse_number(column, f.number_format.as_ref()),
    }
}

/// How an export writes its times: a strftime format (ISO layouts when None) and the zone of
/// values that carry no offset of their own.
#[derive(Debug, Clone, Copy)]
pub struct Times<'a> {
    pub format: Option<&'a str>,
    pub zone: Zone,
}

impl Times<'_> {
    /// True when the format reads an offset, so every value carries its own and the zone is
    /// never applied.
    pub fn format_has_offset(&self) -> bool {
        self.format.is_some_and(format_has_offset)
    }
}

/// True when a strftime format reads a UTC offset (`%z`, `%:z`, `%::z`, `%#z`).
pub fn format_has_offset(format: &str) -> bool {
    ["%z", "%:z", "%::z", "%#z"]
        .iter()
        .any(|z| format.contains(z))
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
    let value_of = |f: &Field, c: &str| match f.kind {
        FieldKind::Text => col(stripped(c)),
        _ => col(value_column(f)),
    };

    let ts_expected = timestamp_format
        .map(|f| format!("expected format {f}"))
        .unwrap_or_else(|| {
            "expected an ISO date (YYYY-MM-DD) or datetime (YYYY-MM-DD HH:MM[:SS[.fff]], \
             optionally with Z or an offset such as +08:00)"
                .into()
        });

    // (failure test, column, reason): the first failing rule names the row's problem.
    let mut rules: Vec<(Expr, String, Expr)> = Vec::new();
    for f in fields {
        let Some(c) = &f.column else { continue };
        let value = value_of(f, c);
        let present = non_empty(c);
        // The reason, then the value found (reasons are grouped by what comes before "; found").
        let found = |why: String| {
            concat_str(
                [lit(why), lit(FOUND), col(stripped(c)), lit("\"")],
                "",
                false,
            )
        };
        if f.required {
            rules.push((
                present.clone().not(),
                c.clone(),
                lit(format!("missing {}", f.label)),
            ));
        }
        let bad = match f.kind {
            FieldKind::Text => None,
            FieldKind::Timestamp => Some((
                value.clone().is_null(),
                format!("unparseable {}; {ts_expected}", f.label),
            )),
            FieldKind::Number => Some((
                value.clone().is_null().or(value.clone().is_finite().not()),
                format!("{} is not a number", f.label),
            )),
        };
        if let Some(format) = localised(f) {
            rules.push((
                present.clone().and(col(ambiguous_column(f))),
                c.clone(),
                found(format!(
                    "ambiguous number: the separators do not fit thousands separator {} and \
                     decimal separator {:?} (digits in groups of three after each thousands \
                     separator); not read, to avoid rescaling it",
                    format
                        .thousands
                        .as_ref()
                        .map_or("(none)".to_string(), |t| format!("{t:?}")),
                    format.decimal.as_deref().unwrap_or(".")
                )),
            ));
        }
        if let Some((fails, why)) = bad {
            rules.push((present.clone().and(fails), c.clone(), found(why)));
        }
        if let Some(b) = &f.bounds {
            let x = value.cast(DataType::Float64);
            let outside = x.clone().lt(lit(b.min)).or(x.gt(lit(b.max)));
            rules.push((present.and(outside), c.clone(), lit(b.message.clone())));
        }
    }
    rules.extend(
        extra_rules
            .into_iter()
            .map(|(fails, column, why)| (fails, column, lit(why))),
    );
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
