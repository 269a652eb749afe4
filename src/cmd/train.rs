//! `churnflow train`: a new model, its evidence, and the promotion decision.

use crate::app::training::train_and_report;
use crate::cli::TrainArgs;
use crate::cmd::{Out, engine, load};
use crate::error::Result;
use crate::warehouse::lock::WorkdirLock;

/// Runs `train`.
pub fn run(args: &TrainArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    let mut engine = engine(&p)?;
    let as_of = crate::engine::night(engine.as_mut(), args.as_of)?;
    train_and_report(&p, engine.as_mut(), as_of, &mut Default::default(), out).map(|_| ())
}
