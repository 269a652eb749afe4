//! Why an account is at risk, in words. For a linear model the exact contribution of feature j to
//! the churn log-odds (relative to an average account) is `coef_j * z_j`; the largest positive
//! ones become sentences with the account's own numbers.
//!
//! Correlated features can push each other's coefficients past zero (a high average order value
//! "raising" risk once total spend is accounted for). Such a contribution is real arithmetic but
//! no reason a person can act on, so a feature is only quoted when the account is on the risky
//! side of average for it: fewer orders, less spend, falling trends, longer gaps.

use crate::features::spec::{Agg, FeatureSpec, Measure};

/// The numbers a sentence may quote besides the feature itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountFacts {
    pub recency_days: Option<f64>,
    pub cycle_days: Option<f64>,
}

/// Formats money and counts with thousands separators and no decimals: 42000.4 -> "42,000".
pub fn thousands(x: f64) -> String {
    let neg = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if neg { format!("-{out}") } else { out }
}

fn change(ratio: f64, what: &str, window: i32) -> String {
    let pct = ((ratio - 1.0) * 100.0).round();
    if pct < 0.0 {
        format!("{what} down {}% on the previous {window} days", -pct)
    } else {
        format!("{what} up {pct}% on the previous {window} days")
    }
}

fn recency_sentence(facts: AccountFacts) -> String {
    match (facts.recency_days, facts.cycle_days) {
        (Some(r), Some(c)) => format!("no order for {r:.0} days; usually orders every {c:.0}"),
        (Some(r), None) => format!("no order for {r:.0} days; only one order day so far"),
        _ => "no recent order".into(),
    }
}

/// A short sentence explaining feature `spec` with value `raw` for one account.
pub fn sentence(spec: &FeatureSpec, raw: Option<f64>, facts: AccountFacts) -> String {
    let v = raw.unwrap_or(0.0);
    match *spec {
        FeatureSpec::RecencyDays | FeatureSpec::OverdueRatio => recency_sentence(facts),
        FeatureSpec::TenureDays => format!("customer for {v:.0} days"),
        FeatureSpec::PurchaseCycleDays => match raw {
            Some(c) => format!("orders rarely: usually every {c:.0} days"),
            None => "only one order day so far".into(),
        },
        FeatureSpec::Window {
            measure,
            agg,
            window_days: w,
        } => match (measure, agg) {
            (Measure::Orders, Agg::Trend) => change(v, "orders", w),
            (Measure::Amount, Agg::Trend) => change(v, "spend", w),
            (Measure::Quantity, Agg::Trend) => change(v, "units bought", w),
            (Measure::Orders, _) => match v.round() as i64 {
                0 => format!("no orders in the last {w} days"),
                1 => format!("only 1 order in the last {w} days"),
                n => format!("only {n} orders in the last {w} days"),
            },
            (Measure::Amount, Agg::Mean) => {
                format!("average order {} over the last {w} days", thousands(v))
            }
            (Measure::Amount, Agg::Max) => {
                format!("largest order {} in the last {w} days", thousands(v))
            }
            (Measure::Amount, _) => format!("spent {} in the last {w} days", thousands(v)),
            (Measure::Quantity, _) => format!("bought {} units in the last {w} days", thousands(v)),
        },
    }
}

/// True when a high value of the feature is the risky direction in plain terms.
fn high_is_risky(spec: &FeatureSpec) -> bool {
    matches!(
        spec,
        FeatureSpec::RecencyDays | FeatureSpec::OverdueRatio | FeatureSpec::PurchaseCycleDays
    )
}

/// Sentences that tell the same story share a topic; only the strongest is written. Recency and
/// the overdue ratio are one topic, and so is any window with no purchase in it (recency >= w):
/// "no order for 158 days" already says "no orders in the last 90 days" and "spent 0".
fn topic(spec: &FeatureSpec, facts: AccountFacts) -> String {
    match spec {
        FeatureSpec::RecencyDays | FeatureSpec::OverdueRatio => "recency".into(),
        FeatureSpec::Window {
            agg, window_days, ..
        } if *agg != Agg::Trend && facts.recency_days.is_none_or(|r| r >= *window_days as f64) => {
            "recency".into()
        }
        other => other.name(),
    }
}

/// Up to `k` sentences for the largest positive contributions, strongest first.
/// `z` are the standardised inputs and `contributions` the terms `coef_j * z_j`.
pub fn top_reasons(
    specs: &[FeatureSpec],
    z: &[f64],
    contributions: &[f64],
    raw: &[Option<f64>],
    facts: AccountFacts,
    k: usize,
) -> Vec<String> {
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
        out.push(if t == "recency" {
            recency_sentence(facts)
        } else {
            sentence(&specs[j], raw[j], facts)
        });
        seen.push(t);
        if out.len() == k {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::spec::window;

    #[test]
    fn a_contribution_on_the_safe_side_of_average_is_not_a_reason() {
        // Above-average spend with a positive coefficient (collinearity): not quoted.
        let specs = [
            window(Measure::Amount, Agg::Mean, 365),
            FeatureSpec::RecencyDays,
        ];
        let r = top_reasons(
            &specs,
            &[1.5, 0.5],
            &[0.9, 0.2],
            &[Some(9000.0), Some(40.0)],
            AccountFacts {
                recency_days: Some(40.0),
                cycle_days: None,
            },
            3,
        );
        assert_eq!(r, ["no order for 40 days; only one order day so far"]);
    }

    #[test]
    fn money_gets_thousands_separators() {
        assert_eq!(thousands(42000.4), "42,000");
        assert_eq!(thousands(999.5), "1,000");
        assert_eq!(thousands(-1234567.0), "-1,234,567");
        assert_eq!(thousands(12.0), "12");
    }

    #[test]
    fn sentences_quote_the_accounts_numbers() {
        let facts = AccountFacts {
            recency_days: Some(95.0),
            cycle_days: Some(30.2),
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
        let r = top_reasons(&specs, &z, &contributions, &raw, facts, 3);
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
