//! One customer's rows in the history, and what the kernels read of them: windows by day,
//! purchases, and the summary of a whole history up to a day.

/// Customers in blocks of this many for parallel work: large enough that scheduling is noise.
pub(super) const BLOCK: usize = 4096;

/// Splits `v` into the pieces between consecutive `bounds` (which start at 0 and end at its
/// length).
pub(super) fn split_at_bounds<'a, T>(mut v: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(bounds.len().saturating_sub(1));
    for w in bounds.windows(2) {
        let (head, tail) = std::mem::take(&mut v).split_at_mut(w[1] - w[0]);
        out.push(head);
        v = tail;
    }
    out
}

/// One customer's rows, sorted by day.
pub(super) struct Rows<'a> {
    pub(super) days: &'a [i32],
    pub(super) amounts: &'a [f64],
    pub(super) quantities: Option<&'a [f64]>,
}

/// Facts over a customer's whole history up to the as-of day.
pub(super) struct PurchaseSummary {
    pub first: Option<i32>,
    pub last: Option<i32>,
    pub distinct_days: u32,
}

impl<'a> Rows<'a> {
    /// The rows on or before `day`.
    pub(super) fn until(self, day: i32) -> Rows<'a> {
        let end = self.days.partition_point(|&x| x <= day);
        Rows {
            days: &self.days[..end],
            amounts: &self.amounts[..end],
            quantities: self.quantities.map(|q| &q[..end]),
        }
    }

    /// Rows with day in (after, until] as an index range.
    pub(super) fn between(&self, after: i32, until: i32) -> std::ops::Range<usize> {
        self.days.partition_point(|&x| x <= after)..self.days.partition_point(|&x| x <= until)
    }

    pub(super) fn purchase_summary(&self) -> PurchaseSummary {
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
    pub(super) fn purchases(&self, r: std::ops::Range<usize>) -> (f64, f64, Option<f64>, f64) {
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
