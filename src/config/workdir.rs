//! Every path under a pipeline's `workdir` (and its `models_dir`), in one place, so the file
//! contracts of `docs/ARCHITECTURE.md` are written down once.

use std::path::PathBuf;

use super::Pipeline;
use crate::util::dates::Day;

impl Pipeline {
    /// The Parquet warehouse root.
    pub fn warehouse_dir(&self) -> PathBuf {
        self.workdir.join("warehouse")
    }

    /// Where DataFusion and Ballista write query results for the driver to read (on a cluster,
    /// a folder every executor can write, like the warehouse).
    pub fn engine_scratch_dir(&self) -> PathBuf {
        self.workdir.join("engine")
    }

    /// Where features as of `as_of` are written.
    pub fn features_file(&self, as_of: Day) -> PathBuf {
        self.workdir
            .join("features")
            .join(format!("as_of={as_of}"))
            .join("features.parquet")
    }

    /// Every night's outputs, and `latest.json`.
    pub fn outputs_root(&self) -> PathBuf {
        self.workdir.join("outputs")
    }

    /// Where lists as of `as_of` are written.
    pub fn outputs_dir(&self, as_of: Day) -> PathBuf {
        self.outputs_root().join(format!("as_of={as_of}"))
    }

    /// The list state of each night (`as_of=DAY.json`).
    pub fn list_state_dir(&self) -> PathBuf {
        self.workdir.join("state").join("lists")
    }

    /// The SHA-256 of each export file, remembered by its stamp (`ingest::source_hash`).
    pub fn source_hashes_file(&self) -> PathBuf {
        self.workdir.join("state").join("source_hashes.json")
    }

    /// The history engine's state between nights (`history.bin`).
    pub fn history_state_dir(&self) -> PathBuf {
        self.workdir.join("state").join("history")
    }

    /// The backtest's table.
    pub fn backtest_file(&self) -> PathBuf {
        self.workdir.join("backtest").join("backtest.csv")
    }

    /// Where run manifests are written.
    pub fn runs_dir(&self) -> PathBuf {
        self.workdir.join("runs")
    }
}
