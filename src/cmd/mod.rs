//! One file per subcommand: each loads what it needs, calls the library, and reports.

pub mod backtest;
pub mod features;
pub mod generate;
pub mod ingest;
pub mod models;
pub mod run;
pub mod score;
pub mod train;
pub mod validate;

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
    /// Prints one line to stdout unless `--quiet`.
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.quiet {
            print_line(text.as_ref());
        }
    }
}

/// Prints one line to stdout. A closed pipe (`churnflow ... | head`) ends the process quietly
/// with success: the reader has what it wanted.
pub fn print_line(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{text}").and_then(|_| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(1);
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
