//! Training: labelled snapshots at regular cutoffs, the fitting procedure with an out-of-time
//! validation on the latest labelable cutoff, baselines, the model card, and the promotion gate.

use sha2::{Digest, Sha256};

use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::{Error, Result};
use crate::features;
use crate::model::artifact::{
    Baseline, BtydFit, FORMAT_VERSION, ModelArtifact, ModelMetrics, Population, TrainingData,
};
use crate::model::cutoffs::{self, Plan};
use crate::model::labelled::{Snapshots, recency_scores, value_at_risk};
use crate::model::metrics::{self, Metrics};
use crate::model::procedure;
use crate::model::registry::{Decision, Registry};
use crate::model::snapshot::{self, Snapshot};
use crate::model::{btyd_evidence, card};
use crate::model::{gate, sections};
use crate::util::dates::format_day;
use crate::util::hashing::hex;

/// What `train` did.
#[derive(Debug)]
pub struct TrainReport {
    pub artifact: ModelArtifact,
    pub decision: Decision,
    pub reason: String,
}

/// The snapshots a plan trains, validates and refits on.
struct Planned {
    train: Vec<Snapshot>,
    val: Snapshot,
    /// Every cutoff whole, when train and val are the two sides of an in-time holdout; the
    /// refit then uses these (out of time it uses the training and validation snapshots).
    whole: Option<Vec<Snapshot>>,
}

impl Planned {
    fn train(&self) -> Vec<&Snapshot> {
        self.train.iter().collect()
    }

    fn refit(&self) -> Vec<&Snapshot> {
        match &self.whole {
            Some(all) => all.iter().collect(),
            None => self.train.iter().chain([&self.val]).collect(),
        }
    }
}

/// The snapshots of `plan` as of `until`.
fn snapshots(p: &Pipeline, engine: &mut dyn Backend, plan: &Plan, until: i32) -> Result<Planned> {
    Ok(match plan {
        Plan::OutOfTime { validation, train } => {
            // A fit reads from each cutoff only its share of `max_train_rows` rows, so each
            // training cutoff keeps a sample of that size (at 10^8 transactions, every active row
            // of every cutoff held together was most of the run's memory). The validation cutoff
            // keeps all its rows: it is measured on them.
            let mut val = Snapshots::new(until);
            val.ensure(p, engine, &[*validation])?;
            let share = snapshot::shares(p.train.max_train_rows, train.len())[0];
            let mut snaps = Snapshots::sampled(until, share, p.train.seed);
            snaps.ensure(p, engine, train)?;
            Planned {
                train: train.iter().map(|&c| snaps.take(c)).collect(),
                val: val.take(*validation),
                whole: None,
            }
        }
        Plan::InTimeHoldout { cutoffs } => {
            // A short history: every cutoff whole, a fifth of the customers held out of training
            // at all of them and validated on at the latest.
            let mut all = Snapshots::new(until);
            all.ensure(p, engine, cutoffs)?;
            let whole: Vec<Snapshot> = cutoffs.iter().map(|&c| all.take(c)).collect();
            let seed = p.train.seed;
            let train = whole
                .iter()
                .map(|s| s.restrict(|id| !cutoffs::held_out(id, seed)))
                .collect();
            let last = whole.last().expect("an in-time plan has a cutoff");
            Planned {
                train,
                val: last.restrict(|id| cutoffs::held_out(id, seed)),
                whole: Some(whole),
            }
        }
    })
}

