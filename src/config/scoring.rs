//! `[scoring]` and `[lifecycle]`: the checked rules for key accounts, risk, the list and the
//! lifecycle stages, and the check that turns the raw sections into them, every problem reported.

use super::check::in_range;
use super::raw;
use crate::domain::language::Language;
use crate::domain::quadrant::Quadrant;

/// Which accounts count as high risk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RiskRule {
    /// P(churn) at or above the threshold.
    Probability(f64),
    /// The riskiest share of scored accounts.
    TopShare(f64),
    /// Worth a retention effort: p x next-period value x save rate > cost.
    Cost { retention_cost: f64, save_rate: f64 },
}

/// Which accounts are key accounts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyRule {
    /// Smallest set covering this share of trailing-12-month value.
    Pareto(f64),
    /// This share of accounts, by trailing-12-month value.
    TopShare(f64),
    /// This share of accounts, by a weighted score of percentile ranks.
    Weighted {
        share: f64,
        revenue: f64,
        volume: f64,
        arrears: f64,
        regularity: f64,
    },
}

/// How many accounts the list may hold (None: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Capacity {
    pub max_listed: Option<usize>,
    pub per_owner: Option<usize>,
}

/// Lifecycle thresholds (see `[lifecycle]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifecycleRules {
    pub new_days: f64,
    pub dormant_cycles: f64,
    pub dormant_days: f64,
    pub lost_after_days: f64,
    pub growing_trend: f64,
    pub declining_trend: f64,
}

/// Checked `[scoring]` and `[lifecycle]`.
#[derive(Debug, Clone)]
pub struct Scoring {
    pub risk: RiskRule,
    pub key: KeyRule,
    pub key_grace_days: i32,
    pub escalation_margin: f64,
    pub language: Language,
    pub list_quadrants: Vec<Quadrant>,
    pub summary_rows: usize,
    pub capacity: Capacity,
    /// The win-back list's capacity (None: no limit).
    pub max_winback: Option<usize>,
    pub warn_listed_share: f64,
    pub currency: String,
    pub lifecycle: LifecycleRules,
}

fn share(problems: &mut Vec<String>, key: &str, value: f64) -> f64 {
    if !(value > 0.0 && value <= 1.0) {
        problems.push(format!("{key}: expected a share in (0, 1], found {value}"));
    }
    value
}

/// Checks `[scoring]` (and `[lifecycle]`, which scoring reads).
///
/// Long by design: a checklist of `[scoring]`'s keys in the file's order.
pub(super) fn check_scoring(
    s: &raw::RawScoring,
    l: &raw::RawLifecycle,
    problems: &mut Vec<String>,
) -> Scoring {
    let risk = check_risk(s, problems);
    let key = check_key(s, problems);
    let language = match s.language.as_str() {
        "en" => Language::En,
        "zh" => Language::Zh,
        other => {
            problems.push(format!(
                "scoring.language: expected \"en\" or \"zh\", found {other:?}"
            ));
            Language::En
        }
    };
    let names: Vec<&str> = Quadrant::ALL.iter().map(|q| q.name()).collect();
    let list_quadrants: Vec<Quadrant> = s
        .list_quadrants
        .iter()
        .filter_map(|q| {
            let found = Quadrant::ALL.iter().copied().find(|k| k.name() == q);
            if found.is_none() {
                problems.push(format!(
                    "scoring.list_quadrants: unknown quadrant {q:?}; expected one of {}",
                    names.join(", ")
                ));
            }
            found
        })
        .collect();
    if s.list_quadrants.is_empty() {
        problems.push("scoring.list_quadrants: must name at least one quadrant".into());
    }
    in_range(problems, "scoring.summary_rows", s.summary_rows, 0, 10_000);
    in_range(problems, "scoring.max_listed", s.max_listed, 0, 100_000_000);
    in_range(
        problems,
        "scoring.max_listed_per_owner",
        s.max_listed_per_owner,
        0,
        100_000_000,
    );
    in_range(
        problems,
        "scoring.max_winback",
        s.max_winback,
        0,
        100_000_000,
    );
    share(problems, "scoring.warn_listed_share", s.warn_listed_share);
    if s.currency.chars().count() > 8 {
        problems.push(format!(
            "scoring.currency: expected a short label such as \"EUR\" or \"¥\", found {:?}",
            s.currency
        ));
    }
    in_range(
        problems,
        "scoring.key_grace_days",
        s.key_grace_days,
        0,
        3660,
    );
    if !(0.0..=1.0).contains(&s.escalation_margin) {
        problems.push(format!(
            "scoring.escalation_margin: expected 0..=1, found {}",
            s.escalation_margin
        ));
    }
    Scoring {
        risk,
        key,
        key_grace_days: s.key_grace_days as i32,
        escalation_margin: s.escalation_margin,
        language,
        list_quadrants,
        summary_rows: s.summary_rows.max(0) as usize,
        capacity: Capacity {
            max_listed: (s.max_listed > 0).then_some(s.max_listed as usize),
            per_owner: (s.max_listed_per_owner > 0).then_some(s.max_listed_per_owner as usize),
        },
        max_winback: (s.max_winback > 0).then_some(s.max_winback as usize),
        warn_listed_share: s.warn_listed_share,
        currency: s.currency.clone(),
        lifecycle: check_lifecycle(l, problems),
    }
}

