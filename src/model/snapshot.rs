//! Labelled snapshots (features at a cutoff, and what happened next), and the rows a fit takes
//! from them: class-stratified samples, every cutoff weighing the same.

use ndarray::Array2;

use crate::config::TrainSettings;
use crate::error::Result;
use crate::features::FeatureTable;
use crate::model::preprocess::{self, FeatureScaling};
use crate::util::rng::Rng;

/// One labelled cutoff: features of the active population and what happened next.
pub struct Snapshot {
    pub cutoff: i32,
    /// Active customers at the cutoff, and churners among them (before any sampling).
    pub population: usize,
    pub churners: usize,
    pub table: FeatureTable,
    /// Rows of `table` in the population.
    pub rows: Vec<usize>,
    /// Churn label of each row in `rows`.
    pub labels: Vec<bool>,
    /// Next-period value lost, per row in `rows`.
    pub lost_value: Vec<f64>,
}

impl Snapshot {
    /// The snapshot keeping a class-stratified sample of at most `max_rows` of its rows.
    pub fn sample(self, max_rows: usize, seed: u64) -> Snapshot {
        let Some(keep) = stratified_sample(&self.labels, max_rows, seed) else {
            return self;
        };
        let rows: Vec<usize> = keep.iter().map(|&k| self.rows[k]).collect();
        Snapshot {
            table: self.table.select_rows(&rows),
            rows: (0..rows.len()).collect(),
            labels: keep.iter().map(|&k| self.labels[k]).collect(),
            lost_value: keep.iter().map(|&k| self.lost_value[k]).collect(),
            ..self
        }
    }
}

impl Snapshot {
    /// The snapshot's rows whose customer `keep` accepts (the in-time holdout's two sides).
    pub fn restrict(&self, keep: impl Fn(&str) -> bool) -> Snapshot {
        let picked: Vec<usize> = (0..self.rows.len())
            .filter(|&k| keep(&self.table.customer_ids[self.rows[k]]))
            .collect();
        let rows: Vec<usize> = picked.iter().map(|&k| self.rows[k]).collect();
        let labels: Vec<bool> = picked.iter().map(|&k| self.labels[k]).collect();
        Snapshot {
            cutoff: self.cutoff,
            population: rows.len(),
            churners: labels.iter().filter(|c| **c).count(),
            table: self.table.select_rows(&rows),
            rows: (0..rows.len()).collect(),
            labels,
            lost_value: picked.iter().map(|&k| self.lost_value[k]).collect(),
        }
    }
}

/// Rows of several snapshots, for preprocessing.
pub fn rows_of<'a>(snaps: &[&'a Snapshot]) -> Vec<(&'a FeatureTable, &'a [usize])> {
    snaps
        .iter()
        .map(|s| (&s.table, s.rows.as_slice()))
        .collect()
}

/// Labels of several snapshots, in row order.
pub fn labels_of(snaps: &[&Snapshot]) -> Vec<bool> {
    snaps
        .iter()
        .flat_map(|s| s.labels.iter().copied())
        .collect()
}

/// A class-stratified sample of at most `max_rows` row indices (sorted), or None when all fit.
pub fn stratified_sample(y: &[bool], max_rows: usize, seed: u64) -> Option<Vec<usize>> {
    if y.len() <= max_rows {
        return None;
    }
    let mut rng = Rng::new(seed);
    let mut keep = Vec::with_capacity(max_rows);
    let churners = y.iter().filter(|c| **c).count();
    // The churners' count is rounded and the rest take the remainder: exactly `max_rows` rows.
    let k_churners = ((churners as f64) * max_rows as f64 / y.len() as f64).round() as usize;
    for class in [true, false] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        let k = if class {
            k_churners
        } else {
            max_rows - k_churners
        };
        // Partial Fisher-Yates: the first k positions become a uniform sample.
        for i in 0..k.min(idx.len()) {
            let j = i + (rng.next_u64() % (idx.len() - i) as u64) as usize;
            idx.swap(i, j);
        }
        keep.extend_from_slice(&idx[..k.min(idx.len())]);
    }
    keep.sort_unstable();
    Some(keep)
}

/// How many of `max_rows` fitted rows each of `k` cutoffs contributes: equal shares, the
/// remainder one row each to the first cutoffs.
pub fn shares(max_rows: usize, k: usize) -> Vec<usize> {
    let k = k.max(1);
    (0..k)
        .map(|i| max_rows / k + usize::from(i < max_rows % k))
        .collect()
}

/// The rows a fit uses, as a design matrix and labels: from each snapshot a class-stratified
/// sample of its equal share of `max_train_rows` (all its rows when it has fewer), so every
/// cutoff weighs the same whatever its population, and training snapshots can be kept at their
/// share instead of whole. Only those rows are materialised: a matrix of every row of every
/// cutoff was most of training's memory at 10^8 transactions.
pub(crate) fn fit_rows(
    scaling: &[FeatureScaling],
    snaps: &[&Snapshot],
    settings: &TrainSettings,
) -> Result<(Array2<f64>, Vec<bool>)> {
    let (picked, ys) = fit_selection(snaps, settings.max_train_rows, settings.seed);
    let rows: Vec<(&FeatureTable, &[usize])> = snaps
        .iter()
        .zip(&picked)
        .map(|(snap, idx)| (&snap.table, idx.as_slice()))
        .collect();
    Ok((preprocess::matrix(scaling, &rows)?, ys))
}

