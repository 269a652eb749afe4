//! The pipeline file exactly as written: serde structs that reject unknown keys. Nothing here is
//! checked beyond types; [`super::Pipeline::from_raw`] turns it into a validated pipeline.

pub mod defaults;
mod scoring;

pub use scoring::{RawLifecycle, RawScoring};

use serde::Deserialize;

/// Top level of `pipelines/<name>.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    /// Name of the job, used in artifacts and logs.
    pub name: String,
    /// Folder under which the warehouse, features, models, outputs and runs are written.
    pub workdir: String,
    /// Where models and the registry live; defaults to `<workdir>/models`.
    pub models_dir: Option<String>,
    /// The transaction export.
    pub source: RawSource,
    /// Feature specs; a documented default set when absent.
    #[serde(default)]
    pub features: Vec<RawFeature>,
    /// Churn label definition.
    #[serde(default)]
    pub label: RawLabel,
    /// Which customers are scored and used for training.
    #[serde(default)]
    pub population: RawPopulation,
    /// Model training settings.
    #[serde(default)]
    pub train: RawTrain,
    /// Turning scores into the at-risk list.
    #[serde(default)]
    pub scoring: RawScoring,
    /// Lifecycle stage thresholds.
    #[serde(default)]
    pub lifecycle: RawLifecycle,
    /// Which engine computes features, labels and lists.
    #[serde(default)]
    pub engine: RawEngine,
    /// Customer master: names and owners for the lists.
    pub customers: Option<RawSideTable>,
    /// Arrears snapshots: outstanding amounts and days overdue as of dates.
    pub arrears: Option<RawSideTable>,
    /// Events such as complaints or service tickets.
    pub events: Option<RawSideTable>,
}

/// `[customers]`, `[arrears]` or `[events]`: an optional side table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSideTable {
    /// Path to the export, relative to the pipeline file.
    pub path: String,
    /// File format: `csv` (default) or `jsonl`; Parquet is recognised by its content.
    #[serde(default = "defaults::format")]
    pub format: String,
    /// Field delimiter (one ASCII character).
    pub delimiter: Option<String>,
    /// Quote character of CSV fields (default `"`).
    pub quote: Option<String>,
    /// False when the CSV has no header line; columns are then named by position, "1", "2", ...
    #[serde(default = "defaults::yes")]
    pub has_header: bool,
    /// Line breaks one quoted CSV field may hold before its quote is taken for a stray one.
    #[serde(default = "defaults::max_quoted_lines")]
    pub max_quoted_lines: u64,
    /// Bytes one CSV record with an open quote may span before the quote is taken for a stray.
    #[serde(default = "defaults::max_quoted_bytes")]
    pub max_quoted_bytes: u64,
    /// Text encoding: utf-8 (default), gbk or gb18030.
    pub encoding: Option<String>,
    /// strftime format of the date column; ISO date or datetime when absent.
    pub timestamp_format: Option<String>,
    /// Time zone the export's times are written in (IANA name or +HH:MM); stored as UTC.
    pub timezone: Option<String>,
    /// Above this share of rejected rows the file is refused (exit 4) and nothing is written;
    /// `source.max_rejected_share` when absent.
    pub max_rejected_share: Option<f64>,
    /// `[events]` only: event kinds that count as complaints.
    pub complaint_kinds: Option<Vec<String>>,
    /// Canonical field -> export column.
    pub columns: std::collections::BTreeMap<String, String>,
}

