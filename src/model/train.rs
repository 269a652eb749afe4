//! Training: labelled snapshots at monthly cutoffs, an out-of-time validation on the latest
//! labelable cutoff, a final refit on all snapshots, and the promotion gate.

use sha2::{Digest, Sha256};

use crate::config::{Pipeline, hex};
use crate::dates::{format_day, month_ends_between};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::features::{self, FeatureTable, spec};
use crate::label;
use crate::model::artifact::{FORMAT_VERSION, LabelSpec, ModelArtifact, ModelMetrics};
use crate::model::fit::{self, FitParams};
use crate::model::metrics::{self, Metrics};
use crate::model::preprocess;
use crate::model::registry::{Decision, Registry};

/// One labelled cutoff: features of the active population and their churn labels.
pub struct Snapshot {
    pub cutoff: i32,
    pub table: FeatureTable,
    /// Rows of `table` in the population.
    pub rows: Vec<usize>,
    /// Churn label of each row in `rows`.
    pub labels: Vec<bool>,
}

/// What `train` did.
#[derive(Debug)]
pub struct TrainReport {
    pub artifact: ModelArtifact,
    pub decision: Decision,
    pub reason: String,
}

/// The validation cutoff and the training cutoffs before it, from the data's day range.
/// Every training label window ends on or before the validation cutoff.
pub fn plan_cutoffs(
    first: i32,
    last: i32,
    horizon: i32,
    n_train: usize,
) -> Result<(i32, Vec<i32>)> {
    // A cutoff needs some history before it (30 days) and a full horizon after it.
    let labelable = month_ends_between(first + 30, last - horizon);
    let Some(&validation) = labelable.last() else {
        return Err(Error::Data(format!(
            "not enough history to train: data covers {} to {}, and a labelled cutoff needs 30 \
             days before it and horizon_days = {horizon} after it",
            format_day(first),
            format_day(last)
        )));
    };
    let train: Vec<i32> = labelable
        .iter()
        .copied()
        .filter(|&c| c + horizon <= validation)
        .collect();
    let train = train[train.len().saturating_sub(n_train)..].to_vec();
    if train.is_empty() {
        return Err(Error::Data(format!(
            "not enough history to train out of time: the validation cutoff is {} and no earlier \
             month end has its horizon ({horizon} days) finished by then; data starts {}",
            format_day(validation),
            format_day(first)
        )));
    }
    Ok((validation, train))
}

/// Features and labels at one cutoff.
pub fn snapshot(p: &Pipeline, engine: &mut dyn Engine, cutoff: i32, last: i32) -> Result<Snapshot> {
    let table = features::compute(engine, &spec::with_required(&p.features), cutoff)?;
    let rows = table.active_rows(p.active_within_days)?;
    let ids: Vec<String> = rows
        .iter()
        .map(|&i| table.customer_ids[i].clone())
        .collect();
    let labels = label::churn_labels(engine, &ids, cutoff, p.horizon_days, last)?;
    Ok(Snapshot {
        cutoff,
        table,
        rows,
        labels,
    })
}

fn rows_of<'a>(snaps: &[&'a Snapshot]) -> Vec<(&'a FeatureTable, &'a [usize])> {
    snaps
        .iter()
        .map(|s| (&s.table, s.rows.as_slice()))
        .collect()
}

fn labels_of(snaps: &[&Snapshot]) -> Vec<bool> {
    snaps
        .iter()
        .flat_map(|s| s.labels.iter().copied())
        .collect()
}

fn recency_scores(s: &Snapshot) -> Result<Vec<f64>> {
    let r = s.table.require("recency_days")?;
    Ok(s.rows.iter().map(|&i| r[i].unwrap_or(f64::MAX)).collect())
}

