//! `churnflow train`: a new model, its evidence, and the promotion decision.

use crate::cli::PipelineArgs;
use crate::cmd::{Out, engine, load};
use crate::config::Pipeline;
use crate::error::Result;
use crate::ingest::lock::WorkdirLock;
use crate::ingest::manifest::Manifest;
use crate::model::registry::Decision;
use crate::model::train::{self, TrainReport};

/// Runs `train`.
pub fn run(args: &PipelineArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    train_and_report(&p, out).map(|_| ())
}

/// Trains on the pipeline's warehouse and prints the evidence.
pub fn train_and_report(p: &Pipeline, out: Out) -> Result<TrainReport> {
    let fingerprint = Manifest::load(&p.warehouse_dir())?.fingerprint();
    let mut engine = engine(p)?;
    let r = train::train(p, &mut engine, &fingerprint)?;
    let a = &r.artifact;
    let v = &a.metrics.validation;
    let b = &a.metrics.validation_recency_baseline;
    out.line(format!(
        "train: model {} fitted on {} monthly cutoffs {} .. {} ({} rows); validated out of time on {} ({} rows, churn rate {:.1}%)",
        a.model_id,
        a.training_cutoffs.len(),
        a.training_cutoffs.first().map(String::as_str).unwrap_or(""),
        a.training_cutoffs.last().map(String::as_str).unwrap_or(""),
        a.metrics.train.rows,
        a.validation_cutoff,
        v.rows,
        v.churn_rate * 100.0
    ));
    out.line(format!(
        "  validation ROC AUC {:.4}  PR AUC {:.4}  log loss {:.4}  Brier {:.4}",
        v.roc_auc, v.pr_auc, v.log_loss, v.brier
    ));
    out.line(format!(
        "  recency alone:  ROC AUC {:.4}  PR AUC {:.4}",
        b.roc_auc, b.pr_auc
    ));
    let decision = match r.decision {
        Decision::Promoted => "promoted",
        Decision::Rejected => "rejected",
    };
    out.line(format!("  {decision}: {}", r.reason));
    Ok(r)
}
