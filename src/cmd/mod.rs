//! One file per subcommand: each loads what it needs, calls the library, and reports.

pub mod features;
pub mod generate;
pub mod ingest;
pub mod run;
pub mod score;
pub mod train;

use std::path::Path;

use crate::config::Pipeline;
use crate::engine::PolarsEngine;
use crate::error::Result;

/// Prints progress unless `--quiet`.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub quiet: bool,
}

impl Out {
    /// Prints one line to stdout.
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.quiet {
            println!("{}", text.as_ref());
        }
    }
}

/// Loads a pipeline file.
pub fn load(path: &Path) -> Result<Pipeline> {
    Pipeline::load(path)
}

/// Opens the default engine over the pipeline's warehouse.
pub fn engine(p: &Pipeline) -> Result<PolarsEngine> {
    PolarsEngine::open(&p.warehouse_dir())
}
