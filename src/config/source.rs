//! `[source]` and the side tables (`[customers]`, `[arrears]`, `[events]`): where the export
//! is, how it is written, and which of its columns hold which field.

use std::path::PathBuf;

use super::check::{in_range, share_in_0_to_1};
use super::raw::{RawSideTable, RawSource};
use crate::domain::input::{
    Dialect, Encoding, Field, Format, Mapped, NumberFormat, Policy, SideKind,
};
use crate::domain::zone::Zone;

/// Canonical field -> export column name.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    pub customer_id: String,
    pub timestamp: String,
    pub amount: String,
    pub order_id: Option<String>,
    pub quantity: Option<String>,
    pub product_id: Option<String>,
}

impl ColumnMap {
    /// (canonical field, export column) for every mapped field, required ones first.
    pub fn mapped(&self) -> Mapped<'_> {
        Mapped::new(
            [
                ("customer_id", Some(&self.customer_id)),
                ("timestamp", Some(&self.timestamp)),
                ("amount", Some(&self.amount)),
                ("order_id", self.order_id.as_ref()),
                ("quantity", self.quantity.as_ref()),
                ("product_id", self.product_id.as_ref()),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect(),
        )
    }
}

/// The export to ingest.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub format: Format,
    pub encoding: Encoding,
    pub timestamp_format: Option<String>,
    /// The zone the export's times are written in.
    pub timezone: Zone,
    /// Share of rejected rows above which the file is refused.
    pub max_rejected_share: f64,
    /// Timestamps before this day are implausible (epoch day).
    pub earliest_day: i32,
    /// Timestamps more than this many days after the ingest are implausible.
    pub max_future_days: i32,
    /// Newest row older than this many days before the night: stale data, exit 4.
    pub max_data_age_days: Option<i32>,
    /// How amounts are written.
    pub amount_format: NumberFormat,
    /// Plausible amounts.
    pub amount_min: f64,
    pub amount_max: f64,
    /// Reject a row whose order id was used earlier in the file by a different row.
    pub unique_order_id: bool,
    /// What a later delivery of an order already in the warehouse does.
    pub restatements: Policy,
    pub columns: ColumnMap,
}

/// A checked side table.
#[derive(Debug, Clone)]
pub struct SideTable {
    pub kind: SideKind,
    pub path: PathBuf,
    pub format: Format,
    pub encoding: Encoding,
    pub timestamp_format: Option<String>,
    pub timezone: Zone,
    /// Share of rejected rows above which a file of this table is refused.
    pub max_rejected_share: f64,
    /// The table's fields mapped to export columns.
    pub fields: Vec<Field>,
}

impl SideTable {
    /// (pipeline key, export column) of every mapped field.
    pub fn mapped(&self) -> Mapped<'_> {
        Mapped::new(
            self.fields
                .iter()
                .filter_map(|f| f.column.as_ref().map(|c| (f.name, c)))
                .collect(),
        )
    }
}

