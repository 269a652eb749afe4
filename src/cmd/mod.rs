//! One file per subcommand: each loads what it needs, calls the library, and reports.

pub mod backtest;
pub mod cluster;
pub mod features;
pub mod generate;
pub mod ingest;
pub mod models;
pub mod repair;
pub mod retract;
pub mod run;
pub mod score;
pub mod train;
pub mod validate;

use std::path::Path;

pub use crate::app::out::{LogFormat, Out, StageEvent, print_line};

use crate::config::Pipeline;
use crate::error::Result;

/// Loads a pipeline file.
pub fn load(path: &Path) -> Result<Pipeline> {
    Pipeline::load(path)
}

pub use crate::app::engine;
