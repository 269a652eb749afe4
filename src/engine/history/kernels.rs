//! The history's kernels: features at a cutoff, the facts behind labels, and lapsed accounts,
//! each one pass over memory, in parallel over blocks of customers. The numbers are the same as
//! the portable SQL's (`engine::sql`); `tests/it/properties.rs` checks the two `Backend`s
//! against each other on random histories.

use rayon::prelude::*;

use crate::btyd::{Summary, Weighted, compress, merge};
use crate::domain::facts::OutcomeFacts;
use crate::domain::feature::{Agg, FeatureSpec, Measure};
use crate::domain::table::{FeatureTable, stored};
use crate::error::{Error, Result};

use super::build::History;
use super::rows::{BLOCK, PurchaseSummary, Rows, split_at_bounds};

/// A lapsed customer (see [`History::lapsed`]), by position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lapsed {
    pub customer: usize,
    pub last_day: i32,
    pub value: f64,
    pub orders: f64,
}

impl History {
    /// Transaction features (no side-table ones) as of `as_of`, for every customer with a row on
    /// or before it, in customer-id order like the SQL's `ORDER BY customer_id`; only customers
    /// whose `recency_days` (one of `specs`) is at most `active_within` days when that is given:
    /// the active population a model is trained and scored on, without building rows for
    /// everyone else first.
    pub fn features_where(
        &self,
        specs: &[FeatureSpec],
        as_of: i32,
        active_within: Option<i32>,
    ) -> Result<FeatureTable> {
        let active = match active_within {
            Some(days) => {
                let recency = specs
                    .iter()
                    .find(|s| s.name() == "recency_days")
                    .ok_or_else(|| {
                        Error::Data("the active population needs the feature recency_days".into())
                    })?;
                Some((recency, days))
            }
            None => None,
        };
        self.check_specs(specs)?;
        let n = self.ids.len();
        // Who has history up to `as_of`, block by block: the table is sized before it is
        // filled, so the values are written once, in place, and never held twice (as collecting
        // per-block columns and concatenating them would).
        let who: Vec<Vec<u32>> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                (b * BLOCK..((b + 1) * BLOCK).min(n))
                    .filter(|&c| {
                        let rows = self.rows(c).until(as_of);
                        if rows.days.is_empty() {
                            return false;
                        }
                        // As `FeatureTable::active_rows`: a missing recency is not active.
                        active.is_none_or(|(recency, days)| {
                            let r =
                                stored(feature(recency, &rows, &rows.purchase_summary(), as_of));
                            crate::domain::table::is_active(r, days)
                        })
                    })
                    .map(|c| c as u32)
                    .collect()
            })
            .collect();
        Ok(self.fill(specs, as_of, who))
    }

    /// Transaction features as of `as_of` for the customers at `positions` (ascending), in that
    /// order: what [`History::features_where`] gives for them, without computing anyone else.
    pub fn features_at(
        &self,
        specs: &[FeatureSpec],
        as_of: i32,
        positions: &[usize],
    ) -> Result<FeatureTable> {
        self.check_specs(specs)?;
        let who = positions
            .chunks(BLOCK)
            .map(|b| b.iter().map(|&c| c as u32).collect())
            .collect();
        Ok(self.fill(specs, as_of, who))
    }

    /// Errors for specs a history cannot compute.
    fn check_specs(&self, specs: &[FeatureSpec]) -> Result<()> {
        if let Some(s) = specs.iter().find(|s| s.side_table().is_some()) {
            return Err(Error::Data(format!(
                "feature {} comes from a side table, not from transactions",
                s.name()
            )));
        }
        if !self.has_quantity() && specs.iter().any(uses_quantity) {
            return Err(Error::Data(
                "a quantity feature was asked of a history built without quantities".into(),
            ));
        }
        Ok(())
    }

    /// The table of `specs` for the customers of `who` (blocks of positions, in order).
    fn fill(&self, specs: &[FeatureSpec], as_of: i32, who: Vec<Vec<u32>>) -> FeatureTable {
        let mut offsets = vec![0];
        for w in &who {
            offsets.push(offsets.last().copied().unwrap_or(0) + w.len());
        }
        let total = offsets.last().copied().unwrap_or(0);
        let mut values: Vec<Vec<f64>> = vec![vec![0.0; total]; specs.len()];
        let mut columns: Vec<_> = values
            .iter_mut()
            .map(|v| split_at_bounds(v, &offsets).into_iter())
            .collect();
        let slices: Vec<Vec<&mut [f64]>> = (0..who.len())
            .map(|_| {
                columns
                    .iter_mut()
                    .map(|c| c.next().expect("one slice per block"))
                    .collect()
            })
            .collect();
        who.par_iter().zip(slices).for_each(|(block, mut cols)| {
            for (k, &c) in block.iter().enumerate() {
                let rows = self.rows(c as usize).until(as_of);
                let summary = rows.purchase_summary();
                for (spec, col) in specs.iter().zip(cols.iter_mut()) {
                    col[k] = stored(feature(spec, &rows, &summary, as_of));
                }
            }
        });
        let customer_ids = who
            .iter()
            .flatten()
            .map(|&c| self.ids[c as usize].clone())
            .collect();
        FeatureTable {
            as_of,
            customer_ids,
            names: specs.iter().map(|s| s.name()).collect(),
            values,
            btyd: Vec::new(),
        }
    }

    /// Every customer's repeat-purchase summary as of `as_of` (customers without a purchase on
    /// or before it left out), counted by distinct summary, as the SQL's `summaries::render`.
    pub fn purchase_summaries(&self, as_of: i32) -> Vec<Weighted> {
        let n = self.ids.len();
        let blocks: Vec<Vec<Weighted>> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                compress((b * BLOCK..((b + 1) * BLOCK).min(n)).filter_map(|c| {
                    let s = self.rows(c).until(as_of).purchase_summary();
                    let (first, last) = (s.first?, s.last?);
                    Some(Summary {
                        x: f64::from(s.distinct_days - 1),
                        t_x: f64::from(last - first),
                        t: f64::from(as_of - first),
                    })
                }))
            })
            .collect();
        merge(blocks.into_iter().flatten())
    }

    /// Customers with history up to `as_of` whose last purchase is more than `lost_after_days`
    /// before it, with net value and purchases from the 365 days up to that purchase to `as_of`
    /// (as `segment::winback::render`).
    pub fn lapsed(&self, as_of: i32, lost_after_days: f64) -> Vec<Lapsed> {
        let n = self.ids.len();
        (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .flat_map_iter(|b| {
                (b * BLOCK..((b + 1) * BLOCK).min(n)).filter_map(move |c| {
                    let rows = self.rows(c).until(as_of);
                    let last = (0..rows.days.len())
                        .rev()
                        .find(|&i| rows.amounts[i] > 0.0)
                        .map(|i| rows.days[i])?;
                    if ((as_of - last) as f64) <= lost_after_days {
                        return None;
                    }
                    let r = rows.between(last - 365, as_of);
                    Some(Lapsed {
                        customer: c,
                        last_day: last,
                        value: rows.amounts[r.clone()].iter().sum(),
                        orders: rows.purchases(r).0,
                    })
                })
            })
            .collect()
    }

    /// The facts behind the labels at `cutoff` for customer `c` (an index from [`Self::positions`]): rows in
    /// (cutoff - value_horizon, cutoff + max(window, value_horizon)] only, like the SQL.
    pub fn outcome_facts(
        &self,
        c: usize,
        cutoff: i32,
        window: i32,
        value_horizon: i32,
    ) -> OutcomeFacts {
        let rows = self.rows(c);
        let d = rows.days;
        let lo = d.partition_point(|&x| x <= cutoff - value_horizon);
        let mid = d.partition_point(|&x| x <= cutoff);
        let next_end = d.partition_point(|&x| x <= cutoff + value_horizon);
        let end = d.partition_point(|&x| x <= cutoff + window.max(value_horizon));
        OutcomeFacts {
            next_purchase_day: (mid..end).find(|&i| rows.amounts[i] > 0.0).map(|i| d[i]),
            next_value: rows.amounts[mid..next_end].iter().sum(),
            previous_value: rows.amounts[lo..mid].iter().sum(),
        }
    }
}

