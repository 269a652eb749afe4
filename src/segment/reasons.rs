//! Why an account is at risk, in words. For a linear model the exact contribution of feature j to
//! the churn log-odds (relative to an average account) is `coef_j * z_j`; the largest positive
//! ones become sentences with the account's own numbers.

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

/// Recency and overdue ratio tell the same story; only the stronger one is written.
fn topic(spec: &FeatureSpec) -> String {
    match spec {
        FeatureSpec::RecencyDays | FeatureSpec::OverdueRatio => "recency".into(),
        other => other.name(),
    }
}

/// Up to `k` sentences for the largest positive contributions, strongest first.
pub fn top_reasons(
    specs: &[FeatureSpec],
    contributions: &[f64],
    raw: &[Option<f64>],
    facts: AccountFacts,
    k: usize,
) -> Vec<String> {
    let mut order: Vec<usize> = (0..specs.len())
        .filter(|&j| contributions[j] > 0.0)
        .collect();
    order.sort_by(|&a, &b| {
        contributions[b]
            .total_cmp(&contributions[a])
            .then(a.cmp(&b))
    });
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for j in order {
        let t = topic(&specs[j]);
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        out.push(sentence(&specs[j], raw[j], facts));
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
            window(Measure::Orders, Agg::Count, 90),
            window(Measure::Amount, Agg::Sum, 365),
        ];
        let raw = [Some(95.0), Some(3.1), Some(0.38), Some(1.0), Some(-20.0)];
        let contributions = [0.9, 1.2, 0.5, 0.4, -0.3];
        let r = top_reasons(&specs, &contributions, &raw, facts, 3);
        assert_eq!(
            r,
            [
                "no order for 95 days; usually orders every 30",
                "spend down 62% on the previous 90 days",
                "only 1 order in the last 90 days",
            ]
        );
    }
}
