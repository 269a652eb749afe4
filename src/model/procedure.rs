//! The fitting procedure shared by `train` and `backtest`: preprocessing fitted on the training
//! snapshots, a regularisation grid evaluated out of time on the validation snapshot (in
//! parallel), a Platt correction when the validation calibration is off and one judged out of
//! sample improves it (`calibration.rs`), and the final refit with the chosen strength.

use rayon::prelude::*;

use crate::config::TrainSettings;
use crate::error::{Error, Result};
use crate::features::spec::FeatureSpec;
use crate::model::artifact::{Calibration, GridPoint};
use crate::model::calibration;
use crate::model::fit::{self, FitParams, LinearModel};
use crate::model::metrics::{self, Metrics};
use crate::model::preprocess::{self, FeatureScaling};
use crate::model::snapshot::{Snapshot, fit_rows, labels_of, rows_of};
use crate::util::dates::format_day;

/// Everything the procedure produced.
pub struct Fitted {
    pub alpha: f64,
    pub grid: Vec<GridPoint>,
    /// The calibrated probabilities of the out-of-time model (training snapshots only) on the
    /// validation rows.
    pub validation_probabilities: Vec<f64>,
    pub calibration: Calibration,
    /// The model to ship: all snapshots, chosen alpha, same correction.
    pub scaling: Vec<FeatureScaling>,
    pub model: LinearModel,
    /// Rows of the final fit before and after sampling.
    pub rows: usize,
    pub fitted_rows: usize,
}

/// Runs the procedure on `train` snapshots with `val` as the validation snapshot, and refits the
/// shipped model on `refit` (the training and validation snapshots out of time; every row of
/// every cutoff with an in-time holdout).
///
/// Long by design: the procedure's steps (preprocess, grid, calibration, refit) share the fitted
/// scaling and matrices; each step's arithmetic is in its own module.
pub fn fit_procedure(
    settings: &TrainSettings,
    specs: &[FeatureSpec],
    train: &[&Snapshot],
    val: &Snapshot,
    refit: &[&Snapshot],
) -> Result<Fitted> {
    let Chosen {
        alpha,
        grid,
        oot_raw,
        calibration,
        validation_probabilities,
    } = choose(settings, specs, train, val)?;
    let correct = |m: LinearModel| match &calibration.correction {
        Some(c) => calibration::apply_platt(&m, c),
        None => m,
    };
    let params = fit_params(settings, alpha);
    let scaling = preprocess::fit(specs, &rows_of(refit))?;
    let rows: usize = refit.iter().map(|s| s.population).sum();
    let (x_f, y_f) = fit_rows(&scaling, refit, settings)?;
    // The refit adds one cutoff to the same features: start it from the chosen out-of-time fit.
    let final_raw = fit::fit_from(&x_f, &y_f, params, Some(&oot_raw))?;
    let fitted_rows = y_f.len();
    let model = correct(final_raw);
    Ok(Fitted {
        alpha,
        grid,
        validation_probabilities,
        calibration,
        scaling,
        model,
        rows,
        fitted_rows,
    })
}

/// The procedure's out-of-time half, which a comparison on the validation snapshot needs alone
/// (no refit): the chosen strength, the grid, the chosen out-of-time fit, the calibration and
/// the calibrated validation probabilities.
pub struct Chosen {
    pub alpha: f64,
    pub grid: Vec<GridPoint>,
    pub oot_raw: LinearModel,
    pub calibration: Calibration,
    pub validation_probabilities: Vec<f64>,
}

fn fit_params(settings: &TrainSettings, alpha: f64) -> FitParams {
    FitParams {
        alpha,
        max_iterations: settings.max_iterations,
        gradient_tolerance: 1e-4,
    }
}

