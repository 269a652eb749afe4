//! Metrics of probabilities as probabilities: log loss, Brier score, expected calibration error
//! and the reliability table.

use serde::{Deserialize, Serialize};

use super::ranking::sorted_indices;

/// One bin of a reliability table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalibrationBin {
    pub bin: usize,
    pub rows: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
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
