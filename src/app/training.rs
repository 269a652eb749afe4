//! Training as a command reports it: the model, its out-of-time (or holdout) evidence against
//! the baselines, calibration, and the promotion decision.

use crate::app::out::Out;
use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::Result;
use crate::features::Tonight;
use crate::model::metrics::Metrics;
use crate::model::registry::Decision;
use crate::model::train::{self, TrainReport};
use crate::warehouse::manifest::Manifest;

/// A metrics line for the terminal.
fn metrics_line(name: &str, m: &Metrics) -> String {
    let f = |x: f64| {
        if x.is_finite() {
            format!("{x:.4}")
        } else {
            "-".into()
        }
    };
    format!(
        "  {name:<34} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        f(m.roc_auc),
        f(m.pr_auc),
        f(m.log_loss),
        f(m.brier),
        f(m.ece),
        f(m.lift_at_10)
    )
}

/// Trains on the pipeline's warehouse as of `as_of` and prints the evidence.
pub fn train_and_report(
    p: &Pipeline,
    engine: &mut dyn Backend,
    as_of: i32,
    tonight: &mut Tonight,
    out: Out,
) -> Result<TrainReport> {
    let fingerprint = Manifest::load(&p.warehouse_dir())?.fingerprint();
    let r = train::train(p, engine, &fingerprint, Some(as_of), tonight)?;
    let a = &r.artifact;
    let t = &a.training;
    let v = &a.metrics.validation;
    out.line(format!(
        "train: model {} fitted on {} cutoffs {} .. {} ({} rows{}); alpha {} chosen by out-of-time log loss",
        a.model_id,
        t.training_cutoffs.len(),
        t.training_cutoffs.first().map(String::as_str).unwrap_or(""),
        t.training_cutoffs.last().map(String::as_str).unwrap_or(""),
        t.rows,
        if t.sampled { format!(", fitted on a stratified sample of {}", t.fitted_rows) } else { String::new() },
        a.alpha
    ));
    if t.min_history_relaxed {
        out.line(format!(
            "  short history: no cutoff has train.min_history_days = {} days of data before it, \
             so cutoffs with {} days were used",
            p.train.min_history_days, t.min_history_days
        ));
    }
    out.line(match t.validation.as_str() {
        "in_time_holdout" => format!(
            "  in-time holdout validation on {} ({} rows, churn rate {:.1}%): the history is too \
             short for an out-of-time validation cutoff, so a fifth of the customers were held out \
             of training at every cutoff; these figures are weaker evidence than out-of-time ones:",
            t.validation_cutoff,
            v.rows,
            v.churn_rate * 100.0
        ),
        _ => format!(
            "  out-of-time validation on {} ({} rows, churn rate {:.1}%):",
            t.validation_cutoff,
            v.rows,
            v.churn_rate * 100.0
        ),
    });
    out.line(format!(
        "  {:<34} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "", "ROC AUC", "PR AUC", "log loss", "Brier", "ECE", "lift@10%"
    ));
    out.line(metrics_line("model", v));
    for b in &a.metrics.baselines {
        out.line(metrics_line(&b.name, &b.metrics));
    }
    let c = &a.calibration;
    out.line(match &c.correction {
        Some(_) => format!(
            "  calibration: {}; out-of-sample ECE now {:.4}",
            c.decision, c.ece_after
        ),
        None => format!("  calibration: {}", c.decision),
    });
    let decision = match r.decision {
        Decision::Promoted => "promoted",
        Decision::Rejected => "rejected",
    };
    out.line(format!("  {decision}: {}", r.reason));
    out.line(format!(
        "  model card: {}",
        p.models_dir.join(&a.model_id).join("card.md").display()
    ));
    Ok(r)
}
