//! Training: labelled snapshots at regular cutoffs, the fitting procedure with an out-of-time
//! validation on the latest labelable cutoff, baselines, the model card, and the promotion gate.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::config::{Pipeline, hex};
use crate::dates::{format_day, month_ends_between};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::features::{self, spec};
use crate::label;
use crate::model::artifact::{
    Baseline, FORMAT_VERSION, ModelArtifact, ModelMetrics, Population, TrainingData,
};
use crate::model::card;
use crate::model::metrics::{self, Metrics};
use crate::model::procedure::{self, Snapshot};
use crate::model::registry::{Decision, Registry};

/// What `train` did.
#[derive(Debug)]
pub struct TrainReport {
    pub artifact: ModelArtifact,
    pub decision: Decision,
    pub reason: String,
    /// Features as of the last day with data (the drift reference's population), for scoring
    /// that night to reuse instead of computing them again.
    pub features_at_last: features::FeatureTable,
}

/// Every cutoff whose label window has passed by `last`, oldest first: month ends, or every
/// `cadence_days` counted back from the latest one. A cutoff needs `min_history` days of data
/// before it.
pub fn labelable_cutoffs(
    first: i32,
    last: i32,
    window: i32,
    min_history: i32,
    cadence_days: Option<i32>,
) -> Vec<i32> {
    let (lo, hi) = (first + min_history, last - window);
    match cadence_days {
        None => month_ends_between(lo, hi),
        Some(step) => {
            let mut out: Vec<i32> = (0..)
                .map(|k| hi - k * step)
                .take_while(|&c| c >= lo)
                .collect();
            out.reverse();
            out
        }
    }
}

/// The warehouse's day range, the label window and every labelable cutoff for the pipeline.
pub fn labelable_for(p: &Pipeline, engine: &mut dyn Engine) -> Result<(i32, i32, i32, Vec<i32>)> {
    let (first, last) = engine.day_range()?;
    let window = p.label.max_window();
    let cutoffs = labelable_cutoffs(
        first,
        last,
        window,
        p.train.min_history_days,
        p.train.cadence_days,
    );
    Ok((first, last, window, cutoffs))
}

/// The validation cutoff (the latest whose label window has passed by `known_until`) and up to
/// `n_train` training cutoffs before it whose label windows end on or before it.
pub fn plan(
    labelable: &[i32],
    known_until: i32,
    window: i32,
    n_train: usize,
) -> Result<(i32, Vec<i32>)> {
    let Some(&validation) = labelable.iter().rev().find(|&&c| c + window <= known_until) else {
        return Err(Error::Data(format!(
            "not enough history to train: no cutoff has train.min_history_days of history \
             before it and its label window ({window} days) finished by {}",
            format_day(known_until)
        )));
    };
    let train: Vec<i32> = labelable
        .iter()
        .copied()
        .filter(|&c| c + window <= validation)
        .collect();
    let train = train[train.len().saturating_sub(n_train)..].to_vec();
    if train.is_empty() {
        return Err(Error::Data(format!(
            "not enough history to train out of time: the validation cutoff is {} and no earlier \
             cutoff has its label window ({window} days) finished by then",
            format_day(validation)
        )));
    }
    Ok((validation, train))
}

/// Labelled snapshots, computed once per cutoff.
pub struct Snapshots {
    pub last: i32,
    /// Keep a class-stratified sample of at most this many rows per cutoff (with this seed).
    sample: Option<(usize, u64)>,
    by_cutoff: BTreeMap<i32, Snapshot>,
}

impl Snapshots {
    /// An empty cache for a warehouse whose data ends on `last`.
    pub fn new(last: i32) -> Self {
        Snapshots {
            last,
            sample: None,
            by_cutoff: BTreeMap::new(),
        }
    }

    /// Snapshots that keep a class-stratified sample of at most `max_rows` rows each.
    pub fn sampled(last: i32, max_rows: usize, seed: u64) -> Self {
        Snapshots {
            sample: Some((max_rows, seed)),
            ..Self::new(last)
        }
    }

