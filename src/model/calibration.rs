//! Calibration judged out of sample. A Platt correction `P = sigmoid(a * logit(p) + b)` is
//! meant to carry a model trained on earlier cutoffs over to a later one (the churn rate moves
//! with time), so it is judged the way it is used: a correction fitted on one (model, later
//! cutoff) pair is applied to the next pair and kept only when it lowers that pair's log loss.
//!
//! The pairs, oldest first: a model of the training cutoffs before the last one, on the last
//! training cutoff (where the correction is fitted); the out-of-time model, on the validation
//! cutoff (where it is judged). A kept correction is refitted on the latest pair and folded into
//! the shipped model, as the judged procedure did one step earlier. The ECE reported after it is
//! the judged one, on rows the correction never saw; fitting and measuring on the same snapshot
//! (what churnflow did before) reported 0.02 where backtests found 0.05-0.065.

use serde::{Deserialize, Serialize};

use crate::model::fit::{LinearModel, sigmoid};
use crate::model::metrics::{self, CalibrationBin};

/// Platt correction `P = sigmoid(a * logit + b)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlattCorrection {
    pub a: f64,
    pub b: f64,
}

/// Calibration evidence and the correction applied, if any.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Reliability by decile of predicted probability on the validation rows, uncorrected.
    pub table_before: Vec<CalibrationBin>,
    #[serde(with = "crate::model::metrics::nan_as_null")]
    pub ece_before: f64,
    /// The ECE above which a correction is tried.
    pub tolerance: f64,
    /// Present when the shipped model's coefficients include a Platt correction.
    pub correction: Option<PlattCorrection>,
    /// Reliability on the validation rows with the correction fitted one step earlier (out of
    /// sample); the same as before when no correction was kept.
    pub table_after: Vec<CalibrationBin>,
    #[serde(with = "crate::model::metrics::nan_as_null")]
    pub ece_after: f64,
    /// Validation log loss without and with the judged correction.
    #[serde(with = "crate::model::metrics::nan_as_null")]
    pub log_loss_before: f64,
    #[serde(with = "crate::model::metrics::nan_as_null")]
    pub log_loss_after: f64,
    /// Why the correction was kept or not, in a sentence.
    pub decision: String,
}

/// A (model, later cutoff) pair: the model's probabilities on that cutoff's rows and the labels.
pub struct Pair<'a> {
    pub probabilities: &'a [f64],
    pub labels: &'a [bool],
    /// Names the pair for the decision sentence (e.g. "cutoff 2024-06-30").
    pub name: String,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-15, 1.0 - 1e-15);
    (p / (1.0 - p)).ln()
}

/// Fits `P = sigmoid(a * t + b)` to labels by Newton's method (Platt scaling on log-odds `t`).
pub fn fit_platt(t: &[f64], y: &[bool]) -> PlattCorrection {
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for (&ti, &yi) in t.iter().zip(y) {
            let p = sigmoid(a * ti + b);
            let r = p - if yi { 1.0 } else { 0.0 };
            let w = p * (1.0 - p);
            ga += r * ti;
            gb += r;
            haa += w * ti * ti;
            hab += w * ti;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-300 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-12 {
            break;
        }
    }
    PlattCorrection { a, b }
}

/// The Platt correction of a pair, or None when it would not be a calibration: a non-positive
/// or non-finite slope reverses or destroys the ranking.
fn platt_of(pair: &Pair) -> Option<PlattCorrection> {
    let t: Vec<f64> = pair.probabilities.iter().map(|&p| logit(p)).collect();
    Some(fit_platt(&t, pair.labels)).filter(|c| c.a.is_finite() && c.b.is_finite() && c.a > 0.0)
}

/// `p` with a correction applied.
pub fn corrected(p: &[f64], c: &PlattCorrection) -> Vec<f64> {
    p.iter().map(|&p| sigmoid(c.a * logit(p) + c.b)).collect()
}

/// Folds a Platt correction into a linear model: a * (b0 + w.z) + b.
pub fn apply_platt(m: &LinearModel, c: &PlattCorrection) -> LinearModel {
    LinearModel {
        intercept: c.a * m.intercept + c.b,
        coefficients: m.coefficients.iter().map(|w| c.a * w).collect(),
    }
}

