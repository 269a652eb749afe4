//! The default engine's in-memory history: every transaction's day and amount (and quantity when
//! a feature needs it), grouped by customer and sorted by day. Features at a cutoff and the facts
//! behind its labels are then one pass over memory each, where the SQL text costs one scan and
//! group-by of the warehouse per cutoff (bench/RESULTS.md: that was most of `train`).
//!
//! The numbers are the same as the portable SQL's (`features::sql`); `tests/it/native.rs` checks
//! the two against each other on random histories.

use std::collections::HashMap;
use std::hash::BuildHasher;

use polars::prelude::*;
use rayon::prelude::*;

use crate::domain::feature::{Agg, FeatureSpec, Measure};
use crate::domain::table::{CustomerId, FeatureTable, stored};
use crate::error::{EngineContext, Error, Result};

/// Customers in blocks of this many for parallel work: large enough that scheduling is noise.
const BLOCK: usize = 4096;

/// Shards of the customer-id maps of the history's first pass (bits and count).
const ID_SHARD_BITS: u32 = 6;
const ID_SHARDS: usize = 1 << ID_SHARD_BITS;

/// Transactions grouped by customer (customers in byte order of their id), each customer's
/// rows sorted by day.
#[derive(Debug)]
pub struct History {
    ids: Vec<CustomerId>,
    /// Customer `c`'s rows are `starts[c]..starts[c + 1]`.
    starts: Vec<usize>,
    days: Vec<i32>,
    amounts: Vec<f64>,
    /// NaN where the quantity is null; `None` when not loaded.
    quantities: Option<Vec<f64>>,
}

/// A lapsed customer (see [`History::lapsed`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lapsed {
    pub customer: usize,
    pub last_day: i32,
    pub value: f64,
    pub orders: f64,
}

/// What happened around a cutoff for one customer (see `label::render_outcomes`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutcomeFacts {
    /// First purchase day after the cutoff, within the label and value windows.
    pub next_purchase_day: Option<i32>,
    /// Net amount in (c, c + value_horizon].
    pub next_value: f64,
    /// Net amount in (c - value_horizon, c].
    pub previous_value: f64,
}

