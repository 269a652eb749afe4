//! Feature preprocessing stored with the model: impute nulls with the training median, apply the
//! per-feature transform (log1p for money and counts, log for ratios), standardise with the
//! training mean and (population) standard deviation.

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::features::FeatureTable;
use crate::features::spec::{FeatureSpec, Transform};

/// How one feature enters the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeatureScaling {
    pub name: String,
    pub spec: FeatureSpec,
    pub transform: Transform,
    /// Raw value used where the feature is null (training median).
    pub impute: f64,
    pub mean: f64,
    pub std: f64,
}

impl FeatureScaling {
    /// Raw value -> standardised model input.
    pub fn z(&self, raw: Option<f64>) -> f64 {
        (self.transform.apply(raw.unwrap_or(self.impute)) - self.mean) / self.std
    }
}

/// Rows of several tables to feed one fit: (table, row indices).
pub type Rows<'a> = [(&'a FeatureTable, &'a [usize])];

/// Fits imputation, transform and scaling of `specs` on the given rows.
pub fn fit(specs: &[FeatureSpec], rows: &Rows) -> Result<Vec<FeatureScaling>> {
    specs
        .iter()
        .map(|spec| {
            let name = spec.name();
            let mut raw: Vec<Option<f64>> = Vec::new();
            for (table, idx) in rows {
                let col = table.require(&name)?;
                raw.extend(idx.iter().map(|&i| col.get(i)));
            }
            let mut present: Vec<f64> = raw.iter().flatten().copied().collect();
            let impute = median(&mut present);
            let transform = spec.transform();
            let x: Vec<f64> = raw
                .iter()
                .map(|v| transform.apply(v.unwrap_or(impute)))
                .collect();
            let n = x.len().max(1) as f64;
            let mean = x.iter().sum::<f64>() / n;
            let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            // A constant feature carries no information; a unit scale keeps it harmless.
            let std = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
            Ok(FeatureScaling {
                name,
                spec: *spec,
                transform,
                impute,
                mean,
                std,
            })
        })
        .collect()
}

/// P(churn) of `model` on `rows` (inputs scaled by `scaling`), built and scored a block of rows
/// at a time, in parallel: the design matrix of millions of rows is never held whole.
pub fn predict_in_blocks(
    model: &crate::model::fit::LinearModel,
    scaling: &[FeatureScaling],
    rows: &Rows,
) -> Result<Vec<f64>> {
    Ok(predict_many_in_blocks(&[model], scaling, rows)?
        .pop()
        .expect("one model, one prediction"))
}

/// [`predict_in_blocks`] for several models on the same scaling: each block's matrix is built
/// once for all of them (building it, transforms included, costs more than the dot products).
pub fn predict_many_in_blocks(
    models: &[&crate::model::fit::LinearModel],
    scaling: &[FeatureScaling],
    rows: &Rows,
) -> Result<Vec<Vec<f64>>> {
    let n = rows.iter().map(|(_, idx)| idx.len()).sum();
    let mut p: Vec<Vec<f64>> = models.iter().map(|_| Vec::with_capacity(n)).collect();
    for (table, idx) in rows {
        let blocks: Vec<Vec<Vec<f64>>> = idx
            .par_chunks(PREDICT_BLOCK)
            .map(|block| {
                matrix(scaling, &[(*table, block)])
                    .map(|z| models.iter().map(|m| m.predict(&z)).collect())
            })
            .collect::<Result<_>>()?;
        for block in blocks {
            for (out, b) in p.iter_mut().zip(block) {
                out.extend(b);
            }
        }
    }
    Ok(p)
}

/// Rows per block in [`predict_in_blocks`].
const PREDICT_BLOCK: usize = 1 << 16;

/// The standardised design matrix of the given rows.
pub fn matrix(scaling: &[FeatureScaling], rows: &Rows) -> Result<Array2<f64>> {
    let n: usize = rows.iter().map(|(_, idx)| idx.len()).sum();
    let mut x = Array2::<f64>::zeros((n, scaling.len()));
    for (j, s) in scaling.iter().enumerate() {
        let mut r = 0;
        for (table, idx) in rows {
            let col = table.require(&s.name)?;
            for &i in idx.iter() {
                x[[r, j]] = s.z(col.get(i));
                r += 1;
            }
        }
    }
    Ok(x)
}

/// The median (0 for no values), by selection rather than a full sort; reorders `v`.
fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let (below, &mut upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return upper;
    }
    let lower = below
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(upper);
    (lower + upper) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut [5.0, 5.0, 1.0, 9.0]), 5.0);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn nulls_take_the_median_and_columns_are_standardised() {
        let table = FeatureTable {
            as_of: 0,
            customer_ids: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            names: vec!["purchase_cycle_days".into()],
            values: vec![vec![1.0, f64::NAN, 3.0, 7.0]],
            btyd: Vec::new(),
        };
        let idx: Vec<usize> = (0..4).collect();
        let rows = [(&table, idx.as_slice())];
        let s = fit(&[FeatureSpec::PurchaseCycleDays], &rows).unwrap();
        assert_eq!(s[0].impute, 3.0);
        let x = matrix(&s, &rows).unwrap();
        let col = x.column(0);
        assert!(col.sum().abs() < 1e-12);
        assert!(((col.mapv(|v| v * v).sum() / 4.0) - 1.0).abs() < 1e-12);
        assert_eq!(x[[1, 0]], x[[2, 0]]);
    }
}
