//! Every default of the pipeline file in one place: the values serde fills in for a key left
//! out, and the defaults of the label rule's keys (which depend on its kind). The README's
//! pipeline reference states the same values; `[scoring]` and `[lifecycle]` take theirs from
//! their structs' `Default` (`scoring.rs`), as whole sections.

/// `[side table] max_quoted_lines`, `[source] max_quoted_lines`.
pub(crate) fn max_quoted_lines() -> u64 {
    crate::domain::input::QuoteLimits::default().max_lines
}

/// `[source] max_rejected_share`.
pub(crate) fn max_rejected_share() -> f64 {
    0.05
}

/// `[source] max_future_days`.
pub(crate) fn max_future_days() -> i64 {
    1
}

/// `[source] amount_max`.
pub(crate) fn amount_max() -> f64 {
    1e9
}

/// `[side table] format`, `[source] format`.
pub(crate) fn format() -> String {
    "csv".into()
}

/// `[label] kind`.
pub(crate) fn label_kind() -> String {
    "fixed_horizon".into()
}

/// `[engine] kind`.
pub(crate) fn engine_kind() -> String {
    "history".into()
}

/// `[population] active_within_days`.
pub(crate) fn active_within() -> i64 {
    365
}

/// `[train] retrain_every_days`.
pub(crate) fn retrain_every() -> i64 {
    30
}

/// `[train] cutoffs`.
pub(crate) fn cutoffs() -> i64 {
    6
}

/// `[train] alphas`.
pub(crate) fn alphas() -> Vec<f64> {
    vec![0.1, 1.0, 10.0, 100.0]
}

/// `[train] max_train_rows`.
pub(crate) fn max_train_rows() -> i64 {
    200_000
}

/// `[train] calibration_tolerance`.
pub(crate) fn calibration_tolerance() -> f64 {
    0.02
}

/// `[side table] max_quoted_bytes`, `[source] max_quoted_bytes`.
pub(crate) fn max_quoted_bytes() -> u64 {
    crate::domain::input::QuoteLimits::default().max_bytes
}

/// `[source] amount_min`.
pub(crate) fn amount_min() -> f64 {
    -1e9
}

/// `[train] max_feature_psi`.
pub(crate) fn max_psi() -> f64 {
    0.25
}

/// `[train] min_history_days`.
pub(crate) fn min_history() -> i64 {
    180
}

/// `[train] max_auc_drop`, `[train] max_log_loss_increase`.
pub(crate) fn tolerance() -> f64 {
    0.005
}

/// `[source] earliest_date`.
pub(crate) fn earliest_date() -> String {
    "1990-01-01".into()
}

/// `[side table] has_header`, `[source] has_header`, `[source] unique_order_id`.
pub(crate) fn yes() -> bool {
    true
}

/// `[train] max_iterations`.
pub(crate) fn max_iterations() -> i64 {
    200
}

/// `[label] horizon_days` of `fixed_horizon` and `value_drop`.
pub(crate) const LABEL_HORIZON_DAYS: i64 = 90;
/// `[label] cycle_multiple` of `cycle_relative`.
pub(crate) const LABEL_CYCLE_MULTIPLE: f64 = 3.0;
/// `[label] min_days` of `cycle_relative`.
pub(crate) const LABEL_MIN_DAYS: i64 = 30;
/// `[label] max_days` of `cycle_relative`.
pub(crate) const LABEL_MAX_DAYS: i64 = 180;
/// `[label] drop_fraction` of `value_drop`.
pub(crate) const LABEL_DROP_FRACTION: f64 = 0.5;