impl History {
    /// Reads `sources` (frames with `customer_id`, `day`, `amount` and, if `with_quantity`,
    /// `quantity`) in two passes: customer ids first, to size and place every row, then the
    /// numbers, written straight to their place. Only one source is in memory at a time.
    pub fn build(sources: &[LazyFrame], with_quantity: bool) -> Result<History> {
        // Pass 1: every row's customer, as a provisional number (shard in the top bits, the
        // shard's own count below). Ids are spread over shards by hash and each shard's map is
        // filled in parallel: hashing 10^8 id strings into one map took about 15 s.
        let mut shards: Vec<HashMap<Box<str>, u32, foldhash::fast::FixedState>> = (0..ID_SHARDS)
            .map(|_| HashMap::with_hasher(foldhash::fast::FixedState::with_seed(1)))
            .collect();
        let spread = foldhash::fast::FixedState::with_seed(2);
        let mut row_customer: Vec<u32> = Vec::new();
        let mut source_rows = Vec::with_capacity(sources.len());
        for (s, lf) in sources.iter().enumerate() {
            let df = lf
                .clone()
                .select([col("customer_id").cast(DataType::String)])
                .collect()
                .engine(|| format!("reading customer ids of warehouse part {}", s + 1))?;
            let ca = df
                .column("customer_id")
                .and_then(|c| c.str().cloned())
                .engine(|| "reading customer ids".into())?
                .rechunk()
                .into_owned();
            if ca.null_count() > 0 {
                return Err(Error::Data(
                    "a warehouse row has no customer_id (the warehouse is damaged)".into(),
                ));
            }
            source_rows.push(ca.len());
            let Some(ids) = ca.downcast_iter().next() else {
                continue;
            };
            let shard_of: Vec<u8> = (0..ids.len())
                .into_par_iter()
                .map(|i| (spread.hash_one(ids.value(i)) >> (64 - ID_SHARD_BITS)) as u8)
                .collect();
            let mut rows_of: Vec<Vec<u32>> = vec![Vec::new(); ID_SHARDS];
            for (i, &sh) in shard_of.iter().enumerate() {
                rows_of[sh as usize].push(i as u32);
            }
            let numbers: Vec<Vec<u32>> = shards
                .par_iter_mut()
                .zip(&rows_of)
                .map(|(map, rows)| {
                    rows.iter()
                        .map(|&i| {
                            let id = ids.value(i as usize);
                            match map.get(id) {
                                Some(&c) => c,
                                None => {
                                    let next = map.len() as u32;
                                    map.insert(id.into(), next);
                                    next
                                }
                            }
                        })
                        .collect()
                })
                .collect();
            if shards.iter().any(|m| m.len() >= 1 << (32 - ID_SHARD_BITS)) {
                return Err(Error::Data(format!(
                    "more than {} customers: too many for the in-memory history",
                    (ID_SHARDS as u64) << (32 - ID_SHARD_BITS)
                )));
            }
            let base = row_customer.len();
            row_customer.resize(base + ids.len(), 0);
            for (sh, (rows, nums)) in rows_of.iter().zip(&numbers).enumerate() {
                for (&i, &c) in rows.iter().zip(nums) {
                    row_customer[base + i as usize] = ((sh as u32) << (32 - ID_SHARD_BITS)) | c;
                }
            }
        }

        // Every id by its provisional number (shard's first index + its number in the shard).
        let mut first_of_shard = Vec::with_capacity(ID_SHARDS);
        let mut n = 0usize;
        for m in &shards {
            first_of_shard.push(n as u32);
            n += m.len();
        }
        let mut names: Vec<Box<str>> = vec![Box::default(); n];
        for (sh, map) in shards.into_iter().enumerate() {
            for (id, c) in map {
                names[(first_of_shard[sh] + c) as usize] = id;
            }
        }
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.par_sort_unstable_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
        let mut rank = vec![0u32; n];
        for (r, &c) in order.iter().enumerate() {
            rank[c as usize] = r as u32;
        }
        let ids: Vec<CustomerId> = order
            .iter()
            .map(|&c| CustomerId::from(std::mem::take(&mut names[c as usize])))
            .collect();
        drop(names);

        let mut counts = vec![0usize; n];
        let local = (1u32 << (32 - ID_SHARD_BITS)) - 1;
        for c in row_customer.iter_mut() {
            let provisional = first_of_shard[(*c >> (32 - ID_SHARD_BITS)) as usize] + (*c & local);
            *c = rank[provisional as usize];
            counts[*c as usize] += 1;
        }
        drop(rank);
        let mut starts = Vec::with_capacity(n + 1);
        let mut total = 0;
        starts.push(0);
        for k in counts {
            total += k;
            starts.push(total);
        }

        let mut cursor: Vec<usize> = starts[..n].to_vec();
        let mut days = vec![0i32; total];
        let mut amounts = vec![0f64; total];
        let mut quantities = with_quantity.then(|| vec![f64::NAN; total]);
        let mut g = 0;
        for (s, lf) in sources.iter().enumerate() {
            let mut cols = vec![
                col("day").cast(DataType::Int32),
                col("amount").cast(DataType::Float64),
            ];
            if with_quantity {
                cols.push(col("quantity").cast(DataType::Float64));
            }
            let df = lf
                .clone()
                .select(cols)
                .collect()
                .engine(|| format!("reading warehouse part {}", s + 1))?;
            if df.height() != source_rows[s] {
                return Err(Error::Data(format!(
                    "warehouse part {} changed while it was read ({} rows, then {})",
                    s + 1,
                    source_rows[s],
                    df.height()
                )));
            }
            let day = no_null::<Int32Type>(&df, "day")?;
            let amount = no_null::<Float64Type>(&df, "amount")?;
            let quantity = match quantities {
                Some(_) => Some(
                    df.column("quantity")
                        .and_then(|c| c.f64().cloned())
                        .engine(|| "reading quantity".into())?,
                ),
                None => None,
            };
            for (i, (d, a)) in day.into_iter().zip(amount).enumerate() {
                let c = row_customer[g + i] as usize;
                let p = cursor[c];
                cursor[c] += 1;
                days[p] = d;
                amounts[p] = a;
                if let (Some(q), Some(qs)) = (&quantity, quantities.as_mut()) {
                    qs[p] = q.get(i).unwrap_or(f64::NAN);
                }
            }
            g += source_rows[s];
        }
        drop(row_customer);

        let mut h = History {
            ids,
            starts,
            days,
            amounts,
            quantities,
        };
        h.sort_each_customer_by_day();
        Ok(h)
    }

