//! The logistic fit (linfa-logistic, L2) and the linear model churnflow stores and scores with.
//!
//! linfa minimises `sum of log-losses + alpha/2 * |w|^2` (intercept not penalised), so alpha plays
//! the role of 1/C in scikit-learn. Its "positive" class is the more frequent label, not `true`;
//! [`fit`] always returns coefficients oriented so that the output is P(churn).

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use super::newton;
pub use super::newton::sigmoid;
use crate::error::{Error, Result};

/// At most this many Newton steps before linfa (from a cold start six to eight reach the
/// optimum to many digits on churn features).
const NEWTON_STEPS: usize = 25;

/// Intercept and coefficients on standardised features; output = P(churn).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LinearModel {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
}

/// Fit settings.
#[derive(Debug, Clone, Copy)]
pub struct FitParams {
    pub alpha: f64,
    pub max_iterations: u64,
    /// Absolute tolerance on the gradient of the mean loss.
    pub gradient_tolerance: f64,
}

impl LinearModel {
    /// Log-odds of churn for one standardised row.
    pub fn log_odds(&self, z: ArrayView1<f64>) -> f64 {
        self.intercept
            + z.iter()
                .zip(&self.coefficients)
                .map(|(a, b)| a * b)
                .sum::<f64>()
    }

    /// P(churn) for every row of `x`.
    pub fn predict(&self, x: &Array2<f64>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|r| sigmoid(self.log_odds(r)))
            .collect()
    }
}

/// Fits an L2 logistic regression of `y` (true = churned) on `x`.
pub fn fit(x: &Array2<f64>, y: &[bool], params: FitParams) -> Result<LinearModel> {
    fit_from(x, y, params, None)
}

/// Like [`fit`], starting the Newton steps from `start` (a model on similarly scaled features):
/// near the optimum they need a fraction of the steps.
pub fn fit_from(
    x: &Array2<f64>,
    y: &[bool],
    params: FitParams,
    start: Option<&LinearModel>,
) -> Result<LinearModel> {
    let churners = y.iter().filter(|v| **v).count();
    if churners == 0 || churners == y.len() {
        return Err(Error::Data(format!(
            "cannot fit a churn model: all {} training rows have the same label ({}); widen the \
             training window (train.cutoffs) or check the horizon",
            y.len(),
            if churners == 0 { "retained" } else { "churned" }
        )));
    }
    // A view: each of the parallel fits copying the design matrix was most of their memory.
    let ds = DatasetBase::new(x.view(), Array1::from_vec(y.to_vec()));
    // linfa's loss is a sum over rows, so the gradient tolerance scales with the row count.
    let mut solver = LogisticRegression::default()
        .alpha(params.alpha)
        .max_iterations(params.max_iterations)
        .gradient_tolerance(params.gradient_tolerance * y.len() as f64)
        .with_intercept(true);
    // Newton steps first (see `newton`): linfa then starts at, or next to, the optimum. The
    // steps aim well inside linfa's own tolerance so that its check passes at the start.
    let start_w: Option<Vec<f64>> = start
        .filter(|m| m.coefficients.len() == x.ncols())
        .map(|m| {
            let mut w = m.coefficients.clone();
            w.push(m.intercept);
            w
        });
    let tolerance = params.gradient_tolerance * y.len() as f64;
    let w = newton::steps(
        x.view(),
        y,
        params.alpha,
        start_w.as_deref(),
        NEWTON_STEPS,
        tolerance * 1e-3,
    );
    // linfa's positive class is the larger one (the first seen on a tie) and it stores the
    // intercept last; orient the start accordingly.
    let churn_is_positive = 2 * churners > y.len() || (2 * churners == y.len() && y[0]);
    let sign = if churn_is_positive { 1.0 } else { -1.0 };
    solver = solver.initial_params(Array1::from_iter(w.into_iter().map(|v| sign * v)));
    let fitted = solver
        .fit(&ds)
        .map_err(|e| Error::Data(format!("logistic regression failed: {e}")))?;
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    Ok(LinearModel {
        intercept: sign * fitted.intercept(),
        coefficients: fitted.params().iter().map(|w| sign * w).collect(),
    })
}

