//! Churn labels for customers at a cutoff c, under one of three definitions:
//!
//! * `fixed_horizon`: no purchase in (c, c + horizon_days].
//! * `cycle_relative`: no purchase in (c, c + w], where w is `cycle_multiple` times the
//!   customer's own usual days between orders, clamped to [`min_days`, `max_days`] (customers
//!   with one purchase day so far get `max_days`).
//! * `value_drop` (partial churn): net spend in (c, c + horizon_days] below `drop_fraction` of the
//!   spend in (c - horizon_days, c]; a customer with nothing to drop from churns when they buy
//!   nothing.
//!
//! A label needs data up to the end of its longest window; earlier cutoffs are refused.

use crate::error::{Error, Result};
use crate::util::dates::format_day;

pub use crate::domain::label::{LabelRule, Outcomes, outcomes};

/// Refuses a cutoff whose longest label window ends after `last_day`, the last day of data.
pub fn check_window(rule: &LabelRule, cutoff: i32, last_day: i32) -> Result<()> {
    let window = rule.max_window();
    if cutoff + window > last_day {
        return Err(Error::Data(format!(
            "cannot label cutoff {}: the label window ends {} but data ends {}",
            format_day(cutoff),
            format_day(cutoff + window),
            format_day(last_day)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Backend, HistoryBackend};
    use crate::features::{self, spec};
    use polars::prelude::*;

    const C: i32 = 20_000;

    /// (customer, day relative to the cutoff, amount)
    fn engine(rows: &[(&str, i32, f64)]) -> HistoryBackend {
        let df = df!(
            "customer_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "ts" => rows.iter().map(|r| (C + r.1) as i64 * 86_400_000 + 3_600_000).collect::<Vec<_>>(),
            "amount" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )
        .unwrap();
        HistoryBackend::from_transactions(
            df.lazy()
                .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Milliseconds, None))),
        )
    }

    fn labels(rows: &[(&str, i32, f64)], rule: LabelRule) -> (Vec<String>, Outcomes) {
        let mut e = engine(rows);
        let table = features::compute(&mut e, &spec::required_specs(), C, &[]).unwrap();
        let all: Vec<usize> = (0..table.len()).collect();
        check_window(&rule, C, C + 400).unwrap();
        let facts = e
            .outcome_facts(&table, &all, rule.max_window(), rule.value_horizon())
            .unwrap();
        let o = outcomes(&rule, &table, &all, &facts);
        (
            table.customer_ids.iter().map(|s| s.to_string()).collect(),
            o,
        )
    }

    const FIXTURE: [(&str, i32, f64); 10] = [
        ("a_boundary", -10, 100.0),
        ("a_boundary", 90, 50.0), // exactly on c + 90: retained
        ("b_late", -5, 100.0),
        ("b_late", 91, 50.0),     // one day too late: churned
        ("c_same_day", 0, 100.0), // on the cutoff day itself: history, not future
        ("d_refund_only", -20, 100.0),
        ("d_refund_only", 30, -40.0), // a refund is not a purchase
        ("e_cycle", -20, 10.0),
        ("e_cycle", -10, 10.0), // cycle 10 days
        ("e_cycle", 35, 10.0),
    ];

    #[test]
    fn fixed_horizon_boundaries() {
        let (ids, o) = labels(&FIXTURE, LabelRule::FixedHorizon { horizon_days: 90 });
        assert_eq!(
            ids,
            [
                "a_boundary",
                "b_late",
                "c_same_day",
                "d_refund_only",
                "e_cycle"
            ]
        );
        assert_eq!(o.churned, [false, true, true, true, false]);
        // Lost value over the 90 days before vs after: a 100 -> 50, d 100 -> -40 (refund).
        assert_eq!(o.lost_value, [50.0, 100.0, 100.0, 140.0, 10.0]);
    }

    #[test]
    fn cycle_relative_uses_each_customers_own_rhythm() {
        let rule = LabelRule::CycleRelative {
            cycle_multiple: 3.0,
            min_days: 20,
            max_days: 100,
        };
        let (_, o) = labels(&FIXTURE, rule);
        // e: cycle 10 -> window 30 days; next purchase on day 35 -> churned.
        // a: one purchase day -> max_days 100 -> the day-90 purchase counts.
        assert_eq!(o.churned, [false, false, true, true, true]);
        let rule = LabelRule::CycleRelative {
            cycle_multiple: 4.0,
            min_days: 20,
            max_days: 100,
        };
        assert!(
            !labels(&FIXTURE, rule).1.churned[4],
            "window 40 covers day 35"
        );
    }

    #[test]
    fn value_drop_is_partial_churn() {
        let rule = LabelRule::ValueDrop {
            horizon_days: 90,
            drop_fraction: 0.6,
        };
        let (_, o) = labels(&FIXTURE, rule);
        // a: 50 < 0.6 * 100 -> churned. e: previous 20, next 10 < 12 -> churned.
        assert_eq!(o.churned, [true, true, true, true, true]);
        let rule = LabelRule::ValueDrop {
            horizon_days: 90,
            drop_fraction: 0.5,
        };
        assert_eq!(
            labels(&FIXTURE, rule).1.churned,
            [false, true, true, true, false]
        );
    }

    #[test]
    fn a_cutoff_without_a_full_window_is_refused() {
        let rule = LabelRule::FixedHorizon { horizon_days: 90 };
        let err = check_window(&rule, C, C + 89).unwrap_err().to_string();
        assert!(err.contains("cannot label cutoff"), "{err}");
        check_window(&rule, C, C + 90).unwrap();
    }
}
