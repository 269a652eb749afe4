//! What scoring one night produces ([`ScoreOutcome`]): every scored account, the list in rank
//! order, resolved accounts, the win-back list; the report floor writes it.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::model::artifact::ModelArtifact;
use crate::segment::lifecycle::LifecycleStage;
use crate::segment::list_state::{ListState, Status};
use crate::segment::quadrant::Quadrant;
use crate::segment::winback::WinbackAccount;
use crate::util::dates::Day;
use crate::warehouse::side;

/// Columns of `at_risk_key_accounts.csv`, in order (README "Outputs").
pub const LIST_COLUMNS: [&str; 23] = [
    "rank",
    "customer_id",
    "name",
    "owner",
    "churn_probability",
    "value_12m",
    "expected_value_at_risk",
    "key_account",
    "quadrant",
    "action",
    "lifecycle_stage",
    "days_since_last_purchase",
    "usual_cycle_days",
    "reason_1",
    "reason_2",
    "reason_3",
    "status",
    "days_on_list",
    "model_id",
    "as_of",
    "region",
    "previous_probability",
    "probability_change",
];

/// One scored account. Held for every active account (5 million at 10^8 rows), so what only
/// some accounts have is boxed: the customer master's names (for the accounts it names) and the
/// explanation (for the listed ones); 104 bytes per account instead of 224.
#[derive(Debug, Clone)]
pub struct ScoredAccount {
    pub customer_id: String,
    /// Name, owner and region from the customer master; `None` when it does not name the account.
    pub info: Option<Box<side::CustomerInfo>>,
    pub churn_probability: f64,
    pub value_12m: f64,
    pub expected_value_at_risk: f64,
    pub key_account: bool,
    pub quadrant: Quadrant,
    pub lifecycle: LifecycleStage,
    pub days_since_last_purchase: f64,
    pub usual_cycle_days: Option<f64>,
    /// Written by scoring for the listed accounts only.
    pub explained: Option<Box<Explained>>,
}

/// Why a listed account is listed, and what to do.
#[derive(Debug, Clone, Default)]
pub struct Explained {
    pub reasons: Vec<String>,
    /// What to do, from the quadrant and the strongest reason (`segment::action`).
    pub action: String,
    /// The probability on the previous night's list, when the account was on it.
    pub previous_probability: Option<f64>,
}

impl ScoredAccount {
    /// The master's name of the account ("" when unknown).
    pub fn name(&self) -> &str {
        self.info.as_ref().map_or("", |i| i.name.as_str())
    }
    /// The account's owner ("" when unknown).
    pub fn owner(&self) -> &str {
        self.info.as_ref().map_or("", |i| i.owner.as_str())
    }
    /// The account's region ("" when unknown).
    pub fn region(&self) -> &str {
        self.info.as_ref().map_or("", |i| i.region.as_str())
    }
    /// The reasons of a listed account (none for the others).
    pub fn reasons(&self) -> &[String] {
        self.explained
            .as_ref()
            .map_or(&[], |e| e.reasons.as_slice())
    }
    /// The action of a listed account ("" for the others).
    pub fn action(&self) -> &str {
        self.explained.as_ref().map_or("", |e| e.action.as_str())
    }
    /// The previous night's probability of a listed account that was on that list.
    pub fn previous_probability(&self) -> Option<f64> {
        self.explained.as_ref().and_then(|e| e.previous_probability)
    }
}

/// A listed account's state across nights.
#[derive(Debug, Clone, Copy)]
pub struct ListEntry {
    pub index: usize,
    pub status: Status,
    pub days_on_list: i32,
}

/// An account that left the list since the previous night.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub customer_id: String,
    pub first_listed: Day,
    pub last_probability: f64,
    pub probability_now: Option<f64>,
    pub why: &'static str,
}

/// What `score` produced.
#[derive(Debug)]
pub struct ScoreOutcome {
    pub as_of: Day,
    pub model: ModelArtifact,
    /// Every scored account, in customer id order.
    pub scored: Vec<ScoredAccount>,
    /// The at-risk list, in rank order.
    pub listed: Vec<ListEntry>,
    pub resolved: Vec<Resolved>,
    pub winback: Vec<WinbackAccount>,
    pub outputs: Vec<PathBuf>,
    /// Accounts that qualified for the list but were beyond its capacity.
    pub further_qualifying: usize,
    /// Lapsed key accounts beyond the win-back list's capacity (`scoring.max_winback`).
    pub winback_beyond_capacity: usize,
    /// The list is empty or too long, and which rule caused it.
    pub warnings: Vec<String>,
    /// The currency label for money in the report ("" for none).
    pub currency: String,
    /// The BTYD models fitted tonight that the scored BTYD features come from.
    pub btyd_fits: Vec<crate::model::artifact::BtydFit>,
}

impl ScoreOutcome {
    /// How many scored accounts are key accounts.
    pub fn key_accounts(&self) -> usize {
        self.scored.iter().filter(|a| a.key_account).count()
    }

    /// Expected value at risk summed over the listed accounts.
    pub fn listed_value_at_risk(&self) -> f64 {
        self.listed
            .iter()
            .map(|e| self.scored[e.index].expected_value_at_risk)
            .sum()
    }

    /// The listed account at rank `r` (0-based).
    pub fn listed_account(&self, r: usize) -> &ScoredAccount {
        &self.scored[self.listed[r].index]
    }
}

/// What scoring leaves for the writers (`app::score_night`): the outcome, the customer master
/// (names on the win-back list) and tonight's list state, to be saved only once every output is
/// in place, so a night killed while writing is scored again against the same previous night.
pub struct Scored {
    pub outcome: ScoreOutcome,
    pub master: HashMap<String, side::CustomerInfo>,
    pub state: ListState,
    pub state_dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule the boxing keeps: an account that is neither named nor listed costs its id and
    /// numbers only (a regression here is 100+ MB at 10^8 rows).
    #[test]
    fn a_scored_account_holds_its_numbers_and_two_pointers() {
        assert!(
            std::mem::size_of::<ScoredAccount>() <= 104,
            "{} bytes",
            std::mem::size_of::<ScoredAccount>()
        );
    }
}