/// The table rows [`fit_rows`] takes from each snapshot, and their labels in that order.
pub(crate) fn fit_selection(
    snaps: &[&Snapshot],
    max_rows: usize,
    seed: u64,
) -> (Vec<Vec<usize>>, Vec<bool>) {
    let mut picked: Vec<Vec<usize>> = Vec::with_capacity(snaps.len());
    let mut ys: Vec<bool> = Vec::new();
    for (snap, share) in snaps.iter().zip(shares(max_rows, snaps.len())) {
        let seed = seed ^ (snap.cutoff as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        match stratified_sample(&snap.labels, share, seed) {
            None => {
                picked.push(snap.rows.clone());
                ys.extend_from_slice(&snap.labels);
            }
            Some(keep) => {
                picked.push(keep.iter().map(|&k| snap.rows[k]).collect());
                ys.extend(keep.iter().map(|&k| snap.labels[k]));
            }
        }
    }
    (picked, ys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_sample_keeps_the_class_mix_and_is_reproducible() {
        let y: Vec<bool> = (0..10_000).map(|i| i % 4 == 0).collect();
        let s = stratified_sample(&y, 1_000, 9).unwrap();
        assert_eq!(s.len(), 1_000);
        assert_eq!(s.iter().filter(|&&i| y[i]).count(), 250);
        assert_eq!(stratified_sample(&y, 1_000, 9).unwrap(), s);
        assert!(stratified_sample(&y, 10_000, 9).is_none());
    }

    #[test]
    fn shares_split_the_budget_exactly() {
        assert_eq!(shares(10, 3), vec![4, 3, 3]);
        assert_eq!(shares(200_000, 7).iter().sum::<usize>(), 200_000);
        assert_eq!(shares(5, 0), vec![5]);
    }

    #[test]
    fn every_cutoff_contributes_its_share_to_a_fit() {
        // A large and a small cutoff: the large one gives its share, the small one all it has.
        let big = snapshot(1, 1_000);
        let small = snapshot(2, 30);
        let (picked, ys) = fit_selection(&[&big, &small], 100, 7);
        assert_eq!((picked[0].len(), picked[1].len()), (50, 30));
        assert_eq!(ys.len(), 80);
        // Labels follow the rows they were taken with (row i churned when i % 4 == 0), and the
        // class mix of the large cutoff is kept.
        let labels: Vec<bool> = picked.concat().iter().map(|r| r % 4 == 0).collect();
        assert_eq!(labels, ys);
        assert_eq!(picked[0].iter().filter(|r| *r % 4 == 0).count(), 13);
        let (again, _) = fit_selection(&[&big, &small], 100, 7);
        assert_eq!(again, picked);
    }

    /// `n` rows; row i has feature value i and label (i % 4 == 0).
    fn snapshot(cutoff: i32, n: usize) -> Snapshot {
        let table = FeatureTable {
            as_of: cutoff,
            customer_ids: (0..n).map(|i| format!("c{i}").into()).collect(),
            names: vec!["x".into()],
            values: vec![(0..n).map(|i| i as f64).collect()],
            btyd: Vec::new(),
        };
        let labels: Vec<bool> = (0..n).map(|i: usize| i.is_multiple_of(4)).collect();
        Snapshot {
            cutoff,
            population: n,
            churners: labels.iter().filter(|c| **c).count(),
            table,
            rows: (0..n).collect(),
            lost_value: (0..n).map(|i| i as f64 * 10.0).collect(),
            labels,
        }
    }

    #[test]
    fn a_sampled_snapshot_keeps_rows_labels_and_values_together() {
        // Row i has feature value i and label (i % 4 == 0); the population is 40, 10 churners.
        let n = 40;
        let table = FeatureTable {
            as_of: 0,
            customer_ids: (0..n).map(|i| format!("c{i}").into()).collect(),
            names: vec!["x".into()],
            values: vec![(0..n).map(|i| i as f64).collect()],
            btyd: Vec::new(),
        };
        let labels: Vec<bool> = (0..n).map(|i: usize| i.is_multiple_of(4)).collect();
        let snap = Snapshot {
            cutoff: 0,
            population: n,
            churners: 10,
            table,
            rows: (0..n).collect(),
            lost_value: (0..n).map(|i| i as f64 * 10.0).collect(),
            labels,
        };
        let s = snap.sample(8, 5);
        assert_eq!((s.population, s.churners, s.rows.len()), (40, 10, 8));
        assert_eq!(s.labels.iter().filter(|c| **c).count(), 2);
        for (k, &r) in s.rows.iter().enumerate() {
            let x = s.table.values[0][r];
            assert_eq!(s.labels[k], (x as usize).is_multiple_of(4));
            assert_eq!(s.lost_value[k], x * 10.0);
            assert_eq!(&*s.table.customer_ids[r], format!("c{x}"));
        }
    }
}
