//! Parsing one `[[features]]` entry into a [`FeatureSpec`], with errors that say what was
//! expected.

use super::feature::{Agg, FeatureSpec, Measure};

impl FeatureSpec {
    /// Parses one `[[features]]` entry (its `name`, or its `measure`, `agg` and
    /// `window_days`); the error says what was expected.
    pub fn parse(
        name: Option<&str>,
        measure: Option<&str>,
        agg: Option<&str>,
        window_days: Option<i64>,
    ) -> Result<Self, String> {
        match (name, measure, agg, window_days) {
            (Some(name), None, None, None) => match name {
                "recency_days" => Ok(FeatureSpec::RecencyDays),
                "tenure_days" => Ok(FeatureSpec::TenureDays),
                "purchase_cycle_days" => Ok(FeatureSpec::PurchaseCycleDays),
                "overdue_ratio" => Ok(FeatureSpec::OverdueRatio),
                "arrears_outstanding" => Ok(FeatureSpec::ArrearsOutstanding),
                "arrears_days_overdue" => Ok(FeatureSpec::ArrearsDaysOverdue),
                "repeat_purchase_days" => Ok(FeatureSpec::RepeatPurchaseDays),
                "purchase_span_days" => Ok(FeatureSpec::PurchaseSpanDays),
                "purchase_age_days" => Ok(FeatureSpec::PurchaseAgeDays),
                "single_purchase_day" => Ok(FeatureSpec::SinglePurchaseDay),
                other => Err(format!(
                    "unknown built-in feature {other:?}; expected one of recency_days, \
                     tenure_days, purchase_cycle_days, overdue_ratio, arrears_outstanding, \
                     arrears_days_overdue, repeat_purchase_days, purchase_span_days, \
                     purchase_age_days, single_purchase_day (or `builtin = \"bgnbd\"` for \
                     the BG/NBD features)"
                )),
            },
            (None, Some("complaints"), Some(agg), Some(window)) => {
                if agg != "count" {
                    return Err(format!(
                        "agg {agg:?} does not apply to measure \"complaints\"; expected count"
                    ));
                }
                if !(1..=3660).contains(&window) {
                    return Err(format!(
                        "window_days must be between 1 and 3660, found {window}"
                    ));
                }
                Ok(FeatureSpec::Complaints {
                    window_days: window as i32,
                })
            }
            (None, Some(measure), Some(agg), Some(window)) => {
                let measure = Measure::parse(measure)?;
                let agg = Agg::parse(agg)?;
                if !(1..=3660).contains(&window) {
                    return Err(format!(
                        "window_days must be between 1 and 3660, found {window}"
                    ));
                }
                let allowed = match measure {
                    Measure::Orders => &[Agg::Count, Agg::Trend][..],
                    Measure::Amount => &[Agg::Sum, Agg::Mean, Agg::Max, Agg::Trend][..],
                    Measure::Quantity => &[Agg::Sum, Agg::Trend][..],
                };
                if !allowed.contains(&agg) {
                    let names: Vec<&str> = allowed.iter().map(|a| a.word()).collect();
                    return Err(format!(
                        "agg {:?} does not apply to measure {:?}; expected one of {}",
                        agg.word(),
                        measure.word(),
                        names.join(", ")
                    ));
                }
                Ok(FeatureSpec::Window {
                    measure,
                    agg,
                    window_days: window as i32,
                })
            }
            _ => Err(
                "expected either `name` (a built-in) or all of `measure`, `agg` and \
                      `window_days`"
                    .into(),
            ),
        }
    }
}

impl Measure {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "orders" => Ok(Measure::Orders),
            "amount" => Ok(Measure::Amount),
            "quantity" => Ok(Measure::Quantity),
            other => Err(format!(
                "unknown measure {other:?}; expected orders, amount, quantity or complaints"
            )),
        }
    }
}

impl Agg {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "count" => Ok(Agg::Count),
            "sum" => Ok(Agg::Sum),
            "mean" => Ok(Agg::Mean),
            "max" => Ok(Agg::Max),
            "trend" => Ok(Agg::Trend),
            other => Err(format!(
                "unknown agg {other:?}; expected count, sum, mean, max or trend"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feature::Transform;

    fn from_raw(
        (name, m, a, w): (Option<&str>, Option<&str>, Option<&str>, Option<i64>),
    ) -> Result<FeatureSpec, String> {
        FeatureSpec::parse(name, m, a, w)
    }

    fn raw<'a>(
        name: Option<&'a str>,
        m: Option<&'a str>,
        a: Option<&'a str>,
        w: Option<i64>,
    ) -> (
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<i64>,
    ) {
        (name, m, a, w)
    }

    #[test]
    fn names_follow_the_contract() {
        let s = from_raw(raw(None, Some("amount"), Some("sum"), Some(90))).unwrap();
        assert_eq!(s.name(), "amount_sum_90d");
        assert_eq!(s.transform(), Transform::Log1p);
        let t = from_raw(raw(None, Some("orders"), Some("trend"), Some(90))).unwrap();
        assert_eq!(t.name(), "orders_trend_90d");
        assert_eq!(t.transform(), Transform::Ln);
        assert_eq!(t.lookback_days(), Some(180));
    }

    #[test]
    fn bad_specs_say_what_was_expected() {
        let e = from_raw(raw(None, Some("orders"), Some("sum"), Some(30))).unwrap_err();
        assert!(e.contains("expected one of count, trend"), "{e}");
        let e = from_raw(raw(Some("recency"), None, None, None)).unwrap_err();
        assert!(e.contains("unknown built-in feature \"recency\""), "{e}");
        let e = from_raw(raw(Some("recency_days"), None, None, Some(3))).unwrap_err();
        assert!(e.contains("expected either"), "{e}");
    }
}
