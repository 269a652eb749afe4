//! When the nightly run retrains: when there is no (readable) current model, when the current
//! model is older than `retrain_every_days`, or when a feature has drifted (PSI above
//! `max_feature_psi`) since training; never twice on the same warehouse content.

use crate::config::Pipeline;
use crate::dates::{format_day, parse_day};
use crate::engine::Engine;
use crate::error::Result;
use crate::features;
use crate::model::artifact::ModelArtifact;
use crate::model::registry::Registry;

/// The decision and why, for the run manifest.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct RetrainDecision {
    pub retrain: bool,
    pub reason: String,
}

fn decide(retrain: bool, reason: String) -> RetrainDecision {
    RetrainDecision { retrain, reason }
}

/// Decides whether tonight's run retrains, as of `as_of` (default: the last day with data).
/// Also returns tonight's features when the drift check computed them, for scoring to reuse.
pub fn retrain_decision(
    p: &Pipeline,
    engine: &mut dyn Engine,
    fingerprint: &str,
    as_of: Option<i32>,
) -> Result<(RetrainDecision, Option<features::FeatureTable>)> {
    let registry = Registry::load(&p.models_dir)?;
    let Some(id) = registry.current else {
        return Ok((decide(true, "no current model".into()), None));
    };
    let current = match ModelArtifact::load(&p.models_dir, &id) {
        Ok(m) => m,
        Err(e) => {
            return Ok((
                decide(true, format!("current model {id} cannot be read: {e}")),
                None,
            ));
        }
    };
    if current.data_fingerprint == fingerprint {
        return Ok((
            decide(
                false,
                format!("current model {id} was trained on exactly this warehouse content"),
            ),
            None,
        ));
    }
    let as_of = crate::engine::night(engine, as_of)?;
    let trained_to = parse_day(&current.training.data_to).unwrap_or(as_of);
    let age = as_of - trained_to;
    if p.train.retrain_every_days > 0 && age >= p.train.retrain_every_days {
        return Ok((
            decide(
                true,
                format!(
                    "current model {id} was trained on data to {} ({age} days before {}; retrain_every_days = {})",
                    current.training.data_to,
                    format_day(as_of),
                    p.train.retrain_every_days
                ),
            ),
            None,
        ));
    }
    if p.train.max_feature_psi <= 0.0 {
        return Ok((
            decide(false, format!("current model {id} is {age} days old")),
            None,
        ));
    }
    let table = features::compute_for(p, engine, as_of)?;
    let decision = drift_decision(p, &current, &id, age, &table)?;
    Ok((decision, Some(table)))
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
            format!("current model {id} uses features the pipeline no longer produces"),
        ));
    }
    let rows = table.active_rows(p.active_within_days)?;
    Ok(match current.max_psi(table, &rows)? {
        Some((feature, psi)) if psi > p.train.max_feature_psi => decide(
            true,
            format!(
                "feature {feature} drifted: PSI {psi:.3} above max_feature_psi = {}",
                p.train.max_feature_psi
            ),
        ),
        Some((feature, psi)) => decide(
            false,
            format!(
                "current model {id} is {age} days old; largest PSI {psi:.3} ({feature}) within {}",
                p.train.max_feature_psi
            ),
        ),
        None => decide(false, format!("current model {id} is {age} days old")),
    })
}
