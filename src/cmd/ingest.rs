//! `churnflow ingest`: export -> warehouse.

use crate::app::ingest_lines::print_reports;
use crate::cli::PipelineArgs;
use crate::cmd::{Out, load};
use crate::error::Result;
use crate::ingest;
use crate::warehouse::lock::WorkdirLock;

/// Runs `ingest`.
pub fn run(args: &PipelineArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    print_reports(&ingest::ingest_all(&p)?, &p.warehouse_dir(), out);
    Ok(())
}
