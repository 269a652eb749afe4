//! What a BTYD model sees of a customer: the repeat-purchase summary, in days, and identical
//! summaries compressed into one weighted row (a million customers' summaries are a few
//! hundred thousand distinct rows at most, since every value is a whole number of days).

use std::collections::BTreeMap;

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
    let mut counts: BTreeMap<(u64, u64, u64), (Summary, f64)> = BTreeMap::new();
    for w in rows {
        let s = w.summary;
        // Non-negative finite floats order like their bit patterns (-0.0 is read as 0.0).
        let key = |v: f64| (v + 0.0).to_bits();
        counts
            .entry((key(s.x), key(s.t_x), key(s.t)))
            .or_insert((s, 0.0))
            .1 += w.weight;
    }
    counts
        .into_values()
        .map(|(summary, weight)| Weighted { summary, weight })
        .collect()
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
