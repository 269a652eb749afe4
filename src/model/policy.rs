//! When the nightly run retrains, checked in this order:
//! 1. no (readable) current model;
//! 2. the current model was trained on data after tonight's as-of day (a backfill running
//!    behind it): it has seen tonight's future, so tonight gets a model trained as of tonight;
//! 3. the pipeline's label, population, features or training settings changed since the model
//!    was trained (`sections.rs`): it answers a question the file no longer asks;
//! 4. the model was trained as of tonight on exactly this warehouse content: no retraining;
//! 5. the model is older than `retrain_every_days`;
//! 6. a feature drifted (PSI above `max_feature_psi`, `drift.rs`) since the model's first night.
//!
//! `--retrain` and `--no-retrain` replace the decision; the reason then says so.

use serde::Serialize;

use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::{Error, Result};
use crate::features;
use crate::model::artifact::ModelArtifact;
use crate::model::registry::Registry;
use crate::model::sections;
use crate::util::dates::{format_day, parse_day};

/// What the command line asks of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Override {
    /// The policy decides.
    #[default]
    Policy,
    /// `--retrain`.
    Retrain,
    /// `--no-retrain`.
    NoRetrain,
}

/// Why the decision was taken, for schedulers reading the run manifest.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    NoModel,
    UnreadableModel,
    ModelSeesTheFuture,
    PipelineChanged,
    SameData,
    Age,
    Drift,
    WithinPolicy,
    Forced,
    Skipped,
}

/// The decision and why, for the run manifest.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RetrainDecision {
    pub retrain: bool,
    pub cause: Cause,
    pub reason: String,
}

fn decide(retrain: bool, cause: Cause, reason: String) -> RetrainDecision {
    RetrainDecision {
        retrain,
        cause,
        reason,
    }
}

/// Decides whether tonight's run retrains, as of `as_of`; the drift check reads tonight's
/// features from `tonight` (computing them there for the stages after it).
pub fn retrain_decision(
    p: &Pipeline,
    engine: &mut dyn Backend,
    fingerprint: &str,
    as_of: i32,
    over: Override,
    tonight: &mut features::Tonight,
) -> Result<RetrainDecision> {
    let registry = Registry::load(&p.models_dir)?;
    let current = registry.current.clone();
    match over {
        Override::Retrain => {
            return Ok(decide(true, Cause::Forced, "--retrain was given".into()));
        }
        Override::NoRetrain => {
            let Some(id) = current else {
                return Err(Error::Usage(format!(
                    "--no-retrain was given but {} holds no current model to score with; run \
                     without --no-retrain (or `churnflow train`) first",
                    p.models_dir.display()
                )));
            };
            let policy = policy_decision(p, engine, fingerprint, as_of, &registry, &id, tonight)?;
            let reason = match policy.retrain {
                true => format!(
                    "--no-retrain was given (the policy would retrain: {})",
                    policy.reason
                ),
                false => format!("--no-retrain was given ({})", policy.reason),
            };
            return Ok(decide(false, Cause::Skipped, reason));
        }
        Override::Policy => {}
    }
    let Some(id) = current else {
        return Ok(decide(true, Cause::NoModel, "no current model".into()));
    };
    policy_decision(p, engine, fingerprint, as_of, &registry, &id, tonight)
}

