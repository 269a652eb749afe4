//! Every path under a pipeline's `workdir` (and its `models_dir`), in one place, so the file
//! contracts of `docs/ARCHITECTURE.md` are written down once.

use std::path::PathBuf;

use super::Pipeline;

impl Pipeline {
    /// The Parquet warehouse root.
    pub fn warehouse_dir(&self) -> PathBuf {
        self.workdir.join("warehouse")
    }

    /// Where features as of `as_of` (YYYY-MM-DD) are written.
    pub fn features_file(&self, as_of: &str) -> PathBuf {
        self.workdir
            .join("features")
            .join(format!("as_of={as_of}"))
            .join("features.parquet")
    }

    /// Where lists as of `as_of` (YYYY-MM-DD) are written.
    pub fn outputs_dir(&self, as_of: &str) -> PathBuf {
        self.workdir.join("outputs").join(format!("as_of={as_of}"))
    }

    /// Where run manifests are written.
    pub fn runs_dir(&self) -> PathBuf {
        self.workdir.join("runs")
    }
}
