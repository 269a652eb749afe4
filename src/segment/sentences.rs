//! The sentences reasons are written in, with the account's own numbers, in English and
//! Chinese; and the number formats lists and reports share (thousands, percentages).

use crate::features::spec::{Agg, FeatureSpec, Measure};

pub use crate::domain::language::Language;

/// The numbers a sentence may quote besides the feature itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountFacts {
    pub recency_days: Option<f64>,
    pub cycle_days: Option<f64>,
    pub arrears_outstanding: Option<f64>,
    pub arrears_days_overdue: Option<f64>,
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

fn change(lang: Language, ratio: f64, what: (&str, &str), window: i32) -> String {
    let pct = ((ratio - 1.0) * 100.0).round();
    match (lang, pct < 0.0) {
        (Language::En, true) => format!("{} down {}% on the previous {window} days", what.0, -pct),
        (Language::En, false) => format!("{} up {pct}% on the previous {window} days", what.0),
        (Language::Zh, true) => format!("{}较前{window}天下降{}%", what.1, -pct),
        (Language::Zh, false) => format!("{}较前{window}天上升{pct}%", what.1),
    }
}

pub fn recency_sentence(lang: Language, facts: AccountFacts) -> String {
    match (lang, facts.recency_days, facts.cycle_days) {
        (Language::En, Some(r), Some(c)) => {
            format!("no order for {r:.0} days; usually orders every {c:.0}")
        }
        (Language::En, Some(r), None) => {
            format!("no order for {r:.0} days; only one order day so far")
        }
        (Language::En, None, _) => "no recent order".into(),
        (Language::Zh, Some(r), Some(c)) => format!("已有{r:.0}天未下单；通常每{c:.0}天下单一次"),
        (Language::Zh, Some(r), None) => format!("已有{r:.0}天未下单；至今仅有一个下单日"),
        (Language::Zh, None, _) => "近期无订单".into(),
    }
}

fn arrears_sentence(lang: Language, facts: AccountFacts) -> String {
    let amount = thousands(facts.arrears_outstanding.unwrap_or(0.0));
    let days = facts.arrears_days_overdue.unwrap_or(0.0);
    match lang {
        Language::En => format!("{amount} overdue for {days:.0} days"),
        Language::Zh => format!("欠款{amount}，已逾期{days:.0}天"),
    }
}

/// A short sentence explaining feature `spec` with value `raw` for one account.
pub fn sentence(
    lang: Language,
    spec: &FeatureSpec,
    raw: Option<f64>,
    facts: AccountFacts,
) -> String {
    use Language::{En, Zh};
    let v = raw.unwrap_or(0.0);
    let x = thousands(v);
    match *spec {
        FeatureSpec::RecencyDays | FeatureSpec::OverdueRatio => recency_sentence(lang, facts),
        FeatureSpec::ArrearsOutstanding | FeatureSpec::ArrearsDaysOverdue => {
            arrears_sentence(lang, facts)
        }
        FeatureSpec::Complaints { window_days: w } => match (lang, v.round() as i64) {
            (En, 1) => format!("1 complaint in the last {w} days"),
            (En, n) => format!("{n} complaints in the last {w} days"),
            (Zh, n) => format!("近{w}天投诉{n}次"),
        },
        FeatureSpec::TenureDays => match lang {
            En => format!("customer for {v:.0} days"),
            Zh => format!("成为客户{v:.0}天"),
        },
        FeatureSpec::PurchaseCycleDays => match (lang, raw) {
            (En, Some(c)) => format!("orders rarely: usually every {c:.0} days"),
            (En, None) => "only one order day so far".into(),
            (Zh, Some(c)) => format!("下单稀少：通常每{c:.0}天一次"),
            (Zh, None) => "至今仅有一个下单日".into(),
        },
        FeatureSpec::Window {
            measure,
            agg,
            window_days: w,
        } => match (measure, agg, lang) {
            (Measure::Orders, Agg::Trend, _) => change(lang, v, ("orders", "订单数"), w),
            (Measure::Amount, Agg::Trend, _) => change(lang, v, ("spend", "消费额"), w),
            (Measure::Quantity, Agg::Trend, _) => change(lang, v, ("units bought", "购买数量"), w),
            (Measure::Orders, _, En) => match v.round() as i64 {
                0 => format!("no orders in the last {w} days"),
                1 => format!("only 1 order in the last {w} days"),
                n => format!("only {n} orders in the last {w} days"),
            },
            (Measure::Orders, _, Zh) => match v.round() as i64 {
                0 => format!("近{w}天无订单"),
                n => format!("近{w}天仅{n}笔订单"),
            },
            (Measure::Amount, Agg::Mean, En) => format!("average order {x} over the last {w} days"),
            (Measure::Amount, Agg::Mean, Zh) => format!("近{w}天平均订单金额{x}"),
            (Measure::Amount, Agg::Max, En) => format!("largest order {x} in the last {w} days"),
            (Measure::Amount, Agg::Max, Zh) => format!("近{w}天最大订单金额{x}"),
            (Measure::Amount, _, En) => format!("spent {x} in the last {w} days"),
            (Measure::Amount, _, Zh) => format!("近{w}天消费{x}"),
            (Measure::Quantity, _, En) => format!("bought {x} units in the last {w} days"),
            (Measure::Quantity, _, Zh) => format!("近{w}天购买{x}件"),
        },
    }
}

