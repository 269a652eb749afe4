//! The BTYD features (`[[features]] builtin = "bgnbd"` or `"mbgnbd"`): at each as-of day the
//! model is fitted on every customer's repeat-purchase summary up to that day (asked of the
//! engine, counted by distinct summary, so only a small table crosses from a cluster), and
//! each customer's P(alive), P(no purchase in the horizon) as a logit and expected purchases
//! in the horizon come from the fit and the customer's own summary columns.
//!
//! The rules kept: point in time (the fit and the summaries use purchases on or before the day
//! only, so rows added after it change nothing); every customer with a purchase is in the fit,
//! active or not (the long-lapsed ones are where dropout is learnt), whichever rows the table
//! keeps; a fit that fails stops the features with its reason, never a column of guesses.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::btyd::{self, Fit, Kind, Summary, Weighted};
use crate::domain::feature::{BtydOutput, FeatureSpec, SUMMARY_SPECS};
use crate::domain::table::FeatureTable;
use crate::engine::Backend;
use crate::error::{Error, Result};
use crate::util::dates::format_day;

/// A logit is kept inside ±this: P(no purchase) within 1e-15 of 0 or 1 says nothing more.
const LOGIT_BOUND: f64 = 35.0;

/// `table` (the engine's columns for `specs`, see `domain::feature::engine_specs`) with the
/// BTYD outputs among `specs` added, in the order of `specs`, and the fits (one per model asked)
/// in its `btyd`.
pub fn add(
    engine: &mut dyn Backend,
    mut table: FeatureTable,
    specs: &[FeatureSpec],
) -> Result<FeatureTable> {
    let mut models: Vec<Kind> = Vec::new();
    for s in specs {
        if let FeatureSpec::Btyd { model, .. } = s
            && !models.contains(model)
        {
            models.push(*model);
        }
    }
    let day = format_day(table.as_of);
    let asked = std::time::Instant::now();
    let rows = engine.purchase_summaries(table.as_of)?;
    let asked = asked.elapsed().as_secs_f64();
    let fits = models
        .iter()
        .map(|&kind| {
            let started = std::time::Instant::now();
            let fit = btyd::fit(kind, &rows).map_err(|e| {
                Error::Data(format!(
                    "features as of {day}: {e}; the {name} features cannot be computed (take \
                     `builtin = \"{name}\"` out of [[features]] to run without them)",
                    name = kind.name()
                ))
            })?;
            let p = fit.params;
            tracing::info!(
                "{} as of {day}: r = {:.6}, alpha = {:.6}, a = {:.6}, b = {:.6} on {} \
                 customers ({} distinct summaries, counted in {asked:.3} s), log-likelihood \
                 {:.3}, fitted in {:.3} s ({} iterations)",
                kind.name(),
                p.r,
                p.alpha,
                p.a,
                p.b,
                fit.customers,
                fit.distinct,
                fit.log_likelihood,
                started.elapsed().as_secs_f64(),
                fit.iterations
            );
            Ok(fit)
        })
        .collect::<Result<Vec<Fit>>>()?;
    let summaries = customer_summaries(&table)?;
    for spec in specs {
        if let FeatureSpec::Btyd {
            model,
            output,
            horizon_days,
        } = *spec
        {
            let fit = fits.iter().find(|f| f.kind == model).expect("fitted above");
            let values = column(fit, output, f64::from(horizon_days), &rows, &summaries)?;
            table.names.push(spec.name());
            table.values.push(values);
        }
    }
    table.btyd = fits;
    table.reorder(specs)
}

/// Each row's summary from the table's summary columns (`None` without a purchase).
fn customer_summaries(table: &FeatureTable) -> Result<Vec<Option<Summary>>> {
    let [x, t_x, t] = SUMMARY_SPECS.map(|s| table.require(&s.name()));
    let (x, t_x, t) = (x?, t_x?, t?);
    Ok((0..table.len())
        .map(|i| {
            Some(Summary {
                x: x.get(i)?,
                t_x: t_x.get(i)?,
                t: t.get(i)?,
            })
        })
        .collect())
}

/// What `fit` says for `output` over `h` days, per row: computed once per distinct summary of
/// the fitted `rows` (every row's summary is one of them), then looked up.
fn column(
    fit: &Fit,
    output: BtydOutput,
    h: f64,
    rows: &[Weighted],
    summaries: &[Option<Summary>],
) -> Result<Vec<f64>> {
    let key = |s: &Summary| (s.x.to_bits(), s.t_x.to_bits(), s.t.to_bits());
    let value = |s: &Summary| -> Result<f64> {
        let p = &fit.params;
        Ok(match output {
            BtydOutput::PAlive => btyd::p_alive(fit.kind, p, s),
            BtydOutput::NoPurchaseLogit => {
                let (none, some) = btyd::p_no_purchase(fit.kind, p, s, h);
                (none.ln() - some.ln()).clamp(-LOGIT_BOUND, LOGIT_BOUND)
            }
            BtydOutput::ExpectedPurchases => btyd::expected_purchases(fit.kind, p, s, h)
                .ok_or_else(|| {
                    Error::Data(format!(
                        "{}: the expected purchases of summary {s:?} over {h} days do not \
                         converge (the horizon is far beyond the fitted alpha = {})",
                        fit.kind.name(),
                        p.alpha
                    ))
                })?,
        })
    };
    let by_summary: HashMap<_, f64> = rows
        .par_iter()
        .map(|w| Ok((key(&w.summary), value(&w.summary)?)))
        .collect::<Result<_>>()?;
    summaries
        .par_iter()
        .map(|s| match s {
            None => Ok(f64::NAN),
            Some(s) => match by_summary.get(&key(s)) {
                Some(v) => Ok(*v),
                None => value(s),
            },
        })
        .collect()
}
