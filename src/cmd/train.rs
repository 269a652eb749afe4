//! `churnflow train`: a new model, its evidence, and the promotion decision.

use crate::cli::PipelineArgs;
use crate::cmd::{Out, engine, load};
use crate::config::Pipeline;
use crate::engine::Engine;
use crate::error::Result;
use crate::ingest::lock::WorkdirLock;
use crate::ingest::manifest::Manifest;
use crate::model::metrics::Metrics;
use crate::model::registry::Decision;
use crate::model::train::{self, TrainReport};

/// Runs `train`.
pub fn run(args: &PipelineArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    train_and_report(&p, &mut engine(&p)?, out).map(|_| ())
}

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

/// Trains on the pipeline's warehouse and prints the evidence.
pub fn train_and_report(p: &Pipeline, engine: &mut dyn Engine, out: Out) -> Result<TrainReport> {
    let fingerprint = Manifest::load(&p.warehouse_dir())?.fingerprint();
    let r = train::train(p, engine, &fingerprint)?;
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
    out.line(format!(
        "  out-of-time validation on {} ({} rows, churn rate {:.1}%):",
        t.validation_cutoff,
        v.rows,
        v.churn_rate * 100.0
    ));
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
            "  calibration: ECE {:.4} above tolerance {}; Platt correction fitted out of time, ECE now {:.4}",
            c.ece_before, c.tolerance, c.ece_after
        ),
        None => format!("  calibration: ECE {:.4} within tolerance {}", c.ece_before, c.tolerance),
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
