//! The sentences reasons are written in, with the account's own numbers, in English and
//! Chinese; and the number formats lists and reports share (thousands, percentages).

use crate::features::spec::{Agg, BtydOutput, FeatureSpec, Measure};

pub use crate::domain::language::Language;

/// The numbers a sentence may quote besides the feature itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountFacts {
    pub recency_days: Option<f64>,
    pub cycle_days: Option<f64>,
    pub arrears_outstanding: Option<f64>,
    pub arrears_days_overdue: Option<f64>,
    /// What a typical account is expected to order over the BTYD horizon (the training
    /// median of the model's expected-purchases feature), when the model has one.
    pub typical_purchases: Option<f64>,
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
        FeatureSpec::RepeatPurchaseDays => match (lang, v.round() as i64) {
            (En, 0) => "no repeat order day yet".into(),
            (En, 1) => "only 1 repeat order day so far".into(),
            (En, n) => format!("only {n} repeat order days so far"),
            (Zh, 0) => "尚无复购日".into(),
            (Zh, n) => format!("至今仅有{n}个复购日"),
        },
        FeatureSpec::PurchaseSpanDays => match lang {
            En => format!("first to last order only {v:.0} days apart"),
            Zh => format!("首末次下单仅相隔{v:.0}天"),
        },
        FeatureSpec::PurchaseAgeDays => match lang {
            En => format!("first order {v:.0} days ago"),
            Zh => format!("首次下单于{v:.0}天前"),
        },
        FeatureSpec::SinglePurchaseDay => match lang {
            En => "only one order day so far".into(),
            Zh => "至今仅有一个下单日".into(),
        },
        FeatureSpec::Btyd {
            output,
            horizon_days: h,
            ..
        } => btyd_sentence(lang, output, v, h, facts.typical_purchases),
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

/// What the purchase model expects of the account, in words; `v` is the feature's raw value
/// (a probability, a logit, or a number of orders).
fn btyd_sentence(
    lang: Language,
    output: BtydOutput,
    v: f64,
    h: i32,
    typical: Option<f64>,
) -> String {
    use Language::{En, Zh};
    match (output, lang) {
        (BtydOutput::PAlive, En) => format!("only {} likely to still be buying", percent(v)),
        (BtydOutput::PAlive, Zh) => format!("仍在持续购买的可能性仅{}", percent(v)),
        (BtydOutput::NoPurchaseLogit, _) => {
            let p = percent(1.0 / (1.0 + (-v).exp()));
            match lang {
                En => format!("{p} chance of no order in the next {h} days"),
                Zh => format!("未来{h}天无订单的可能性为{p}"),
            }
        }
        (BtydOutput::ExpectedPurchases, En) => match typical {
            Some(t) => format!(
                "expected to order {v:.1} times in the next {h} days (similar accounts order {t:.1})"
            ),
            None => format!("expected to order {v:.1} times in the next {h} days"),
        },
        (BtydOutput::ExpectedPurchases, Zh) => match typical {
            Some(t) => format!("预计未来{h}天下单{v:.1}次（同类客户为{t:.1}次）"),
            None => format!("预计未来{h}天下单{v:.1}次"),
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
            typical_purchases: Some(1.4),
        };
        let btyd = |output| FeatureSpec::Btyd {
            model: crate::features::spec::BtydKind::BgNbd,
            output,
            horizon_days: 90,
        };
        let cases: Vec<(FeatureSpec, Option<f64>)> = vec![
            (FeatureSpec::RepeatPurchaseDays, Some(0.0)),
            (FeatureSpec::RepeatPurchaseDays, Some(2.0)),
            (FeatureSpec::PurchaseSpanDays, Some(12.0)),
            (FeatureSpec::PurchaseAgeDays, Some(400.0)),
            (FeatureSpec::SinglePurchaseDay, Some(1.0)),
            (btyd(BtydOutput::PAlive), Some(0.23)),
            (btyd(BtydOutput::NoPurchaseLogit), Some(1.5)),
            (btyd(BtydOutput::ExpectedPurchases), Some(0.2)),
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
