//! `churnflow features`: features as of a date, or the SQL behind them.

use crate::cli::FeaturesArgs;
use crate::cmd::{Out, engine, load, print_line};
use crate::error::Result;
use crate::features::{self, spec};
use crate::util::dates::format_day;
use crate::warehouse::lock::WorkdirLock;

/// Runs `features`.
pub fn run(args: &FeaturesArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let specs = spec::with_required(&p.features);
    if args.explain {
        print_line(&features::sql::render(
            &specs,
            args.as_of,
            &p.complaint_kinds,
        ));
        let btyd: Vec<String> = specs
            .iter()
            .filter(|s| s.is_btyd())
            .map(|s| s.name())
            .collect();
        if !btyd.is_empty() {
            // Not SQL columns: fitted per as-of day on the summaries this query counts.
            print_line(&format!(
                "-- {}: computed per customer from repeat_purchase_days, purchase_span_days and\n\
                 -- purchase_age_days above, with BG/NBD (or MBG/NBD) fitted by maximum likelihood\n\
                 -- on every customer's summary as of the day, counted by this query:\n{}",
                btyd.join(", "),
                crate::engine::sql::summaries::render(args.as_of)
            ));
        }
        return Ok(());
    }
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    let mut engine = engine(&p)?;
    crate::engine::night(engine.as_mut(), Some(args.as_of))?;
    let table = features::compute_for(&p, engine.as_mut(), args.as_of)?;
    let path = p.features_file(crate::util::dates::Day::new(args.as_of));
    features::write(&table, &path)?;
    out.line(format!(
        "features: {} customers x {} features as of {} -> {}",
        table.len(),
        table.names.len(),
        format_day(args.as_of),
        path.display()
    ));
    Ok(())
}
