//! Accounts that left the list since the previous night, and why.

use std::collections::{HashMap, HashSet};

use crate::score::outcome::{ListEntry, Resolved, ScoredAccount};
use crate::segment::list_state::ListState;

/// Accounts on the previous list that are not on tonight's, with why.
pub(super) fn since(
    previous: Option<&ListState>,
    scored: &[ScoredAccount],
    listed: &[ListEntry],
    beyond_capacity: &[usize],
    as_of: i32,
) -> Vec<Resolved> {
    let Some(prev) = previous else {
        return Vec::new();
    };
    let prev_day = prev.as_of.number();
    let tonight: HashSet<&str> = listed
        .iter()
        .map(|e| scored[e.index].customer_id.as_str())
        .collect();
    let beyond: HashSet<&str> = beyond_capacity
        .iter()
        .map(|&i| scored[i].customer_id.as_str())
        .collect();
    let by_id: HashMap<&str, &ScoredAccount> =
        scored.iter().map(|a| (a.customer_id.as_str(), a)).collect();
    prev.listed
        .iter()
        .filter(|(id, _)| !tonight.contains(id.as_str()))
        .map(|(id, l)| {
            let now = by_id.get(id.as_str());
            let why = match now {
                None => "no longer scored: no purchase within the active window",
                Some(_) if beyond.contains(id.as_str()) => {
                    "still qualifies, but beyond the list's capacity tonight"
                }
                Some(a) if a.days_since_last_purchase < (as_of - prev_day) as f64 => {
                    "ordered again"
                }
                Some(a) if !a.key_account => "no longer a key account",
                Some(_) => "risk fell below the line",
            };
            Resolved {
                customer_id: id.clone(),
                first_listed: l.first_listed,
                last_probability: l.churn_probability,
                probability_now: now.map(|a| a.churn_probability),
                why,
            }
        })
        .collect()
}
