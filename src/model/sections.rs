//! The pipeline sections a model depends on, hashed: the label, the population, the features
//! (with the side tables' complaint kinds they read) and the training settings that shape the
//! fit. A model records the hash; a night whose pipeline file hashes differently retrains,
//! because the old model answers a question the file no longer asks. Settings that only decide
//! *when* to retrain or whether to promote (retrain_every_days, max_feature_psi, the gate's
//! tolerances) and the scoring rules are left out: changing them needs no new model.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::config::Pipeline;
use crate::util::hashing::hex;

/// SHA-256 (hex) of each model-defining section of `p`, by section name.
pub fn hashes(p: &Pipeline) -> BTreeMap<String, String> {
    let t = &p.train;
    let sections = [
        ("label", serde_json::json!(p.label)),
        (
            "population",
            serde_json::json!({ "active_within_days": p.active_within_days }),
        ),
        (
            "features",
            serde_json::json!({ "features": p.features, "complaint_kinds": p.complaint_kinds }),
        ),
        (
            "train",
            serde_json::json!({
                "cutoffs": t.cutoffs,
                "cadence_days": t.cadence_days,
                "min_history_days": t.min_history_days,
                "alphas": t.alphas,
                "max_iterations": t.max_iterations,
                "max_train_rows": t.max_train_rows,
                "seed": t.seed,
                "calibration_tolerance": t.calibration_tolerance,
            }),
        ),
    ];
    sections
        .into_iter()
        .map(|(name, value)| {
            let digest = Sha256::digest(value.to_string().as_bytes());
            (name.to_string(), hex(&digest))
        })
        .collect()
}

/// The sections whose hash differs between what a model recorded and `now` (a section missing
/// on either side counts as changed).
pub fn changed(recorded: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    let mut names: Vec<&String> = recorded.keys().chain(now.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| recorded.get(*n) != now.get(*n))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_differing_sections_are_named() {
        let a: BTreeMap<String, String> = [("label", "1"), ("train", "2")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let mut b = a.clone();
        assert!(changed(&a, &b).is_empty());
        b.insert("train".into(), "3".into());
        b.insert("features".into(), "4".into());
        assert_eq!(changed(&a, &b), vec!["features", "train"]);
    }
}
