//! `[scoring]` and `[lifecycle]` as written: the key-account rule and its weights, risk, the
//! lists' capacity and language, and the lifecycle thresholds, each with its default.

use serde::Deserialize;

/// `[scoring]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawScoring {
    /// `probability` (at or above `risk_threshold`), `top_share` (the riskiest `risk_top_share`
    /// of accounts) or `cost` (p x next-period value x `save_rate` above `retention_cost`).
    pub risk_rule: String,
    pub risk_threshold: f64,
    pub risk_top_share: f64,
    pub retention_cost: f64,
    pub save_rate: f64,
    /// `pareto` (smallest set covering `key_value_share` of 12-month value), `top_share` (top
    /// `key_top_share` by value) or `weighted` (top `key_top_share` by a weighted score).
    pub key_rule: String,
    pub key_value_share: f64,
    pub key_top_share: f64,
    pub key_weights: RawKeyWeights,
    /// A key account that drops below the line stays key for this many days.
    pub key_grace_days: i64,
    /// Risk rise (probability points) since the previous list that marks an account escalated.
    pub escalation_margin: f64,
    /// `en` or `zh`: the language of reasons.
    pub language: String,
    /// Quadrants that appear on the at-risk list.
    pub list_quadrants: Vec<String>,
    /// How many accounts the terminal summary shows.
    pub summary_rows: i64,
    /// The list's capacity: at most this many accounts, highest expected value at risk first
    /// (0: no limit). The others that qualify are counted, not listed.
    pub max_listed: i64,
    /// At most this many accounts per owner (0: no limit); accounts without an owner share one.
    pub max_listed_per_owner: i64,
    /// The win-back list's capacity: at most this many lapsed key accounts, most valuable first
    /// (0: no limit). The others are counted, not listed.
    pub max_winback: i64,
    /// Warn when more than this share of active accounts qualifies for the list.
    pub warn_listed_share: f64,
    /// The label written before money in the report ("EUR", "¥"); empty: none.
    pub currency: String,
}

impl Default for RawScoring {
    fn default() -> Self {
        Self {
            risk_rule: "probability".into(),
            risk_threshold: 0.5,
            risk_top_share: 0.2,
            retention_cost: 100.0,
            save_rate: 0.3,
            key_rule: "pareto".into(),
            key_value_share: 0.8,
            key_top_share: 0.2,
            key_weights: RawKeyWeights::default(),
            key_grace_days: 30,
            escalation_margin: 0.1,
            language: "en".into(),
            list_quadrants: vec!["act_now".into()],
            summary_rows: 10,
            max_listed: 1000,
            max_listed_per_owner: 0,
            max_winback: 1000,
            warn_listed_share: 0.1,
            currency: String::new(),
        }
    }
}

/// `[scoring.key_weights]`: weights of the weighted key-account score (percentile ranks).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawKeyWeights {
    pub revenue: f64,
    pub volume: f64,
    pub arrears: f64,
    pub regularity: f64,
}

impl Default for RawKeyWeights {
    fn default() -> Self {
        Self {
            revenue: 0.5,
            volume: 0.2,
            arrears: 0.1,
            regularity: 0.2,
        }
    }
}

/// `[lifecycle]`: thresholds of the lifecycle stages.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLifecycle {
    /// Tenure up to this many days: new.
    pub new_days: i64,
    /// No order for more than this many usual cycles: dormant.
    pub dormant_cycles: f64,
    /// ... or, without a usual cycle yet, for more than this many days.
    pub dormant_days: i64,
    /// No order for more than this many days: lost.
    pub lost_after_days: i64,
    /// 90-day spend trend at or above this: growing.
    pub growing_trend: f64,
    /// 90-day spend trend at or below this: declining.
    pub declining_trend: f64,
}

impl Default for RawLifecycle {
    fn default() -> Self {
        Self {
            new_days: 90,
            dormant_cycles: 2.0,
            dormant_days: 90,
            lost_after_days: 180,
            growing_trend: 1.25,
            declining_trend: 0.75,
        }
    }
}