/// The grid on `train` judged on `val`, and the calibration (see [`fit_procedure`]).
pub fn choose(
    settings: &TrainSettings,
    specs: &[FeatureSpec],
    train: &[&Snapshot],
    val: &Snapshot,
) -> Result<Chosen> {
    if val.rows.is_empty() {
        return Err(Error::Data(format!(
            "no active customers at the validation cutoff {}",
            crate::util::dates::format_day(val.cutoff)
        )));
    }
    let params = |alpha| fit_params(settings, alpha);
    let oot_scaling = preprocess::fit(specs, &rows_of(train))?;
    let (x_t, y_t) = fit_rows(&oot_scaling, train, settings)?;
    let val_rows = rows_of(&[val]);

    // The strengths are fitted strongest first in chains of two, each fit after a chain's first
    // starting from its neighbour's optimum (a warm fit costs about a fifth of a cold one); the
    // chains run in parallel. The chains are fixed by the grid alone, not by the machine's core
    // count, so the same data gives the same model everywhere.
    let chains = alpha_chains(&settings.alphas);
    let fitted: Vec<(f64, LinearModel)> = chains
        .par_iter()
        .map(|chain| {
            let models = fit::fit_path(&x_t, &y_t, chain, params(chain[0]))?;
            Ok(chain.iter().copied().zip(models).collect::<Vec<_>>())
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    // Every strength scored in one pass over the validation rows.
    let models: Vec<&LinearModel> = fitted.iter().map(|(_, m)| m).collect();
    let probabilities = preprocess::predict_many_in_blocks(&models, &oot_scaling, &val_rows)?;
    let mut fits: Vec<(f64, LinearModel, Vec<f64>)> = fitted
        .into_iter()
        .zip(probabilities)
        .map(|((alpha, m), p)| (alpha, m, p))
        .collect();
    // Reported in the grid's own order (the card's table follows the pipeline file).
    fits.sort_by_key(|f| settings.alphas.iter().position(|a| *a == f.0));
    drop(x_t);
    // The fits' temporaries, before the refit's matrix is built.
    crate::util::memory::give_back();
    let grid: Vec<GridPoint> = fits
        .iter()
        .map(|(alpha, _, p)| GridPoint {
            alpha: *alpha,
            validation_log_loss: metrics::log_loss(p, &val.labels),
            validation_roc_auc: metrics::roc_auc(p, &val.labels),
        })
        .collect();
    let best = (0..grid.len())
        .min_by(|&a, &b| {
            grid[a]
                .validation_log_loss
                .total_cmp(&grid[b].validation_log_loss)
        })
        .expect("at least one alpha");
    let (alpha, oot_raw, p_raw) = fits.into_iter().nth(best).expect("best fit exists");

    let val_pair = calibration::Pair {
        probabilities: &p_raw,
        labels: &val.labels,
        name: format!("the validation cutoff {}", format_day(val.cutoff)),
    };
    // The earlier pair costs one more fit, so it is made only when a correction is wanted.
    let wanted = metrics::expected_calibration_error(&p_raw, &val.labels, 10)
        > settings.calibration_tolerance;
    let earlier = match train {
        [before @ .., last] if wanted && !before.is_empty() => {
            Some(earlier_pair(settings, specs, before, last, params(alpha))?)
        }
        _ => None,
    };
    let earlier_pair = earlier.as_ref().map(|(p, s)| calibration::Pair {
        probabilities: p,
        labels: &s.labels,
        name: format!("cutoff {}", format_day(s.cutoff)),
    });
    let (calibration, p_val) = calibration::judge(
        settings.calibration_tolerance,
        &val_pair,
        earlier_pair.as_ref(),
    );
    Ok(Chosen {
        alpha,
        grid,
        oot_raw,
        calibration,
        validation_probabilities: p_val,
    })
}

/// The earlier (model, later cutoff) pair a correction is fitted on before it is judged on the
/// validation cutoff: the chosen strength fitted on the training cutoffs `before` the last one,
/// and its probabilities on the last one's rows.
fn earlier_pair<'a>(
    settings: &TrainSettings,
    specs: &[FeatureSpec],
    before: &[&Snapshot],
    last: &'a Snapshot,
    params: FitParams,
) -> Result<(Vec<f64>, &'a Snapshot)> {
    let scaling = preprocess::fit(specs, &rows_of(before))?;
    let (x, y) = fit_rows(&scaling, before, settings)?;
    let m = fit::fit(&x, &y, params)?;
    Ok((
        preprocess::predict_in_blocks(&m, &scaling, &rows_of(&[last]))?,
        last,
    ))
}

/// The fitting order of a regularisation grid: strongest first, in chains of at most two
/// neighbouring strengths.
fn alpha_chains(alphas: &[f64]) -> Vec<Vec<f64>> {
    let mut sorted = alphas.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    sorted.dedup();
    sorted.chunks(2).map(<[f64]>::to_vec).collect()
}

/// Metrics of the shipped model on all rows it was refitted on (in-sample).
pub fn in_sample_metrics(f: &Fitted, refit: &[&Snapshot]) -> Result<Metrics> {
    // A block of rows at a time: only the predictions of all rows are held together.
    let p = preprocess::predict_in_blocks(&f.model, &f.scaling, &rows_of(refit))?;
    Ok(Metrics::compute(&p, &labels_of(refit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_fitted_strongest_first_in_chains_of_two() {
        assert_eq!(
            alpha_chains(&[0.1, 1.0, 10.0, 100.0]),
            vec![vec![100.0, 10.0], vec![1.0, 0.1]]
        );
        assert_eq!(
            alpha_chains(&[3.0, 1.0, 3.0, 2.0, 5.0]),
            vec![vec![5.0, 3.0], vec![2.0, 1.0]]
        );
        assert_eq!(alpha_chains(&[2.0]), vec![vec![2.0]]);
    }
}
