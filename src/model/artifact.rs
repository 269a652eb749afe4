//! `models/<model_id>/model.json`: everything needed to score and to defend a model, in plain JSON.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::features::FeatureTable;
use crate::label::LabelRule;
pub use crate::model::calibration::Calibration;
use crate::model::drift;
use crate::model::fit::LinearModel;
use crate::model::metrics::{GainsRow, Metrics};
use crate::model::preprocess::{self, FeatureScaling};
use crate::util::atomic_file;

/// Version of the artifact layout.
pub const FORMAT_VERSION: u32 = 3;

/// Who is labelled and scored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Customers with a purchase within this many days before the cutoff.
    pub active_within_days: i32,
}

/// One point of the regularisation grid, evaluated out of time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GridPoint {
    pub alpha: f64,
    #[serde(with = "crate::model::metrics::nan_as_null")]
    pub validation_log_loss: f64,
    #[serde(with = "crate::model::metrics::nan_as_null")]
    pub validation_roc_auc: f64,
}

/// A baseline evaluated on the validation snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub name: String,
    pub metrics: Metrics,
}

/// A BTYD model fitted as of one day (issue 19): the parameters the BTYD feature columns of that
/// day's snapshot came from, in days.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BtydFit {
    pub as_of: String,
    #[serde(flatten)]
    pub fit: crate::btyd::Fit,
}

impl BtydFit {
    /// The fits behind `table`'s BTYD columns.
    pub fn of(table: &FeatureTable) -> Vec<BtydFit> {
        table
            .btyd
            .iter()
            .map(|fit| BtydFit {
                as_of: crate::util::dates::format_day(table.as_of),
                fit: fit.clone(),
            })
            .collect()
    }
}

/// How the training rows were formed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainingData {
    /// `out_of_time` (validated on a later cutoff than any trained on) or `in_time_holdout`
    /// (too little history for that: a fifth of the customers held out at every cutoff).
    pub validation: String,
    /// Days of history before each cutoff at least (below `train.min_history_days` only when a
    /// short history had no cutoff with that much).
    pub min_history_days: i32,
    pub min_history_relaxed: bool,
    pub training_cutoffs: Vec<String>,
    pub validation_cutoff: String,
    /// The BTYD models fitted at the training and validation cutoffs (none without BTYD
    /// features): each snapshot's BTYD columns use only its own day's fit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub btyd_fits: Vec<BtydFit>,
    /// Rows of the final fit (all cutoffs) before sampling.
    pub rows: usize,
    /// Rows actually fitted on (a stratified sample when `rows` exceeded the limit).
    pub fitted_rows: usize,
    pub sampled: bool,
    pub churn_rate: f64,
    /// First day of data, and the night trained as of: no row after `data_to` was used.
    pub data_from: String,
    pub data_to: String,
}

/// Evaluation evidence stored with the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelMetrics {
    /// The out-of-time model (training cutoffs only, chosen alpha, calibrated) on the
    /// validation cutoff.
    pub validation: Metrics,
    /// Recency alone and the previously current model, on the same snapshot.
    pub baselines: Vec<Baseline>,
    /// Gains by decile of predicted probability on the validation snapshot.
    pub gains: Vec<GainsRow>,
    /// Share of next-period lost value in the top 10% / 20% of accounts by expected value at risk.
    #[serde(with = "crate::model::metrics::nan_as_null")]
    pub lost_value_caught_at_10: f64,
    #[serde(with = "crate::model::metrics::nan_as_null")]
    pub lost_value_caught_at_20: f64,
    /// The final model on all labelled rows it was fitted on (in-sample).
    pub train: Metrics,
}

/// The stored model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelArtifact {
    pub format_version: u32,
    pub model_id: String,
    pub churnflow_version: String,
    pub created_at: String,
    pub pipeline_name: String,
    pub pipeline_sha256: String,
    /// SHA-256 of each pipeline section the model depends on (`sections.rs`): a night whose
    /// pipeline hashes differently retrains.
    pub pipeline_sections: std::collections::BTreeMap<String, String>,
    pub label: LabelRule,
    pub population: Population,
    /// Features in model order with their preprocessing.
    pub features: Vec<FeatureScaling>,
    /// Coefficients on standardised features, calibration correction included.
    pub model: LinearModel,
    pub alpha: f64,
    pub alpha_grid: Vec<GridPoint>,
    pub max_iterations: u64,
    pub training: TrainingData,
    pub data_fingerprint: String,
    pub metrics: ModelMetrics,
    pub calibration: Calibration,
    /// Each feature's training distribution (transformed values), for drift checks.
    #[serde(default)]
    pub drift_reference: Vec<drift::FeatureBins>,
}

