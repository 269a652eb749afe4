//! Feature specs: what a pipeline file can ask for, their canonical column names, and how the
//! model transforms each before standardising.

use serde::{Deserialize, Serialize};

pub use crate::btyd::Kind as BtydKind;

/// What is measured over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Purchases (rows with a positive amount).
    Orders,
    /// Net amount (refunds subtract).
    Amount,
    /// Quantity on purchases.
    Quantity,
}

/// How a measure is aggregated over its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    Count,
    Sum,
    /// Mean per purchase.
    Mean,
    /// Largest single purchase.
    Max,
    /// (this window + 1) / (the window before it + 1).
    Trend,
}

/// One feature column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureSpec {
    /// Days since the last purchase.
    RecencyDays,
    /// Days since the first transaction.
    TenureDays,
    /// Mean days between distinct purchase days (null with fewer than two).
    PurchaseCycleDays,
    /// recency_days / purchase_cycle_days: how overdue the next order is.
    OverdueRatio,
    /// Outstanding arrears in the latest arrears snapshot on or before the cutoff (0 if none).
    ArrearsOutstanding,
    /// Days overdue in that snapshot.
    ArrearsDaysOverdue,
    /// Events of a complaint kind in the last `window_days` days.
    Complaints { window_days: i32 },
    /// An aggregate over the last `window_days` days.
    Window {
        measure: Measure,
        agg: Agg,
        window_days: i32,
    },
    /// Distinct purchase days minus one: BG/NBD's x (null without a purchase).
    RepeatPurchaseDays,
    /// Days from the first to the last purchase day: BG/NBD's t_x.
    PurchaseSpanDays,
    /// Days from the first purchase day to the cutoff: BG/NBD's T.
    PurchaseAgeDays,
    /// 1 when every purchase so far fell on one day (`purchase_cycle_days` is undefined
    /// there, and BG/NBD calls such a buyer certainly alive), else 0.
    SinglePurchaseDay,
    /// What a BTYD model fitted at the cutoff on every customer's purchase summary expects
    /// of this customer over the next `horizon_days` (`features::btyd`; not an engine column).
    Btyd {
        model: BtydKind,
        output: BtydOutput,
        horizon_days: i32,
    },
}

/// What a fitted BTYD model says about a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BtydOutput {
    /// P(alive at the cutoff).
    PAlive,
    /// ln(P / (1 - P)) of P(no purchase in the horizon).
    NoPurchaseLogit,
    /// Expected purchases in the horizon.
    ExpectedPurchases,
}

/// How a feature is transformed before standardisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// log(1 + max(x, 0)): money and counts are heavy-tailed.
    Log1p,
    /// log(max(x, 1e-6)): ratios centred on 1.
    Ln,
    /// x as it is: probabilities, logits and flags are already on a usable scale.
    Identity,
}

impl Transform {
    /// Applies the transform to one raw value.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::Log1p => x.max(0.0).ln_1p(),
            Transform::Ln => x.max(1e-6).ln(),
            Transform::Identity => x,
        }
    }
}

impl FeatureSpec {
    /// The column name: `<measure>_<agg>_<window>d` or the built-in's name.
    pub fn name(&self) -> String {
        match self {
            FeatureSpec::RecencyDays => "recency_days".into(),
            FeatureSpec::TenureDays => "tenure_days".into(),
            FeatureSpec::PurchaseCycleDays => "purchase_cycle_days".into(),
            FeatureSpec::OverdueRatio => "overdue_ratio".into(),
            FeatureSpec::ArrearsOutstanding => "arrears_outstanding".into(),
            FeatureSpec::ArrearsDaysOverdue => "arrears_days_overdue".into(),
            FeatureSpec::Complaints { window_days } => format!("complaints_count_{window_days}d"),
            FeatureSpec::Window {
                measure,
                agg,
                window_days,
            } => format!("{}_{}_{}d", measure.word(), agg.word(), window_days),
            FeatureSpec::RepeatPurchaseDays => "repeat_purchase_days".into(),
            FeatureSpec::PurchaseSpanDays => "purchase_span_days".into(),
            FeatureSpec::PurchaseAgeDays => "purchase_age_days".into(),
            FeatureSpec::SinglePurchaseDay => "single_purchase_day".into(),
            FeatureSpec::Btyd {
                model,
                output,
                horizon_days: h,
            } => {
                let m = model.name();
                match output {
                    BtydOutput::PAlive => format!("{m}_p_alive"),
                    BtydOutput::NoPurchaseLogit => format!("{m}_no_purchase_logit_{h}d"),
                    BtydOutput::ExpectedPurchases => format!("{m}_expected_purchases_{h}d"),
                }
            }
        }
    }

    /// True for the specs `features::btyd` computes from a fitted model, which no engine has
    /// as a column.
    pub fn is_btyd(&self) -> bool {
        matches!(self, FeatureSpec::Btyd { .. })
    }

    /// The model-side transform for this feature.
    pub fn transform(&self) -> Transform {
        match self {
            FeatureSpec::Window {
                agg: Agg::Trend, ..
            } => Transform::Ln,
            FeatureSpec::SinglePurchaseDay
            | FeatureSpec::Btyd {
                output: BtydOutput::PAlive | BtydOutput::NoPurchaseLogit,
                ..
            } => Transform::Identity,
            _ => Transform::Log1p,
        }
    }