/// Fits each strength of `alphas` (in the order given; `params.alpha` is replaced by each), each
/// fit starting from the previous one's result: along a regularisation path neighbouring optima
/// are close, so every fit after the first needs a fraction of a cold fit's iterations.
pub fn fit_path(
    x: &Array2<f64>,
    y: &[bool],
    alphas: &[f64],
    params: FitParams,
) -> Result<Vec<LinearModel>> {
    let mut out: Vec<LinearModel> = Vec::with_capacity(alphas.len());
    for &alpha in alphas {
        let m = fit_from(x, y, FitParams { alpha, ..params }, out.last())?;
        out.push(m);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn output_is_churn_probability_whichever_class_is_more_frequent() {
        // Churners are the minority here, so linfa treats `false` as its positive class.
        let x = array![[-2.0], [-1.5], [-1.0], [-0.5], [0.0], [0.5], [1.0], [2.0]];
        let y = [false, false, false, false, false, true, false, true];
        let m = fit(
            &x,
            &y,
            FitParams {
                alpha: 0.1,
                max_iterations: 200,
                gradient_tolerance: 1e-8,
            },
        )
        .unwrap();
        assert!(m.coefficients[0] > 0.0, "higher x means churn here: {m:?}");
        let p = m.predict(&x);
        assert!(p[7] > p[0]);
        // Same data with churners the majority: the orientation must not flip.
        let y2: Vec<bool> = y.iter().map(|v| !v).collect();
        let m2 = fit(
            &x,
            &y2,
            FitParams {
                alpha: 0.1,
                max_iterations: 200,
                gradient_tolerance: 1e-8,
            },
        )
        .unwrap();
        assert!(m2.coefficients[0] < 0.0);
        assert!((m2.coefficients[0] + m.coefficients[0]).abs() < 1e-4);
    }

    #[test]
    fn one_class_is_a_clear_error() {
        let x = array![[1.0], [2.0]];
        let err = fit(
            &x,
            &[true, true],
            FitParams {
                alpha: 1.0,
                max_iterations: 10,
                gradient_tolerance: 1e-4,
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("same label (churned)"), "{err}");
    }

    #[test]
    fn sigmoid_is_stable() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(-800.0) >= 0.0 && sigmoid(800.0) <= 1.0);
    }

    #[test]
    fn a_warm_start_reaches_the_same_optimum_in_either_class_orientation() {
        // Deterministic data: churn more likely with the first feature, less with the second.
        let n = 600;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            (((i * 7919 + j * 104_729) % 1000) as f64 / 500.0) - 1.0
        });
        for share in [0.3, 0.7] {
            let y: Vec<bool> = (0..n)
                .map(|i| {
                    let z = 2.0 * x[[i, 0]] - x[[i, 1]] + ((i * 31) % 17) as f64 / 8.0 - 1.0;
                    sigmoid(z) > 1.0 - share
                })
                .collect();
            let params = FitParams {
                alpha: 1.0,
                max_iterations: 500,
                gradient_tolerance: 1e-10,
            };
            let cold = fit(&x, &y, params).unwrap();
            let near = LinearModel {
                intercept: cold.intercept + 0.3,
                coefficients: cold.coefficients.iter().map(|c| c * 0.8).collect(),
            };
            let warm = fit_from(&x, &y, params, Some(&near)).unwrap();
            assert!(
                (warm.intercept - cold.intercept).abs() < 1e-5,
                "{warm:?} vs {cold:?}"
            );
            for (w, c) in warm.coefficients.iter().zip(&cold.coefficients) {
                assert!((w - c).abs() < 1e-5, "{warm:?} vs {cold:?}");
            }
        }
    }
}
