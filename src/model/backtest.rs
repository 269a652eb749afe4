//! Rolling-origin backtest: for every labelable cutoff T, run the training procedure on what was
//! known at T (snapshots whose labels had finished by T), then evaluate at T against what
//! happened next, next to recency alone and the model of the previous cutoff. This is how a team
//! sees whether the model degrades over time.

use polars::prelude::*;

use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::{EngineContext, Result};
use crate::model::btyd_evidence;
use crate::model::cutoffs::{self, plan};
use crate::model::fit::LinearModel;
use crate::model::labelled::{Snapshots, recency_scores, value_at_risk};
use crate::model::metrics::{self, Metrics};
use crate::model::preprocess::{self, FeatureScaling};
use crate::model::procedure;
use crate::model::snapshot::{self, Snapshot};
use crate::util::dates::format_day;

/// One tested cutoff.
#[derive(Debug, Clone)]
pub struct BacktestRow {
    pub cutoff: i32,
    pub training_cutoffs: Vec<i32>,
    pub validation_cutoff: i32,
    pub alpha: f64,
    pub model: Metrics,
    pub recency: Metrics,
    /// The previous cutoff's model evaluated here.
    pub previous: Option<Metrics>,
    pub lost_value_caught_at_20: f64,
    /// With BTYD features: the BTYD model alone, and the model fitted the same way without
    /// them (`btyd_evidence`).
    pub btyd_alone: Option<Metrics>,
    pub without_btyd: Option<Metrics>,
}

fn predict(scaling: &[FeatureScaling], model: &LinearModel, s: &Snapshot) -> Result<Vec<f64>> {
    Ok(model.predict(&preprocess::matrix(scaling, &snapshot::rows_of(&[s]))?))
}

/// Runs the backtest over every cutoff that has enough history before it.
pub fn backtest(p: &Pipeline, engine: &mut dyn Backend) -> Result<Vec<BacktestRow>> {
    let known = cutoffs::known(p, engine, None)?;
    let (last, window, labelable) = (known.until, known.window, known.labelable);
    let mut snaps = Snapshots::new(last);
    let mut rows = Vec::new();
    let mut previous: Option<(Vec<FeatureScaling>, LinearModel)> = None;
    for &cutoff in &labelable {
        let Ok((val, train)) = plan(&labelable, cutoff, window, p.train.cutoffs) else {
            continue;
        };
        let mut needed = train.clone();
        needed.extend([val, cutoff]);
        snaps.ensure(p, engine, &needed)?;
        let train_refs: Vec<&Snapshot> = train.iter().map(|&c| snaps.get(c)).collect();
        let mut refit = train_refs.clone();
        refit.push(snaps.get(val));
        let fitted =
            procedure::fit_procedure(&p.train, &p.features, &train_refs, snaps.get(val), &refit)?;
        let test = snaps.get(cutoff);
        let prob = predict(&fitted.scaling, &fitted.model, test)?;
        let without_btyd = match btyd_evidence::without_btyd(&p.features) {
            Some(specs) => {
                let f = procedure::fit_procedure(
                    &p.train,
                    &specs,
                    &train_refs,
                    snaps.get(val),
                    &refit,
                )?;
                Some(Metrics::compute(
                    &predict(&f.scaling, &f.model, test)?,
                    &test.labels,
                ))
            }
            None => None,
        };
        let prev = match &previous {
            Some((s, m)) => Some(Metrics::compute(&predict(s, m, test)?, &test.labels)),
            None => None,
        };
        rows.push(BacktestRow {
            cutoff,
            training_cutoffs: train.iter().copied().chain([val]).collect(),
            validation_cutoff: val,
            alpha: fitted.alpha,
            model: Metrics::compute(&prob, &test.labels),
            recency: Metrics::ranking_only(&recency_scores(test)?, &test.labels),
            previous: prev,
            btyd_alone: btyd_evidence::alone(&p.features, test)?,
            without_btyd,
            lost_value_caught_at_20: metrics::lost_value_caught(
                &value_at_risk(test, &prob)?,
                &test.lost_value,
                0.2,
            ),
        });
        previous = Some((fitted.scaling, fitted.model));
    }
    Ok(rows)
}

