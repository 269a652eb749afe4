//! Order ids reused with other values, found across a whole file read in chunks. Each order id's
//! first row is remembered as two 64-bit hashes (of the id, and of the row's mapped raw values),
//! so the cost is about 16 bytes per distinct order id instead of the file's text.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use polars::prelude::*;

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
        let ids = text(&self.order)?;
        let columns: Vec<StringChunked> = self
            .columns
            .iter()
            .map(|c| text(c))
            .collect::<Result<_>>()?;
        let mut values: Vec<_> = columns.iter().map(|c| c.iter()).collect();
        let mut reused = Vec::with_capacity(ids.len());
        for id in ids.iter() {
            let mut row = self.rows.build_hasher();
            for v in &mut values {
                v.next().flatten().hash(&mut row);
            }
            let flag = match id {
                Some(id) if !id.trim().is_empty() => {
                    let key = self.ids.hash_one(id);
                    let row = row.finish();
                    *self.first.entry(key).or_insert(row) != row
                }
                _ => false,
            };
            reused.push(flag);
        }
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
