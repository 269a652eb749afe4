//! `[label]` and `[train]`: the churn definition and how models are fitted, validated and
//! promoted.

use super::check::in_range;
use super::raw::defaults;
use super::raw::{RawLabel, RawTrain};
use crate::domain::label::LabelRule;

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

/// Checks `[train]`.
pub(super) fn check_train(t: &RawTrain, problems: &mut Vec<String>) -> TrainSettings {
    in_range(problems, "train.cutoffs", t.cutoffs, 1, 120);
    in_range(
        problems,
        "train.min_history_days",
        t.min_history_days,
        0,
        3660,
    );
    if let Some(c) = t.cadence_days {
        in_range(problems, "train.cadence_days", c, 1, 365);
    }
    if t.alphas.is_empty() || t.alphas.iter().any(|a| !(a.is_finite() && *a > 0.0)) {
        problems.push(format!(
            "train.alphas: expected a non-empty list of positive numbers, found {:?}",
            t.alphas
        ));
    }
    in_range(
        problems,
        "train.max_iterations",
        t.max_iterations,
        1,
        100_000,
    );
    in_range(
        problems,
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
    TrainSettings {
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
    }
}

/// Checks `[label]`: the keys that belong to the chosen kind, with their defaults.
pub(super) fn check_label(raw: &RawLabel, problems: &mut Vec<String>) -> LabelRule {
    let horizon = raw.horizon_days.unwrap_or(defaults::LABEL_HORIZON_DAYS);
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
            let multiple = raw.cycle_multiple.unwrap_or(defaults::LABEL_CYCLE_MULTIPLE);
            let (min, max) = (
                raw.min_days.unwrap_or(defaults::LABEL_MIN_DAYS),
                raw.max_days.unwrap_or(defaults::LABEL_MAX_DAYS),
            );
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
            let fraction = raw.drop_fraction.unwrap_or(defaults::LABEL_DROP_FRACTION);
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