/// The high-risk rule: `risk_rule` and the keys it reads.
fn check_risk(s: &raw::RawScoring, problems: &mut Vec<String>) -> RiskRule {
    match s.risk_rule.as_str() {
        "probability" => {
            if !(s.risk_threshold > 0.0 && s.risk_threshold < 1.0) {
                problems.push(format!(
                    "scoring.risk_threshold: expected a probability strictly between 0 and 1, found {}",
                    s.risk_threshold
                ));
            }
            RiskRule::Probability(s.risk_threshold)
        }
        "top_share" => {
            RiskRule::TopShare(share(problems, "scoring.risk_top_share", s.risk_top_share))
        }
        "cost" => {
            if !(s.retention_cost >= 0.0 && s.retention_cost.is_finite()) {
                problems.push(format!(
                    "scoring.retention_cost: expected a non-negative amount, found {}",
                    s.retention_cost
                ));
            }
            RiskRule::Cost {
                retention_cost: s.retention_cost,
                save_rate: share(problems, "scoring.save_rate", s.save_rate),
            }
        }
        other => {
            problems.push(format!(
                "scoring.risk_rule: expected probability, top_share or cost, found {other:?}"
            ));
            RiskRule::Probability(0.5)
        }
    }
}

/// The key-account rule: `key_rule` and the keys it reads.
fn check_key(s: &raw::RawScoring, problems: &mut Vec<String>) -> KeyRule {
    match s.key_rule.as_str() {
        "pareto" => KeyRule::Pareto(share(
            problems,
            "scoring.key_value_share",
            s.key_value_share,
        )),
        "top_share" => KeyRule::TopShare(share(problems, "scoring.key_top_share", s.key_top_share)),
        "weighted" => {
            let w = &s.key_weights;
            if [w.revenue, w.volume, w.arrears, w.regularity]
                .iter()
                .any(|v| !(*v >= 0.0 && v.is_finite()))
                || w.revenue + w.volume + w.arrears + w.regularity <= 0.0
            {
                problems.push(format!("scoring.key_weights: expected non-negative weights with a positive sum, found {w:?}"));
            }
            KeyRule::Weighted {
                share: share(problems, "scoring.key_top_share", s.key_top_share),
                revenue: w.revenue,
                volume: w.volume,
                arrears: w.arrears,
                regularity: w.regularity,
            }
        }
        other => {
            problems.push(format!(
                "scoring.key_rule: expected pareto, top_share or weighted, found {other:?}"
            ));
            KeyRule::Pareto(0.8)
        }
    }
}

/// Checks `[lifecycle]`: the thresholds of the stages.
fn check_lifecycle(l: &raw::RawLifecycle, problems: &mut Vec<String>) -> LifecycleRules {
    in_range(problems, "lifecycle.new_days", l.new_days, 0, 3660);
    in_range(problems, "lifecycle.dormant_days", l.dormant_days, 1, 3660);
    in_range(
        problems,
        "lifecycle.lost_after_days",
        l.lost_after_days,
        1,
        3660,
    );
    if !(l.dormant_cycles > 0.0
        && l.growing_trend > 1.0
        && l.declining_trend > 0.0
        && l.declining_trend < 1.0)
    {
        problems.push(format!(
            "lifecycle: expected dormant_cycles > 0, growing_trend > 1 and 0 < declining_trend < 1, found {}, {}, {}",
            l.dormant_cycles, l.growing_trend, l.declining_trend
        ));
    }
    LifecycleRules {
        new_days: l.new_days as f64,
        dormant_cycles: l.dormant_cycles,
        dormant_days: l.dormant_days as f64,
        lost_after_days: l.lost_after_days as f64,
        growing_trend: l.growing_trend,
        declining_trend: l.declining_trend,
    }
}
