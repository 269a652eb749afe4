//! How an export is written, as values the pipeline file sets and ingest obeys: encodings,
//! delimited-text dialects and their quote limits, number layouts, the canonical fields and
//! their export columns, and what a restated order does.

/// Text encodings an export may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Gbk,
    Gb18030,
}

impl Encoding {
    /// Parses `utf-8`, `gbk` or `gb18030` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "gbk" => Some(Encoding::Gbk),
            "gb18030" => Some(Encoding::Gb18030),
            _ => None,
        }
    }
}

/// How far a quoted field may run before its opening quote is taken for a stray one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteLimits {
    /// Line breaks one quoted field may hold.
    pub max_lines: u64,
    /// Bytes one record with an open quote may span.
    pub max_bytes: u64,
}

impl Default for QuoteLimits {
    /// 100 lines or 1 MiB: far beyond an address or a comment with line breaks, far below the
    /// rest of a file.
    fn default() -> Self {
        QuoteLimits {
            max_lines: 100,
            max_bytes: 1 << 20,
        }
    }
}

/// The record syntax a scan follows.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    pub delimiter: u8,
    pub quote: u8,
    pub limits: QuoteLimits,
}

/// How a delimited text export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    pub quote: u8,
    /// False when the first line is already data; columns are then named "1", "2", ...
    pub has_header: bool,
    /// How far a quoted field may run before its quote is taken for a stray one.
    pub limits: QuoteLimits,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            delimiter: b',',
            quote: b'"',
            has_header: true,
            limits: QuoteLimits::default(),
        }
    }
}

impl Dialect {
    /// The record syntax the chunk scanner follows.
    pub fn syntax(self) -> Syntax {
        Syntax {
            delimiter: self.delimiter,
            quote: self.quote,
            limits: self.limits,
        }
    }
}

/// The layout of an export file. Parquet needs no setting: it is recognised by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv(Dialect),
    /// One JSON object per line.
    JsonLines,
}

impl Default for Format {
    fn default() -> Self {
        Format::Csv(Dialect::default())
    }
}

/// How a number is written in the export: "1.234,50 €" or "$1,234.50".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberFormat {
    /// Removed before parsing ("," in 1,234.50).
    pub thousands: Option<String>,
    /// Replaced by "." before parsing ("," in 1234,50).
    pub decimal: Option<String>,
    /// Characters stripped from both ends ("$€¥£ ").
    pub currency: Option<String>,
}

/// What a field holds once parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Trimmed text; ids keep leading zeros.
    Text,
    /// A date or datetime, stored as Datetime(ms) meaning UTC.
    Timestamp,
    /// A finite number (Float64).
    Number,
}

/// One canonical field and the export column it comes from.
#[derive(Debug, Clone)]
pub struct Field {
    /// Output column.
    pub name: &'static str,
    /// How messages call it ("customer id", "timestamp").
    pub label: &'static str,
    /// The export's column; None = not mapped (the field is null).
    pub column: Option<String>,
    pub kind: FieldKind,
    pub required: bool,
    /// Plausible range (numbers as is, timestamps in epoch milliseconds) and how to say it.
    pub bounds: Option<Bounds>,
    /// For numbers: separators and currency symbols to remove before parsing.
    pub number_format: Option<NumberFormat>,
}

/// A plausible range for a field; values outside are rejected with `message`.
#[derive(Debug, Clone)]
pub struct Bounds {
    pub min: f64,
    pub max: f64,
    pub message: String,
}

impl Field {
    /// A field that must be present in every row.
    pub fn required(
        name: &'static str,
        label: &'static str,
        column: &str,
        kind: FieldKind,
    ) -> Self {
        Field {
            name,
            label,
            column: Some(column.to_string()),
            kind,
            required: true,
            bounds: None,
            number_format: None,
        }
    }

    /// A field that may be unmapped or empty.
    pub fn optional(
        name: &'static str,
        label: &'static str,
        column: Option<&String>,
        kind: FieldKind,
    ) -> Self {
        Field {
            name,
            label,
            column: column.cloned(),
            kind,
            required: false,
            bounds: None,
            number_format: None,
        }
    }
}

/// What a batch's restated orders do (`[source] restatements`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    #[default]
    Replace,
    KeepFirst,
    Quarantine,
}

impl Policy {
    /// Parses the pipeline value.
    pub fn parse(text: &str) -> Option<Policy> {
        match text {
            "replace" => Some(Policy::Replace),
            "keep_first" => Some(Policy::KeepFirst),
            "quarantine" => Some(Policy::Quarantine),
            _ => None,
        }
    }
}

/// Which side table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideKind {
    Customers,
    Arrears,
    Events,
}

impl SideKind {
    /// Section name in the pipeline file and folder name in the warehouse.
    pub fn name(self) -> &'static str {
        match self {
            SideKind::Customers => "customers",
            SideKind::Arrears => "arrears",
            SideKind::Events => "events",
        }
    }

    /// (field, message label, kind, required) of the table's canonical fields.
    pub fn schema(self) -> &'static [(&'static str, &'static str, FieldKind, bool)] {
        use FieldKind::*;
        match self {
            SideKind::Customers => &[
                ("customer_id", "customer id", Text, true),
                ("name", "name", Text, false),
                ("owner", "owner", Text, false),
                ("region", "region", Text, false),
                ("segment", "segment", Text, false),
            ],
            SideKind::Arrears => &[
                ("customer_id", "customer id", Text, true),
                ("as_of", "as-of date", Timestamp, true),
                ("outstanding", "outstanding amount", Number, true),
                ("days_overdue", "days overdue", Number, true),
            ],
            SideKind::Events => &[
                ("customer_id", "customer id", Text, true),
                ("ts", "timestamp", Timestamp, true),
                ("kind", "kind", Text, true),
            ],
        }
    }
}

/// The export columns a pipeline section maps: (pipeline key, export column) pairs, required
/// fields first. Readers read these columns, and name the key in messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapped<'a>(Vec<(&'a str, &'a String)>);

impl<'a> Mapped<'a> {
    /// The pairs, in order.
    pub fn new(pairs: Vec<(&'a str, &'a String)>) -> Self {
        Mapped(pairs)
    }

    /// (pipeline key, export column) in order.
    pub fn iter(&self) -> std::slice::Iter<'_, (&'a str, &'a String)> {
        self.0.iter()
    }

    /// The export columns, in order.
    pub fn columns(&self) -> impl Iterator<Item = &'a String> + '_ {
        self.0.iter().map(|(_, c)| *c)
    }

    /// Each mapped column `header` lacks, as `"column" (section.columns.key)`.
    pub fn missing_from(&self, header: &[String], section: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, name)| !header.contains(name))
            .map(|(key, name)| format!("{name:?} ({section}.columns.{key})"))
            .collect()
    }
}

impl<'b, 'a> IntoIterator for &'b Mapped<'a> {
    type Item = &'b (&'a str, &'a String);
    type IntoIter = std::slice::Iter<'b, (&'a str, &'a String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
