//! The short terminal summary a person sees after a run: counts and the top of the list.

use crate::score::ScoreOutcome;
use crate::segment::reasons::{percent, thousands};

/// Renders the top `rows` listed accounts as a fixed-width table.
pub fn top_accounts(outcome: &ScoreOutcome, rows: usize) -> String {
    let key = outcome.key_accounts();
    let mut out = format!(
        "as of {}: {} active accounts scored with model {}; {} key accounts; {} on the at-risk list\n",
        outcome.as_of,
        outcome.scored.len(),
        outcome.model.model_id,
        key,
        outcome.listed.len()
    );
    if outcome.further_qualifying > 0 {
        out.push_str(&format!(
            "{} more accounts qualify but are beyond the list's capacity (scoring.max_listed, \
             max_listed_per_owner)\n",
            outcome.further_qualifying
        ));
    }
    if outcome.winback_beyond_capacity > 0 {
        out.push_str(&crate::report::sections::winback_beyond(
            outcome.winback_beyond_capacity,
        ));
        out.push('\n');
    }
    if outcome.listed.is_empty() || rows == 0 {
        return out;
    }
    out.push_str(&format!(
        "{:>4}  {:<12} {:<20} {:>7} {:>12} {:>12}  {:<9}  {}\n",
        "rank", "customer", "name", "p(churn)", "value_12m", "value@risk", "status", "why"
    ));
    for rank in 0..outcome.listed.len().min(rows) {
        let a = outcome.listed_account(rank);
        out.push_str(&format!(
            "{:>4}  {:<12} {:<20} {:>8} {:>12} {:>12}  {:<9}  {}\n",
            rank + 1,
            a.customer_id,
            a.name().chars().take(20).collect::<String>(),
            percent(a.churn_probability),
            thousands(a.value_12m),
            thousands(a.expected_value_at_risk),
            outcome.listed[rank].status.name(),
            a.reasons().first().map(String::as_str).unwrap_or("")
        ));
    }
    out
}
