//! Evaluation metrics with exact formulas: ROC AUC (Mann-Whitney, ties counted half), PR AUC as
//! average precision (scikit-learn's definition), log loss, Brier score, reliability by decile.

use rayon::prelude::*;
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

/// One bin of a reliability table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalibrationBin {
    pub bin: usize,
    pub rows: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
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

/// Area under the ROC curve: P(score of a random churner > score of a random non-churner),
/// ties counting one half. NaN when one class is absent.
pub fn roc_auc(score: &[f64], y: &[bool]) -> f64 {
    Ranked::new(score).roc_auc(y)
}

/// Average precision: sum over thresholds of (recall_k - recall_{k-1}) * precision_k, with tied
/// scores forming one threshold (as scikit-learn's `average_precision_score`).
pub fn average_precision(score: &[f64], y: &[bool]) -> f64 {
    Ranked::new(score).average_precision(y)
}

/// Rows ordered by score, highest first, ties in input order: sorted once and shared by the
/// ranking metrics (sorting dominated training's metric time when each metric sorted again).
struct Ranked<'a> {
    score: &'a [f64],
    desc: Vec<usize>,
}

impl<'a> Ranked<'a> {
    fn new(score: &'a [f64]) -> Self {
        Ranked {
            score,
            desc: by_score_desc(score),
        }
    }

    /// Tie groups as ranges of positions in `desc`.
    fn ties(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let mut i = 0;
        std::iter::from_fn(move || {
            if i >= self.desc.len() {
                return None;
            }
            let s = self.score[self.desc[i]];
            let mut j = i + 1;
            while j < self.desc.len() && self.score[self.desc[j]] == s {
                j += 1;
            }
            let r = i..j;
            i = j;
            Some(r)
        })
    }