    /// How many days of history before the cutoff this feature reads (None = all history).
    pub fn lookback_days(&self) -> Option<i32> {
        match self {
            FeatureSpec::Window {
                agg: Agg::Trend,
                window_days,
                ..
            } => Some(2 * window_days),
            FeatureSpec::Window { window_days, .. } => Some(*window_days),
            FeatureSpec::Complaints { window_days } => Some(*window_days),
            _ => None,
        }
    }
}

impl Measure {
    pub(super) fn word(self) -> &'static str {
        match self {
            Measure::Orders => "orders",
            Measure::Amount => "amount",
            Measure::Quantity => "quantity",
        }
    }
}

impl Agg {
    pub(super) fn word(self) -> &'static str {
        match self {
            Agg::Count => "count",
            Agg::Sum => "sum",
            Agg::Mean => "mean",
            Agg::Max => "max",
            Agg::Trend => "trend",
        }
    }
}

/// Shorthand for a window spec.
pub const fn window(measure: Measure, agg: Agg, window_days: i32) -> FeatureSpec {
    FeatureSpec::Window {
        measure,
        agg,
        window_days,
    }
}

/// The feature set used when the pipeline file lists none; arrears and complaint features join
/// when those side tables are configured.
pub fn default_specs(has_arrears: bool, has_events: bool) -> Vec<FeatureSpec> {
    use Agg::*;
    use Measure::*;
    let mut specs = vec![
        FeatureSpec::RecencyDays,
        FeatureSpec::TenureDays,
        window(Orders, Count, 30),
        window(Orders, Count, 90),
        window(Orders, Count, 365),
        window(Amount, Sum, 30),
        window(Amount, Sum, 90),
        window(Amount, Sum, 365),
        window(Amount, Mean, 365),
        window(Orders, Trend, 90),
        window(Amount, Trend, 90),
        FeatureSpec::PurchaseCycleDays,
        FeatureSpec::OverdueRatio,
    ];
    if has_arrears {
        specs.extend([
            FeatureSpec::ArrearsOutstanding,
            FeatureSpec::ArrearsDaysOverdue,
        ]);
    }
    if has_events {
        specs.push(FeatureSpec::Complaints { window_days: 90 });
    }
    specs
}

impl FeatureSpec {
    /// True when the feature reads a side table rather than transactions.
    pub fn side_table(&self) -> Option<&'static str> {
        match self {
            FeatureSpec::ArrearsOutstanding | FeatureSpec::ArrearsDaysOverdue => Some("arrears"),
            FeatureSpec::Complaints { .. } => Some("events"),
            _ => None,
        }
    }
}

/// `[[features]] builtin = "bgnbd"` (or `"mbgnbd"`): the single-purchase-day flag and the
/// model's three expectations over `horizon_days` (the label's window).
pub fn btyd_group(model: BtydKind, horizon_days: i32) -> Vec<FeatureSpec> {
    let btyd = |output| FeatureSpec::Btyd {
        model,
        output,
        horizon_days,
    };
    vec![
        FeatureSpec::SinglePurchaseDay,
        btyd(BtydOutput::PAlive),
        btyd(BtydOutput::NoPurchaseLogit),
        btyd(BtydOutput::ExpectedPurchases),
    ]
}

/// The repeat-purchase summary (x, t_x, T) as engine columns, in that order.
pub const SUMMARY_SPECS: [FeatureSpec; 3] = [
    FeatureSpec::RepeatPurchaseDays,
    FeatureSpec::PurchaseSpanDays,
    FeatureSpec::PurchaseAgeDays,
];

/// What an engine is asked for to give `specs`: the BTYD outputs are replaced by the summary
/// they are computed from (each column once, in first-seen order).
pub fn engine_specs(specs: &[FeatureSpec]) -> Vec<FeatureSpec> {
    let mut out: Vec<FeatureSpec> = Vec::new();
    for s in specs {
        let wanted: &[FeatureSpec] = if s.is_btyd() {
            &SUMMARY_SPECS
        } else {
            std::slice::from_ref(s)
        };
        for w in wanted {
            if !out.contains(w) {
                out.push(*w);
            }
        }
    }
    out
}

/// Columns that scoring and the lists need whether or not the model uses them.
pub const VALUE_12M: FeatureSpec = window(Measure::Amount, Agg::Sum, 365);

/// 12-month order count (volume, for the weighted key-account rule).
pub const ORDERS_12M: FeatureSpec = window(Measure::Orders, Agg::Count, 365);
/// 90-day spend trend (for lifecycle stages).
pub const SPEND_TREND_90D: FeatureSpec = window(Measure::Amount, Agg::Trend, 90);

/// Specs the lists always need: recency, tenure, cycle, 12-month value and volume, spend trend.
pub fn required_specs() -> Vec<FeatureSpec> {
    vec![
        FeatureSpec::RecencyDays,
        FeatureSpec::TenureDays,
        FeatureSpec::PurchaseCycleDays,
        VALUE_12M,
        ORDERS_12M,
        SPEND_TREND_90D,
    ]
}

/// `model_specs` followed by any required spec they lack, without duplicates.
pub fn with_required(model_specs: &[FeatureSpec]) -> Vec<FeatureSpec> {
    let mut all = model_specs.to_vec();
    for spec in required_specs() {
        if !all.contains(&spec) {
            all.push(spec);
        }
    }
    all
}
