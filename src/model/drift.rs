//! Population stability: how far tonight's feature distributions have moved from the ones the
//! model was trained on. Each feature's reference values are cut into bins (edges stored in the
//! model artifact); PSI = sum over bins of (actual - expected) * ln(actual / expected).
//!
//! A PSI must move only when the population does, so three things that move it without any
//! change of behaviour are taken out (each once made churnflow retrain every night):
//! - **Thin bins.** Deciles of a feature with ties or a bunched top (tenure on a history that
//!   starts on one date: every early account has the same, largest tenure) leave empty or
//!   near-empty bins, and one day moves a tenth of the accounts into one (PSI 0.73). Bins holding
//!   less than [`MIN_SHARE`] of the reference are merged into a neighbour, so every bin is wide
//!   enough for a day's movement to stay inside it.
//! - **Time itself.** A feature that grows one a day for everyone (tenure) is compared after
//!   taking the days since the reference off tonight's values ([`ages`]).
//! - **Sampling noise in empty bins.** Tonight's shares are smoothed by half a count per bin,
//!   instead of flooring empty bins at 1e-4 (ln(1e-4) made one stray account count heavily).

use serde::{Deserialize, Serialize};

use crate::features::spec::FeatureSpec;

/// The smallest share of the reference a bin may hold.
pub const MIN_SHARE: f64 = 0.05;

/// A feature's training distribution: bin edges (upper bounds of all but the last bin) and the
/// share of reference rows in each bin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeatureBins {
    pub name: String,
    pub edges: Vec<f64>,
    pub shares: Vec<f64>,
}

fn bin_of(edges: &[f64], x: f64) -> usize {
    edges.iter().take_while(|&&e| x > e).count()
}

fn counts(edges: &[f64], values: &[f64]) -> Vec<usize> {
    let mut counts = vec![0usize; edges.len() + 1];
    for &x in values {
        counts[bin_of(edges, x)] += 1;
    }
    counts
}

/// Whether a feature grows by one a day for every account, whatever it does: its drift is
/// measured after taking the elapsed days off.
pub fn ages(spec: &FeatureSpec) -> bool {
    matches!(spec, FeatureSpec::TenureDays)
}

impl FeatureBins {
    /// Decile bins of `values`, ties merged, then bins under [`MIN_SHARE`] merged into their
    /// smaller neighbour.
    pub fn fit(name: &str, values: &[f64]) -> Self {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = (1..10)
            .filter_map(|k| sorted.get(k * sorted.len() / 10).copied())
            .collect();
        edges.dedup();
        let n = sorted.len().max(1) as f64;
        loop {
            let c = counts(&edges, &sorted);
            let thin = (0..c.len())
                .filter(|&i| (c[i] as f64) < MIN_SHARE * n)
                .min_by_key(|&i| c[i]);
            let (Some(i), false) = (thin, edges.is_empty()) else {
                break;
            };
            // Merge bin i with its smaller neighbour: drop the edge between them.
            let left = (i > 0).then(|| c[i - 1]);
            let right = c.get(i + 1).copied();
            let edge = match (left, right) {
                (Some(l), Some(r)) if l <= r => i - 1,
                (Some(_), None) => i - 1,
                _ => i,
            };
            edges.remove(edge);
        }
        let shares = counts(&edges, &sorted)
            .iter()
            .map(|&c| c as f64 / n)
            .collect();
        FeatureBins {
            name: name.to_string(),
            edges,
            shares,
        }
    }

    /// PSI of `values` against this reference.
    pub fn psi(&self, values: &[f64]) -> f64 {
        let c = counts(&self.edges, values);
        let k = c.len() as f64;
        let n = values.len() as f64;
        c.iter()
            .zip(&self.shares)
            .map(|(&c, &e)| {
                let a = (c as f64 + 0.5) / (n + 0.5 * k);
                // References written before bins were merged may hold empty bins.
                let e = e.max(0.5 / (n + 0.5 * k));
                (a - e) * (a / e).ln()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    #[test]
    fn psi_is_zero_for_the_same_distribution_and_grows_with_a_shift() {
        let base: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let bins = FeatureBins::fit("x", &base);
        assert_eq!(bins.edges.len(), 9);
        // 0..=100 fall in the first bin (edges are upper bounds), so shares are 0.101, 0.1, ...
        assert!((bins.shares[0] - 0.101).abs() < 1e-12 && (bins.shares[9] - 0.099).abs() < 1e-12);
        // Smoothing by half a count per bin: (c + 0.5) / (n + 5) against c / n.
        let expected: f64 = bins
            .shares
            .iter()
            .map(|&e| {
                let a = (e * 1000.0 + 0.5) / 1005.0;
                (a - e) * (a / e).ln()
            })
            .sum();
        assert!((bins.psi(&base) - expected).abs() < 1e-12);
        assert!(bins.psi(&base) < 1e-4);
        // Everything in the top bin: far above any threshold.
        assert!(bins.psi(&[5000.0; 1000]) > 2.0);
    }

    #[test]
    fn a_bunched_top_moving_by_a_day_is_not_drift() {
        // Tenure on a history that starts on one date: 40% of accounts have the largest tenure.
        // The next day every value is one higher.
        let mut rng = Rng::new(5);
        let today: Vec<f64> = (0..10_000)
            .map(|i| {
                if i % 5 < 2 {
                    730.0
                } else {
                    (rng.uniform() * 730.0).floor()
                }
            })
            .collect();
        let bins = FeatureBins::fit("tenure_days", &today);
        assert!(bins.shares.iter().all(|&s| s >= MIN_SHARE), "{bins:?}");
        let tomorrow: Vec<f64> = today.iter().map(|t| t + 1.0).collect();
        assert!(bins.psi(&tomorrow) < 0.05, "{}", bins.psi(&tomorrow));
        // The deciles as they were fitted before merging gave the top bin no reference rows.
        let old = FeatureBins {
            name: "tenure_days".into(),
            edges: vec![72.0, 146.0, 219.0, 292.0, 365.0, 438.0, 730.0],
            shares: vec![0.06, 0.06, 0.06, 0.06, 0.06, 0.06, 0.64, 0.0],
        };
        assert!(old.psi(&tomorrow) > 1.0, "{}", old.psi(&tomorrow));
    }

    #[test]
    fn ties_and_a_mass_at_zero_keep_every_bin_wide() {
        // 93% zeros (no complaints), the rest spread: no bin below the minimum share.
        let values: Vec<f64> = (0..10_000)
            .map(|i| if i % 100 < 93 { 0.0 } else { (i % 7) as f64 })
            .collect();
        let bins = FeatureBins::fit("complaints", &values);
        assert!(bins.shares.iter().all(|&s| s >= MIN_SHARE), "{bins:?}");
        assert!(bins.psi(&values) < 1e-3);
    }

    #[test]
    fn a_real_shift_is_drift() {
        let mut rng = Rng::new(9);
        let spend: Vec<f64> = (0..10_000).map(|_| rng.normal()).collect();
        let bins = FeatureBins::fit("spend", &spend);
        // Three quarters of a standard deviation lower for everyone.
        let lower: Vec<f64> = spend.iter().map(|x| x - 0.75).collect();
        assert!(bins.psi(&lower) > 0.4, "{}", bins.psi(&lower));
        // A quarter of accounts gone quiet at the bottom.
        let quiet: Vec<f64> = spend
            .iter()
            .enumerate()
            .map(|(i, x)| if i % 4 == 0 { -5.0 } else { *x })
            .collect();
        assert!(bins.psi(&quiet) > 0.2, "{}", bins.psi(&quiet));
    }
}
