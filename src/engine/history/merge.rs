//! Adding later batches to a history: the nightly path of the history state.
//!
//! Rule kept: `a.merged(b)` equals `History::build` over `a`'s sources followed by `b`'s, bit for
//! bit. `build` places rows in source order and sorts each customer's rows by day, stably; a
//! stable sort of `a`'s rows followed by `b`'s is the merge of the two sorted runs taking `a`'s row
//! first on equal days. Customers stay in byte order of their id. (The warehouse lists a
//! month's parts in batch order, and a day lies in one month, so rows of equal day keep batch
//! order on both paths.)

use std::cmp::Ordering;

use super::build::History;

impl History {
    /// This history with `later`'s rows added (see the module documentation). Quantities are
    /// kept when both hold them.
    pub fn merged(self, later: History) -> History {
        let rows = self.days.len() + later.days.len();
        let with_quantity = self.quantities.is_some() && later.quantities.is_some();
        let mut out = History {
            ids: Vec::with_capacity(self.ids.len() + later.ids.len()),
            starts: Vec::with_capacity(self.ids.len() + later.ids.len() + 1),
            days: Vec::with_capacity(rows),
            amounts: Vec::with_capacity(rows),
            quantities: with_quantity.then(|| Vec::with_capacity(rows)),
        };
        out.starts.push(0);
        let (mut i, mut j) = (0, 0);
        while i < self.ids.len() || j < later.ids.len() {
            let order = match (self.ids.get(i), later.ids.get(j)) {
                (Some(a), Some(b)) => a.cmp(b),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Less => {
                    out.ids.push(self.ids[i].clone());
                    out.push_rows(&self, self.starts[i]..self.starts[i + 1]);
                    i += 1;
                }
                Ordering::Greater => {
                    out.ids.push(later.ids[j].clone());
                    out.push_rows(&later, later.starts[j]..later.starts[j + 1]);
                    j += 1;
                }
                Ordering::Equal => {
                    out.ids.push(self.ids[i].clone());
                    let (mut a, a_end) = (self.starts[i], self.starts[i + 1]);
                    let (mut b, b_end) = (later.starts[j], later.starts[j + 1]);
                    while a < a_end || b < b_end {
                        // The earlier history's row first on equal days.
                        if b == b_end || (a < a_end && self.days[a] <= later.days[b]) {
                            out.push_rows(&self, a..a + 1);
                            a += 1;
                        } else {
                            out.push_rows(&later, b..b + 1);
                            b += 1;
                        }
                    }
                    i += 1;
                    j += 1;
                }
            }
            out.starts.push(out.days.len());
        }
        out
    }

    fn push_rows(&mut self, from: &History, r: std::ops::Range<usize>) {
        self.days.extend_from_slice(&from.days[r.clone()]);
        self.amounts.extend_from_slice(&from.amounts[r.clone()]);
        if let (Some(q), Some(fq)) = (self.quantities.as_mut(), from.quantities.as_ref()) {
            q.extend_from_slice(&fq[r]);
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use polars::prelude::*;
    use proptest::prelude::*;

    use super::*;

    fn frame(rows: &[(u8, i32, f64, Option<f64>)]) -> LazyFrame {
        let ids: Vec<String> = rows.iter().map(|r| format!("c{}", r.0)).collect();
        df!(
            "customer_id" => ids,
            "day" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "amount" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "quantity" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
    }

    /// Every field, floats by their bits (NaN quantities compare equal to themselves).
    pub(crate) fn same(a: &History, b: &History) -> bool {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        a.ids == b.ids
            && a.starts == b.starts
            && a.days == b.days
            && bits(&a.amounts) == bits(&b.amounts)
            && a.quantities.as_deref().map(bits) == b.quantities.as_deref().map(bits)
    }

    fn row() -> impl Strategy<Value = (u8, i32, f64, Option<f64>)> {
        // Few customers and days, so that customers and days repeat across the two sides; each
        // amount is distinct, so a tie broken the wrong way shows.
        (0u8..12, 0i32..6, 0u32..1000, proptest::option::of(0u32..5))
            .prop_map(|(c, d, a, q)| (c, d, a as f64 + 0.25, q.map(f64::from)))
    }

    proptest! {
        #[test]
        fn merging_equals_building_from_both(
            early in proptest::collection::vec(row(), 0..40),
            late in proptest::collection::vec(row(), 0..40),
            split in 0usize..3,
            with_quantity in any::<bool>(),
        ) {
            // The earlier side as one or several sources, like parts of several batches.
            let cut = early.len() * split / 3;
            let early_sources = vec![frame(&early[..cut]), frame(&early[cut..])];
            let whole = History::build(
                &[early_sources.clone(), vec![frame(&late)]].concat(),
                with_quantity,
            )
            .unwrap();
            let merged = History::build(&early_sources, with_quantity)
                .unwrap()
                .merged(History::build(&[frame(&late)], with_quantity).unwrap());
            prop_assert!(same(&whole, &merged));
        }
    }
}
