//! `churnflow retract`: takes one batch out of the warehouse in one commit.

use crate::cli::RetractArgs;
use crate::cmd::{Out, load};
use crate::error::Result;
use crate::warehouse::{lock::WorkdirLock, repair};

/// Runs `retract`.
pub fn run(args: &RetractArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    let r = repair::retract(&p.warehouse_dir(), &args.batch_id, true, "_retracted")?;
    out.line(format!(
        "retract: batch {} ({}) taken out: {} rows removed, {} rows of earlier deliveries put \
         back; its files were moved to {}. Its source is not ingested again; the next run \
         retrains if the model was trained on it",
        r.batch_id,
        r.source_path,
        r.rows_removed,
        r.rows_restored,
        r.moved_to.display()
    ));
    Ok(())
}