fn uses_quantity(spec: &FeatureSpec) -> bool {
    matches!(
        spec,
        FeatureSpec::Window {
            measure: Measure::Quantity,
            ..
        }
    )
}

/// True when computing `specs` needs quantities.
pub fn needs_quantity(specs: &[FeatureSpec]) -> bool {
    specs.iter().any(uses_quantity)
}

/// One feature for one customer; `None` where the SQL gives NULL.
fn feature(spec: &FeatureSpec, rows: &Rows, s: &PurchaseSummary, as_of: i32) -> Option<f64> {
    let recency = s.last.map(|l| (as_of - l) as f64);
    let cycle = match (s.first, s.last) {
        (Some(f), Some(l)) if s.distinct_days > 1 => {
            Some((l - f) as f64 / (s.distinct_days - 1) as f64)
        }
        _ => None,
    };
    match *spec {
        FeatureSpec::RecencyDays => recency,
        FeatureSpec::TenureDays => Some((as_of - rows.days[0]) as f64),
        FeatureSpec::PurchaseCycleDays => cycle,
        FeatureSpec::OverdueRatio => Some(recency? / cycle?),
        FeatureSpec::RepeatPurchaseDays => {
            (s.distinct_days > 0).then(|| f64::from(s.distinct_days - 1))
        }
        FeatureSpec::PurchaseSpanDays => Some(f64::from(s.last? - s.first?)),
        FeatureSpec::PurchaseAgeDays => Some(f64::from(as_of - s.first?)),
        FeatureSpec::SinglePurchaseDay => match s.distinct_days {
            0 => None,
            1 => Some(1.0),
            _ => Some(0.0),
        },
        // Computed by `features::btyd` from the summary, never asked of an engine.
        FeatureSpec::Btyd { .. } => None,
        FeatureSpec::ArrearsOutstanding
        | FeatureSpec::ArrearsDaysOverdue
        | FeatureSpec::Complaints { .. } => None,
        FeatureSpec::Window {
            measure,
            agg,
            window_days: w,
        } => {
            let cur = rows.between(as_of - w, as_of);
            let (n, sum, max, qty) = rows.purchases(cur.clone());
            let previous = || rows.purchases(rows.between(as_of - 2 * w, as_of - w));
            Some(match (measure, agg) {
                (Measure::Orders, Agg::Trend) => (n + 1.0) / (previous().0 + 1.0),
                (Measure::Orders, _) => n,
                (Measure::Amount, Agg::Sum) => rows.amounts[cur].iter().sum(),
                (Measure::Amount, Agg::Mean) => {
                    if n > 0.0 {
                        sum / n
                    } else {
                        0.0
                    }
                }
                (Measure::Amount, Agg::Max) => max.unwrap_or(0.0),
                (Measure::Amount, _) => (sum + 1.0) / (previous().1 + 1.0),
                (Measure::Quantity, Agg::Trend) => (qty + 1.0) / (previous().3 + 1.0),
                (Measure::Quantity, _) => qty,
            })
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_at_bounds_gives_every_element_once() {
        let mut v: Vec<u32> = (0..10).collect();
        let parts = split_at_bounds(&mut v, &[0, 3, 3, 7, 10]);
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        assert_eq!(lens, [3, 0, 4, 3]);
        assert_eq!(parts[2], [3, 4, 5, 6]);
    }
}