/// Checks `[source]` into a [`Source`] (paths resolved by `resolve`); problems are pushed to
/// `problems`, and the value returned then is not to be used.
///
/// Long by design: a checklist of `[source]`'s keys in the file's order, each problem pushed
/// where its key is read.
pub(super) fn check_source(
    rs: &RawSource,
    resolve: &dyn Fn(&str) -> PathBuf,
    problems: &mut Vec<String>,
) -> Source {
    let layout = Layout {
        format: &rs.format,
        delimiter: rs.delimiter.as_deref(),
        quote: rs.quote.as_deref(),
        has_header: rs.has_header,
        timezone: rs.timezone.as_deref(),
        max_quoted_lines: rs.max_quoted_lines,
        max_quoted_bytes: rs.max_quoted_bytes,
    };
    let (format, timezone) = check_layout("source", &layout, problems);
    share_in_0_to_1(problems, "source.max_rejected_share", rs.max_rejected_share);
    let earliest_day = crate::util::dates::parse_day(&rs.earliest_date).unwrap_or_else(|| {
        problems.push(format!(
            "source.earliest_date: expected YYYY-MM-DD, found {:?}",
            rs.earliest_date
        ));
        0
    });
    in_range(
        problems,
        "source.max_future_days",
        rs.max_future_days,
        0,
        3660,
    );
    if let Some(age) = rs.max_data_age_days {
        in_range(problems, "source.max_data_age_days", age, 0, 3660);
    }
    if rs.amount_min.partial_cmp(&rs.amount_max) != Some(std::cmp::Ordering::Less) {
        problems.push(format!(
            "source.amount_min / amount_max: expected min < max, found {} and {}",
            rs.amount_min, rs.amount_max
        ));
    }
    let source_encoding = check_encoding("source", rs.encoding.as_deref(), problems);
    let (t, d) = (&rs.thousands_separator, &rs.decimal_separator);
    if let (Some(t), Some(d)) = (t, d)
        && t == d
    {
        problems.push(format!(
            "source.thousands_separator and source.decimal_separator: must differ, both are {t:?}"
        ));
    }
    let restatements = match rs.restatements.as_deref() {
        None => Policy::default(),
        Some(t) => Policy::parse(t).unwrap_or_else(|| {
            problems.push(format!(
                "source.restatements: expected \"replace\", \"keep_first\" or \
                 \"quarantine\", found {t:?}"
            ));
            Policy::default()
        }),
    };
    if rs.restatements.is_some() && rs.columns.order_id.is_none() {
        problems.push(
            "source.restatements: needs source.columns.order_id (an order is known by its id)"
                .to_string(),
        );
    }
    let c = &rs.columns;
    let columns = ColumnMap {
        customer_id: c.customer_id.clone(),
        timestamp: c.timestamp.clone(),
        amount: c.amount.clone(),
        order_id: c.order_id.clone(),
        quantity: c.quantity.clone(),
        product_id: c.product_id.clone(),
    };
    for (key, value) in &columns.mapped() {
        if value.trim().is_empty() {
            problems.push(format!(
                "source.columns.{key}: must name a column, found \"\""
            ));
        }
    }

    Source {
        path: resolve(&rs.path),
        format,
        timezone,
        timestamp_format: rs.timestamp_format.clone(),
        encoding: source_encoding,
        max_rejected_share: rs.max_rejected_share,
        earliest_day,
        max_future_days: rs.max_future_days as i32,
        max_data_age_days: rs.max_data_age_days.map(|d| d as i32),
        amount_format: NumberFormat {
            thousands: rs.thousands_separator.clone(),
            decimal: rs.decimal_separator.clone(),
            currency: rs.currency_symbols.clone(),
        },
        amount_min: rs.amount_min,
        amount_max: rs.amount_max,
        unique_order_id: rs.unique_order_id,
        restatements,
        columns,
    }
}

/// Checks one side table's section.
pub(super) fn check_side(
    kind: SideKind,
    raw: &RawSideTable,
    resolve: &dyn Fn(&str) -> PathBuf,
    default_rejected_share: f64,
    problems: &mut Vec<String>,
) -> SideTable {
    let section = kind.name();
    let max_rejected_share = raw.max_rejected_share.unwrap_or(default_rejected_share);
    share_in_0_to_1(
        problems,
        &format!("{section}.max_rejected_share"),
        max_rejected_share,
    );
    let schema = kind.schema();
    for key in raw.columns.keys() {
        if !schema.iter().any(|(name, ..)| name == key) {
            let names: Vec<&str> = schema.iter().map(|(n, ..)| *n).collect();
            problems.push(format!(
                "{section}.columns.{key}: unknown field; expected one of {}",
                names.join(", ")
            ));
        }
    }
    let fields = schema
        .iter()
        .map(|&(name, label, field_kind, required)| {
            let column = raw.columns.get(name);
            if required && column.is_none() {
                problems.push(format!(
                    "{section}.columns.{name}: required, name the export's column"
                ));
            }
            if column.is_some_and(|c| c.trim().is_empty()) {
                problems.push(format!(
                    "{section}.columns.{name}: must name a column, found \"\""
                ));
            }
            Field {
                name,
                label,
                column: column.cloned(),
                kind: field_kind,
                required,
                bounds: None,
                number_format: None,
            }
        })
        .collect();
    let layout = Layout {
        format: &raw.format,
        delimiter: raw.delimiter.as_deref(),
        quote: raw.quote.as_deref(),
        has_header: raw.has_header,
        timezone: raw.timezone.as_deref(),
        max_quoted_lines: raw.max_quoted_lines,
        max_quoted_bytes: raw.max_quoted_bytes,
    };
    let (format, timezone) = check_layout(section, &layout, problems);
    SideTable {
        kind,
        path: resolve(&raw.path),
        format,
        encoding: check_encoding(section, raw.encoding.as_deref(), problems),
        timestamp_format: raw.timestamp_format.clone(),
        timezone,
        max_rejected_share,
        fields,
    }
}

