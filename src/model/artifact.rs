//! `models/<model_id>/model.json`: everything needed to score and to defend a model, in plain JSON.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::atomic_file;
use crate::error::{Error, Result};
use crate::features::FeatureTable;
use crate::model::fit::LinearModel;
use crate::model::metrics::{CalibrationBin, Metrics};
use crate::model::preprocess::{self, FeatureScaling};

/// Version of the artifact layout.
pub const FORMAT_VERSION: u32 = 1;

/// How the churn label was defined.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec {
    pub kind: String,
    pub horizon_days: i32,
    pub active_within_days: i32,
}

/// Evaluation evidence stored with the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelMetrics {
    /// Model fitted on the training cutoffs only, scored on the validation cutoff (out of time).
    pub validation: Metrics,
    /// Recency alone (higher = more likely to churn) on the same snapshot.
    pub validation_recency_baseline: Metrics,
    /// The final model on all labelled snapshots it was fitted on (in-sample).
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
    pub label: LabelSpec,
    /// Features in model order with their preprocessing.
    pub features: Vec<FeatureScaling>,
    pub model: LinearModel,
    pub alpha: f64,
    pub max_iterations: u64,
    pub training_cutoffs: Vec<String>,
    pub validation_cutoff: String,
    pub data_fingerprint: String,
    pub metrics: ModelMetrics,
    /// Reliability by decile of predicted probability on the validation snapshot.
    pub calibration: Vec<CalibrationBin>,
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
        let a: ModelArtifact = atomic_file::read_json(&path)?;
        if a.format_version != FORMAT_VERSION {
            return Err(Error::Artifact(format!(
                "{} has format_version {}, this churnflow reads {FORMAT_VERSION}",
                path.display(),
                a.format_version
            )));
        }
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

    /// P(churn) for the given rows of `table`.
    pub fn predict(&self, table: &FeatureTable, rows: &[usize]) -> Result<Vec<f64>> {
        Ok(self.model.predict(&self.design(table, rows)?))
    }
}
