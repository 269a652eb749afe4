//! The pipeline file: one TOML file describes one nightly job. [`Pipeline::load`] parses it
//! (unknown keys are an error), then checks every value and reports all problems at once.

pub mod raw;
mod scoring;

pub use scoring::{Capacity, KeyRule, LifecycleRules, RiskRule, Scoring};

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::domain::engine::EngineKind;
use crate::domain::feature::{self as spec, FeatureSpec};
pub use crate::domain::input::SideKind;
use crate::domain::input::{Dialect, Encoding, Field, Format, NumberFormat, Policy};
use crate::domain::label::LabelRule;
use crate::domain::zone::Zone;
use crate::error::{Error, Result};
use raw::{RawLabel, RawPipeline};

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
    pub fn mapped(&self) -> Vec<(&'static str, &String)> {
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
        .collect()
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
    pub fn mapped(&self) -> Vec<(&'static str, &String)> {
        self.fields
            .iter()
            .filter_map(|f| f.column.as_ref().map(|c| (f.name, c)))
            .collect()
    }
}

/// Checked `[train]` settings.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    pub cutoffs: usize,
    /// None = month ends.
    pub cadence_days: Option<i32>,
    pub min_history_days: i32,
    pub alphas: Vec<f64>,
    pub max_iterations: u64,
    pub max_train_rows: usize,
    pub seed: u64,
    pub max_auc_drop: f64,
    pub max_log_loss_increase: f64,
    pub calibration_tolerance: f64,
    pub retrain_every_days: i32,
    pub max_feature_psi: f64,
}

/// A checked pipeline: every path resolved relative to the pipeline file.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Where the pipeline file is.
    pub file: PathBuf,
    /// SHA-256 of the pipeline file's bytes.
    pub file_hash: String,
    pub name: String,
    pub workdir: PathBuf,
    pub models_dir: PathBuf,
    pub source: Source,
    /// Features the model uses, in order.
    pub features: Vec<FeatureSpec>,
    /// The churn definition.
    pub label: LabelRule,
    pub active_within_days: i32,
    /// The engine features, labels and lists are computed with.
    pub engine: EngineKind,
    pub train: TrainSettings,
    /// Key accounts, risk, lists and reasons.
    pub scoring: Scoring,
    pub customers: Option<SideTable>,
    pub arrears: Option<SideTable>,
    pub events: Option<SideTable>,
    /// Event kinds counted as complaints.
    pub complaint_kinds: Vec<String>,
}