    /// Sorts every customer's rows by day (stable: rows of a day keep their warehouse order).
    fn sort_each_customer_by_day(&mut self) {
        let starts = &self.starts;
        let n = self.ids.len();
        let bounds: Vec<usize> = (0..n).step_by(BLOCK).chain([n]).collect();
        let row_bounds: Vec<usize> = bounds.iter().map(|&c| starts[c]).collect();
        let days = split_at_bounds(&mut self.days, &row_bounds);
        let amounts = split_at_bounds(&mut self.amounts, &row_bounds);
        let quantities: Vec<Option<&mut [f64]>> = match self.quantities.as_mut() {
            Some(q) => split_at_bounds(q, &row_bounds)
                .into_iter()
                .map(Some)
                .collect(),
            None => (0..days.len()).map(|_| None).collect(),
        };
        days.into_par_iter()
            .zip(amounts)
            .zip(quantities)
            .enumerate()
            .for_each(|(b, ((d, a), mut q))| {
                let base = row_bounds[b];
                let mut rows: Vec<(i32, f64, f64)> = Vec::new();
                for c in bounds[b]..bounds[b + 1] {
                    let r = starts[c] - base..starts[c + 1] - base;
                    if d[r.clone()].is_sorted() {
                        continue;
                    }
                    rows.clear();
                    rows.extend(
                        r.clone()
                            .map(|i| (d[i], a[i], q.as_ref().map_or(f64::NAN, |q| q[i]))),
                    );
                    rows.sort_by_key(|row| row.0);
                    for (i, row) in r.zip(&rows) {
                        d[i] = row.0;
                        a[i] = row.1;
                        if let Some(q) = q.as_mut() {
                            q[i] = row.2;
                        }
                    }
                }
            });
    }

    /// True when quantities were loaded.
    pub fn has_quantity(&self) -> bool {
        self.quantities.is_some()
    }

    /// Number of customers.
    pub fn customers(&self) -> usize {
        self.ids.len()
    }

    /// First and last transaction day, or `None` for an empty history.
    pub fn day_range(&self) -> Option<(i32, i32)> {
        let per_customer = |c: usize| {
            let d = &self.days[self.starts[c]..self.starts[c + 1]];
            (d[0], d[d.len() - 1])
        };
        (0..self.ids.len())
            .into_par_iter()
            .map(per_customer)
            .reduce_with(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    }

    /// Positions of `ids`: a galloping search forward from the last one while they come in id
    /// order (as feature tables list them; a few comparisons each), from the start otherwise.
    pub fn positions<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Vec<Option<usize>> {
        let mut at = 0;
        let mut prev: Option<&str> = None;
        ids.map(|id| {
            if prev.is_some_and(|p| p > id) {
                at = 0;
            }
            prev = Some(id);
            let mut step = 1;
            while at + step < self.ids.len() && &*self.ids[at + step] < id {
                step *= 2;
            }
            let lo = at + step / 2;
            let hi = (at + step + 1).min(self.ids.len());
            at = lo + self.ids[lo..hi].partition_point(|x| &**x < id);
            (self.ids.get(at).map(|x| &**x) == Some(id)).then_some(at)
        })
        .collect()
    }

    fn rows(&self, c: usize) -> Rows<'_> {
        let r = self.starts[c]..self.starts[c + 1];
        Rows {
            days: &self.days[r.clone()],
            amounts: &self.amounts[r.clone()],
            quantities: self.quantities.as_ref().map(|q| &q[r]),
        }
    }

    /// Transaction features (no side-table ones) as of `as_of`, for every customer with a row on
    /// or before it, in customer-id order like the SQL's `ORDER BY customer_id`.
    pub fn features(&self, specs: &[FeatureSpec], as_of: i32) -> Result<FeatureTable> {
        self.features_where(specs, as_of, None)
    }

