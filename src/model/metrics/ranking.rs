//! Ranking metrics, from one sort by score shared by all of them: ROC AUC (Mann-Whitney, ties
//! counted half), PR AUC as average precision (scikit-learn's definition), capture and lift of
//! the top share, the gains table, and the lost value caught.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Area under the ROC curve: P(score of a random churner > score of a random non-churner),
/// ties counting one half. NaN when one class is absent.
pub fn roc_auc(score: &[f64], y: &[bool]) -> f64 {
    Ranked::new(score).roc_auc(y)
}

/// Rows ordered by score, highest first, ties in input order: sorted once and shared by the
/// ranking metrics (sorting dominated training's metric time when each metric sorted again).
pub(super) struct Ranked<'a> {
    score: &'a [f64],
    desc: Vec<usize>,
}

impl<'a> Ranked<'a> {
    pub(super) fn new(score: &'a [f64]) -> Self {
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

    pub(super) fn roc_auc(&self, y: &[bool]) -> f64 {
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

    /// Average precision: sum over thresholds of (recall_k - recall_{k-1}) * precision_k, with tied
    /// scores forming one threshold (as scikit-learn's `average_precision_score`).
    pub(super) fn average_precision(&self, y: &[bool]) -> f64 {
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

    /// (capture, lift) of the top `share` of rows by score: capture = churners in the top k / all
    /// churners, lift = churn rate in the top k / overall churn rate; k = ceil(share * n).
    pub(super) fn top_share(&self, y: &[bool], share: f64) -> (f64, f64) {
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

/// Indices sorted by score, highest first; ties keep input order so results are reproducible.
pub(super) fn by_score_desc(score: &[f64]) -> Vec<usize> {
    sorted_indices(score, |a, b| b.total_cmp(&a))
}

/// Indices sorted by `cmp` on their scores, ties in input order. The keys are sorted next to
/// their indices (not looked up through them) and in parallel: these sorts over millions of
/// validation rows were a large part of training.
pub(super) fn sorted_indices(
    score: &[f64],
    cmp: impl Fn(f64, f64) -> std::cmp::Ordering + Sync,
) -> Vec<usize> {
    let mut pairs: Vec<(f64, usize)> = score.iter().copied().zip(0..).collect();
    pairs.par_sort_unstable_by(|a, b| cmp(a.0, b.0).then(a.1.cmp(&b.1)));
    pairs.into_iter().map(|(_, i)| i).collect()
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
