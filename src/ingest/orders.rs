//! Order ids reused with other values, found across a whole file read in chunks. Each order id's
//! first row is remembered as a 64-bit hash of the id and a 32-bit hash of the row's mapped raw
//! values, so the cost is about 12 bytes per distinct order id (plus the table's slack) instead
//! of the file's text. 64 bits for ids because two different ids must not meet (at 10^8 ids a
//! 32-bit key would merge hundreds of pairs); 32 bits for rows because a reuse is missed only
//! if the two rows' hashes agree, about 1 in 4 x 10^9 per reused id. The table is
//! split into shards by id hash, looked up in parallel: every row of an id lands in the same
//! shard, in file order, so "earlier row" keeps its meaning.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use polars::prelude::*;
use rayon::prelude::*;

use crate::domain::input::Mapped;
use crate::error::{EngineContext, Result};

/// Name of the helper column [`OrderIds::mark`] fills.
pub const REUSED: &str = "__reused_order";

/// The first row of every order id seen so far.
pub struct OrderIds {
    order: String,
    columns: Vec<String>,
    /// Id hash (as two halves: a `(u64, u32)` entry would be padded to 16 bytes) -> row hash.
    first: Vec<Shard>,
    ids: foldhash::quality::FixedState,
    rows: foldhash::quality::FixedState,
}

impl OrderIds {
    /// Tracks the export column `order`; rows are compared on every mapped column.
    pub fn new(order: &str, mapped: &Mapped) -> Self {
        let mut columns: Vec<String> = mapped.iter().map(|(_, c)| (*c).clone()).collect();
        columns.sort();
        columns.dedup();
        OrderIds {
            order: order.to_string(),
            columns,
            first: (0..MIN_SHARDS).map(|_| new_shard()).collect(),
            ids: foldhash::quality::FixedState::with_seed(2),
            rows: foldhash::quality::FixedState::with_seed(3),
        }
    }

    /// Makes room for `n` distinct ids at once, so the table does not double (and briefly hold
    /// both sizes) while a large file is read. Before the first id, it also picks the number of
    /// shards so that each holds its share in a full-sized table: hash tables grow in powers of
    /// two, and 64 shards of 10^7 ids left 39% of the table empty.
    pub fn reserve(&mut self, n: usize) {
        if self.first.iter().all(HashMap::is_empty) {
            let shards = n.div_ceil(SHARD_CAPACITY).max(MIN_SHARDS);
            self.first.resize_with(shards, new_shard);
        }
        let per_shard = n.div_ceil(self.first.len());
        for shard in &mut self.first {
            shard.reserve(per_shard.saturating_sub(shard.len()));
        }
    }

    /// Adds [`REUSED`] to `raw`: true where the row's order id (non-blank) appeared on an earlier
    /// row of the file, in this chunk or an earlier one, with other values. An exact repeat is a
    /// duplicate delivery, dropped later, not an error.
    pub fn mark(&mut self, raw: &mut DataFrame) -> Result<()> {
        let text = |name: &str| -> Result<StringChunked> {
            raw.column(name)
                .and_then(|c| c.str().cloned())
                .engine(|| format!("reading column {name}"))
        };
        // Single-array columns, so that rows can be hashed in parallel by index.
        let ids = text(&self.order)?.rechunk().into_owned();
        let columns: Vec<StringChunked> = self
            .columns
            .iter()
            .map(|c| text(c).map(|c| c.rechunk().into_owned()))
            .collect::<Result<_>>()?;
        let arrays: Vec<_> = columns.iter().flat_map(|c| c.downcast_iter()).collect();
        let id_array = ids.downcast_iter().next();
        let (id_hash, row_hash) = (&self.ids, &self.rows);
        // (id hash or None for a blank id, row hash); hashing is the parallel part, the table
        // lookups below must run in file order.
        let hashes: Vec<Option<(u64, u32)>> = (0..ids.len())
            .into_par_iter()
            .map(|i| {
                // Ids and values as the parser keeps them (trimmed): a repeat that differs only
                // by spaces is the same row of the same order, not a reused id.
                let id = id_array.and_then(|a| a.get(i))?.trim();
                if id.is_empty() {
                    return None;
                }
                let mut row = row_hash.build_hasher();
                for a in &arrays {
                    a.get(i).map(str::trim).hash(&mut row);
                }
                let row = row.finish();
                Some((id_hash.hash_one(id), (row ^ (row >> 32)) as u32))
            })
            .collect();
        let shards = self.first.len();
        let mut rows_of: Vec<Vec<u32>> = vec![Vec::new(); shards];
        for (i, h) in hashes.iter().enumerate() {
            if let Some((key, _)) = h {
                rows_of[shard(*key, shards)].push(i as u32);
            }
        }
        let found: Vec<Vec<u32>> = self
            .first
            .par_iter_mut()
            .zip(rows_of)
            .map(|(table, rows)| {
                rows.into_iter()
                    .filter(|&i| {
                        let (key, row) = hashes[i as usize].expect("only rows with an id");
                        *table.entry(halves(key)).or_insert(row) != row
                    })
                    .collect()
            })
            .collect();
        let mut reused = vec![false; hashes.len()];
        for i in found.into_iter().flatten() {
            reused[i as usize] = true;
        }
        raw.with_column(Column::new(REUSED.into(), reused))
            .engine(|| "marking reused order ids".into())?;
        Ok(())
    }
}

