//! Evaluation metrics with exact formulas: ROC AUC (Mann-Whitney, ties counted half), PR AUC as
//! average precision (scikit-learn's definition), log loss, Brier score, reliability by decile.

mod probability;
mod ranking;

pub use probability::{
    CalibrationBin, brier, calibration_table, expected_calibration_error, log_loss,
};
use ranking::Ranked;
pub use ranking::{GainsRow, gains_table, lost_value_caught, roc_auc};

use serde::{Deserialize, Serialize};

/// Headline metrics of one model on one labelled snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub rows: usize,
    pub churn_rate: f64,
    /// NaN (stored as null) when the snapshot has one class only.
    #[serde(with = "nan_as_null")]
    pub roc_auc: f64,
    #[serde(with = "nan_as_null")]
    pub pr_auc: f64,
    /// NaN (stored as null) for scores that are rankings, not probabilities.
    #[serde(with = "nan_as_null")]
    pub log_loss: f64,
    #[serde(with = "nan_as_null")]
    pub brier: f64,
    /// Expected calibration error over 10 equal-width probability bins.
    #[serde(with = "nan_as_null")]
    pub ece: f64,
    /// Churn rate among the top 10% by score divided by the overall churn rate.
    #[serde(with = "nan_as_null")]
    pub lift_at_10: f64,
    #[serde(with = "nan_as_null")]
    pub lift_at_20: f64,
    /// Share of all churners found in the top 10% by score.
    #[serde(with = "nan_as_null")]
    pub capture_at_10: f64,
    #[serde(with = "nan_as_null")]
    pub capture_at_20: f64,
}

/// JSON has no NaN: store it as null and read null back as NaN.
pub mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes NaN as null.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    /// Reads null as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

impl Metrics {
    /// All headline metrics of probabilities `p` against labels `y` (true = churned).
    pub fn compute(p: &[f64], y: &[bool]) -> Self {
        let positives = y.iter().filter(|v| **v).count();
        let ranked = Ranked::new(p);
        let (capture_at_10, lift_at_10) = ranked.top_share(y, 0.1);
        let (capture_at_20, lift_at_20) = ranked.top_share(y, 0.2);
        Metrics {
            rows: y.len(),
            churn_rate: positives as f64 / y.len().max(1) as f64,
            roc_auc: ranked.roc_auc(y),
            pr_auc: ranked.average_precision(y),
            log_loss: log_loss(p, y),
            brier: brier(p, y),
            ece: expected_calibration_error(p, y, 10),
            lift_at_10,
            lift_at_20,
            capture_at_10,
            capture_at_20,
        }
    }

    /// Ranking metrics of a score that is not a probability (log loss and Brier left NaN).
    pub fn ranking_only(score: &[f64], y: &[bool]) -> Self {
        let ranked = Ranked::new(score);
        let (capture_at_10, lift_at_10) = ranked.top_share(y, 0.1);
        let (capture_at_20, lift_at_20) = ranked.top_share(y, 0.2);
        Metrics {
            log_loss: f64::NAN,
            brier: f64::NAN,
            ece: f64::NAN,
            roc_auc: ranked.roc_auc(y),
            pr_auc: ranked.average_precision(y),
            lift_at_10,
            lift_at_20,
            capture_at_10,
            capture_at_20,
            ..Self::compute(&[], &[])
        }
        .with_rows(y)
    }

