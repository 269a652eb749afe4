//! The pipeline file exactly as written: serde structs that reject unknown keys. Nothing here is
//! checked beyond types; [`super::Pipeline::from_raw`] turns it into a validated pipeline.

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
}

/// `[source]`: one export file and how its columns map to the canonical schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// Path to the export, relative to the pipeline file.
    pub path: String,
    /// File format; only `csv` in this version.
    #[serde(default = "default_format")]
    pub format: String,
    /// Field delimiter for CSV (one ASCII character).
    pub delimiter: Option<String>,
    /// strftime format of the timestamp column; ISO date or datetime when absent.
    pub timestamp_format: Option<String>,
    /// Column mapping.
    pub columns: RawColumns,
}

fn default_format() -> String {
    "csv".into()
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

/// One `[[features]]` entry: either a built-in `name` or `measure` + `agg` + `window_days`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeature {
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
    #[serde(default = "default_label_kind")]
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

fn default_label_kind() -> String {
    "fixed_horizon".into()
}

impl Default for RawLabel {
    fn default() -> Self {
        Self {
            kind: default_label_kind(),
            horizon_days: None,
            cycle_multiple: None,
            min_days: None,
            max_days: None,
            drop_fraction: None,
        }
    }
}

/// `[population]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    /// Customers whose last purchase is older than this at the cutoff are already lost: they are
    /// not scored and not used for training (they belong on the win-back list).
    #[serde(default = "default_active_within")]
    pub active_within_days: i64,
}

fn default_active_within() -> i64 {
    365
}

impl Default for RawPopulation {
    fn default() -> Self {
        Self {
            active_within_days: default_active_within(),
        }
    }
}

/// `[train]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrain {
    /// Number of training cutoffs before the validation cutoff.
    #[serde(default = "default_cutoffs")]
    pub cutoffs: i64,
    /// Days between cutoffs; absent = month ends.
    pub cadence_days: Option<i64>,
    /// History a cutoff needs before it (features of younger data are mostly censored).
    #[serde(default = "default_min_history")]
    pub min_history_days: i64,
    /// L2 strengths tried (linfa's alpha; about 1/C of scikit-learn); the one with the lowest
    /// validation log loss wins.
    #[serde(default = "default_alphas")]
    pub alphas: Vec<f64>,
    /// L-BFGS iteration cap.
    #[serde(default = "default_max_iterations")]
    pub max_iterations: i64,
    /// Above this many training rows, fit on a stratified sample of this size.
    #[serde(default = "default_max_train_rows")]
    pub max_train_rows: i64,
    /// Seed of the stratified sample.
    #[serde(default)]
    pub seed: u64,
    /// A new model is rejected when its validation ROC AUC is below the current model's on the
    /// same snapshot by more than this ...
    #[serde(default = "default_tolerance")]
    pub max_auc_drop: f64,
    /// ... or its validation log loss is above the current model's by more than this.
    #[serde(default = "default_tolerance")]
    pub max_log_loss_increase: f64,
    /// Expected calibration error above which a Platt correction is fitted out of time.
    #[serde(default = "default_calibration_tolerance")]
    pub calibration_tolerance: f64,
}

fn default_cutoffs() -> i64 {
    6
}
fn default_min_history() -> i64 {
    180
}
fn default_alphas() -> Vec<f64> {
    vec![0.1, 1.0, 10.0, 100.0]
}
fn default_max_iterations() -> i64 {
    200
}
fn default_max_train_rows() -> i64 {
    200_000
}
fn default_tolerance() -> f64 {
    0.005
}
fn default_calibration_tolerance() -> f64 {
    0.02
}

impl Default for RawTrain {
    fn default() -> Self {
        Self {
            cutoffs: default_cutoffs(),
            cadence_days: None,
            min_history_days: default_min_history(),
            alphas: default_alphas(),
            max_iterations: default_max_iterations(),
            max_train_rows: default_max_train_rows(),
            seed: 0,
            max_auc_drop: default_tolerance(),
            max_log_loss_increase: default_tolerance(),
            calibration_tolerance: default_calibration_tolerance(),
        }
    }
}

/// `[scoring]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScoring {
    /// Churn probability at or above which an account counts as high risk.
    #[serde(default = "default_threshold")]
    pub risk_threshold: f64,
    /// Key accounts: the smallest set covering this share of trailing-12-month value.
    #[serde(default = "default_key_share")]
    pub key_value_share: f64,
    /// Quadrants that appear on the at-risk list.
    #[serde(default = "default_list_quadrants")]
    pub list_quadrants: Vec<String>,
    /// How many accounts the terminal summary shows.
    #[serde(default = "default_summary_rows")]
    pub summary_rows: i64,
}

fn default_threshold() -> f64 {
    0.5
}
fn default_key_share() -> f64 {
    0.8
}
fn default_list_quadrants() -> Vec<String> {
    vec!["act_now".into()]
}
fn default_summary_rows() -> i64 {
    10
}

impl Default for RawScoring {
    fn default() -> Self {
        Self {
            risk_threshold: default_threshold(),
            key_value_share: default_key_share(),
            list_quadrants: default_list_quadrants(),
            summary_rows: default_summary_rows(),
        }
    }
}