    /// Computes the snapshots of `cutoffs` that are not cached yet.
    pub fn ensure(&mut self, p: &Pipeline, engine: &mut dyn Engine, cutoffs: &[i32]) -> Result<()> {
        let missing: Vec<i32> = cutoffs
            .iter()
            .copied()
            .filter(|c| !self.by_cutoff.contains_key(c))
            .collect();
        let bar = crate::progress::bar(missing.len() as u64, "features at cutoffs");
        for c in missing {
            let mut s = snapshot(p, engine, c, self.last)?;
            if let Some((max_rows, seed)) = self.sample {
                s = s.sample(
                    max_rows,
                    seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
            }
            self.by_cutoff.insert(c, s);
            // The cutoff's whole active table was just sampled down: hand it back before the
            // next one is computed.
            crate::memory::give_back();
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(())
    }

    /// A computed snapshot.
    pub fn get(&self, cutoff: i32) -> &Snapshot {
        &self.by_cutoff[&cutoff]
    }
}

/// Features, labels and lost value at one cutoff.
pub fn snapshot(p: &Pipeline, engine: &mut dyn Engine, cutoff: i32, last: i32) -> Result<Snapshot> {
    // Fitting and validation read only the active rows, so only those are computed: the
    // snapshots cost the active population rather than everyone ever seen (at 10^8 rows that
    // did not fit in memory).
    let table = features::compute_active_for(p, engine, cutoff)?;
    let rows: Vec<usize> = (0..table.len()).collect();
    let o = label::outcomes(engine, &p.label, &table, &rows, last)?;
    Ok(Snapshot {
        cutoff,
        population: table.len(),
        churners: o.churned.iter().filter(|c| **c).count(),
        table,
        rows,
        labels: o.churned,
        lost_value: o.lost_value,
    })
}

/// Recency (higher = more likely gone) for the snapshot's rows.
pub fn recency_scores(s: &Snapshot) -> Result<Vec<f64>> {
    let r = s.table.require("recency_days")?;
    Ok(s.rows
        .iter()
        .map(|&i| r.get(i).unwrap_or(f64::MAX))
        .collect())
}

/// Expected value at risk used to rank accounts: P(churn) x trailing 12-month value.
pub fn value_at_risk(s: &Snapshot, p: &[f64]) -> Result<Vec<f64>> {
    let v = s.table.require(&spec::VALUE_12M.name())?;
    Ok(s.rows
        .iter()
        .zip(p)
        .map(|(&i, p)| p * v.get(i).unwrap_or(0.0).max(0.0))
        .collect())
}

/// Trains on the warehouse behind `engine`, writes the artifact and card, and records the
/// promotion decision in the registry. `fingerprint` identifies the warehouse content.
pub fn train(p: &Pipeline, engine: &mut dyn Engine, fingerprint: &str) -> Result<TrainReport> {
    let (first, last, window, labelable) = labelable_for(p, engine)?;
    let (val_cutoff, train_cutoffs) = plan(&labelable, last, window, p.train.cutoffs)?;
    // A fit reads from each cutoff only its share of `max_train_rows` rows, so each training
    // cutoff keeps a sample of that size (at 10^8 transactions, every active row of every cutoff
    // held together was most of the run's memory; at 10^7, samples of `max_train_rows` each were
    // a third of training's). The validation cutoff keeps all its rows: it is measured on them.
    let mut val_snap = Snapshots::new(last);
    val_snap.ensure(p, engine, &[val_cutoff])?;
    let share = procedure::shares(p.train.max_train_rows, train_cutoffs.len())[0];
    let mut snaps = Snapshots::sampled(last, share, p.train.seed);
    snaps.ensure(p, engine, &train_cutoffs)?;
    let train: Vec<&Snapshot> = train_cutoffs.iter().map(|&c| snaps.get(c)).collect();
    let val = val_snap.get(val_cutoff);

    let fitted = procedure::fit_procedure(&p.train, &p.features, &train, val)?;
    // The refit's matrix and temporaries, before the metrics and tonight's features.
    crate::memory::give_back();
    let p_val = &fitted.validation_probabilities;
    let validation = Metrics::compute(p_val, &val.labels);
    let mut baselines = vec![Baseline {
        name: "recency alone".into(),
        metrics: Metrics::ranking_only(&recency_scores(val)?, &val.labels),
    }];
    // Pipelines may share a models folder: the registry is read, judged against and written
    // under its lock, so no other decision lands in between and none is lost.
    let _registry_lock = crate::ingest::lock::WorkdirLock::registry(&p.models_dir)?;
    let registry = Registry::load(&p.models_dir)?;
    // A current model this version cannot read (older format, deleted file) must not block
    // retraining forever: the new model replaces it and the registry says why.
    let (current, unreadable) = match &registry.current {
        Some(id) => match ModelArtifact::load(&p.models_dir, id) {
            Ok(a) => (Some(a), None),
            Err(e) => (
                None,
                Some(format!("current model {id} cannot be read: {e}")),
            ),
        },
        None => (None, None),
    };
    let current_metrics = match &current {
        Some(c) => current_on(c, val)?,
        None => None,
    };
    if let (Some(c), Some(m)) = (&current, &current_metrics) {
        baselines.push(Baseline {
            name: format!("current model {}", c.model_id),
            metrics: m.clone(),
        });
    }
    let priority = value_at_risk(val, p_val)?;
    let all: Vec<&Snapshot> = train.iter().copied().chain([val]).collect();
    let churners: usize = all.iter().map(|s| s.churners).sum();

    let training = TrainingData {
        training_cutoffs: all.iter().map(|s| format_day(s.cutoff)).collect(),
        validation_cutoff: format_day(val_cutoff),
        rows: fitted.rows,
        fitted_rows: fitted.fitted_rows,
        sampled: fitted.fitted_rows < fitted.rows,
        churn_rate: churners as f64 / fitted.rows.max(1) as f64,
        data_from: format_day(first),
        data_to: format_day(last),
    };
    let metrics = ModelMetrics {
        validation,
        baselines,
        gains: metrics::gains_table(p_val, &val.labels),
        lost_value_caught_at_10: metrics::lost_value_caught(&priority, &val.lost_value, 0.1),
        lost_value_caught_at_20: metrics::lost_value_caught(&priority, &val.lost_value, 0.2),
        train: procedure::in_sample_metrics(&fitted, &train, val)?,
    };
    // The snapshots are done with; tonight's features of every customer come next.
    drop(all);
    drop(train);
    drop(val_snap);
    drop(snaps);
    crate::memory::give_back();
    let at_last = features::compute_for(p, engine, last)?;
    let mut artifact = ModelArtifact {
        format_version: FORMAT_VERSION,
        model_id: String::new(),
        churnflow_version: env!("CARGO_PKG_VERSION").into(),
        created_at: chrono::Utc::now().to_rfc3339(),
        pipeline_name: p.name.clone(),
        pipeline_sha256: p.file_hash.clone(),
        label: p.label,
        population: Population {
            active_within_days: p.active_within_days,
        },
        features: fitted.scaling.clone(),
        model: fitted.model.clone(),
        alpha: fitted.alpha,
        alpha_grid: fitted.grid.clone(),
        max_iterations: p.train.max_iterations,
        training,
        data_fingerprint: fingerprint.into(),
        metrics,
        calibration: fitted.calibration.clone(),
        drift_reference: drift_reference(p, &at_last, &fitted.scaling)?,
    };
    artifact.model_id = model_id(&artifact)?;

    let (decision, reason) = match unreadable {
        Some(why) => (Decision::Promoted, why),
        None => gate(p, &artifact, current.as_ref(), current_metrics.as_ref()),
    };
    artifact.save(&p.models_dir)?;
    card::write(&artifact, &p.models_dir)?;
    let mut registry = registry;
    registry.record(&artifact.model_id, decision, reason.clone());
    registry.save(&p.models_dir)?;
    Ok(TrainReport {
        artifact,
        decision,
        reason,
        features_at_last: at_last,
    })
}

/// The current model's metrics on the validation snapshot, comparable with a new model's
/// out-of-time metrics; None when it cannot be evaluated there.
fn current_on(current: &ModelArtifact, val: &Snapshot) -> Result<Option<Metrics>> {
    if current.training.validation_cutoff == format_day(val.cutoff) {
        // Its shipped model was refitted on this very snapshot; its own out-of-time numbers on
        // the same snapshot are the fair comparison.
        return Ok(Some(current.metrics.validation.clone()));
    }
    if current.check_features(&val.table).is_err() {
        return Ok(None);
    }
    let p = current.predict(&val.table, &val.rows)?;
    Ok(Some(Metrics::compute(&p, &val.labels)))
}

/// Decile bins of every model feature's transformed values over the population as of `last`,
/// the first night the model scores. Nightly drift checks compare like with like: the pooled
/// training snapshots lie months earlier, and features that grow with time (tenure) would look
/// drifted every night against them, forcing a retrain each time.
fn drift_reference(
    p: &Pipeline,
    table: &features::FeatureTable,
    scaling: &[crate::model::preprocess::FeatureScaling],
) -> Result<Vec<crate::model::drift::FeatureBins>> {
    let rows = table.active_rows(p.active_within_days)?;
    scaling
        .iter()
        .map(|f| {
            let col = table.require(&f.name)?;
            let values: Vec<f64> = rows
                .iter()
                .map(|&i| f.transform.apply(col.get(i).unwrap_or(f.impute)))
                .collect();
            Ok(crate::model::drift::FeatureBins::fit(&f.name, &values))
        })
        .collect()
}

/// Content-derived id: same data, pipeline and result give the same id.
fn model_id(a: &ModelArtifact) -> Result<String> {
    let mut h = Sha256::new();
    for part in [
        serde_json::to_string(&a.features),
        serde_json::to_string(&a.model),
        serde_json::to_string(&a.training.training_cutoffs),
        serde_json::to_string(&a.label),
    ] {
        h.update(part.map_err(|e| Error::Artifact(format!("cannot hash model: {e}")))?);
    }
    h.update(&a.data_fingerprint);
    h.update(&a.pipeline_sha256);
    Ok(format!(
        "{}-{}",
        a.training.validation_cutoff.replace('-', ""),
        &hex(&h.finalize())[..10]
    ))
}

/// The promotion gate: on the same validation snapshot, the new model's ROC AUC may not be
/// lower, nor its log loss higher, than the current model's beyond the configured tolerances.
fn gate(
    p: &Pipeline,
    new: &ModelArtifact,
    current: Option<&ModelArtifact>,
    current_metrics: Option<&Metrics>,
) -> (Decision, String) {
    let v = &new.metrics.validation;
    let on = format!(
        "on the validation cutoff {}",
        new.training.validation_cutoff
    );
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
    let Some(c) = current_metrics else {
        return (
            Decision::Promoted,
            format!(
                "current model {id} cannot be evaluated on this snapshot (features or label definition changed)"
            ),
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::parse_day;

    #[test]
    fn label_windows_of_training_cutoffs_end_before_validation() {
        let first = parse_day("2023-01-01").unwrap();
        let last = parse_day("2024-12-31").unwrap();
        let labelable = labelable_cutoffs(first, last, 90, 30, None);
        let (val, train) = plan(&labelable, last, 90, 6).unwrap();
        assert_eq!(format_day(val), "2024-09-30");
        assert_eq!(train.len(), 6);
        assert_eq!(format_day(*train.last().unwrap()), "2024-06-30");
        assert!(train.iter().all(|c| c + 90 <= val));
    }

    #[test]
    fn cadence_counts_back_from_the_latest_labelable_day() {
        let first = parse_day("2024-01-01").unwrap();
        let last = parse_day("2024-12-31").unwrap();
        let c = labelable_cutoffs(first, last, 90, 30, Some(14));
        assert_eq!(format_day(*c.last().unwrap()), "2024-10-02");
        assert!(c.windows(2).all(|w| w[1] - w[0] == 14));
        assert!(c[0] >= first + 30);
    }

    #[test]
    fn too_little_history_is_explained() {
        let first = parse_day("2024-10-01").unwrap();
        let c = labelable_cutoffs(first, first + 100, 90, 30, None);
        let err = plan(&c, first + 100, 90, 6).unwrap_err().to_string();
        assert!(err.contains("not enough history"), "{err}");
    }
}
