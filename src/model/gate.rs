//! The promotion gate: a new model replaces the current one only when it is not worse on the
//! same validation rows, and only figures the current model did not fit on may judge it.

use crate::config::Pipeline;
use crate::error::Result;
use crate::model::artifact::ModelArtifact;
use crate::model::metrics::Metrics;
use crate::model::registry::Decision;
use crate::model::snapshot::Snapshot;
use crate::util::dates::format_day;

/// How the current model fares on the new model's validation rows.
pub enum Current {
    /// Out-of-sample figures, comparable with the new model's.
    Comparable(Metrics),
    /// Not comparable, and why (its features or label changed, or it was fitted on these rows).
    NotComparable(String),
}

/// The current model's metrics on the validation snapshot when they are comparable with the new
/// model's: its own stored out-of-time figures on the same validation cutoff, else its
/// predictions there, unless it was fitted on that cutoff (then they are in-sample).
/// `changed` names the pipeline sections that differ between the current model and the new one:
/// a changed label or population asks another question, so no figure of the old model can judge
/// the new one.
pub fn current_on(
    current: &ModelArtifact,
    val: &Snapshot,
    holdout: bool,
    changed: &[String],
) -> Result<Current> {
    let cutoff = format_day(val.cutoff);
    let question: Vec<&str> = changed
        .iter()
        .map(String::as_str)
        .filter(|c| *c == "label" || *c == "population")
        .collect();
    if !question.is_empty() {
        return Ok(Current::NotComparable(format!(
            "the pipeline's {} changed since current model {}: it answers another question, so \
             its figures cannot judge the new model",
            question.join(" and "),
            current.model_id
        )));
    }
    let kind = if holdout {
        "in_time_holdout"
    } else {
        "out_of_time"
    };
    if current.training.validation_cutoff == cutoff && current.training.validation == kind {
        // Its shipped model was refitted on these very rows; its own validation figures on the
        // same rows are the fair comparison.
        return Ok(Current::Comparable(current.metrics.validation.clone()));
    }
    if current.training.training_cutoffs.contains(&cutoff) {
        return Ok(Current::NotComparable(format!(
            "current model {} was fitted on the cutoff {cutoff}, so its figures there are \
             in-sample and cannot judge a new model",
            current.model_id
        )));
    }
    if current.check_features(&val.table).is_err() {
        return Ok(Current::NotComparable(format!(
            "current model {} cannot be evaluated on this snapshot (features or label definition \
             changed)",
            current.model_id
        )));
    }
    let p = current.predict(&val.table, &val.rows)?;
    Ok(Current::Comparable(Metrics::compute(&p, &val.labels)))
}

/// The promotion gate: on the same validation snapshot, the new model's ROC AUC may not be
/// lower, nor its log loss higher, than the current model's beyond the configured tolerances.
pub fn gate(
    p: &Pipeline,
    new: &ModelArtifact,
    current: Option<&ModelArtifact>,
    current_metrics: Option<&Current>,
) -> (Decision, String) {
    let v = &new.metrics.validation;
    let on = match new.training.validation.as_str() {
        "in_time_holdout" => format!(
            "on the in-time holdout (a fifth of the customers) at {}; no out-of-time validation \
             was possible",
            new.training.validation_cutoff
        ),
        _ => format!(
            "on the validation cutoff {}",
            new.training.validation_cutoff
        ),
    };
    let Some(current) = current else {
        return (
            Decision::Promoted,
            format!("no current model; validation ROC AUC {:.4} {on}", v.roc_auc),
        );
    };
    let id = &current.model_id;
    if *id == new.model_id {
        return (
            Decision::Promoted,
            "identical to the current model (same data, pipeline and result)".into(),
        );
    }
    let c = match current_metrics {
        Some(Current::Comparable(c)) => c,
        Some(Current::NotComparable(why)) => return (Decision::Promoted, why.clone()),
        None => {
            return (
                Decision::Promoted,
                format!("current model {id} cannot be evaluated on this snapshot"),
            );
        }
    };
    let mut worse = Vec::new();
    if v.roc_auc + p.train.max_auc_drop < c.roc_auc {
        worse.push(format!(
            "ROC AUC {:.4} is below {:.4} by more than {}",
            v.roc_auc, c.roc_auc, p.train.max_auc_drop
        ));
    }
    if v.log_loss > c.log_loss + p.train.max_log_loss_increase {
        worse.push(format!(
            "log loss {:.4} is above {:.4} by more than {}",
            v.log_loss, c.log_loss, p.train.max_log_loss_increase
        ));
    }
    if worse.is_empty() {
        (
            Decision::Promoted,
            format!(
                "not worse than current model {id} {on}: ROC AUC {:.4} vs {:.4}, log loss {:.4} vs {:.4}",
                v.roc_auc, c.roc_auc, v.log_loss, c.log_loss
            ),
        )
    } else {
        (
            Decision::Rejected,
            format!("worse than current model {id} {on}: {}", worse.join("; ")),
        )
    }
}