/// The backtest as a frame (one row per tested cutoff), for `backtest.csv`.
pub fn to_frame(rows: &[BacktestRow]) -> Result<DataFrame> {
    let f = |get: &dyn Fn(&BacktestRow) -> f64| -> Vec<f64> {
        rows.iter().map(|r| (get(r) * 1e4).round() / 1e4).collect()
    };
    let opt = |which: fn(&BacktestRow) -> Option<&Metrics>,
               get: fn(&Metrics) -> f64|
     -> Vec<Option<f64>> {
        rows.iter()
            .map(|r| {
                which(r)
                    .map(get)
                    .filter(|v| v.is_finite())
                    .map(|v| (v * 1e4).round() / 1e4)
            })
            .collect()
    };
    fn previous(r: &BacktestRow) -> Option<&Metrics> {
        r.previous.as_ref()
    }
    fn alone(r: &BacktestRow) -> Option<&Metrics> {
        r.btyd_alone.as_ref()
    }
    fn without(r: &BacktestRow) -> Option<&Metrics> {
        r.without_btyd.as_ref()
    }
    DataFrame::new_infer_height(vec![
        Column::new(
            "cutoff".into(),
            rows.iter()
                .map(|r| format_day(r.cutoff))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "train_from".into(),
            rows.iter()
                .map(|r| format_day(r.training_cutoffs[0]))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "validation_cutoff".into(),
            rows.iter()
                .map(|r| format_day(r.validation_cutoff))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "alpha".into(),
            rows.iter().map(|r| r.alpha).collect::<Vec<_>>(),
        ),
        Column::new(
            "rows".into(),
            rows.iter().map(|r| r.model.rows as u64).collect::<Vec<_>>(),
        ),
        Column::new("churn_rate".into(), f(&|r| r.model.churn_rate)),
        Column::new("roc_auc".into(), f(&|r| r.model.roc_auc)),
        Column::new("pr_auc".into(), f(&|r| r.model.pr_auc)),
        Column::new("log_loss".into(), f(&|r| r.model.log_loss)),
        Column::new("brier".into(), f(&|r| r.model.brier)),
        Column::new("ece".into(), f(&|r| r.model.ece)),
        Column::new("lift_at_10".into(), f(&|r| r.model.lift_at_10)),
        Column::new("capture_at_20".into(), f(&|r| r.model.capture_at_20)),
        Column::new(
            "lost_value_caught_at_20".into(),
            f(&|r| r.lost_value_caught_at_20),
        ),
        Column::new("recency_roc_auc".into(), f(&|r| r.recency.roc_auc)),
        Column::new("recency_pr_auc".into(), f(&|r| r.recency.pr_auc)),
        Column::new(
            "previous_model_roc_auc".into(),
            opt(previous, |m| m.roc_auc),
        ),
        Column::new(
            "previous_model_log_loss".into(),
            opt(previous, |m| m.log_loss),
        ),
        // Log loss of a ranking-only score (P(alive), expected purchases) is not defined: null.
        Column::new("btyd_alone_roc_auc".into(), opt(alone, |m| m.roc_auc)),
        Column::new("btyd_alone_log_loss".into(), opt(alone, |m| m.log_loss)),
        Column::new("without_btyd_roc_auc".into(), opt(without, |m| m.roc_auc)),
        Column::new("without_btyd_log_loss".into(), opt(without, |m| m.log_loss)),
        Column::new(
            "beats_recency".into(),
            rows.iter()
                .map(|r| r.model.roc_auc > r.recency.roc_auc)
                .collect::<Vec<_>>(),
        ),
    ])
    .engine(|| "building the backtest table".into())
}

/// A fixed-width table for the terminal; with BTYD features, the BTYD model alone and the
/// model without them (ROC AUC, log loss) follow.
pub fn render(rows: &[BacktestRow]) -> String {
    let btyd = rows.iter().any(|r| r.btyd_alone.is_some());
    let mut s = format!(
        "{:<10}  {:>6}  {:>6}  {:>7}  {:>7}  {:>7}  {:>6}  {:>8}  {:>8}  {:>8}",
        "cutoff",
        "rows",
        "churn",
        "ROC AUC",
        "PR AUC",
        "logloss",
        "ECE",
        "recency",
        "previous",
        "lift@10"
    );
    if btyd {
        s.push_str(&format!(
            "  {:>8}  {:>8}  {:>8}  {:>8}",
            "BG/NBD", "BG/NBD", "no BTYD", "no BTYD"
        ));
        s.push_str(&format!(
            "\n{:>87}  {:>8}  {:>8}  {:>8}",
            "ROC AUC", "logloss", "ROC AUC", "logloss"
        ));
    }
    s.push('\n');
    for r in rows {
        let prev = r
            .previous
            .as_ref()
            .map(|m| format!("{:.4}", m.roc_auc))
            .unwrap_or_else(|| "-".into());
        s.push_str(&format!(
            "{:<10}  {:>6}  {:>5.1}%  {:>7.4}  {:>7.4}  {:>7.4}  {:>6.4}  {:>8.4}  {:>8}  {:>8.2}",
            format_day(r.cutoff),
            r.model.rows,
            r.model.churn_rate * 100.0,
            r.model.roc_auc,
            r.model.pr_auc,
            r.model.log_loss,
            r.model.ece,
            r.recency.roc_auc,
            prev,
            r.model.lift_at_10
        ));
        if btyd {
            let cell = |m: Option<&Metrics>, get: fn(&Metrics) -> f64| {
                m.map(get)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "-".to_string(), |v| format!("{v:.4}"))
            };
            s.push_str(&format!(
                "  {:>8}  {:>8}  {:>8}  {:>8}",
                cell(r.btyd_alone.as_ref(), |m| m.roc_auc),
                cell(r.btyd_alone.as_ref(), |m| m.log_loss),
                cell(r.without_btyd.as_ref(), |m| m.roc_auc),
                cell(r.without_btyd.as_ref(), |m| m.log_loss),
            ));
        }
        s.push('\n');
    }
    s
}
