//! The list files as frames: the at-risk list, all scores, the win-back list and resolved
//! accounts. The same frame feeds CSV, Parquet and the workbook, so they always agree.

use polars::prelude::*;

use crate::error::{EngineContext, Result};
use crate::score::ScoreOutcome;
use crate::util::dates::format_day;

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn frame(columns: Vec<Column>, what: &str) -> Result<DataFrame> {
    DataFrame::new_infer_height(columns).engine(|| format!("building {what}"))
}

/// The at-risk list: each column named where it is built, in the order of
/// [`crate::score::LIST_COLUMNS`] (the README's contract, which `tests/it/end_to_end.rs` checks
/// the written file against).
///
/// Long by design: one column per line of the list's contract.
pub fn at_risk(o: &ScoreOutcome) -> Result<DataFrame> {
    let rows: Vec<_> = (0..o.listed.len())
        .map(|r| (o.listed[r], o.listed_account(r)))
        .collect();
    let n = rows.len();
    let text = |f: &dyn Fn(&crate::score::ScoredAccount) -> String| -> Vec<String> {
        rows.iter().map(|(_, a)| f(a)).collect()
    };
    let reason = |k: usize| text(&|a| a.reasons().get(k).cloned().unwrap_or_default());
    let columns = vec![
        Column::new("rank".into(), (1..=n as u32).collect::<Vec<_>>()),
        Column::new("customer_id".into(), text(&|a| a.customer_id.clone())),
        Column::new("name".into(), text(&|a| a.name().to_string())),
        Column::new("owner".into(), text(&|a| a.owner().to_string())),
        Column::new(
            "churn_probability".into(),
            rows.iter()
                .map(|(_, a)| round(a.churn_probability, 4))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "value_12m".into(),
            rows.iter()
                .map(|(_, a)| round(a.value_12m, 2))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "expected_value_at_risk".into(),
            rows.iter()
                .map(|(_, a)| round(a.expected_value_at_risk, 2))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "key_account".into(),
            rows.iter().map(|(_, a)| a.key_account).collect::<Vec<_>>(),
        ),
        Column::new("quadrant".into(), text(&|a| a.quadrant.name().into())),
        Column::new("action".into(), text(&|a| a.action().to_string())),
        Column::new(
            "lifecycle_stage".into(),
            text(&|a| a.lifecycle.name().into()),
        ),
        Column::new(
            "days_since_last_purchase".into(),
            rows.iter()
                .map(|(_, a)| a.days_since_last_purchase as i64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "usual_cycle_days".into(),
            rows.iter()
                .map(|(_, a)| a.usual_cycle_days.map(|c| c.round() as i64))
                .collect::<Vec<_>>(),
        ),
        Column::new("reason_1".into(), reason(0)),
        Column::new("reason_2".into(), reason(1)),
        Column::new("reason_3".into(), reason(2)),
        Column::new(
            "status".into(),
            rows.iter()
                .map(|(e, _)| e.status.name())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "days_on_list".into(),
            rows.iter().map(|(e, _)| e.days_on_list).collect::<Vec<_>>(),
        ),
        Column::new("model_id".into(), vec![o.model.model_id.as_str(); n]),
        Column::new("as_of".into(), vec![o.as_of.to_string(); n]),
        Column::new("region".into(), text(&|a| a.region().to_string())),
        Column::new(
            "previous_probability".into(),
            rows.iter()
                .map(|(_, a)| a.previous_probability().map(|p| round(p, 4)))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "probability_change".into(),
            rows.iter()
                .map(|(_, a)| {
                    a.previous_probability()
                        .map(|p| round(a.churn_probability - p, 4))
                })
                .collect::<Vec<_>>(),
        ),
    ];
    frame(columns, "the at-risk list")
}

/// Scored accounts `start..start + len` (every scored account, written a batch at a time by
/// `write_all`: the whole frame at once was a second copy of millions of accounts, the driver's
/// peak of the night at 10^8 rows).
pub fn scores(o: &ScoreOutcome, start: usize, len: usize) -> Result<DataFrame> {
    let s = &o.scored[start..start + len];
    frame(
        vec![
            Column::new(
                "customer_id".into(),
                s.iter().map(|a| a.customer_id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "churn_probability".into(),
                s.iter().map(|a| a.churn_probability).collect::<Vec<_>>(),
            ),
            Column::new(
                "value_12m".into(),
                s.iter().map(|a| a.value_12m).collect::<Vec<_>>(),
            ),
            Column::new(
                "expected_value_at_risk".into(),
                s.iter()
                    .map(|a| a.expected_value_at_risk)
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "key_account".into(),
                s.iter().map(|a| a.key_account).collect::<Vec<_>>(),
            ),
            Column::new(
                "quadrant".into(),
                s.iter().map(|a| a.quadrant.name()).collect::<Vec<_>>(),
            ),
            Column::new(
                "lifecycle_stage".into(),
                s.iter().map(|a| a.lifecycle.name()).collect::<Vec<_>>(),
            ),
        ],
        "scores",
    )
}

/// Lapsed former key accounts, most valuable first.
pub fn winback(
    o: &ScoreOutcome,
    master: &std::collections::HashMap<String, crate::warehouse::side::CustomerInfo>,
) -> Result<DataFrame> {
    let w = &o.winback;
    let info = |id: &str, f: fn(&crate::warehouse::side::CustomerInfo) -> String| {
        master.get(id).map(f).unwrap_or_default()
    };
    frame(
        vec![
            Column::new("rank".into(), (1..=w.len() as u32).collect::<Vec<_>>()),
            Column::new(
                "customer_id".into(),
                w.iter().map(|a| a.customer_id.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "name".into(),
                w.iter()
                    .map(|a| info(&a.customer_id, |c| c.name.clone()))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "owner".into(),
                w.iter()
                    .map(|a| info(&a.customer_id, |c| c.owner.clone()))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "last_order_date".into(),
                w.iter()
                    .map(|a| format_day(a.last_order_day))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "value_year_before_lapse".into(),
                w.iter()
                    .map(|a| round(a.value_year_before, 2))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "orders_year_before_lapse".into(),
                w.iter()
                    .map(|a| a.orders_year_before as i64)
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "average_order".into(),
                w.iter()
                    .map(|a| round(a.value_year_before / a.orders_year_before.max(1.0), 2))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "units_year_before_lapse".into(),
                w.iter()
                    .map(|a| round(a.units_year_before, 2))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "used_to_buy".into(),
                w.iter()
                    .map(|a| a.top_products.join("; "))
                    .collect::<Vec<_>>(),
            ),
            Column::new("as_of".into(), vec![o.as_of.to_string(); w.len()]),
        ],
        "the win-back list",
    )
}

/// Accounts that left the list since the previous night.
pub fn resolved(o: &ScoreOutcome) -> Result<DataFrame> {
    let r = &o.resolved;
    frame(
        vec![
            Column::new(
                "customer_id".into(),
                r.iter().map(|a| a.customer_id.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "first_listed".into(),
                r.iter()
                    .map(|a| a.first_listed.to_string())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "last_listed_probability".into(),
                r.iter()
                    .map(|a| round(a.last_probability, 4))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "churn_probability_now".into(),
                r.iter()
                    .map(|a| a.probability_now.map(|p| round(p, 4)))
                    .collect::<Vec<_>>(),
            ),
            Column::new("why".into(), r.iter().map(|a| a.why).collect::<Vec<_>>()),
            Column::new("as_of".into(), vec![o.as_of.to_string(); r.len()]),
        ],
        "resolved accounts",
    )
}
