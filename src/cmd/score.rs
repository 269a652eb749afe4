//! `churnflow score`: scores and the at-risk list for one as-of day.

use crate::app;
use crate::cli::AsOfArgs;
use crate::cmd::{Out, engine, load};
use crate::error::Result;
use crate::report::latest;
use crate::warehouse::lock::WorkdirLock;

/// Runs `score`.
pub fn run(args: &AsOfArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    let mut engine = engine(&p)?;
    let outcome = app::score_night(&p, engine.as_mut(), args.as_of, &mut Default::default())?;
    app::tell_scored(&p, &outcome, out);
    latest::record(&p.outputs_root(), &latest::Latest::of(&outcome, None))?;
    Ok(())
}
