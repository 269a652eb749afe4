//! `churnflow generate`: seeded synthetic exports.

use crate::cli::GenerateArgs;
use crate::cmd::Out;
use crate::error::Result;
use crate::synth::{self, SynthConfig};
use crate::util::dates::from_day;

/// Runs `generate`.
pub fn run(args: &GenerateArgs, out: Out) -> Result<()> {
    let cfg = SynthConfig {
        customers: args.customers,
        start: from_day(args.start),
        days: args.days,
        seed: args.seed,
        bad_rows: args.bad_rows,
    };
    let s = synth::generate(&cfg, &args.out)?;
    out.line(format!(
        "wrote {} rows to {} and the truth for {} accounts ({} churned) to {}",
        s.rows,
        s.transactions.display(),
        args.customers,
        s.churners,
        s.truth.display()
    ));
    Ok(())
}