    fn roc_auc(&self, y: &[bool]) -> f64 {
        // Average ascending ranks over ties, then the Mann-Whitney U statistic.
        let n = self.desc.len();
        let mut rank_sum_pos = 0.0;
        for r in self.ties() {
            // Descending positions i..j are ascending ranks n - j + 1 ..= n - i.
            let avg_rank = ((n - r.end + 1) + (n - r.start)) as f64 / 2.0;
            rank_sum_pos += self.desc[r].iter().filter(|&&k| y[k]).count() as f64 * avg_rank;
        }
        let n_pos = y.iter().filter(|v| **v).count() as f64;
        let n_neg = y.len() as f64 - n_pos;
        if n_pos == 0.0 || n_neg == 0.0 {
            return f64::NAN;
        }
        (rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
    }

    fn average_precision(&self, y: &[bool]) -> f64 {
        let n_pos = y.iter().filter(|v| **v).count() as f64;
        if n_pos == 0.0 {
            return f64::NAN;
        }
        let (mut tp, mut fp, mut ap, mut prev_recall) = (0.0, 0.0, 0.0, 0.0);
        for r in self.ties() {
            for &k in &self.desc[r] {
                if y[k] { tp += 1.0 } else { fp += 1.0 }
            }
            let recall = tp / n_pos;
            ap += (recall - prev_recall) * tp / (tp + fp);
            prev_recall = recall;
        }
        ap
    }

    fn top_share(&self, y: &[bool], share: f64) -> (f64, f64) {
        let n = y.len();
        let total = y.iter().filter(|v| **v).count() as f64;
        if n == 0 || total == 0.0 {
            return (f64::NAN, f64::NAN);
        }
        let k = ((share * n as f64).ceil() as usize).clamp(1, n);
        let caught = self.desc[..k].iter().filter(|&&i| y[i]).count() as f64;
        (caught / total, (caught / k as f64) / (total / n as f64))
    }
}

/// Mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15].
pub fn log_loss(p: &[f64], y: &[bool]) -> f64 {
    let eps = 1e-15;
    let total: f64 = p
        .iter()
        .zip(y)
        .map(|(&p, &y)| {
            let p = p.clamp(eps, 1.0 - eps);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    total / p.len().max(1) as f64
}

/// Mean squared difference between probability and outcome.
pub fn brier(p: &[f64], y: &[bool]) -> f64 {
    let total: f64 = p
        .iter()
        .zip(y)
        .map(|(&p, &y)| (p - if y { 1.0 } else { 0.0 }).powi(2))
        .sum();
    total / p.len().max(1) as f64
}

/// Indices sorted by score, highest first; ties keep input order so results are reproducible.
fn by_score_desc(score: &[f64]) -> Vec<usize> {
    sorted_indices(score, |a, b| b.total_cmp(&a))
}

/// Indices sorted by `cmp` on their scores, ties in input order. The keys are sorted next to
/// their indices (not looked up through them) and in parallel: these sorts over millions of
/// validation rows were a large part of training.
fn sorted_indices(
    score: &[f64],
    cmp: impl Fn(f64, f64) -> std::cmp::Ordering + Sync,
) -> Vec<usize> {
    let mut pairs: Vec<(f64, usize)> = score.iter().copied().zip(0..).collect();
    pairs.par_sort_unstable_by(|a, b| cmp(a.0, b.0).then(a.1.cmp(&b.1)));
    pairs.into_iter().map(|(_, i)| i).collect()
}

/// (capture, lift) of the top `share` of rows by score: capture = churners in the top k / all
/// churners, lift = churn rate in the top k / overall churn rate; k = ceil(share * n).
pub fn top_share(score: &[f64], y: &[bool], share: f64) -> (f64, f64) {
    Ranked::new(score).top_share(y, share)
}

/// Expected calibration error: sum over equal-width bins of (rows in bin / n) * |mean predicted
/// - observed rate|. A probability of exactly 1 falls in the last bin.
pub fn expected_calibration_error(p: &[f64], y: &[bool], bins: usize) -> f64 {
    if p.is_empty() {
        return f64::NAN;
    }
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for (&p, &y) in p.iter().zip(y) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        sum_p[b] += p;
        sum_y[b] += if y { 1.0 } else { 0.0 };
        count[b] += 1;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (sum_p[b] - sum_y[b]).abs())
        .sum::<f64>()
        / p.len() as f64
}

/// One decile of a gains table (rows ranked by score, highest first).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GainsRow {
    pub decile: usize,
    pub rows: usize,
    pub churners: usize,
    pub churn_rate: f64,
    /// Share of all churners found in this and the higher deciles.
    pub cumulative_capture: f64,
    /// Churn rate in this and the higher deciles over the overall churn rate.
    pub cumulative_lift: f64,
}

/// Gains table by decile of score.
pub fn gains_table(score: &[f64], y: &[bool]) -> Vec<GainsRow> {
    let order = by_score_desc(score);
    let n = order.len();
    let total = y.iter().filter(|v| **v).count() as f64;
    let base = total / n.max(1) as f64;
    let mut cum_rows = 0;
    let mut cum_churners = 0;
    (0..10)
        .filter_map(|d| {
            let (lo, hi) = (d * n / 10, (d + 1) * n / 10);
            if lo == hi {
                return None;
            }
            let churners = order[lo..hi].iter().filter(|&&i| y[i]).count();
            cum_rows += hi - lo;
            cum_churners += churners;
            Some(GainsRow {
                decile: d + 1,
                rows: hi - lo,
                churners,
                churn_rate: churners as f64 / (hi - lo) as f64,
                cumulative_capture: cum_churners as f64 / total,
                cumulative_lift: (cum_churners as f64 / cum_rows as f64) / base,
            })
        })
        .collect()
}

/// Share of next-period lost value that falls in the top `share` of accounts ranked by
/// `priority` (expected value at risk). `lost[i]` is the value account i did not bring.
pub fn lost_value_caught(priority: &[f64], lost: &[f64], share: f64) -> f64 {
    let total: f64 = lost.iter().map(|v| v.max(0.0)).sum();
    if priority.is_empty() || total <= 0.0 {
        return f64::NAN;
    }
    let k = ((share * priority.len() as f64).ceil() as usize).clamp(1, priority.len());
    by_score_desc(priority)[..k]
        .iter()
        .map(|&i| lost[i].max(0.0))
        .sum::<f64>()
        / total
}

/// Reliability table: rows sorted by predicted probability, cut into `bins` equal-count bins.
pub fn calibration_table(p: &[f64], y: &[bool], bins: usize) -> Vec<CalibrationBin> {
    let idx = sorted_indices(p, |a, b| a.total_cmp(&b));
    let n = idx.len();
    (0..bins)
        .filter_map(|b| {
            let (lo, hi) = (b * n / bins, (b + 1) * n / bins);
            if lo == hi {
                return None;
            }
            let slice = &idx[lo..hi];
            let k = slice.len() as f64;
            Some(CalibrationBin {
                bin: b + 1,
                rows: slice.len(),
                mean_predicted: slice.iter().map(|&i| p[i]).sum::<f64>() / k,
                observed_rate: slice.iter().filter(|&&i| y[i]).count() as f64 / k,
            })
        })
        .collect()
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
        assert!((average_precision(&P, &Y) - expected).abs() < 1e-12);
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
        let (capture, lift) = top_share(&s, &y, 0.2);
        assert!((capture - 0.25).abs() < 1e-12 && (lift - 1.25).abs() < 1e-12);
        // Top 10% = 1 row (ceil(1.0)): the 0.9 churner.
        assert_eq!(top_share(&s, &y, 0.1), (0.25, 2.5));
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