/// `[source]`: one export file and how its columns map to the canonical schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// Path to the export, relative to the pipeline file.
    pub path: String,
    /// File format: `csv` (default) or `jsonl`; Parquet is recognised by its content.
    #[serde(default = "defaults::format")]
    pub format: String,
    /// Field delimiter for CSV (one ASCII character).
    pub delimiter: Option<String>,
    /// Quote character of CSV fields (default `"`).
    pub quote: Option<String>,
    /// False when the CSV has no header line; columns are then named by position, "1", "2", ...
    #[serde(default = "defaults::yes")]
    pub has_header: bool,
    /// Line breaks one quoted CSV field may hold before its quote is taken for a stray one.
    #[serde(default = "defaults::max_quoted_lines")]
    pub max_quoted_lines: u64,
    /// Bytes one CSV record with an open quote may span before the quote is taken for a stray.
    #[serde(default = "defaults::max_quoted_bytes")]
    pub max_quoted_bytes: u64,
    /// Text encoding: utf-8 (default), gbk or gb18030.
    pub encoding: Option<String>,
    /// strftime format of the timestamp column; ISO date or datetime when absent.
    pub timestamp_format: Option<String>,
    /// Time zone the export's times are written in (IANA name or +HH:MM); stored as UTC.
    pub timezone: Option<String>,
    /// Above this share of rejected rows the file is refused (exit 4) and nothing is written.
    #[serde(default = "defaults::max_rejected_share")]
    pub max_rejected_share: f64,
    /// Rows dated before this day are rejected as implausible.
    #[serde(default = "defaults::earliest_date")]
    pub earliest_date: String,
    /// Rows dated more than this many days after the ingest are rejected.
    #[serde(default = "defaults::max_future_days")]
    pub max_future_days: i64,
    /// A night whose newest row is more than this many days before the night (today, or
    /// `--as-of`) is refused as stale data (exit 4); absent: never refused.
    pub max_data_age_days: Option<i64>,
    /// Thousands separator in amounts, removed before parsing ("," in 1,234.50).
    pub thousands_separator: Option<String>,
    /// Decimal separator in amounts when it is not "." ("," in 1234,50).
    pub decimal_separator: Option<String>,
    /// Currency symbols stripped from amounts ("$€¥£").
    pub currency_symbols: Option<String>,
    /// Amounts below this are rejected as absurd.
    #[serde(default = "defaults::amount_min")]
    pub amount_min: f64,
    /// Amounts above this are rejected as absurd.
    #[serde(default = "defaults::amount_max")]
    pub amount_max: f64,
    /// Reject a row whose order id was used earlier in the file by a different row (set false
    /// for exports with one row per order line).
    #[serde(default = "defaults::yes")]
    pub unique_order_id: bool,
    /// What a later delivery of an order already in the warehouse with other rows does:
    /// "replace" (default), "keep_first" or "quarantine". Needs `columns.order_id`.
    pub restatements: Option<String>,
    /// Column mapping.
    pub columns: RawColumns,
}

/// `[source.columns]`: names of the export's columns for each canonical field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColumns {
    pub customer_id: String,
    pub timestamp: String,
    pub amount: String,
    pub order_id: Option<String>,
    pub quantity: Option<String>,
    pub product_id: Option<String>,
}

/// One `[[features]]` entry: a built-in `name`, `measure` + `agg` + `window_days`, or a
/// `builtin` group (`"bgnbd"`, `"mbgnbd"`: the BTYD features).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeature {
    pub builtin: Option<String>,
    pub name: Option<String>,
    pub measure: Option<String>,
    pub agg: Option<String>,
    pub window_days: Option<i64>,
}

/// `[label]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLabel {
    /// `fixed_horizon`, `cycle_relative` or `value_drop`.
    #[serde(default = "defaults::label_kind")]
    pub kind: String,
    /// fixed_horizon and value_drop: days after the cutoff that are looked at.
    pub horizon_days: Option<i64>,
    /// cycle_relative: window = this many usual purchase cycles ...
    pub cycle_multiple: Option<f64>,
    /// ... but at least this many days ...
    pub min_days: Option<i64>,
    /// ... and at most this many.
    pub max_days: Option<i64>,
    /// value_drop: churned when next-period spend is below this share of the previous period's.
    pub drop_fraction: Option<f64>,
}

impl Default for RawLabel {
    fn default() -> Self {
        Self {
            kind: defaults::label_kind(),
            horizon_days: None,
            cycle_multiple: None,
            min_days: None,
            max_days: None,
            drop_fraction: None,
        }
    }
}

