//! Why an account is at risk, in words. For a linear model the exact contribution of feature j to
//! the churn log-odds (relative to an average account) is `coef_j * z_j`; the largest positive
//! ones become sentences with the account's own numbers.
//!
//! Correlated features can push each other's coefficients past zero (a high average order value
//! "raising" risk once total spend is accounted for). Such a contribution is real arithmetic but
//! no reason a person can act on, so a feature is only quoted when the account is on the risky
//! side of average for it: fewer orders, less spend, falling trends, longer gaps.

use crate::features::spec::{Agg, BtydOutput, FeatureSpec};
pub use crate::segment::sentences::{
    AccountFacts, Language, percent, recency_sentence, sentence, thousands,
};

/// True when a high value of the feature is the risky direction in plain terms.
fn high_is_risky(spec: &FeatureSpec) -> bool {
    matches!(
        spec,
        FeatureSpec::RecencyDays
            | FeatureSpec::OverdueRatio
            | FeatureSpec::PurchaseCycleDays
            | FeatureSpec::ArrearsOutstanding
            | FeatureSpec::ArrearsDaysOverdue
            | FeatureSpec::Complaints { .. }
            | FeatureSpec::SinglePurchaseDay
            | FeatureSpec::Btyd {
                output: BtydOutput::NoPurchaseLogit,
                ..
            }
    )
}

/// Sentences that tell the same story share a topic; only the strongest is written. Recency and
/// the overdue ratio are one topic, and so is any window with no purchase in it (recency >= w):
/// "no order for 158 days" already says "no orders in the last 90 days" and "spent 0".
fn topic(spec: &FeatureSpec, facts: AccountFacts) -> String {
    match spec {
        FeatureSpec::RecencyDays | FeatureSpec::OverdueRatio => "recency".into(),
        FeatureSpec::ArrearsOutstanding | FeatureSpec::ArrearsDaysOverdue => "arrears".into(),
        // The three expectations of one purchase model tell one story.
        FeatureSpec::Btyd { .. } => "btyd".into(),
        // "only one order day so far" is what the recency sentence says when there is no cycle.
        FeatureSpec::SinglePurchaseDay => "recency".into(),
        FeatureSpec::Window {
            agg, window_days, ..
        } if *agg != Agg::Trend && facts.recency_days.is_none_or(|r| r >= *window_days as f64) => {
            "recency".into()
        }
        other => other.name(),
    }
}

/// What a reason is about, for the action it points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonKind {
    /// An overdue invoice: finance.
    Arrears,
    /// Complaints: service recovery.
    Complaint,
    /// No order for longer than usual: a call.
    OverdueCycle,
    /// Spend, volume or trend.
    Other,
    /// No single feature: the overall pattern.
    Pattern,
}

/// One reason: the sentence and what it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub text: String,
    pub kind: ReasonKind,
}

fn kind_of(spec: &FeatureSpec, topic: &str) -> ReasonKind {
    match spec {
        FeatureSpec::ArrearsOutstanding | FeatureSpec::ArrearsDaysOverdue => ReasonKind::Arrears,
        FeatureSpec::Complaints { .. } => ReasonKind::Complaint,
        FeatureSpec::PurchaseCycleDays | FeatureSpec::Btyd { .. } => ReasonKind::OverdueCycle,
        _ if topic == "recency" => ReasonKind::OverdueCycle,
        _ => ReasonKind::Other,
    }
}

/// Up to `k` reasons for the largest positive contributions, strongest first, each with what it
/// is about. `z` are the standardised inputs and `contributions` the terms `coef_j * z_j`.
pub fn reasons(
    lang: Language,
    specs: &[FeatureSpec],
    z: &[f64],
    contributions: &[f64],
    raw: &[Option<f64>],
    facts: AccountFacts,
    k: usize,
) -> Vec<Reason> {
    let risky_side = |j: usize| {
        if high_is_risky(&specs[j]) {
            z[j] > 0.0
        } else {
            z[j] < 0.0
        }
    };
    let mut order: Vec<usize> = (0..specs.len())
        .filter(|&j| contributions[j] > 0.0 && risky_side(j))
        .collect();
    order.sort_by(|&a, &b| {
        contributions[b]
            .total_cmp(&contributions[a])
            .then(a.cmp(&b))
    });
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for j in order {
        let t = topic(&specs[j], facts);
        if seen.contains(&t) {
            continue;
        }
        let text = if t == "recency" {
            recency_sentence(lang, facts)
        } else {
            sentence(lang, &specs[j], raw[j], facts)
        };
        out.push(Reason {
            text,
            kind: kind_of(&specs[j], &t),
        });
        seen.push(t);
        if out.len() == k {
            break;
        }
    }
    out
}

