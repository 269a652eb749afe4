//! Order ids reused with other values, found across a whole file read in chunks. Each order id's
//! first row is remembered as two 64-bit hashes (of the id, and of the row's mapped raw values),
//! so the cost is about 16 bytes per distinct order id instead of the file's text.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{EngineContext, Result};

/// Name of the helper column [`OrderIds::mark`] fills.
pub const REUSED: &str = "__reused_order";

/// The first row of every order id seen so far.
pub struct OrderIds {
    order: String,
    columns: Vec<String>,
    first: HashMap<u64, u64, foldhash::fast::FixedState>,
    ids: foldhash::quality::FixedState,
    rows: foldhash::quality::FixedState,
}

impl OrderIds {
    /// Tracks the export column `order`; rows are compared on every mapped column.
    pub fn new(order: &str, mapped: &[(&str, &String)]) -> Self {
        let mut columns: Vec<String> = mapped.iter().map(|(_, c)| (*c).clone()).collect();
        columns.sort();
        columns.dedup();
        OrderIds {
            order: order.to_string(),
            columns,
            first: HashMap::with_hasher(foldhash::fast::FixedState::with_seed(1)),
            ids: foldhash::quality::FixedState::with_seed(2),
            rows: foldhash::quality::FixedState::with_seed(3),
        }
    }

    /// Makes room for `n` distinct ids at once, so the table does not double (and briefly hold
    /// both sizes) while a large file is read.
    pub fn reserve(&mut self, n: usize) {
        self.first.reserve(n.saturating_sub(self.first.len()));
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
        let hashes: Vec<Option<(u64, u64)>> = (0..ids.len())
            .into_par_iter()
            .map(|i| {
                let id = id_array.and_then(|a| a.get(i))?;
                if id.trim().is_empty() {
                    return None;
                }
                let mut row = row_hash.build_hasher();
                for a in &arrays {
                    a.get(i).hash(&mut row);
                }
                Some((id_hash.hash_one(id), row.finish()))
            })
            .collect();
        let reused: Vec<bool> = hashes
            .into_iter()
            .map(|h| h.is_some_and(|(key, row)| *self.first.entry(key).or_insert(row) != row))
            .collect();
        raw.with_column(Column::new(REUSED.into(), reused))
            .engine(|| "marking reused order ids".into())?;
        Ok(())
    }
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
    fn reuse_is_found_across_chunks_and_exact_repeats_are_not_reuse() {
        let (o, a) = ("order".to_string(), "amount".to_string());
        let mut ids = OrderIds::new("order", &[("order_id", &o), ("amount", &a)]);
        let mut first = frame(&[("A", "1"), ("B", "2"), ("A", "1"), (" ", "3")]);
        ids.mark(&mut first).unwrap();
        assert_eq!(flags(&first), [false, false, false, false]);
        let mut second = frame(&[("A", "9"), ("B", "2"), ("C", "1"), (" ", "4")]);
        ids.mark(&mut second).unwrap();
        assert_eq!(flags(&second), [true, false, false, false]);
    }
}