/// A probability as a percentage with one decimal: 0.995 -> "99.5%" (never "100%" for less).
pub fn percent(p: f64) -> String {
    let x = (p * 1000.0).floor() / 10.0;
    format!("{x:.1}%")
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
    fn probabilities_keep_one_decimal_and_never_round_up_to_certainty() {
        assert_eq!(percent(0.995), "99.5%");
        assert_eq!(percent(0.99999), "99.9%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(0.1234), "12.3%");
    }

    #[test]
    fn every_sentence_in_both_languages() {
        let facts = AccountFacts {
            recency_days: Some(95.0),
            cycle_days: Some(30.0),
            arrears_outstanding: Some(42_000.0),
            arrears_days_overdue: Some(75.0),
        };
        let cases: Vec<(FeatureSpec, Option<f64>)> = vec![
            (FeatureSpec::RecencyDays, Some(95.0)),
            (FeatureSpec::TenureDays, Some(45.0)),
            (FeatureSpec::PurchaseCycleDays, Some(30.0)),
            (FeatureSpec::PurchaseCycleDays, None),
            (FeatureSpec::ArrearsOutstanding, Some(42_000.0)),
            (FeatureSpec::Complaints { window_days: 90 }, Some(3.0)),
            (FeatureSpec::Complaints { window_days: 90 }, Some(1.0)),
            (window(Measure::Orders, Agg::Count, 90), Some(0.0)),
            (window(Measure::Orders, Agg::Count, 90), Some(2.0)),
            (window(Measure::Orders, Agg::Trend, 90), Some(0.5)),
            (window(Measure::Amount, Agg::Trend, 90), Some(0.38)),
            (window(Measure::Amount, Agg::Sum, 365), Some(1234.5)),
            (window(Measure::Amount, Agg::Mean, 365), Some(250.0)),
            (window(Measure::Amount, Agg::Max, 365), Some(900.0)),
            (window(Measure::Quantity, Agg::Sum, 90), Some(12.0)),
            (window(Measure::Quantity, Agg::Trend, 90), Some(1.5)),
        ];
        let mut text = String::new();
        for (spec, raw) in &cases {
            for lang in [Language::En, Language::Zh] {
                text.push_str(&format!(
                    "{:<22} {:?}: {}\n",
                    spec.name(),
                    lang,
                    sentence(lang, spec, *raw, facts)
                ));
            }
        }
        insta::assert_snapshot!(text);
    }
}
