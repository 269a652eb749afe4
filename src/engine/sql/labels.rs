//! The labels of a cutoff's active population in one portable query (issue 17, "labels run on the
//! engine"): the customers active at the cutoff (the features query of `LABEL_INPUTS`, cut by
//! its `HAVING`), what they did next (the facts query), and the rule of `domain::label::outcomes`
//! written as `CASE WHEN`. Only (customer, churned, lost value) comes back: before, a training
//! cutoff sent a table of every active id to the engine and read every one's facts back (at
//! 10^8 rows, 6.7 million of each, the driver's peak of the night).
//!
//! The rule kept: for the same feature and fact values, the query's label is the one `outcomes`
//! gives, bit for bit (`tests` checks both on boundary cases; `tests/it/properties.rs` on random
//! histories for every engine).

use polars::prelude::DataFrame;

use crate::domain::label::{ActiveLabels, LABEL_INPUTS, LabelRule, Outcomes};
use crate::engine::sql::keep::Keep;
use crate::engine::sql::literal::number;
use crate::engine::sql::{facts, features};
use crate::error::{Error, Result};
use crate::util::frame;

/// The first purchase day after the cutoff, as the facts query reports it (NULL when none).
const NEXT: &str = "outcome.next_purchase_day";
/// Net amounts after and before the cutoff (0 for a customer without rows in the windows).
const NEXT_VALUE: &str = "COALESCE(outcome.next_value, 0.0)";
const PREVIOUS_VALUE: &str = "COALESCE(outcome.previous_value, 0.0)";
/// The customer's usual days between orders at the cutoff.
const CYCLE: &str = "who.purchase_cycle_days";

/// 1.0 for a churner under `rule` at `cutoff`, 0.0 otherwise.
fn churned(rule: &LabelRule, cutoff: i32) -> String {
    // "Bought within d days" is `NEXT <= cutoff + d`; a NULL (no purchase) is not within.
    match *rule {
        LabelRule::FixedHorizon { horizon_days } => format!(
            "CASE WHEN {NEXT} <= {} THEN 0.0 ELSE 1.0 END",
            cutoff + horizon_days
        ),
        // The window is clamp(round(cycle x multiple), min, max), max without a (finite) cycle.
        // With d = NEXT - cutoff >= 1: d <= clamp(r, min, max) iff d <= max and (d <= min or
        // d <= r), and d <= round(y) iff y >= d - 0.5 (Rust rounds halves away from zero, and
        // d - 0.5 is exact), so no rounding function is needed and none can differ by engine.
        // `x - x = 0.0` holds for a finite x only, as `Values::get` reads a column.
        LabelRule::CycleRelative {
            cycle_multiple,
            min_days,
            max_days,
        } => format!(
            "CASE WHEN {NEXT} IS NULL OR {NEXT} > {max} THEN 1.0 WHEN {NEXT} <= {min} THEN 0.0 \
             WHEN {CYCLE} - {CYCLE} = 0.0 THEN CASE WHEN {CYCLE} * {multiple} >= {NEXT} - {cutoff} - 0.5 \
             THEN 0.0 ELSE 1.0 END ELSE 0.0 END",
            max = cutoff + max_days,
            min = cutoff + min_days,
            multiple = number(cycle_multiple),
        ),
        LabelRule::ValueDrop {
            horizon_days,
            drop_fraction,
        } => format!(
            "CASE WHEN {PREVIOUS_VALUE} > 0.0 THEN CASE WHEN {NEXT_VALUE} < {} * {PREVIOUS_VALUE} \
             THEN 1.0 ELSE 0.0 END WHEN {NEXT} <= {} THEN 0.0 ELSE 1.0 END",
            number(drop_fraction),
            cutoff + horizon_days
        ),
    }
}

/// Customer, churned (1.0 / 0.0) and lost value of every customer active within
/// `active_within` days at `cutoff`, in customer-id order.
pub fn render(rule: &LabelRule, cutoff: i32, active_within: i32) -> String {
    let who = features::render_keeping(
        &LABEL_INPUTS,
        cutoff,
        &[],
        Keep::active(Some(active_within)),
    );
    let outcome = facts::render_outcomes(
        cutoff,
        rule.max_window(),
        rule.value_horizon(),
        Keep::EVERYONE,
    );
    let lost = format!("{PREVIOUS_VALUE} - {NEXT_VALUE}");
    format!(
        "WITH who AS (\n{}\n),\noutcome AS (\n{}\n)\n\
         SELECT\n  who.customer_id,\n  {} AS churned,\n  \
         CASE WHEN {lost} > 0.0 THEN {lost} ELSE 0.0 END AS lost_value\n\
         FROM who LEFT JOIN outcome ON who.customer_id = outcome.customer_id\n\
         ORDER BY who.customer_id",
        features::unordered(&who),
        outcome.trim_end(),
        churned(rule, cutoff),
    )
}

