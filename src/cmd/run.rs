//! `churnflow run`: the nightly job (`app::night`); `--dry-run` says what it would do.

use crate::app::night::{self, NightOptions};
use crate::cli::RunArgs;
use crate::cmd::{Out, load};
use crate::error::Result;
use crate::model::policy::Override;

/// Runs `run`.
pub fn run(args: &RunArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let o = NightOptions {
        as_of: args.as_of,
        retraining: match (args.retrain, args.no_retrain) {
            (true, _) => Override::Retrain,
            (_, true) => Override::NoRetrain,
            _ => Override::Policy,
        },
    };
    if args.dry_run {
        night::dry_run(&p, &o, out)
    } else {
        night::run(&p, &o, out)
    }
}