/// Trains a model on the warehouse behind `engine`, records the promotion decision in the
/// registry, and writes the artifact. `fingerprint` identifies the warehouse content.
pub fn train(p: &Pipeline, engine: &mut dyn Engine, fingerprint: &str) -> Result<TrainReport> {
    let (first, last) = engine.day_range()?;
    let (val_cutoff, train_cutoffs) = plan_cutoffs(first, last, p.horizon_days, p.train_cutoffs)?;
    let mut train_snaps = Vec::new();
    for &c in &train_cutoffs {
        train_snaps.push(snapshot(p, engine, c, last)?);
    }
    let val = snapshot(p, engine, val_cutoff, last)?;
    if val.rows.is_empty() {
        return Err(Error::Data(format!(
            "no active customers at the validation cutoff {}",
            format_day(val_cutoff)
        )));
    }

    let params = FitParams {
        alpha: p.alpha,
        max_iterations: p.max_iterations,
        gradient_tolerance: 1e-4,
    };
    let train_refs: Vec<&Snapshot> = train_snaps.iter().collect();
    let mut all_refs = train_refs.clone();
    all_refs.push(&val);

    // Out-of-time model (training cutoffs only) and final model (all cutoffs) are independent.
    let scaling_t = preprocess::fit(&p.features, &rows_of(&train_refs))?;
    let x_t = preprocess::matrix(&scaling_t, &rows_of(&train_refs))?;
    let y_t = labels_of(&train_refs);
    let scaling_f = preprocess::fit(&p.features, &rows_of(&all_refs))?;
    let x_f = preprocess::matrix(&scaling_f, &rows_of(&all_refs))?;
    let y_f = labels_of(&all_refs);
    let (model_t, model_f) = rayon::join(
        || fit::fit(&x_t, &y_t, params),
        || fit::fit(&x_f, &y_f, params),
    );
    let (model_t, model_f) = (model_t?, model_f?);

    let x_v = preprocess::matrix(&scaling_t, &rows_of(&[&val]))?;
    let p_val = model_t.predict(&x_v);
    let validation = Metrics::compute(&p_val, &val.labels);
    let recency = recency_scores(&val)?;
    // Recency is a ranking, not a probability: only its ranking metrics are meaningful.
    let recency_baseline = Metrics::ranking_only(&recency, &val.labels);
    let train_metrics = Metrics::compute(&model_f.predict(&x_f), &y_f);

    let mut artifact = ModelArtifact {
        format_version: FORMAT_VERSION,
        model_id: String::new(),
        churnflow_version: env!("CARGO_PKG_VERSION").into(),
        created_at: chrono::Utc::now().to_rfc3339(),
        pipeline_name: p.name.clone(),
        pipeline_sha256: p.file_hash.clone(),
        label: LabelSpec {
            kind: "fixed_horizon".into(),
            horizon_days: p.horizon_days,
            active_within_days: p.active_within_days,
        },
        features: scaling_f,
        model: model_f,
        alpha: p.alpha,
        max_iterations: p.max_iterations,
        training_cutoffs: all_refs.iter().map(|s| format_day(s.cutoff)).collect(),
        validation_cutoff: format_day(val_cutoff),
        data_fingerprint: fingerprint.into(),
        metrics: ModelMetrics {
            validation,
            validation_recency_baseline: recency_baseline,
            train: train_metrics,
        },
        calibration: metrics::calibration_table(&p_val, &val.labels, 10),
    };
    artifact.model_id = model_id(&artifact)?;

    let mut registry = Registry::load(&p.models_dir)?;
    let (decision, reason) = gate(p, &registry, &artifact, &val)?;
    artifact.save(&p.models_dir)?;
    registry.record(&artifact.model_id, decision, reason.clone());
    registry.save(&p.models_dir)?;
    Ok(TrainReport {
        artifact,
        decision,
        reason,
    })
}

/// Content-derived id: same data, pipeline and result give the same id.
fn model_id(a: &ModelArtifact) -> Result<String> {
    let mut h = Sha256::new();
    for part in [
        serde_json::to_string(&a.features),
        serde_json::to_string(&a.model),
        serde_json::to_string(&a.training_cutoffs),
    ] {
        h.update(part.map_err(|e| Error::Artifact(format!("cannot hash model: {e}")))?);
    }
    h.update(&a.data_fingerprint);
    h.update(&a.pipeline_sha256);
    Ok(format!(
        "{}-{}",
        a.validation_cutoff.replace('-', ""),
        &hex(&h.finalize())[..10]
    ))
}

/// The promotion gate: the new model must not be worse than the current one on the same
/// validation snapshot by more than the configured ROC AUC tolerance.
fn gate(
    p: &Pipeline,
    registry: &Registry,
    new: &ModelArtifact,
    val: &Snapshot,
) -> Result<(Decision, String)> {
    let new_auc = new.metrics.validation.roc_auc;
    let Some(current_id) = &registry.current else {
        return Ok((
            Decision::Promoted,
            format!("no current model; validation ROC AUC {new_auc:.4}"),
        ));
    };
    if *current_id == new.model_id {
        return Ok((
            Decision::Promoted,
            "identical to the current model (same data and settings)".into(),
        ));
    }
    let current = ModelArtifact::load(&p.models_dir, current_id)?;
    if current.check_features(&val.table).is_err() {
        return Ok((
            Decision::Promoted,
            format!("current model {current_id} uses features the pipeline no longer produces"),
        ));
    }
    let current_auc = metrics::roc_auc(&current.predict(&val.table, &val.rows)?, &val.labels);
    let on = format!("on the validation cutoff {}", new.validation_cutoff);
    if new_auc + p.promotion_tolerance >= current_auc {
        Ok((
            Decision::Promoted,
            format!(
                "validation ROC AUC {new_auc:.4} vs current {current_id} {current_auc:.4} {on}"
            ),
        ))
    } else {
        Ok((
            Decision::Rejected,
            format!(
                "validation ROC AUC {new_auc:.4} is below current {current_id} {current_auc:.4} \
                 {on} by more than the tolerance {}",
                p.promotion_tolerance
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::parse_day;

    #[test]
    fn label_windows_of_training_cutoffs_end_before_validation() {
        let first = parse_day("2023-01-01").unwrap();
        let last = parse_day("2024-12-31").unwrap();
        let (val, train) = plan_cutoffs(first, last, 90, 6).unwrap();
        assert_eq!(format_day(val), "2024-09-30");
        assert_eq!(train.len(), 6);
        assert_eq!(format_day(*train.last().unwrap()), "2024-06-30");
        assert!(train.iter().all(|c| c + 90 <= val));
    }

    #[test]
    fn too_little_history_is_explained() {
        let first = parse_day("2024-10-01").unwrap();
        let err = plan_cutoffs(first, first + 100, 90, 6)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not enough history"), "{err}");
    }
}