/// `[engine]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEngine {
    /// `history` (in memory, the default), `polars` (the portable SQL text on polars SQL),
    /// `datafusion` (the same text on DataFusion in process) or `ballista` (on a cluster).
    #[serde(default = "defaults::engine_kind")]
    pub kind: String,
    /// `df://HOST:PORT` of a Ballista scheduler (`kind = "ballista"` only; without it Ballista
    /// runs inside the process).
    pub endpoint: Option<String>,
    /// Partitions DataFusion and Ballista split each query into (default: the cores).
    pub target_partitions: Option<i64>,
    /// Times a query that failed on a Ballista cluster is run again (default 2).
    pub retries: Option<i64>,
    /// Seconds before it is (default 90: longer than the scheduler's executor timeout).
    pub retry_wait_seconds: Option<i64>,
    /// Seconds a query on a cluster may run before it counts as failed and is run again
    /// (default 3600).
    pub query_timeout_seconds: Option<i64>,
}

impl Default for RawEngine {
    fn default() -> Self {
        Self {
            kind: defaults::engine_kind(),
            endpoint: None,
            target_partitions: None,
            retries: None,
            retry_wait_seconds: None,
            query_timeout_seconds: None,
        }
    }
}

/// `[population]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    /// Customers whose last purchase is older than this at the cutoff are already lost: they are
    /// not scored and not used for training (they belong on the win-back list).
    #[serde(default = "defaults::active_within")]
    pub active_within_days: i64,
}

impl Default for RawPopulation {
    fn default() -> Self {
        Self {
            active_within_days: defaults::active_within(),
        }
    }
}

/// `[train]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrain {
    /// Number of training cutoffs before the validation cutoff.
    #[serde(default = "defaults::cutoffs")]
    pub cutoffs: i64,
    /// Days between cutoffs; absent = month ends.
    pub cadence_days: Option<i64>,
    /// History a cutoff needs before it (features of younger data are mostly censored).
    #[serde(default = "defaults::min_history")]
    pub min_history_days: i64,
    /// L2 strengths tried (linfa's alpha; about 1/C of scikit-learn); the one with the lowest
    /// validation log loss wins.
    #[serde(default = "defaults::alphas")]
    pub alphas: Vec<f64>,
    /// L-BFGS iteration cap.
    #[serde(default = "defaults::max_iterations")]
    pub max_iterations: i64,
    /// Above this many training rows, fit on a stratified sample of this size.
    #[serde(default = "defaults::max_train_rows")]
    pub max_train_rows: i64,
    /// Seed of the stratified sample.
    #[serde(default)]
    pub seed: u64,
    /// A new model is rejected when its validation ROC AUC is below the current model's on the
    /// same snapshot by more than this ...
    #[serde(default = "defaults::tolerance")]
    pub max_auc_drop: f64,
    /// ... or its validation log loss is above the current model's by more than this.
    #[serde(default = "defaults::tolerance")]
    pub max_log_loss_increase: f64,
    /// Expected calibration error above which a Platt correction is fitted out of time.
    #[serde(default = "defaults::calibration_tolerance")]
    pub calibration_tolerance: f64,
    /// `run` retrains when the current model's data ends this many days before tonight (0: never).
    #[serde(default = "defaults::retrain_every")]
    pub retrain_every_days: i64,
    /// `run` retrains when a feature's PSI since training exceeds this (0: no drift check).
    #[serde(default = "defaults::max_psi")]
    pub max_feature_psi: f64,
}

impl Default for RawTrain {
    fn default() -> Self {
        Self {
            cutoffs: defaults::cutoffs(),
            cadence_days: None,
            min_history_days: defaults::min_history(),
            alphas: defaults::alphas(),
            max_iterations: defaults::max_iterations(),
            max_train_rows: defaults::max_train_rows(),
            seed: 0,
            max_auc_drop: defaults::tolerance(),
            max_log_loss_increase: defaults::tolerance(),
            calibration_tolerance: defaults::calibration_tolerance(),
            retrain_every_days: defaults::retrain_every(),
            max_feature_psi: defaults::max_psi(),
        }
    }
}
