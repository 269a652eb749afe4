//! The churn definition, as a value: which window after a cutoff a label looks at, and how it is
//! described; and the labels themselves, from the facts an engine reports (`outcomes`, the rule
//! every engine's labels are checked against: the SQL engines also render it, `engine::sql::labels`).

use serde::{Deserialize, Serialize};

use crate::domain::facts::OutcomeFacts;
use crate::domain::feature::FeatureSpec;
use crate::domain::table::{CustomerId, FeatureTable};

/// What the labels read of a cutoff's features: recency (who is active) and the usual cycle
/// (the cycle-relative rule).
pub const LABEL_INPUTS: [FeatureSpec; 2] =
    [FeatureSpec::RecencyDays, FeatureSpec::PurchaseCycleDays];

/// The labels of a cutoff's active population, customers in id order.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveLabels {
    pub customer_ids: Vec<CustomerId>,
    pub outcomes: Outcomes,
}

/// The churn definition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LabelRule {
    FixedHorizon {
        horizon_days: i32,
    },
    CycleRelative {
        cycle_multiple: f64,
        min_days: i32,
        max_days: i32,
    },
    ValueDrop {
        horizon_days: i32,
        drop_fraction: f64,
    },
}

impl LabelRule {
    /// Days after the cutoff the label may look at.
    pub fn max_window(&self) -> i32 {
        match *self {
            LabelRule::FixedHorizon { horizon_days } => horizon_days,
            LabelRule::CycleRelative { max_days, .. } => max_days,
            LabelRule::ValueDrop { horizon_days, .. } => horizon_days,
        }
    }

    /// The "next period" used to value what a churner takes away.
    pub fn value_horizon(&self) -> i32 {
        match *self {
            LabelRule::CycleRelative { max_days, .. } => max_days,
            other => other.max_window(),
        }
    }

    /// A sentence for the model card.
    pub fn describe(&self) -> String {
        match *self {
            LabelRule::FixedHorizon { horizon_days } => {
                format!("no purchase in the {horizon_days} days after the cutoff")
            }
            LabelRule::CycleRelative {
                cycle_multiple,
                min_days,
                max_days,
            } => format!(
                "no purchase within {cycle_multiple} times the customer's usual days between \
                 orders after the cutoff (at least {min_days}, at most {max_days} days)"
            ),
            LabelRule::ValueDrop {
                horizon_days,
                drop_fraction,
            } => format!(
                "net spend in the {horizon_days} days after the cutoff below {:.0}% of the {horizon_days} \
                 days before it",
                drop_fraction * 100.0
            ),
        }
    }
}

/// What happened to each customer after a cutoff.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcomes {
    /// The churn label.
    pub churned: Vec<bool>,
    /// Value not brought in the next period compared with the previous one (>= 0).
    pub lost_value: Vec<f64>,
}

/// Labels and lost value for `rows` of `table` (features as of the cutoff) from their `facts`
/// (one per row, in order; see `engine::Backend::outcome_facts`, with the rule's
/// `max_window()` and `value_horizon()`).
pub fn outcomes(
    rule: &LabelRule,
    table: &FeatureTable,
    rows: &[usize],
    facts: &[OutcomeFacts],
) -> Outcomes {
    let cutoff = table.as_of;
    let cycle = table.column("purchase_cycle_days");

    let mut churned = Vec::with_capacity(rows.len());
    let mut lost_value = Vec::with_capacity(rows.len());
    for (&r, f) in rows.iter().zip(facts) {
        let next = f.next_purchase_day.map(|d| d - cutoff);
        let (next_v, prev_v) = (f.next_value, f.previous_value);
        let bought_within = |days: i32| next.is_some_and(|d| d <= days);
        churned.push(match *rule {
            LabelRule::FixedHorizon { horizon_days } => !bought_within(horizon_days),
            LabelRule::CycleRelative {
                cycle_multiple,
                min_days,
                max_days,
            } => {
                let usual = cycle.and_then(|c| c.get(r));
                let w = usual
                    .map(|c| ((c * cycle_multiple).round() as i32).clamp(min_days, max_days))
                    .unwrap_or(max_days);
                !bought_within(w)
            }
            LabelRule::ValueDrop {
                horizon_days,
                drop_fraction,
            } => {
                if prev_v > 0.0 {
                    next_v < drop_fraction * prev_v
                } else {
                    !bought_within(horizon_days)
                }
            }
        });
        lost_value.push((prev_v - next_v).max(0.0));
    }
    Outcomes {
        churned,
        lost_value,
    }
}
