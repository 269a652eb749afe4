//! The in-memory history: every transaction's day and amount (and quantity when a feature
//! needs it), grouped by customer and sorted by day, built from the warehouse's parts in two
//! passes. The kernels that read it are in `kernels.rs`.

use std::collections::HashMap;
use std::hash::BuildHasher;

use polars::prelude::*;
use rayon::prelude::*;

use crate::domain::table::CustomerId;
use crate::error::{EngineContext, Error, Result};

use super::rows::{BLOCK, Rows, split_at_bounds};

/// Shards of the customer-id maps of the history's first pass (bits and count).
const ID_SHARD_BITS: u32 = 6;
const ID_SHARDS: usize = 1 << ID_SHARD_BITS;

/// Transactions grouped by customer (customers in byte order of their id), each customer's
/// rows sorted by day.
#[derive(Debug)]
pub struct History {
    pub(super) ids: Vec<CustomerId>,
    /// Customer `c`'s rows are `starts[c]..starts[c + 1]`.
    pub(super) starts: Vec<usize>,
    pub(super) days: Vec<i32>,
    pub(super) amounts: Vec<f64>,
    /// NaN where the quantity is null; `None` when not loaded.
    pub(super) quantities: Option<Vec<f64>>,
}

impl History {
    /// Reads `sources` (frames with `customer_id`, `day`, `amount` and, if `with_quantity`,
    /// `quantity`) in two passes: customer ids first, to size and place every row, then the
    /// numbers, written straight to their place. Only one source is in memory at a time.
    ///
    /// Long by design: the two passes share their shard maps and row placement, and splitting
    /// them would hand large vectors between functions on the hot path of every night.
    pub fn build(sources: &[LazyFrame], with_quantity: bool) -> Result<History> {
        // Pass 1: every row's customer, as a provisional number (shard in the top bits, the
        // shard's own count below). Ids are spread over shards by hash and each shard's map is
        // filled in parallel, so no single map takes every id string in turn.
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

    pub(super) fn rows(&self, c: usize) -> Rows<'_> {
        let r = self.starts[c]..self.starts[c + 1];
        Rows {
            days: &self.days[r.clone()],
            amounts: &self.amounts[r.clone()],
            quantities: self.quantities.as_ref().map(|q| &q[r]),
        }
    }

    /// The id of customer `c`.
    pub fn id(&self, c: usize) -> &str {
        &self.ids[c]
    }
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
}
