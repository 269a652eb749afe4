//! The logistic fit against scikit-learn on the same matrix (numbers in
//! tests/fixtures/sklearn_logistic.json, made by tests/fixtures/make_sklearn_reference.py).

use churnflow::{FitParams, fit, fit_path};
use ndarray::Array2;
use serde_json::Value;

fn fixture() -> (Array2<f64>, Vec<bool>, Value) {
    let v: Value = serde_json::from_str(include_str!("../fixtures/sklearn_logistic.json")).unwrap();
    let rows: Vec<Vec<f64>> = serde_json::from_value(v["X"].clone()).unwrap();
    let y: Vec<bool> = serde_json::from_value(v["y"].clone()).unwrap();
    let x = Array2::from_shape_vec((rows.len(), rows[0].len()), rows.concat()).unwrap();
    (x, y, v)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-2)
}

#[test]
fn coefficients_match_scikit_learn_within_1e_4_relative() {
    matches_scikit_learn(1e-10, 1e-4);
}

/// At the gradient tolerance training fits with (1e-4 on the mean loss), the Newton start puts
/// linfa at the optimum itself: far closer to scikit-learn's tight fit than the tolerance alone
/// would give.
#[test]
fn the_training_tolerance_matches_scikit_learn_within_1e_6_relative() {
    matches_scikit_learn(1e-4, 1e-6);
}

fn matches_scikit_learn(gradient_tolerance: f64, rel: f64) {
    let (x, y, v) = fixture();
    // Churners are the minority: linfa's own positive class is `false` here.
    assert!(y.iter().filter(|c| **c).count() * 2 < y.len());
    for reference in v["fits"].as_array().unwrap() {
        let alpha = reference["alpha"].as_f64().unwrap();
        let m = fit(
            &x,
            &y,
            FitParams {
                alpha,
                max_iterations: 10_000,
                gradient_tolerance,
            },
        )
        .unwrap();
        let intercept = reference["intercept"].as_f64().unwrap();
        assert!(
            close(m.intercept, intercept, rel),
            "alpha {alpha}: intercept {} vs sklearn {intercept}",
            m.intercept
        );
        let coef: Vec<f64> = serde_json::from_value(reference["coef"].clone()).unwrap();
        for (j, (a, b)) in m.coefficients.iter().zip(&coef).enumerate() {
            assert!(
                close(*a, *b, rel),
                "alpha {alpha}: coefficient {j}: {a} vs sklearn {b}"
            );
        }
        let proba: Vec<f64> = serde_json::from_value(reference["proba_first5"].clone()).unwrap();
        let ours = m.predict(&x.slice(ndarray::s![0..5, ..]).to_owned());
        for (a, b) in ours.iter().zip(&proba) {
            assert!((a - b).abs() < rel / 10.0, "P(churn) {a} vs sklearn {b}");
        }
    }
}

#[test]
fn a_warm_started_path_matches_scikit_learn_at_every_strength() {
    let (x, y, v) = fixture();
    let fits = v["fits"].as_array().unwrap();
    let mut alphas: Vec<f64> = fits.iter().map(|f| f["alpha"].as_f64().unwrap()).collect();
    alphas.sort_by(|a, b| b.total_cmp(a));
    assert!(alphas.len() >= 2, "a path needs two strengths");
    let models = fit_path(
        &x,
        &y,
        &alphas,
        FitParams {
            alpha: alphas[0],
            max_iterations: 10_000,
            gradient_tolerance: 1e-10,
        },
    )
    .unwrap();
    for (alpha, m) in alphas.iter().zip(&models) {
        let reference = fits
            .iter()
            .find(|f| f["alpha"].as_f64() == Some(*alpha))
            .unwrap();
        let coef: Vec<f64> = serde_json::from_value(reference["coef"].clone()).unwrap();
        let intercept = reference["intercept"].as_f64().unwrap();
        assert!(
            close(m.intercept, intercept, 1e-4),
            "alpha {alpha}: intercept {} vs sklearn {intercept}",
            m.intercept
        );
        for (j, (a, b)) in m.coefficients.iter().zip(&coef).enumerate() {
            assert!(
                close(*a, *b, 1e-4),
                "alpha {alpha}: coefficient {j}: {a} vs sklearn {b}"
            );
        }
    }
}