/// Trains on the warehouse behind `engine` as of `as_of` (default: its last day): only rows on
/// or before that day are used, so a backfilled night's model is the one a warehouse truncated
/// there would give. Writes the artifact and card, and records the promotion decision in the
/// registry. `fingerprint` identifies the warehouse content.
///
/// Long by design: the training night's steps in order (cutoffs, snapshots, fit, metrics,
/// gate, artifact, registry), each a call into its own module.
pub fn train(
    p: &Pipeline,
    engine: &mut dyn Backend,
    fingerprint: &str,
    as_of: Option<i32>,
    tonight: &mut features::Tonight,
) -> Result<TrainReport> {
    let known = cutoffs::known(p, engine, as_of)?;
    let plan =
        cutoffs::plan_or_holdout(&known.labelable, known.until, known.window, p.train.cutoffs)?;
    let until = known.until;
    let planned = snapshots(p, engine, &plan, until)?;
    let (train, val, refit) = (planned.train(), &planned.val, planned.refit());
    let holdout = matches!(plan, Plan::InTimeHoldout { .. });

    let fitted = procedure::fit_procedure(&p.train, &p.features, &train, val, &refit)?;
    // The refit's matrix and temporaries, before the metrics and tonight's features.
    crate::util::memory::give_back();
    let p_val = &fitted.validation_probabilities;
    let validation = Metrics::compute(p_val, &val.labels);
    let mut baselines = vec![Baseline {
        name: "recency alone".into(),
        metrics: Metrics::ranking_only(&recency_scores(val)?, &val.labels),
    }];
    baselines.extend(btyd_evidence::baselines(p, &train, val)?);
    // Pipelines may share a models folder: the registry is read, judged against and written
    // under its lock, so no other decision lands in between and none is lost.
    let _registry_lock = crate::warehouse::lock::WorkdirLock::registry(&p.models_dir)?;
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
    let sections = sections::hashes(p);
    let current_metrics = match &current {
        Some(c) => {
            let changed = sections::changed(&c.pipeline_sections, &sections);
            Some(gate::current_on(c, val, holdout, &changed)?)
        }
        None => None,
    };
    if let (Some(c), Some(gate::Current::Comparable(m))) = (&current, &current_metrics) {
        baselines.push(Baseline {
            name: format!("current model {}", c.model_id),
            metrics: m.clone(),
        });
    }
    let priority = value_at_risk(val, p_val)?;
    let churners: usize = refit.iter().map(|s| s.churners).sum();

    let training = TrainingData {
        validation: plan.kind().into(),
        min_history_days: known.min_history_days,
        min_history_relaxed: known.relaxed,
        training_cutoffs: refit.iter().map(|s| format_day(s.cutoff)).collect(),
        validation_cutoff: format_day(val.cutoff),
        // The refit's snapshots are every cutoff, the validation one included.
        btyd_fits: refit.iter().flat_map(|s| BtydFit::of(&s.table)).collect(),
        rows: fitted.rows,
        fitted_rows: fitted.fitted_rows,
        sampled: fitted.fitted_rows < fitted.rows,
        churn_rate: churners as f64 / fitted.rows.max(1) as f64,
        data_from: format_day(known.first),
        data_to: format_day(until),
    };
    let metrics = ModelMetrics {
        validation,
        baselines,
        gains: metrics::gains_table(p_val, &val.labels),
        lost_value_caught_at_10: metrics::lost_value_caught(&priority, &val.lost_value, 0.1),
        lost_value_caught_at_20: metrics::lost_value_caught(&priority, &val.lost_value, 0.2),
        train: procedure::in_sample_metrics(&fitted, &refit)?,
    };
    // The snapshots are done with; tonight's features of every customer come next.
    drop((train, refit));
    drop(planned);
    crate::util::memory::give_back();
    // Features as of the last day: the drift reference's population (the night's own features,
    // shared with the drift check and scoring).
    let at_last = tonight.get(p, engine, until)?;
    let mut artifact = ModelArtifact {
        format_version: FORMAT_VERSION,
        model_id: String::new(),
        churnflow_version: env!("CARGO_PKG_VERSION").into(),
        created_at: chrono::Utc::now().to_rfc3339(),
        pipeline_name: p.name.clone(),
        pipeline_sha256: p.file_hash.clone(),
        pipeline_sections: sections,
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
        drift_reference: drift_reference(p, at_last, &fitted.scaling)?,
    };
    artifact.model_id = model_id(&artifact)?;

    let (decision, reason) = match unreadable {
        Some(why) => (Decision::Promoted, why),
        None => gate::gate(p, &artifact, current.as_ref(), current_metrics.as_ref()),
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
    })
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