/// Shards of the id table at least: enough to keep both cores busy and to grow one small table
/// at a time instead of doubling one large one.
const MIN_SHARDS: usize = 64;

/// Ids per shard when the table is sized for a whole file: 7/8 of 2^17, the most a table of
/// 2^17 slots takes before it doubles.
const SHARD_CAPACITY: usize = (1 << 17) / 8 * 7;

/// One shard of the id table: id hash (as two halves) -> row hash.
type Shard = HashMap<[u32; 2], u32, foldhash::fast::FixedState>;

fn new_shard() -> Shard {
    HashMap::with_hasher(foldhash::fast::FixedState::with_seed(1))
}

/// An id hash as the table's key.
fn halves(key: u64) -> [u32; 2] {
    [key as u32, (key >> 32) as u32]
}

/// The shard of an id hash among `shards` (from its top half, scaled: no division).
fn shard(key: u64, shards: usize) -> usize {
    (((key >> 32) * shards as u64) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rows: &[(&str, &str)]) -> DataFrame {
        df!(
            "order" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "amount" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn flags(df: &DataFrame) -> Vec<bool> {
        df.column(REUSED)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(|b| b.unwrap())
            .collect()
    }

    #[test]
    fn shards_cover_their_range_evenly() {
        for shards in [64, 89, 890] {
            assert_eq!(shard(u64::MAX, shards), shards - 1);
            assert_eq!(shard(0, shards), 0);
            let mut seen = vec![0usize; shards];
            let h = foldhash::quality::FixedState::with_seed(2);
            for i in 0..shards * 200 {
                seen[shard(h.hash_one(i), shards)] += 1;
            }
            assert!(
                seen.iter().all(|&n| n > 100 && n < 300),
                "{shards}: {seen:?}"
            );
        }
    }

    #[test]
    fn an_entry_takes_twelve_bytes() {
        assert_eq!(std::mem::size_of::<([u32; 2], u32)>(), 12);
    }

    #[test]
    fn reuse_is_found_across_chunks_and_exact_repeats_are_not_reuse() {
        let (o, a) = ("order".to_string(), "amount".to_string());
        let mut ids = OrderIds::new(
            "order",
            &Mapped::new(vec![("order_id", &o), ("amount", &a)]),
        );
        let mut first = frame(&[("A", "1"), ("B", "2"), ("A", "1"), (" ", "3")]);
        ids.mark(&mut first).unwrap();
        assert_eq!(flags(&first), [false, false, false, false]);
        let mut second = frame(&[("A", "9"), ("B", "2"), ("C", "1"), (" ", "4")]);
        ids.mark(&mut second).unwrap();
        assert_eq!(flags(&second), [true, false, false, false]);
        // Spaces around an id or a value change neither: " A " with other values is a reuse of
        // A, " B " with B's values a repeat.
        let mut third = frame(&[(" A ", "7"), (" B ", " 2 ")]);
        ids.mark(&mut third).unwrap();
        assert_eq!(flags(&third), [true, false]);
    }
}
