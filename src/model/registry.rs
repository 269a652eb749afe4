//! `models/registry.json`: which model is current, and every promotion or rejection with its
//! reason.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::util::atomic_file;

/// File name of the registry inside the models folder.
pub const REGISTRY_FILE: &str = "registry.json";

/// Outcome of the promotion gate.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Promoted,
    Rejected,
}

/// One entry of the history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegistryEvent {
    pub model_id: String,
    pub decision: Decision,
    pub reason: String,
    pub at: String,
}

/// The registry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    pub current: Option<String>,
    pub history: Vec<RegistryEvent>,
}

impl Registry {
    /// Loads the registry of `models_dir` (empty when none exists).
    pub fn load(models_dir: &Path) -> Result<Self> {
        let path = models_dir.join(REGISTRY_FILE);
        if !path.exists() {
            return Ok(Registry::default());
        }
        atomic_file::read_json(&path)
    }

    /// Replaces the registry atomically.
    pub fn save(&self, models_dir: &Path) -> Result<()> {
        atomic_file::write_json(&models_dir.join(REGISTRY_FILE), self)
    }

    /// Records a decision; a promotion makes the model current.
    pub fn record(&mut self, model_id: &str, decision: Decision, reason: String) {
        if decision == Decision::Promoted {
            self.current = Some(model_id.to_string());
        }
        self.history.push(RegistryEvent {
            model_id: model_id.to_string(),
            decision,
            reason,
            at: chrono::Utc::now().to_rfc3339(),
        });
    }
}