/// The reason given when no single feature pushes the risk up: the features together do, and
/// the account's risk is compared with the typical listed-population account's.
pub fn pattern_reason(lang: Language, probability: f64, typical: f64) -> Reason {
    let (p, t) = (percent(probability), percent(typical));
    let text = match lang {
        Language::En => format!(
            "no single habit stands out; orders, spend and timing together put the risk at {p} \
             against {t} for a typical active account"
        ),
        Language::Zh => {
            format!("没有单一突出因素；订单、消费和时间综合来看，流失风险为{p}，一般活跃客户为{t}")
        }
    };
    Reason {
        text,
        kind: ReasonKind::Pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::spec::{Measure, window};

    fn texts(r: Vec<Reason>) -> Vec<String> {
        r.into_iter().map(|r| r.text).collect()
    }

    #[test]
    fn a_contribution_on_the_safe_side_of_average_is_not_a_reason() {
        // Above-average spend with a positive coefficient (collinearity): not quoted.
        let specs = [
            window(Measure::Amount, Agg::Mean, 365),
            FeatureSpec::RecencyDays,
        ];
        let r = texts(reasons(
            Language::En,
            &specs,
            &[1.5, 0.5],
            &[0.9, 0.2],
            &[Some(9000.0), Some(40.0)],
            AccountFacts {
                recency_days: Some(40.0),
                ..Default::default()
            },
            3,
        ));
        assert_eq!(r, ["no order for 40 days; only one order day so far"]);
    }

    #[test]
    fn an_account_without_a_single_risky_feature_still_gets_a_reason() {
        // Every contribution on the safe side: no feature reason.
        let specs = [FeatureSpec::RecencyDays];
        let r = reasons(
            Language::En,
            &specs,
            &[-1.0],
            &[-0.4],
            &[Some(3.0)],
            AccountFacts::default(),
            3,
        );
        assert!(r.is_empty());
        let p = pattern_reason(Language::En, 0.62, 0.18);
        assert_eq!(p.kind, ReasonKind::Pattern);
        assert!(
            p.text.contains("62.0%") && p.text.contains("18.0%"),
            "{}",
            p.text
        );
        assert!(
            pattern_reason(Language::Zh, 0.62, 0.18)
                .text
                .contains("62.0%")
        );
    }

    #[test]
    fn sentences_quote_the_accounts_numbers() {
        let facts = AccountFacts {
            recency_days: Some(95.0),
            cycle_days: Some(30.2),
            ..Default::default()
        };
        let specs = [
            FeatureSpec::RecencyDays,
            FeatureSpec::OverdueRatio,
            window(Measure::Amount, Agg::Trend, 90),
            window(Measure::Orders, Agg::Count, 180),
            window(Measure::Amount, Agg::Sum, 365),
            window(Measure::Amount, Agg::Sum, 90),
        ];
        let raw = [
            Some(95.0),
            Some(3.1),
            Some(0.38),
            Some(1.0),
            Some(-20.0),
            Some(0.0),
        ];
        let z = [2.0, 2.5, -1.5, -1.0, -2.0, -1.2];
        // The empty 90-day window (recency 95 >= 90) tells the recency story again: merged.
        let contributions = [0.9, 1.2, 0.5, 0.4, -0.3, 1.1];
        let r = texts(reasons(
            Language::En,
            &specs,
            &z,
            &contributions,
            &raw,
            facts,
            3,
        ));
        assert_eq!(
            r,
            [
                "no order for 95 days; usually orders every 30",
                "spend down 62% on the previous 90 days",
                "only 1 order in the last 180 days",
            ]
        );
    }
}