impl ModelArtifact {
    /// Where model `id` lives under `models_dir`.
    pub fn path(models_dir: &Path, id: &str) -> PathBuf {
        models_dir.join(id).join("model.json")
    }

    /// Loads model `id`.
    pub fn load(models_dir: &Path, id: &str) -> Result<Self> {
        let path = Self::path(models_dir, id);
        if !path.exists() {
            return Err(Error::Artifact(format!(
                "model {id} is named in the registry but {} does not exist",
                path.display()
            )));
        }
        // Check the version before the shape, so an old artifact says so plainly.
        let value: serde_json::Value = atomic_file::read_json(&path)?;
        let version = value.get("format_version").and_then(|v| v.as_u64());
        if version != Some(FORMAT_VERSION as u64) {
            return Err(Error::Artifact(format!(
                "{} has format_version {}, this churnflow reads {FORMAT_VERSION}; retrain with \
                 `churnflow train`",
                path.display(),
                version.map_or("(none)".to_string(), |v| v.to_string())
            )));
        }
        let a: ModelArtifact = serde_json::from_value(value)
            .map_err(|e| Error::Artifact(format!("{} is not valid: {e}", path.display())))?;
        Ok(a)
    }

    /// Writes the artifact atomically.
    pub fn save(&self, models_dir: &Path) -> Result<()> {
        atomic_file::write_json(&Self::path(models_dir, &self.model_id), self)
    }

    /// Names of the model's features, in order.
    pub fn feature_names(&self) -> Vec<String> {
        self.features.iter().map(|f| f.name.clone()).collect()
    }

    /// Fails with a clear message when `table` lacks a feature this model needs.
    pub fn check_features(&self, table: &FeatureTable) -> Result<()> {
        let missing: Vec<&str> = self
            .features
            .iter()
            .filter(|f| table.column(&f.name).is_none())
            .map(|f| f.name.as_str())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::Artifact(format!(
                "model {} uses feature(s) {} that the pipeline no longer produces; add them back \
                 to [[features]] or train a new model with `churnflow train`",
                self.model_id,
                missing.join(", ")
            )))
        }
    }

    /// Standardised inputs for the given rows of `table`.
    pub fn design(&self, table: &FeatureTable, rows: &[usize]) -> Result<Array2<f64>> {
        self.check_features(table)?;
        preprocess::matrix(&self.features, &[(table, rows)])
    }

    /// The largest population stability index of the model's features on the given rows of
    /// `table`, `elapsed` days after the reference was taken, with the feature's name; None
    /// without a stored reference. Features that grow one a day (`drift::ages`) are compared
    /// with the elapsed days taken off.
    pub fn max_psi(
        &self,
        table: &FeatureTable,
        rows: &[usize],
        elapsed: i32,
    ) -> Result<Option<(String, f64)>> {
        let mut worst: Option<(String, f64)> = None;
        for (f, bins) in self.features.iter().zip(&self.drift_reference) {
            let col = table.require(&f.name)?;
            let shift = if drift::ages(&f.spec) {
                elapsed as f64
            } else {
                0.0
            };
            let values: Vec<f64> = rows
                .iter()
                .map(|&i| {
                    f.transform
                        .apply(col.get(i).map_or(f.impute, |x| x - shift))
                })
                .collect();
            let psi = bins.psi(&values);
            if worst.as_ref().is_none_or(|(_, w)| psi > *w) {
                worst = Some((f.name.clone(), psi));
            }
        }
        Ok(worst)
    }

    /// P(churn) for the given rows of `table` (a block of rows at a time).
    pub fn predict(&self, table: &FeatureTable, rows: &[usize]) -> Result<Vec<f64>> {
        self.check_features(table)?;
        preprocess::predict_in_blocks(&self.model, &self.features, &[(table, rows)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_artifact_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = ModelArtifact::path(dir.path(), "m1");
        atomic_file::write_bytes(&path, br#"{"format_version": 1, "horizon_days": 90}"#).unwrap();
        let err = ModelArtifact::load(dir.path(), "m1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has format_version 1, this churnflow reads 3"),
            "{err}"
        );
        let err = ModelArtifact::load(dir.path(), "m2")
            .unwrap_err()
            .to_string();
        assert!(err.contains("named in the registry but"), "{err}");
    }
}
