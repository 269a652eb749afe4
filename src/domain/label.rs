//! The churn definition, as a value: which window after a cutoff a label looks at, and how it is
//! described. Labels themselves are computed one floor up, by the label module.

use serde::{Deserialize, Serialize};

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