    /// Like [`History::features`], keeping only customers whose `recency_days` (one of
    /// `specs`) is at most `active_within` days when that is given: the active population a
    /// model is trained and scored on, without building rows for everyone else first.
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
        let n = self.ids.len();
        // Who has history up to `as_of`, block by block: the table is sized before it is
        // filled, so the values are written once, in place (collecting per-block columns and
        // concatenating them briefly held every value twice: 1 GB at 10^8 transactions).
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
        Ok(FeatureTable {
            as_of,
            customer_ids,
            names: specs.iter().map(|s| s.name()).collect(),
            values,
        })
    }

    /// The id of customer `c`.
    pub fn id(&self, c: usize) -> &str {
        &self.ids[c]
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

/// The values of a column the warehouse never leaves empty.
fn no_null<T: PolarsNumericType>(df: &DataFrame, name: &str) -> Result<Vec<T::Native>> {
    let ca: &ChunkedArray<T> = df
        .column(name)
        .and_then(|c| c.as_materialized_series().unpack::<T>())
        .engine(|| format!("reading {name}"))?;
    if ca.null_count() > 0 {
        return Err(Error::Data(format!(
            "the warehouse has rows without {name} (it is damaged)"
        )));
    }
    Ok(ca.into_no_null_iter().collect())
}

/// Splits `v` into the pieces between consecutive `bounds` (which start at 0 and end at its
/// length).
fn split_at_bounds<'a, T>(mut v: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(bounds.len().saturating_sub(1));
    for w in bounds.windows(2) {
        let (head, tail) = std::mem::take(&mut v).split_at_mut(w[1] - w[0]);
        out.push(head);
        v = tail;
    }
    out
}

/// One customer's rows, sorted by day.
struct Rows<'a> {
    days: &'a [i32],
    amounts: &'a [f64],
    quantities: Option<&'a [f64]>,
}

/// Facts over a customer's whole history up to the as-of day.
struct PurchaseSummary {
    first: Option<i32>,
    last: Option<i32>,
    distinct_days: u32,
}

impl<'a> Rows<'a> {
    /// The rows on or before `day`.
    fn until(self, day: i32) -> Rows<'a> {
        let end = self.days.partition_point(|&x| x <= day);
        Rows {
            days: &self.days[..end],
            amounts: &self.amounts[..end],
            quantities: self.quantities.map(|q| &q[..end]),
        }
    }

    /// Rows with day in (after, until] as an index range.
    fn between(&self, after: i32, until: i32) -> std::ops::Range<usize> {
        self.days.partition_point(|&x| x <= after)..self.days.partition_point(|&x| x <= until)
    }

    fn purchase_summary(&self) -> PurchaseSummary {
        let mut s = PurchaseSummary {
            first: None,
            last: None,
            distinct_days: 0,
        };
        for (&d, &a) in self.days.iter().zip(self.amounts) {
            if a > 0.0 {
                if s.last != Some(d) {
                    s.distinct_days += 1;
                }
                s.first.get_or_insert(d);
                s.last = Some(d);
            }
        }
        s
    }

    /// Purchases in `r`: count, amount sum, largest amount, quantity sum (nulls as 0).
    fn purchases(&self, r: std::ops::Range<usize>) -> (f64, f64, Option<f64>, f64) {
        let (mut n, mut sum, mut max, mut qty) = (0.0, 0.0, None::<f64>, 0.0);
        for i in r {
            let a = self.amounts[i];
            if a > 0.0 {
                n += 1.0;
                sum += a;
                max = Some(max.map_or(a, |m| m.max(a)));
                if let Some(q) = self.quantities
                    && !q[i].is_nan()
                {
                    qty += q[i];
                }
            }
        }
        (n, sum, max, qty)
    }
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
    fn positions_in_order_out_of_order_and_missing() {
        let h = History {
            ids: ["a", "b", "c", "d", "e", "f", "g"]
                .map(CustomerId::from)
                .to_vec(),
            starts: vec![0; 8],
            days: vec![],
            amounts: vec![],
            quantities: None,
        };
        let got = h.positions(["a", "c", "cc", "g", "b", "zz", "0", "f"].into_iter());
        let want = [
            Some(0),
            Some(2),
            None,
            Some(6),
            Some(1),
            None,
            None,
            Some(5),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn split_at_bounds_gives_every_element_once() {
        let mut v: Vec<u32> = (0..10).collect();
        let parts = split_at_bounds(&mut v, &[0, 3, 3, 7, 10]);
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        assert_eq!(lens, [3, 0, 4, 3]);
        assert_eq!(parts[2], [3, 4, 5, 6]);
    }
}
