//! The at-risk list from the scored accounts: who qualifies (a listed quadrant, not lost), the
//! ranking (expected value at risk), the capacity a team can work through (`max_listed`,
//! `max_listed_per_owner`), each entry's state across nights, and warnings when the rules list
//! nobody or too many, naming the rule that did it.

use std::collections::HashMap;

use crate::config::{KeyRule, RiskRule, Scoring};
use crate::score::outcome::{ListEntry, ScoredAccount};
use crate::segment::lifecycle::LifecycleStage;
use crate::segment::list_state::ListState;
use crate::segment::quadrant::Quadrant;
use crate::segment::reasons::percent;

/// The list and what did not fit on it.
#[derive(Debug, Default)]
pub struct Built {
    pub listed: Vec<ListEntry>,
    /// Accounts that qualify, listed or not.
    pub qualifying: usize,
    /// Qualifying accounts left off by the capacity, by index into the scored accounts.
    pub beyond_capacity: Vec<usize>,
}

/// Whether an account qualifies for the at-risk list: in a listed quadrant and not lost (one
/// account, one list: a lost account belongs to win-back).
pub fn qualifies(s: &Scoring, a: &ScoredAccount) -> bool {
    a.lifecycle != LifecycleStage::Lost && s.list_quadrants.contains(&a.quadrant)
}

/// Ranks the qualifying accounts by expected value at risk (ties by id) and fills the list up to
/// its capacity, per owner and in total.
pub fn build(
    scored: &[ScoredAccount],
    s: &Scoring,
    previous: Option<&ListState>,
    as_of: i32,
) -> Built {
    let mut order: Vec<usize> = (0..scored.len())
        .filter(|&i| qualifies(s, &scored[i]))
        .collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&scored[a], &scored[b]);
        b.expected_value_at_risk
            .total_cmp(&a.expected_value_at_risk)
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });
    let mut per_owner: HashMap<&str, usize> = HashMap::new();
    let mut built = Built {
        qualifying: order.len(),
        ..Built::default()
    };
    for i in order {
        let a = &scored[i];
        let owner = per_owner.entry(a.owner()).or_insert(0);
        let full = s
            .capacity
            .max_listed
            .is_some_and(|m| built.listed.len() >= m)
            || s.capacity.per_owner.is_some_and(|m| *owner >= m);
        if full {
            built.beyond_capacity.push(i);
            continue;
        }
        *owner += 1;
        let (status, first) = ListState::status(
            previous,
            &a.customer_id,
            a.churn_probability,
            s.escalation_margin,
            as_of,
        );
        built.listed.push(ListEntry {
            index: i,
            status,
            days_on_list: as_of - first + 1,
        });
    }
    built
}

fn risk_rule(r: RiskRule) -> String {
    match r {
        RiskRule::Probability(t) => format!("risk_rule = \"probability\", risk_threshold = {t}"),
        RiskRule::TopShare(s) => format!("risk_rule = \"top_share\", risk_top_share = {s}"),
        RiskRule::Cost {
            retention_cost,
            save_rate,
        } => format!(
            "risk_rule = \"cost\", retention_cost = {retention_cost}, save_rate = {save_rate}"
        ),
    }
}

fn key_rule(k: KeyRule) -> &'static str {
    match k {
        KeyRule::Pareto(_) => "key_rule = \"pareto\"",
        KeyRule::TopShare(_) => "key_rule = \"top_share\"",
        KeyRule::Weighted { .. } => "key_rule = \"weighted\"",
    }
}

/// Warnings for a list that is empty or holds more than `warn_listed_share` of the active
/// accounts, saying which rule caused it.
pub fn warnings(scored: &[ScoredAccount], s: &Scoring, built: &Built) -> Vec<String> {
    let n = scored.len();
    let key = scored.iter().filter(|a| a.key_account).count();
    let high = scored
        .iter()
        .filter(|a| matches!(a.quadrant, Quadrant::ActNow | Quadrant::LowCostRetention))
        .count();
    let in_quadrants = scored
        .iter()
        .filter(|a| s.list_quadrants.contains(&a.quadrant))
        .count();
    let top = scored
        .iter()
        .map(|a| a.churn_probability)
        .fold(0.0f64, f64::max);
    let quadrants = s
        .list_quadrants
        .iter()
        .map(|q| q.name())
        .collect::<Vec<_>>()
        .join(", ");
    if built.qualifying == 0 {
        let cause = if n == 0 {
            "no active account was scored".to_string()
        } else if high == 0
            && !s
                .list_quadrants
                .iter()
                .all(|q| matches!(q, Quadrant::Monitor | Quadrant::NoAction))
        {
            format!(
                "no account is high-risk under {} (the highest probability tonight is {})",
                risk_rule(s.risk),
                percent(top)
            )
        } else if key == 0 {
            format!("no account is a key account under {}", key_rule(s.key))
        } else if in_quadrants == 0 {
            format!(
                "no account is in the listed quadrants ({quadrants}): {key} key accounts under \
                 {} and {high} high-risk accounts under {}, none both",
                key_rule(s.key),
                risk_rule(s.risk)
            )
        } else {
            format!(
                "all {in_quadrants} accounts in the listed quadrants are past \
                 lifecycle.lost_after_days and belong on the win-back list"
            )
        };
        return vec![format!("the at-risk list is empty: {cause}")];
    }
    let share = built.qualifying as f64 / n.max(1) as f64;
    if share > s.warn_listed_share {
        return vec![format!(
            "{} accounts qualify for the at-risk list, {} of the {n} active accounts (more than \
             scoring.warn_listed_share = {}): {high} accounts are high-risk under {} and {key} \
             are key accounts under {}; a stricter risk rule (a higher threshold, or \
             risk_rule = \"top_share\") lists fewer",
            built.qualifying,
            percent(share),
            s.warn_listed_share,
            risk_rule(s.risk),
            key_rule(s.key)
        )];
    }
    Vec::new()
}
