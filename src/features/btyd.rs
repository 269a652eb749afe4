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

/// What `fit` says for `output` over `h` days, per row. The closed forms are computed per row
/// (cheaper than hashing the summary); the hypergeometric term of the expected purchases,
/// the one costly part, once per distinct (x, T) of the fitted `rows` (tens of thousands where
/// there are a million customers: x and T are whole days) and looked up.
fn column(
    fit: &Fit,
    output: BtydOutput,
    h: f64,
    rows: &[Weighted],
    summaries: &[Option<Summary>],
) -> Result<Vec<f64>> {
    let (kind, p) = (fit.kind, &fit.params);
    let diverges = |s: &Summary| {
        Error::Data(format!(
            "{}: the expected purchases of summary {s:?} over {h} days do not converge (the \
             horizon is far beyond the fitted alpha = {})",
            kind.name(),
            p.alpha
        ))
    };
    let key = |s: &Summary| (s.x.to_bits(), s.t.to_bits());
    let hyp2f1: HashMap<(u64, u64), f64> = match output {
        BtydOutput::ExpectedPurchases => {
            let mut pairs: Vec<&Summary> = rows.iter().map(|w| &w.summary).collect();
            pairs.sort_by_key(|s| key(s));
            pairs.dedup_by_key(|s| key(s));
            pairs
                .par_iter()
                .filter_map(|s| Some((key(s), btyd::expectation_hyp2f1(kind, p, s.x, s.t, h)?)))
                .collect()
        }
        _ => HashMap::new(),
    };
    let value = |s: &Summary| -> Result<f64> {
        Ok(match output {
            BtydOutput::PAlive => btyd::p_alive(kind, p, s),
            BtydOutput::NoPurchaseLogit => {
                let (none, some) = btyd::p_no_purchase(kind, p, s, h);
                (none.ln() - some.ln()).clamp(-LOGIT_BOUND, LOGIT_BOUND)
            }
            BtydOutput::ExpectedPurchases => {
                let f = match hyp2f1.get(&key(s)) {
                    Some(f) => Some(*f),
                    None => btyd::expectation_hyp2f1(kind, p, s.x, s.t, h),
                };
                f.and_then(|f| btyd::expected_purchases_given(kind, p, s, h, f))
                    .ok_or_else(|| diverges(s))?
            }
        })
    };
    summaries
        .par_iter()
        .map(|s| s.as_ref().map_or(Ok(f64::NAN), value))
        .collect()
}