impl Pipeline {
    /// Reads, parses and validates a pipeline file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading pipeline file", path, e))?;
        let text = String::from_utf8(bytes.clone()).map_err(|_| Error::Config {
            path: path.to_path_buf(),
            problems: "  - the file is not valid UTF-8".into(),
        })?;
        let hash = hex(&Sha256::digest(&bytes));
        let (raw, syntax) = parse_all(&text);
        let checked = raw.map(|raw| Self::from_raw(raw, path, hash));
        if syntax.is_empty() {
            return checked.expect("parsed when no problem was found");
        }
        // Type and syntax problems first, then whatever the checks found in the rest.
        let mut problems: Vec<String> = syntax.iter().map(|p| indent(p)).collect();
        if let Some(Err(Error::Config { problems: more, .. })) = checked {
            problems.push(more);
        }
        Err(Error::Config {
            path: path.to_path_buf(),
            problems: problems.join("\n"),
        })
    }

    /// Validates a parsed pipeline; `file` anchors relative paths.
    pub fn from_raw(raw: RawPipeline, file: &Path, file_hash: String) -> Result<Self> {
        let mut problems = Vec::new();
        let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let resolve = |p: &str| -> PathBuf {
            let p = Path::new(p);
            normalize(&if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            })
        };

        if raw.name.trim().is_empty() {
            problems.push("name: must not be empty".to_string());
        }
        if raw.workdir.trim().is_empty() {
            problems.push("workdir: must not be empty".to_string());
        }
        let rs = &raw.source;
        let layout = Layout {
            format: &rs.format,
            delimiter: rs.delimiter.as_deref(),
            quote: rs.quote.as_deref(),
            has_header: rs.has_header,
            timezone: rs.timezone.as_deref(),
            max_quoted_lines: rs.max_quoted_lines,
            max_quoted_bytes: rs.max_quoted_bytes,
        };
        let (format, timezone) = check_layout("source", &layout, &mut problems);
        if !(0.0..=1.0).contains(&raw.source.max_rejected_share) {
            problems.push(format!(
                "source.max_rejected_share: expected a share in 0..=1, found {}",
                raw.source.max_rejected_share
            ));
        }
        let earliest_day =
            crate::dates::parse_day(&raw.source.earliest_date).unwrap_or_else(|| {
                problems.push(format!(
                    "source.earliest_date: expected YYYY-MM-DD, found {:?}",
                    raw.source.earliest_date
                ));
                0
            });
        in_range(
            &mut problems,
            "source.max_future_days",
            raw.source.max_future_days,
            0,
            3660,
        );
        if let Some(age) = raw.source.max_data_age_days {
            in_range(&mut problems, "source.max_data_age_days", age, 0, 3660);
        }
        if raw.source.amount_min.partial_cmp(&raw.source.amount_max)
            != Some(std::cmp::Ordering::Less)
        {
            problems.push(format!(
                "source.amount_min / amount_max: expected min < max, found {} and {}",
                raw.source.amount_min, raw.source.amount_max
            ));
        }
        let source_encoding =
            check_encoding("source", raw.source.encoding.as_deref(), &mut problems);
        let (t, d) = (
            &raw.source.thousands_separator,
            &raw.source.decimal_separator,
        );
        if let (Some(t), Some(d)) = (t, d)
            && t == d
        {
            problems.push(format!(
                "source.thousands_separator and source.decimal_separator: must differ, both are {t:?}"
            ));
        }
        let restatements = match raw.source.restatements.as_deref() {
            None => Policy::default(),
            Some(t) => Policy::parse(t).unwrap_or_else(|| {
                problems.push(format!(
                    "source.restatements: expected \"replace\", \"keep_first\" or \
                     \"quarantine\", found {t:?}"
                ));
                Policy::default()
            }),
        };
        if raw.source.restatements.is_some() && raw.source.columns.order_id.is_none() {
            problems.push(
                "source.restatements: needs source.columns.order_id (an order is known by its id)"
                    .to_string(),
            );
        }
        let c = &raw.source.columns;
        let columns = ColumnMap {
            customer_id: c.customer_id.clone(),
            timestamp: c.timestamp.clone(),
            amount: c.amount.clone(),
            order_id: c.order_id.clone(),
            quantity: c.quantity.clone(),
            product_id: c.product_id.clone(),
        };
        for (key, value) in columns.mapped() {
            if value.trim().is_empty() {
                problems.push(format!(
                    "source.columns.{key}: must name a column, found \"\""
                ));
            }
        }

        let mut features = Vec::new();
        for (i, f) in raw.features.iter().enumerate() {
            match FeatureSpec::parse(
                f.name.as_deref(),
                f.measure.as_deref(),
                f.agg.as_deref(),
                f.window_days,
            ) {
                Ok(s) if features.contains(&s) => {
                    problems.push(format!("features[{i}]: {} is listed twice", s.name()))
                }
                Ok(s) => features.push(s),
                Err(e) => problems.push(format!("features[{i}]: {e}")),
            }
        }
        if raw.features.is_empty() {
            features = spec::default_specs(raw.arrears.is_some(), raw.events.is_some());
        }

        let default_share = raw.source.max_rejected_share;
        let side = |kind: SideKind, raw: &Option<raw::RawSideTable>, problems: &mut Vec<String>| {
            raw.as_ref()
                .map(|t| check_side(kind, t, &resolve, default_share, problems))
        };
        let customers = side(SideKind::Customers, &raw.customers, &mut problems);
        let arrears = side(SideKind::Arrears, &raw.arrears, &mut problems);
        let events = side(SideKind::Events, &raw.events, &mut problems);
        let complaint_kinds = raw
            .events
            .as_ref()
            .and_then(|e| e.complaint_kinds.clone())
            .unwrap_or_else(|| vec!["complaint".into()]);
        for (section, t) in [("customers", &raw.customers), ("arrears", &raw.arrears)] {
            if t.as_ref().is_some_and(|t| t.complaint_kinds.is_some()) {
                problems.push(format!(
                    "{section}.complaint_kinds: only [events] has complaint_kinds"
                ));
            }
        }
        for f in &features {
            let needs = match f {
                FeatureSpec::ArrearsOutstanding | FeatureSpec::ArrearsDaysOverdue => {
                    Some(("arrears", arrears.is_some()))
                }
                FeatureSpec::Complaints { .. } => Some(("events", events.is_some())),
                _ => None,
            };
            if let Some((section, present)) = needs
                && !present
            {
                problems.push(format!("features: {} needs an [{section}] table", f.name()));
            }
        }

        let label = check_label(&raw.label, &mut problems);
        in_range(
            &mut problems,
            "population.active_within_days",
            raw.population.active_within_days,
            1,
            3660,
        );
        let t = &raw.train;
        in_range(&mut problems, "train.cutoffs", t.cutoffs, 1, 120);
        in_range(
            &mut problems,
            "train.min_history_days",
            t.min_history_days,
            0,
            3660,
        );
        if let Some(c) = t.cadence_days {
            in_range(&mut problems, "train.cadence_days", c, 1, 365);
        }
        if t.alphas.is_empty() || t.alphas.iter().any(|a| !(a.is_finite() && *a > 0.0)) {
            problems.push(format!(
                "train.alphas: expected a non-empty list of positive numbers, found {:?}",
                t.alphas
            ));
        }
        in_range(
            &mut problems,
            "train.max_iterations",
            t.max_iterations,
            1,
            100_000,
        );
        in_range(
            &mut problems,
            "train.max_train_rows",
            t.max_train_rows,
            100,
            1_000_000_000,
        );
        for (key, value) in [
            ("train.max_auc_drop", t.max_auc_drop),
            ("train.max_log_loss_increase", t.max_log_loss_increase),
            ("train.calibration_tolerance", t.calibration_tolerance),
        ] {
            if !(0.0..=1.0).contains(&value) {
                problems.push(format!("{key}: expected a number in 0..=1, found {value}"));
            }
        }
        let scoring = scoring::check_scoring(&raw.scoring, &raw.lifecycle, &mut problems);
        let engine = EngineKind::parse(&raw.engine.backend).unwrap_or_else(|| {
            problems.push(format!(
                "engine.backend: expected one of {}, found {:?}",
                EngineKind::NAMES,
                raw.engine.backend
            ));
            EngineKind::default()
        });

        if !problems.is_empty() {
            return Err(Error::Config {
                path: file.to_path_buf(),
                problems: problems
                    .iter()
                    .map(|p| format!("  - {p}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
        }

        let workdir = resolve(&raw.workdir);
        let models_dir = raw
            .models_dir
            .as_deref()
            .map(resolve)
            .unwrap_or_else(|| workdir.join("models"));
        Ok(Pipeline {
            file: file.to_path_buf(),
            file_hash,
            name: raw.name,
            source: Source {
                path: resolve(&raw.source.path),
                format,
                timezone,
                timestamp_format: raw.source.timestamp_format,
                encoding: source_encoding,
                max_rejected_share: raw.source.max_rejected_share,
                earliest_day,
                max_future_days: raw.source.max_future_days as i32,
                max_data_age_days: raw.source.max_data_age_days.map(|d| d as i32),
                amount_format: NumberFormat {
                    thousands: raw.source.thousands_separator.clone(),
                    decimal: raw.source.decimal_separator.clone(),
                    currency: raw.source.currency_symbols.clone(),
                },
                amount_min: raw.source.amount_min,
                amount_max: raw.source.amount_max,
                unique_order_id: raw.source.unique_order_id,
                restatements,
                columns,
            },
            workdir,
            models_dir,
            features,
            label,
            active_within_days: raw.population.active_within_days as i32,
            engine,
            train: TrainSettings {
                cutoffs: t.cutoffs as usize,
                cadence_days: t.cadence_days.map(|c| c as i32),
                min_history_days: t.min_history_days as i32,
                alphas: t.alphas.clone(),
                max_iterations: t.max_iterations as u64,
                max_train_rows: t.max_train_rows as usize,
                seed: t.seed,
                max_auc_drop: t.max_auc_drop,
                max_log_loss_increase: t.max_log_loss_increase,
                calibration_tolerance: t.calibration_tolerance,
                retrain_every_days: t.retrain_every_days as i32,
                max_feature_psi: t.max_feature_psi,
            },
            scoring,
            customers,
            arrears,
            events,
            complaint_kinds,
        })
    }

    /// The Parquet warehouse root.
    pub fn warehouse_dir(&self) -> PathBuf {
        self.workdir.join("warehouse")
    }

    /// Where features as of `as_of` (YYYY-MM-DD) are written.
    pub fn features_file(&self, as_of: &str) -> PathBuf {
        self.workdir
            .join("features")
            .join(format!("as_of={as_of}"))
            .join("features.parquet")
    }

    /// Where lists as of `as_of` (YYYY-MM-DD) are written.
    pub fn outputs_dir(&self, as_of: &str) -> PathBuf {
        self.workdir.join("outputs").join(format!("as_of={as_of}"))
    }

    /// Where run manifests are written.
    pub fn runs_dir(&self) -> PathBuf {
        self.workdir.join("runs")
    }
}

fn check_side(
    kind: SideKind,
    raw: &raw::RawSideTable,
    resolve: &dyn Fn(&str) -> PathBuf,
    default_rejected_share: f64,
    problems: &mut Vec<String>,
) -> SideTable {
    let section = kind.name();
    let max_rejected_share = raw.max_rejected_share.unwrap_or(default_rejected_share);
    if !(0.0..=1.0).contains(&max_rejected_share) {
        problems.push(format!(
            "{section}.max_rejected_share: expected a share in 0..=1, found {max_rejected_share}"
        ));
    }
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

fn in_range(problems: &mut Vec<String>, key: &str, value: i64, lo: i64, hi: i64) {
    if !(lo..=hi).contains(&value) {
        problems.push(format!("{key}: expected {lo}..={hi}, found {value}"));
    }
}

/// Checks `[label]`: the keys that belong to the chosen kind, with their defaults.
fn check_label(raw: &RawLabel, problems: &mut Vec<String>) -> LabelRule {
    let horizon = raw.horizon_days.unwrap_or(90);
    let allowed: &[&str] = match raw.kind.as_str() {
        "fixed_horizon" => &["horizon_days"],
        "cycle_relative" => &["cycle_multiple", "min_days", "max_days"],
        "value_drop" => &["horizon_days", "drop_fraction"],
        other => {
            problems.push(format!(
                "label.kind: expected fixed_horizon, cycle_relative or value_drop, found {other:?}"
            ));
            return LabelRule::FixedHorizon { horizon_days: 90 };
        }
    };
    for (key, set) in [
        ("horizon_days", raw.horizon_days.is_some()),
        ("cycle_multiple", raw.cycle_multiple.is_some()),
        ("min_days", raw.min_days.is_some()),
        ("max_days", raw.max_days.is_some()),
        ("drop_fraction", raw.drop_fraction.is_some()),
    ] {
        if set && !allowed.contains(&key) {
            problems.push(format!(
                "label.{key}: does not apply to kind = {:?} (its keys: {})",
                raw.kind,
                allowed.join(", ")
            ));
        }
    }
    in_range(problems, "label.horizon_days", horizon, 1, 1095);
    match raw.kind.as_str() {
        "cycle_relative" => {
            let multiple = raw.cycle_multiple.unwrap_or(3.0);
            let (min, max) = (raw.min_days.unwrap_or(30), raw.max_days.unwrap_or(180));
            if !(multiple.is_finite() && multiple > 0.0) {
                problems.push(format!(
                    "label.cycle_multiple: expected a positive number, found {multiple}"
                ));
            }
            in_range(problems, "label.min_days", min, 1, 1095);
            in_range(problems, "label.max_days", max, min.max(1), 1095);
            LabelRule::CycleRelative {
                cycle_multiple: multiple,
                min_days: min as i32,
                max_days: max as i32,
            }
        }
        "value_drop" => {
            let fraction = raw.drop_fraction.unwrap_or(0.5);
            if !(fraction > 0.0 && fraction <= 1.0) {
                problems.push(format!(
                    "label.drop_fraction: expected a share in (0, 1], found {fraction}"
                ));
            }
            LabelRule::ValueDrop {
                horizon_days: horizon as i32,
                drop_fraction: fraction,
            }
        }
        _ => LabelRule::FixedHorizon {
            horizon_days: horizon as i32,
        },
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes `.` and `name/..` lexically, so messages show `out/demo`, not `pipelines/../out/demo`.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// Parses a pipeline file, reporting every syntax, type and unknown-key problem rather than the
/// first: after each problem the offending line is set aside (commented out, so line numbers
/// stay) and parsing resumes. A key set aside falls back to its default, so the file's other
/// checks still run; a missing required key, or a problem on a line that cannot be set aside,
/// ends the search. Returns the parsed file when the rest parses, and the problems found.
fn parse_all(text: &str) -> (Option<RawPipeline>, Vec<String>) {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut problems = Vec::new();
    for _ in 0..100 {
        let current = lines.join("\n");
        let e = match toml::from_str::<RawPipeline>(&current) {
            Ok(raw) => return (Some(raw), problems),
            Err(e) => e,
        };
        problems.push(e.to_string().trim_end().to_string());
        let Some(span) = e.span() else {
            break;
        };
        let line = current[..span.start.min(current.len())]
            .matches('\n')
            .count();
        let Some(l) = lines.get_mut(line) else { break };
        let t = l.trim_start();
        if e.message().starts_with("missing field")
            || t.is_empty()
            || t.starts_with('[')
            || t.starts_with('#')
        {
            break;
        }
        *l = format!("# {l}");
    }
    (None, problems)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::quadrant::Quadrant;

    const MINIMAL: &str = r#"
name = "t"
workdir = "out"
[source]
path = "tx.csv"
[source.columns]
customer_id = "cid"
timestamp = "date"
amount = "amt"
"#;

    fn parse(text: &str) -> Result<Pipeline> {
        let raw: RawPipeline = toml::from_str(text).map_err(|e| Error::Config {
            path: "p.toml".into(),
            problems: e.to_string(),
        })?;
        Pipeline::from_raw(raw, Path::new("/x/pipelines/p.toml"), String::new())
    }

    #[test]
    fn minimal_file_gets_documented_defaults_and_resolved_paths() {
        let p = parse(MINIMAL).unwrap();
        assert_eq!(p.source.path, Path::new("/x/pipelines/tx.csv"));
        assert_eq!(p.models_dir, Path::new("/x/pipelines/out/models"));
        assert_eq!(
            normalize(Path::new("pipelines/../out/./demo")),
            Path::new("out/demo")
        );
        assert_eq!(normalize(Path::new("../data")), Path::new("../data"));
        assert_eq!(p.label, LabelRule::FixedHorizon { horizon_days: 90 });
        assert_eq!(p.features, spec::default_specs(false, false));
        assert_eq!(p.scoring.list_quadrants, [Quadrant::ActNow]);
        assert_eq!(p.scoring.key, KeyRule::Pareto(0.8));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = parse(&MINIMAL.replace("name = \"t\"", "name = \"t\"\nhorizon = 3")).unwrap_err();
        assert!(err.to_string().contains("unknown field `horizon`"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = format!(
            "{MINIMAL}\n[label]\nhorizon_days = 0\ndrop_fraction = 0.5\n[train]\nalphas = [1.0, -1.0]\n[scoring]\nrisk_threshold = 1.5\nlist_quadrants = [\"panic\"]\n"
        );
        let err = parse(&text).unwrap_err().to_string();
        for needle in [
            "label.horizon_days: expected 1..=1095, found 0",
            "train.alphas: expected a non-empty list of positive numbers, found [1.0, -1.0]",
            "label.drop_fraction: does not apply to kind = \"fixed_horizon\"",
            "scoring.risk_threshold",
            "unknown quadrant \"panic\"",
        ] {
            assert!(err.contains(needle), "missing {needle:?} in\n{err}");
        }
    }
}
