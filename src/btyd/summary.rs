//! What a BTYD model sees of a customer: the repeat-purchase summary, in days, and identical
//! summaries compressed into one weighted row (a million customers' summaries are a few
//! hundred thousand distinct rows at most, since every value is a whole number of days).

use rayon::prelude::*;

/// One customer's history at a cutoff, as Fader, Hardie & Lee (2005) define it: `x` repeat
/// purchase days (distinct purchase days minus one), `t_x` days from the first to the last
/// purchase day, `t` days from the first purchase day to the cutoff (the customer's age).
/// `0 <= t_x <= t`; `x = 0` implies `t_x = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub x: f64,
    pub t_x: f64,
    pub t: f64,
}

impl Summary {
    /// The summary of a customer whose distinct purchase days (day numbers) are `days`,
    /// sorted, at the cutoff `as_of`; `None` without a purchase day on or before it.
    pub fn of_days(days: &[i32], as_of: i32) -> Option<Summary> {
        let upto = days.partition_point(|&d| d <= as_of);
        let (first, last) = (*days.first()?, *days[..upto].last()?);
        Some(Summary {
            x: (upto - 1) as f64,
            t_x: f64::from(last - first),
            t: f64::from(as_of - first),
        })
    }

    /// Whether the summary can come from a history (whole, non-negative, ordered values).
    pub fn is_valid(&self) -> bool {
        let whole = |v: f64| v.is_finite() && v >= 0.0 && v.fract() == 0.0;
        whole(self.x)
            && self.t_x.is_finite()
            && self.t.is_finite()
            && self.t_x >= 0.0
            && self.t_x <= self.t
            && (self.x > 0.0 || self.t_x == 0.0)
    }
}

/// Identical summaries counted once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weighted {
    pub summary: Summary,
    pub weight: f64,
}

/// `summaries` with identical ones merged into one row weighing their count, ordered by
/// (x, t_x, t) so that rows sharing `x` are adjacent (the likelihood reuses its x-terms).
pub fn compress(summaries: impl IntoIterator<Item = Summary>) -> Vec<Weighted> {
    merge(summaries.into_iter().map(|summary| Weighted {
        summary,
        weight: 1.0,
    }))
}

/// Weighted rows in any order (as an engine counts them, partition by partition) in the
/// form [`compress`] gives: ordered by (x, t_x, t), identical summaries merged, so that a fit
/// sums in the same order whoever counted.
pub fn merge(rows: impl IntoIterator<Item = Weighted>) -> Vec<Weighted> {
    // Non-negative finite floats order like their bit patterns (-0.0 is read as 0.0). Sorted
    // in parallel and merged in one pass: a million customers' summaries at every as-of day made
    // an ordered map the slowest part of counting them. Weights are whole counts, so their sums
    // do not depend on the order equal summaries meet in.
    let key = |v: f64| (v + 0.0).to_bits();
    let mut keyed: Vec<((u64, u64, u64), f64)> = rows
        .into_iter()
        .map(|w| {
            (
                (key(w.summary.x), key(w.summary.t_x), key(w.summary.t)),
                w.weight,
            )
        })
        .collect();
    keyed.par_sort_unstable_by_key(|(k, _)| *k);
    let mut out: Vec<Weighted> = Vec::new();
    let mut last: Option<(u64, u64, u64)> = None;
    for (k, weight) in keyed {
        match out.last_mut() {
            Some(w) if last == Some(k) => w.weight += weight,
            _ => {
                out.push(Weighted {
                    summary: Summary {
                        x: f64::from_bits(k.0),
                        t_x: f64::from_bits(k.1),
                        t: f64::from_bits(k.2),
                    },
                    weight,
                });
                last = Some(k);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_counts_repeat_days_up_to_the_cutoff() {
        let s = Summary::of_days(&[10, 15, 40, 90], 50).unwrap();
        assert_eq!(
            s,
            Summary {
                x: 2.0,
                t_x: 30.0,
                t: 40.0
            }
        );
        // A one-time buyer: no repeat, recency 0.
        let s = Summary::of_days(&[10, 90], 20).unwrap();
        assert_eq!(
            s,
            Summary {
                x: 0.0,
                t_x: 0.0,
                t: 10.0
            }
        );
        assert_eq!(Summary::of_days(&[30], 20), None);
        assert_eq!(Summary::of_days(&[], 20), None);
        assert!(s.is_valid());
        assert!(
            !Summary {
                x: 0.0,
                t_x: 3.0,
                t: 10.0
            }
            .is_valid()
        );
        assert!(
            !Summary {
                x: 1.5,
                t_x: 3.0,
                t: 10.0
            }
            .is_valid()
        );
    }

    #[test]
    fn identical_summaries_become_one_weighted_row() {
        let a = Summary {
            x: 1.0,
            t_x: 5.0,
            t: 9.0,
        };
        let b = Summary {
            x: 0.0,
            t_x: 0.0,
            t: 9.0,
        };
        let rows = compress([a, b, a, a]);
        assert_eq!(
            rows,
            vec![
                Weighted {
                    summary: b,
                    weight: 1.0
                },
                Weighted {
                    summary: a,
                    weight: 3.0
                }
            ]
        );
    }
}