fn policy_decision(
    p: &Pipeline,
    engine: &mut dyn Backend,
    fingerprint: &str,
    as_of: i32,
    registry: &Registry,
    id: &str,
    tonight: &mut features::Tonight,
) -> Result<RetrainDecision> {
    let current = match ModelArtifact::load(&p.models_dir, id) {
        Ok(m) => m,
        Err(e) => {
            let why = format!("current model {id} cannot be read: {e}");
            return Ok(decide(true, Cause::UnreadableModel, why));
        }
    };
    let trained_to = parse_day(&current.training.data_to).unwrap_or(as_of);
    if trained_to > as_of {
        let why = format!(
            "current model {id} was trained on data to {}, after this night ({}): it has seen \
             this night's future, so a model trained as of {} replaces it",
            current.training.data_to,
            format_day(as_of),
            format_day(as_of)
        );
        return Ok(decide(true, Cause::ModelSeesTheFuture, why));
    }
    let now = sections::hashes(p);
    let changed = sections::changed(&current.pipeline_sections, &now);
    if !changed.is_empty() {
        // A model was trained for the changed pipeline on this very data and the gate kept the
        // current one: training it again would give the same model and the same verdict.
        if let Some((rejected, why)) = rejected_for(p, registry, &now, fingerprint, as_of) {
            let why = format!(
                "the pipeline's {} changed since current model {id}, but model {rejected} \
                 trained for it on this data was rejected ({why}); {id} keeps scoring",
                changed.join(", ")
            );
            return Ok(decide(false, Cause::SameData, why));
        }
        let why = format!(
            "the pipeline's {} changed since current model {id} was trained",
            changed.join(", ")
        );
        return Ok(decide(true, Cause::PipelineChanged, why));
    }
    if current.data_fingerprint == fingerprint && trained_to == as_of {
        let why = format!(
            "current model {id} was trained as of {} on exactly this warehouse content",
            format_day(as_of)
        );
        return Ok(decide(false, Cause::SameData, why));
    }
    let age = as_of - trained_to;
    if p.train.retrain_every_days > 0 && age >= p.train.retrain_every_days {
        let why = format!(
            "current model {id} was trained on data to {} ({age} days before {}; \
             retrain_every_days = {})",
            current.training.data_to,
            format_day(as_of),
            p.train.retrain_every_days
        );
        return Ok(decide(true, Cause::Age, why));
    }
    if p.train.max_feature_psi <= 0.0 {
        let why = format!("current model {id} is {age} days old");
        return Ok(decide(false, Cause::WithinPolicy, why));
    }
    let table = tonight.get(p, engine, as_of)?;
    drift_decision(p, &current, id, age, table)
}

/// The latest model the registry rejected, when it was trained for these pipeline sections on
/// this warehouse content as of this night; with the gate's reason.
fn rejected_for(
    p: &Pipeline,
    registry: &Registry,
    now: &std::collections::BTreeMap<String, String>,
    fingerprint: &str,
    as_of: i32,
) -> Option<(String, String)> {
    let last = registry.history.last()?;
    if last.decision != crate::model::registry::Decision::Rejected {
        return None;
    }
    let m = ModelArtifact::load(&p.models_dir, &last.model_id).ok()?;
    let same = m.pipeline_sections == *now
        && m.data_fingerprint == fingerprint
        && parse_day(&m.training.data_to) == Some(as_of);
    same.then(|| (last.model_id.clone(), last.reason.clone()))
}

/// The decision from tonight's features: retrain when the model cannot use them or one has
/// drifted beyond `max_feature_psi` since the model's first night.
fn drift_decision(
    p: &Pipeline,
    current: &ModelArtifact,
    id: &str,
    age: i32,
    table: &features::FeatureTable,
) -> Result<RetrainDecision> {
    if current.check_features(table).is_err() {
        return Ok(decide(
            true,
            Cause::PipelineChanged,
            format!("current model {id} uses features the pipeline no longer produces"),
        ));
    }
    let rows = table.active_rows(p.active_within_days)?;
    Ok(match current.max_psi(table, &rows, age)? {
        Some((feature, psi)) if psi > p.train.max_feature_psi => decide(
            true,
            Cause::Drift,
            format!(
                "feature {feature} drifted: PSI {psi:.3} above max_feature_psi = {}",
                p.train.max_feature_psi
            ),
        ),
        Some((feature, psi)) => decide(
            false,
            Cause::WithinPolicy,
            format!(
                "current model {id} is {age} days old; largest PSI {psi:.3} ({feature}) within {}",
                p.train.max_feature_psi
            ),
        ),
        None => decide(
            false,
            Cause::WithinPolicy,
            format!("current model {id} is {age} days old"),
        ),
    })
}
