//! `churnflow repair`: rebuilds a lost or unreadable manifest from the parts, or sets aside the
//! batches of damaged parts so that the next ingest reads their sources again.

use crate::cli::PipelineArgs;
use crate::cmd::{Out, load};
use crate::error::Result;
use crate::warehouse::{lock::WorkdirLock, repair};

/// Runs `repair`.
pub fn run(args: &PipelineArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    let r = repair::repair(&p.warehouse_dir())?;
    if let Some(b) = &r.broken_manifest {
        out.warn(format!(
            "the unreadable manifest was kept as {}",
            b.display()
        ));
    }
    if r.rebuilt {
        out.line(format!(
            "repair: manifest rebuilt from the parts: {} batches, {} parts",
            r.batches, r.parts
        ));
    } else {
        out.line(format!(
            "repair: {} batches, {} parts checked (size, rows, SHA-256)",
            r.batches, r.parts
        ));
    }
    for id in &r.dropped {
        out.warn(format!(
            "batch {id} had a damaged part: set aside under _damaged/{id}/; the next ingest \
             reads its source again"
        ));
    }
    if !r.orphaned.is_empty() {
        out.warn(format!(
            "{} file(s) no batch could vouch for were moved under {} (kept, not read)",
            r.orphaned.len(),
            p.warehouse_dir().join("_orphans").display()
        ));
    }
    Ok(())
}
