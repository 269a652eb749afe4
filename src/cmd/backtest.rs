//! `churnflow backtest`: rolling-origin evaluation across all labelable cutoffs.

use crate::cli::PipelineArgs;
use crate::cmd::{Out, engine, load};
use crate::error::{Error, Result};
use crate::model::backtest;
use crate::warehouse::lock::WorkdirLock;

/// Runs `backtest`.
pub fn run(args: &PipelineArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    let mut engine = engine(&p)?;
    let rows = backtest::backtest(&p, engine.as_mut())?;
    if rows.is_empty() {
        return Err(Error::Data(
            "no cutoff has enough history before it for a backtest (each needs a validation and a \
             training snapshot whose label windows finished before it)"
                .into(),
        ));
    }
    let path = p.backtest_file();
    crate::util::atomic_file::write_csv(&path, &mut backtest::to_frame(&rows)?, false)?;
    out.line(backtest::render(&rows).trim_end());
    let beaten = rows
        .iter()
        .filter(|r| r.model.roc_auc > r.recency.roc_auc)
        .count();
    out.line(format!(
        "model beats recency alone (ROC AUC) at {beaten} of {} cutoffs; table written to {}",
        rows.len(),
        path.display()
    ));
    Ok(())
}