/// Judges a correction for the validation pair `val` (the out-of-time model's uncorrected
/// probabilities) with the correction fitted on `earlier`, when there is an earlier pair.
/// Returns the evidence (the correction to ship inside it, fitted on `val`) and the validation
/// probabilities to report: the judged corrected ones when the correction is kept.
pub fn judge(tolerance: f64, val: &Pair, earlier: Option<&Pair>) -> (Calibration, Vec<f64>) {
    let (p, y) = (val.probabilities, val.labels);
    let ece_before = metrics::expected_calibration_error(p, y, 10);
    let log_loss_before = metrics::log_loss(p, y);
    let evidence = |correction, judged: &[f64], decision: String| Calibration {
        table_before: metrics::calibration_table(p, y, 10),
        ece_before,
        tolerance,
        correction,
        table_after: metrics::calibration_table(judged, y, 10),
        ece_after: metrics::expected_calibration_error(judged, y, 10),
        log_loss_before,
        log_loss_after: metrics::log_loss(judged, y),
        decision,
    };
    let unchanged = |decision: String| (evidence(None, p, decision), p.to_vec());
    // A NaN ECE (one class only) needs no correction either.
    if ece_before.partial_cmp(&tolerance) != Some(std::cmp::Ordering::Greater) {
        return unchanged(format!("ECE {ece_before:.4} within tolerance {tolerance}"));
    }
    let Some(earlier) = earlier else {
        return unchanged(format!(
            "ECE {ece_before:.4} above tolerance {tolerance}, but a correction cannot be judged \
             out of sample: that needs two training cutoffs before the validation cutoff"
        ));
    };
    let Some(previous) = platt_of(earlier) else {
        return unchanged(format!(
            "ECE {ece_before:.4} above tolerance {tolerance}; the correction fitted on {} would \
             reverse the ranking, so none is applied",
            earlier.name
        ));
    };
    let judged = corrected(p, &previous);
    let after = metrics::log_loss(&judged, y);
    if after.partial_cmp(&log_loss_before) != Some(std::cmp::Ordering::Less) {
        return unchanged(format!(
            "ECE {ece_before:.4} above tolerance {tolerance}; the correction fitted on {} did not \
             lower the log loss on {} ({after:.4} vs {log_loss_before:.4} without), so none is \
             applied",
            earlier.name, val.name
        ));
    }
    match platt_of(val) {
        Some(ship) => {
            let decision = format!(
                "ECE {ece_before:.4} above tolerance {tolerance}; a correction fitted on {} \
                 lowered the log loss on {} from {log_loss_before:.4} to {after:.4}, so one \
                 refitted on {} is applied",
                earlier.name, val.name, val.name
            );
            (evidence(Some(ship), &judged, decision), judged)
        }
        None => unchanged(format!(
            "ECE {ece_before:.4} above tolerance {tolerance}; the correction fitted on {} would \
             reverse the ranking, so none is applied",
            val.name
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    #[test]
    fn platt_recovers_a_known_scaling() {
        let mut rng = Rng::new(3);
        let t: Vec<f64> = (0..20_000).map(|_| rng.normal() * 2.0).collect();
        let y: Vec<bool> = t
            .iter()
            .map(|&t| rng.uniform() < sigmoid(0.5 * t - 0.7))
            .collect();
        let c = fit_platt(&t, &y);
        assert!(
            (c.a - 0.5).abs() < 0.05 && (c.b + 0.7).abs() < 0.06,
            "{c:?}"
        );
    }

    /// Probabilities `sigmoid(t)` of a model whose true log-odds are `a t + b`.
    fn pair(seed: u64, a: f64, b: f64) -> (Vec<f64>, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let t: Vec<f64> = (0..20_000).map(|_| rng.normal() * 1.5).collect();
        let y = t
            .iter()
            .map(|&t| rng.uniform() < sigmoid(a * t + b))
            .collect();
        (t.iter().map(|&t| sigmoid(t)).collect(), y)
    }

    fn named<'a>(p: &'a [f64], y: &'a [bool], name: &str) -> Pair<'a> {
        Pair {
            probabilities: p,
            labels: y,
            name: name.into(),
        }
    }

    #[test]
    fn a_correction_that_carries_over_is_kept_and_its_ece_is_out_of_sample() {
        // The same miscalibration at both pairs: the earlier correction fixes the later one.
        let (p0, y0) = pair(1, 0.6, -0.8);
        let (p1, y1) = pair(2, 0.6, -0.8);
        let (earlier, val) = (named(&p0, &y0, "earlier"), named(&p1, &y1, "val"));
        let (c, reported) = judge(0.02, &val, Some(&earlier));
        assert!(c.correction.is_some(), "{}", c.decision);
        assert!(c.log_loss_after < c.log_loss_before);
        // The reported ECE is that of the earlier pair's correction on the validation rows.
        let previous = platt_of(&earlier).unwrap();
        let judged = corrected(&p1, &previous);
        assert_eq!(reported, judged);
        assert_eq!(
            c.ece_after,
            metrics::expected_calibration_error(&judged, &y1, 10)
        );
        // The shipped correction is the validation pair's own.
        assert_eq!(c.correction, platt_of(&val));
    }

    #[test]
    fn a_correction_that_does_not_carry_over_is_refused() {
        // The earlier pair was miscalibrated one way, the validation pair the other way: the
        // earlier correction makes validation worse.
        let (p0, y0) = pair(1, 1.0, -1.5);
        let (p1, y1) = pair(2, 1.0, 1.0);
        let (earlier, val) = (named(&p0, &y0, "earlier"), named(&p1, &y1, "val"));
        let (c, reported) = judge(0.02, &val, Some(&earlier));
        assert!(c.correction.is_none(), "{}", c.decision);
        assert!(
            c.decision.contains("did not lower the log loss"),
            "{}",
            c.decision
        );
        assert_eq!(reported, p1);
        assert_eq!(c.ece_after, c.ece_before);
        // Without an earlier pair nothing can be judged, so nothing is applied.
        let (c, _) = judge(0.02, &val, None);
        assert!(c.correction.is_none() && c.decision.contains("cannot be judged"));
    }
}
