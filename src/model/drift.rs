//! Population stability: how far tonight's feature distributions have moved from the ones the
//! model was trained on. Each feature's training values are cut into deciles (edges stored in the
//! model artifact); PSI = sum over bins of (actual - expected) * ln(actual / expected).

use serde::{Deserialize, Serialize};

/// A feature's training distribution: bin edges (upper bounds of all but the last bin) and the
/// share of training rows in each bin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeatureBins {
    pub name: String,
    pub edges: Vec<f64>,
    pub shares: Vec<f64>,
}

const FLOOR: f64 = 1e-4;

fn bin_of(edges: &[f64], x: f64) -> usize {
    edges.iter().take_while(|&&e| x > e).count()
}

fn shares(edges: &[f64], values: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; edges.len() + 1];
    for &x in values {
        counts[bin_of(edges, x)] += 1;
    }
    let n = values.len().max(1) as f64;
    counts.iter().map(|&c| c as f64 / n).collect()
}

impl FeatureBins {
    /// Decile bins of `values` (ties merge bins, so there may be fewer than ten).
    pub fn fit(name: &str, values: &[f64]) -> Self {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = (1..10)
            .filter_map(|k| sorted.get(k * sorted.len() / 10).copied())
            .collect();
        edges.dedup();
        let shares = shares(&edges, &sorted);
        FeatureBins {
            name: name.to_string(),
            edges,
            shares,
        }
    }

    /// PSI of `values` against this reference.
    pub fn psi(&self, values: &[f64]) -> f64 {
        let actual = shares(&self.edges, values);
        actual
            .iter()
            .zip(&self.shares)
            .map(|(&a, &e)| {
                let (a, e) = (a.max(FLOOR), e.max(FLOOR));
                (a - e) * (a / e).ln()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_is_zero_for_the_same_distribution_and_grows_with_a_shift() {
        let base: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let bins = FeatureBins::fit("x", &base);
        assert_eq!(bins.edges.len(), 9);
        assert!(bins.psi(&base).abs() < 1e-12);
        // 0..=100 fall in the first bin (edges are upper bounds), so shares are 0.101, 0.1, ...
        assert!((bins.shares[0] - 0.101).abs() < 1e-12 && (bins.shares[9] - 0.099).abs() < 1e-12);
        // Everything moves into the top bin: (1 - e9) ln(1 / e9) + sum over the others of
        // (1e-4 - e) ln(1e-4 / e).
        let shifted: Vec<f64> = vec![5000.0; 1000];
        let e = &bins.shares;
        let expected = (1.0 - e[9]) * (1.0 / e[9]).ln()
            + e[..9]
                .iter()
                .map(|&e| (FLOOR - e) * (FLOOR / e).ln())
                .sum::<f64>();
        assert!((bins.psi(&shifted) - expected).abs() < 1e-9);
    }
}