    fn with_rows(mut self, y: &[bool]) -> Self {
        self.rows = y.len();
        self.churn_rate = y.iter().filter(|v| **v).count() as f64 / y.len().max(1) as f64;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed by hand (and identical to scikit-learn 1.9.1:
    // roc_auc_score, average_precision_score, log_loss, brier_score_loss).
    const P: [f64; 6] = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9];
    const Y: [bool; 6] = [false, false, true, true, true, false];

    #[test]
    fn roc_auc_counts_ties_as_half() {
        // Positives 0.35, 0.8, 0.4 vs negatives 0.1, 0.4, 0.9:
        // 0.35 beats 0.1 (1); 0.8 beats 0.1, 0.4 (2); 0.4 beats 0.1, ties 0.4 (1.5) -> 4.5 / 9.
        assert!((roc_auc(&P, &Y) - 0.5).abs() < 1e-12);
        assert!((roc_auc(&[0.1, 0.2, 0.3], &[false, true, true]) - 1.0).abs() < 1e-12);
        assert!(roc_auc(&[0.1, 0.2], &[true, true]).is_nan());
    }

    #[test]
    fn average_precision_matches_step_definition() {
        // Ranked: 0.9 (n), 0.8 (p), {0.4 p, 0.4 n}, 0.35 (p), 0.1 (n)
        // thresholds: after 0.9 -> R 0, after 0.8 -> R 1/3 P 1/2; after 0.4 -> R 2/3 P 2/4;
        // after 0.35 -> R 1 P 3/5.  AP = 1/3*1/2 + 1/3*1/2 + 1/3*3/5 = 0.5333...
        let expected = 1.0 / 6.0 + 1.0 / 6.0 + 0.2;
        assert!((Ranked::new(&P).average_precision(&Y) - expected).abs() < 1e-12);
    }

    #[test]
    fn log_loss_and_brier_follow_their_formulas() {
        let ll = -((0.9f64).ln()
            + (0.6f64).ln()
            + (0.35f64).ln()
            + (0.8f64).ln()
            + (0.4f64).ln()
            + (0.1f64).ln())
            / 6.0;
        assert!((log_loss(&P, &Y) - ll).abs() < 1e-12);
        let b = (0.01 + 0.16 + 0.4225 + 0.04 + 0.36 + 0.81) / 6.0;
        assert!((brier(&P, &Y) - b).abs() < 1e-12);
        assert!(log_loss(&[1.0], &[false]).is_finite());
    }

    #[test]
    fn lift_and_capture_at_the_top() {
        // Top 20% of 10 rows = 2 rows: scores 0.9 (churner) and 0.8 (not): capture 1/4,
        // churn rate 1/2 vs base 4/10 -> lift 1.25.
        let s = [0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.4, 0.6, 0.5, 0.05];
        let y = [
            true, true, false, false, false, true, false, true, false, false,
        ];
        let (capture, lift) = Ranked::new(&s).top_share(&y, 0.2);
        assert!((capture - 0.25).abs() < 1e-12 && (lift - 1.25).abs() < 1e-12);
        // Top 10% = 1 row (ceil(1.0)): the 0.9 churner.
        assert_eq!(Ranked::new(&s).top_share(&y, 0.1), (0.25, 2.5));
        let g = gains_table(&s, &y);
        assert_eq!(g.len(), 10);
        assert_eq!(g[1].cumulative_capture, 0.25);
        assert_eq!(g[9].cumulative_capture, 1.0);
        assert!((g[9].cumulative_lift - 1.0).abs() < 1e-12);
    }

    #[test]
    fn expected_calibration_error_by_equal_width_bins() {
        // Bin [0.1,0.2): p 0.1, 0.15 -> mean 0.125, observed 0.5 -> |.| = 0.375, weight 2/4.
        // Bin [0.9,1.0]: p 0.9, 1.0 -> mean 0.95, observed 1.0 -> 0.05, weight 2/4.
        let ece =
            expected_calibration_error(&[0.1, 0.15, 0.9, 1.0], &[true, false, true, true], 10);
        assert!((ece - (0.5 * 0.375 + 0.5 * 0.05)).abs() < 1e-12, "{ece}");
    }

    #[test]
    fn lost_value_caught_counts_the_top_share() {
        let priority = [5.0, 1.0, 3.0, 4.0];
        let lost = [10.0, 50.0, 0.0, 40.0];
        // Top 50% = accounts 0 and 3: (10 + 40) / 100.
        assert!((lost_value_caught(&priority, &lost, 0.5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn calibration_bins_have_equal_counts() {
        let t = calibration_table(&P, &Y, 3);
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].rows, 2);
        assert!((t[0].mean_predicted - 0.225).abs() < 1e-12); // 0.1, 0.35
        assert!((t[0].observed_rate - 0.5).abs() < 1e-12);
    }
}
