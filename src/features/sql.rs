//! Renders feature specs to one portable SQL query (DESIGN.md section 3): only `CASE WHEN`,
//! aggregates, arithmetic, `COALESCE` and `CAST`; dates are epoch-day integers computed in Rust,
//! so polars, DataFusion and Ballista all run the text unchanged.

use crate::features::spec::{Agg, FeatureSpec, Measure};

/// A purchase is a row with a positive amount; refunds only change net amounts.
const PURCHASE: &str = "amount > 0";

/// Purchase rows in the `window` days ending on `as_of` (as_of - window < day <= as_of).
fn in_window(as_of: i32, window: i32) -> String {
    format!("{PURCHASE} AND day > {}", as_of - window)
}

/// Purchase rows in the window before that: as_of - 2w < day <= as_of - w.
fn in_previous_window(as_of: i32, window: i32) -> String {
    format!(
        "{PURCHASE} AND day > {} AND day <= {}",
        as_of - 2 * window,
        as_of - window
    )
}

fn count_where(cond: &str) -> String {
    format!("SUM(CASE WHEN {cond} THEN 1.0 ELSE 0.0 END)")
}

fn sum_where(value: &str, cond: &str) -> String {
    format!("SUM(CASE WHEN {cond} THEN {value} ELSE 0.0 END)")
}

fn last_purchase() -> String {
    format!("MAX(CASE WHEN {PURCHASE} THEN day END)")
}

fn purchase_days() -> String {
    format!("COUNT(DISTINCT CASE WHEN {PURCHASE} THEN day END)")
}

fn recency(as_of: i32) -> String {
    format!("CAST({as_of} - {} AS DOUBLE)", last_purchase())
}

fn cycle() -> String {
    format!(
        "CASE WHEN {days} > 1 THEN CAST({last} - MIN(CASE WHEN {PURCHASE} THEN day END) AS DOUBLE) / ({days} - 1) END",
        days = purchase_days(),
        last = last_purchase()
    )
}

/// The SQL expression computing one feature as of `as_of` (an epoch day).
pub fn expression(spec: &FeatureSpec, as_of: i32) -> String {
    match *spec {
        FeatureSpec::RecencyDays => recency(as_of),
        FeatureSpec::TenureDays => format!("CAST({as_of} - MIN(day) AS DOUBLE)"),
        FeatureSpec::PurchaseCycleDays => cycle(),
        FeatureSpec::OverdueRatio => format!("{} / ({})", recency(as_of), cycle()),
        FeatureSpec::Window {
            measure,
            agg,
            window_days: w,
        } => {
            let cur = in_window(as_of, w);
            match (measure, agg) {
                (Measure::Orders, Agg::Trend) => format!(
                    "({} + 1.0) / ({} + 1.0)",
                    count_where(&cur),
                    count_where(&in_previous_window(as_of, w))
                ),
                (Measure::Orders, _) => count_where(&cur),
                (Measure::Amount, Agg::Sum) => sum_where("amount", &format!("day > {}", as_of - w)),
                (Measure::Amount, Agg::Mean) => format!(
                    "CASE WHEN {n} > 0 THEN {s} / {n} ELSE 0.0 END",
                    n = count_where(&cur),
                    s = sum_where("amount", &cur)
                ),
                (Measure::Amount, Agg::Max) => {
                    format!("COALESCE(MAX(CASE WHEN {cur} THEN amount END), 0.0)")
                }
                (Measure::Amount, _) => format!(
                    "({} + 1.0) / ({} + 1.0)",
                    sum_where("amount", &cur),
                    sum_where("amount", &in_previous_window(as_of, w))
                ),
                (Measure::Quantity, Agg::Trend) => format!(
                    "({} + 1.0) / ({} + 1.0)",
                    sum_where("COALESCE(quantity, 0.0)", &cur),
                    sum_where("COALESCE(quantity, 0.0)", &in_previous_window(as_of, w))
                ),
                (Measure::Quantity, _) => sum_where("COALESCE(quantity, 0.0)", &cur),
            }
        }
    }
}

/// One query: a row per customer with any transaction on or before `as_of`, one column per spec.
pub fn render(specs: &[FeatureSpec], as_of: i32) -> String {
    let mut sql = String::from("SELECT\n  customer_id");
    for spec in specs {
        sql.push_str(&format!(
            ",\n  {} AS {}",
            expression(spec, as_of),
            spec.name()
        ));
    }
    sql.push_str(&format!(
        "\nFROM transactions\nWHERE day <= {as_of}\nGROUP BY customer_id\nORDER BY customer_id"
    ));
    sql
}

/// Customers with at least one purchase in (cutoff, cutoff + horizon]: the non-churners.
pub fn render_purchasers(cutoff: i32, horizon_days: i32) -> String {
    format!(
        "SELECT DISTINCT customer_id\nFROM transactions\nWHERE {PURCHASE} AND day > {cutoff} AND day <= {}",
        cutoff + horizon_days
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::parse_day;
    use crate::features::spec::default_specs;

    #[test]
    fn default_feature_sql() {
        let as_of = parse_day("2024-03-31").unwrap();
        insta::assert_snapshot!(render(&default_specs(), as_of));
    }

    #[test]
    fn sql_stays_inside_the_portable_subset() {
        let text = render(&default_specs(), 19_000).to_uppercase();
        for banned in [
            "DATEDIFF",
            "DATE_PART",
            "INTERVAL",
            "::DATE",
            "NULLIF",
            "STRFTIME",
        ] {
            assert!(!text.contains(banned), "{banned} is not portable");
        }
    }
}