/// The labels in the result of [`render`] (rows in customer-id order).
pub(crate) fn read(df: &DataFrame) -> Result<ActiveLabels> {
    let ids = frame::shared_str_values(df, "customer_id")?;
    let flag = frame::f64_values(df, "churned")?;
    let lost = frame::f64_values(df, "lost_value")?;
    let churned = flag
        .iter()
        .zip(&ids)
        .map(|(f, id)| match f {
            Some(f) if *f == 1.0 => Ok(true),
            Some(f) if *f == 0.0 => Ok(false),
            other => Err(Error::Data(format!(
                "the labels query gave customer {id} the label {other:?}, expected 1.0 or 0.0"
            ))),
        })
        .collect::<Result<Vec<bool>>>()?;
    let lost_value = lost
        .iter()
        .zip(&ids)
        .map(|(v, id)| {
            v.ok_or_else(|| {
                Error::Data(format!("the labels query gave customer {id} no lost value"))
            })
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(ActiveLabels {
        customer_ids: ids,
        outcomes: Outcomes {
            churned,
            lost_value,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Backend, HistoryBackend, SqlBackend};
    use polars::prelude::*;

    const C: i32 = 20_000;

    /// (customer, day relative to the cutoff, amount) as a frame of the warehouse's schema.
    fn rows(rows: &[(&str, i32, f64)]) -> LazyFrame {
        df!(
            "customer_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "ts" => rows.iter().map(|r| (C + r.1) as i64 * 86_400_000 + 3_600_000).collect::<Vec<_>>(),
            "amount" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
    }

    /// Boundaries of every rule: on and one past each window's end, a cycle whose window is a
    /// half day (10 x 1.25 = 12.5 rounds to 13), refunds, value drops exactly at the fraction,
    /// a customer with one purchase day (no cycle), one inactive at the cutoff.
    const FIXTURE: [(&str, i32, f64); 22] = [
        ("a_on_horizon", -10, 100.0),
        ("a_on_horizon", 30, 50.0),
        ("b_past_horizon", -5, 100.0),
        ("b_past_horizon", 31, 50.0),
        ("c_half_13", -20, 10.0),
        ("c_half_13", -10, 10.0),
        ("c_half_13", 13, 10.0),
        ("d_half_14", -20, 10.0),
        ("d_half_14", -10, 10.0),
        ("d_half_14", 14, 10.0),
        ("e_refund_only", -20, 100.0),
        ("e_refund_only", 5, -40.0),
        ("f_exact_drop", -30, 100.0),
        ("f_exact_drop", 10, 50.0),
        ("g_one_day", -3, 20.0),
        ("g_one_day", 59, 1.0),
        ("h_inactive", -300, 5.0),
        ("h_inactive", 20, 5.0),
        ("i_min_days", -40, 10.0),
        ("i_min_days", -39, 10.0),
        ("i_min_days", 8, 10.0),
        ("j_nothing_after", -1, 7.0),
    ];

    fn rules() -> [LabelRule; 4] {
        [
            LabelRule::FixedHorizon { horizon_days: 30 },
            LabelRule::CycleRelative {
                cycle_multiple: 1.25,
                min_days: 8,
                max_days: 60,
            },
            LabelRule::CycleRelative {
                cycle_multiple: 1.0,
                min_days: 1,
                max_days: 59,
            },
            LabelRule::ValueDrop {
                horizon_days: 60,
                drop_fraction: 0.5,
            },
        ]
    }

    #[test]
    fn the_engine_labels_as_the_rule_does() {
        for rule in rules() {
            // The reference: the trait's default, labels computed from the history's facts.
            let mut history = HistoryBackend::from_transactions(rows(&FIXTURE));
            let mut sql = SqlBackend::from_transactions(rows(&FIXTURE));
            let expected = history.active_labels(&rule, C, 200).unwrap();
            let got = sql.active_labels(&rule, C, 200).unwrap();
            assert_eq!(got, expected, "{rule:?}");
            assert!(!got.customer_ids.iter().any(|c| &**c == "h_inactive"));
        }
    }

    #[test]
    fn the_boundaries_fall_where_the_rule_says() {
        let mut sql = SqlBackend::from_transactions(rows(&FIXTURE));
        let churners = |rule: LabelRule, sql: &mut SqlBackend| -> Vec<String> {
            let l = sql.active_labels(&rule, C, 200).unwrap();
            l.customer_ids
                .iter()
                .zip(&l.outcomes.churned)
                .filter(|(_, c)| **c)
                .map(|(id, _)| id.to_string())
                .collect()
        };
        assert_eq!(
            churners(rules()[0], &mut sql),
            [
                "b_past_horizon",
                "e_refund_only",
                "g_one_day",
                "j_nothing_after"
            ]
        );
        // Cycle 10 days x 1.25 = 12.5: a window of 13 days, so day 13 is within, day 14 not;
        // i_min_days (cycle 1 day) is saved by min_days = 8; g_one_day has no cycle: max_days.
        assert_eq!(
            churners(rules()[1], &mut sql),
            ["d_half_14", "e_refund_only", "j_nothing_after"]
        );
        // Exactly half the previous spend is not below half: f_exact_drop stays.
        let drop = churners(rules()[3], &mut sql);
        assert!(!drop.contains(&"f_exact_drop".to_string()), "{drop:?}");
        assert!(drop.contains(&"e_refund_only".to_string()), "{drop:?}");
    }

    #[test]
    fn labels_sql_stays_inside_the_portable_subset() {
        for rule in rules() {
            let text = render(&rule, C, 90).to_uppercase();
            for banned in ["ROUND", "GREATEST", "LEAST", "NULLIF", "IIF"] {
                assert!(!text.contains(banned), "{banned} in {text}");
            }
        }
    }
}