/// The file-layout keys shared by `[source]` and the side tables, as written.
struct Layout<'a> {
    format: &'a str,
    delimiter: Option<&'a str>,
    quote: Option<&'a str>,
    has_header: bool,
    timezone: Option<&'a str>,
    max_quoted_lines: u64,
    max_quoted_bytes: u64,
}

/// Checks a section's format, CSV dialect and time zone.
fn check_layout(section: &str, raw: &Layout, problems: &mut Vec<String>) -> (Format, Zone) {
    let mut one_char = |key: &str, value: Option<&str>, default: u8| match value {
        None => default,
        Some("\\t") | Some("\t") => b'\t',
        Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
        Some(d) => {
            problems.push(format!(
                "{section}.{key}: expected one ASCII character (or \"\\t\"), found {d:?}"
            ));
            default
        }
    };
    let dialect = Dialect {
        delimiter: one_char(
            "delimiter",
            raw.delimiter,
            if raw.format == "tsv" { b'\t' } else { b',' },
        ),
        quote: one_char("quote", raw.quote, b'"'),
        has_header: raw.has_header,
        limits: crate::domain::input::QuoteLimits {
            max_lines: raw.max_quoted_lines,
            max_bytes: raw.max_quoted_bytes,
        },
    };
    if raw.max_quoted_lines == 0 || raw.max_quoted_bytes < 64 {
        problems.push(format!(
            "{section}.max_quoted_lines and {section}.max_quoted_bytes: expected at least 1 line \
             and 64 bytes, found {} and {}",
            raw.max_quoted_lines, raw.max_quoted_bytes
        ));
    }
    if dialect.delimiter == dialect.quote {
        problems.push(format!(
            "{section}.delimiter and {section}.quote: must differ, both are {:?}",
            dialect.delimiter as char
        ));
    }
    let format = match raw.format {
        "csv" | "tsv" => Format::Csv(dialect),
        "jsonl" | "ndjson" => Format::JsonLines,
        other => {
            problems.push(format!(
                "{section}.format: expected \"csv\" or \"jsonl\" (Parquet is recognised by its \
                 content), found {other:?}"
            ));
            Format::Csv(dialect)
        }
    };
    if format == Format::JsonLines
        && (raw.delimiter.is_some() || raw.quote.is_some() || !raw.has_header)
    {
        problems.push(format!(
            "{section}: delimiter, quote and has_header apply to CSV only, not format = \"jsonl\""
        ));
    }
    let timezone = match raw.timezone {
        None => Zone::Utc,
        Some(t) => Zone::parse(t).unwrap_or_else(|| {
            problems.push(format!(
                "{section}.timezone: expected an IANA zone name (\"Asia/Shanghai\"), an offset \
                 (\"+08:00\") or \"UTC\", found {t:?}"
            ));
            Zone::Utc
        }),
    };
    (format, timezone)
}

fn check_encoding(section: &str, raw: Option<&str>, problems: &mut Vec<String>) -> Encoding {
    match raw {
        None => Encoding::Utf8,
        Some(text) => Encoding::parse(text).unwrap_or_else(|| {
            problems.push(format!(
                "{section}.encoding: expected utf-8, gbk or gb18030, found {text:?}"
            ));
            Encoding::Utf8
        }),
    }
}
