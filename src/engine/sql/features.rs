//! Renders feature specs to one portable SQL query (`docs/ARCHITECTURE.md`, "The engine seam"): only `CASE WHEN`,
//! aggregates, arithmetic, `COALESCE` and `CAST`; dates are epoch-day integers computed in Rust,
//! so polars, DataFusion and Ballista all run the text unchanged.

use polars::prelude::DataFrame;

use crate::domain::feature::{Agg, FeatureSpec, Measure, engine_specs};
use crate::domain::table::{FeatureTable, stored};
use crate::engine::sql::keep::Keep;
use crate::error::Result;
use crate::util::frame;

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

fn first_purchase() -> String {
    format!("MIN(CASE WHEN {PURCHASE} THEN day END)")
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

/// The SQL expression computing one transaction feature as of `as_of` (an epoch day).
/// Side-table features are computed in their own subqueries by [`render`].
pub fn expression(spec: &FeatureSpec, as_of: i32) -> String {
    match *spec {
        FeatureSpec::ArrearsOutstanding
        | FeatureSpec::ArrearsDaysOverdue
        | FeatureSpec::Complaints { .. } => {
            unreachable!("side-table features are rendered by `render`")
        }
        FeatureSpec::RecencyDays => recency(as_of),
        FeatureSpec::TenureDays => format!("CAST({as_of} - MIN(day) AS DOUBLE)"),
        FeatureSpec::PurchaseCycleDays => cycle(),
        FeatureSpec::OverdueRatio => format!("{} / ({})", recency(as_of), cycle()),
        FeatureSpec::RepeatPurchaseDays => format!(
            "CASE WHEN {days} > 0 THEN CAST({days} - 1 AS DOUBLE) END",
            days = purchase_days()
        ),
        FeatureSpec::PurchaseSpanDays => {
            format!("CAST({} - {} AS DOUBLE)", last_purchase(), first_purchase())
        }
        FeatureSpec::PurchaseAgeDays => format!("CAST({as_of} - {} AS DOUBLE)", first_purchase()),
        FeatureSpec::SinglePurchaseDay => format!(
            "CASE WHEN {days} = 1 THEN 1.0 WHEN {days} > 1 THEN 0.0 END",
            days = purchase_days()
        ),
        FeatureSpec::Btyd { .. } => {
            unreachable!("BTYD features are computed by `features::btyd` from the summary")
        }
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

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The common table expressions computing one side table's features per customer; the last
/// one is named `name` and has `customer_id` and the feature columns.
pub struct SideCtes {
    pub name: &'static str,
    pub ctes: Vec<String>,
}

impl SideCtes {
    /// A standalone query returning the side features per customer.
    pub fn query(&self) -> String {
        format!(
            "WITH {}\nSELECT * FROM {}",
            self.ctes.join(",\n"),
            self.name
        )
    }
}

/// The side-table features among `specs`, as CTEs: arrears (the latest snapshot on or before
/// `as_of`) and complaint counts.
pub fn side_ctes(specs: &[FeatureSpec], as_of: i32, complaint_kinds: &[String]) -> Vec<SideCtes> {
    let mut out = Vec::new();
    if specs.iter().any(|s| s.side_table() == Some("arrears")) {
        out.push(SideCtes {
            name: "arrears_now",
            ctes: vec![
                format!(
                    "arrears_last AS (\nSELECT customer_id, MAX(day) AS last_day\nFROM arrears\nWHERE day <= {as_of}\nGROUP BY customer_id\n)"
                ),
                "arrears_now AS (\nSELECT a.customer_id, MAX(a.outstanding) AS arrears_outstanding, MAX(a.days_overdue) AS arrears_days_overdue\n\
                 FROM arrears a JOIN arrears_last l ON a.customer_id = l.customer_id AND a.day = l.last_day\nGROUP BY a.customer_id\n)"
                    .into(),
            ],
        });
    }
    let complaints: Vec<i32> = specs
        .iter()
        .filter_map(|s| match s {
            FeatureSpec::Complaints { window_days } => Some(*window_days),
            _ => None,
        })
        .collect();
    if !complaints.is_empty() {
        let kinds: Vec<String> = complaint_kinds.iter().map(|k| quote(k)).collect();
        let kinds = if kinds.is_empty() {
            "''".to_string()
        } else {
            kinds.join(", ")
        };
        let mut sql = String::from("complaints AS (\nSELECT customer_id");
        for w in &complaints {
            sql.push_str(&format!(
                ",\n  {} AS complaints_count_{w}d",
                count_where(&format!("kind IN ({kinds}) AND day > {}", as_of - w))
            ));
        }
        sql.push_str(&format!(
            "\nFROM events\nWHERE day <= {as_of}\nGROUP BY customer_id\n)"
        ));
        out.push(SideCtes {
            name: "complaints",
            ctes: vec![sql],
        });
    }
    out
}

/// One query: a row per customer with any transaction on or before `as_of`, one column per spec.
/// Arrears come from the latest snapshot on or before `as_of`; complaints are events whose kind
/// is one of `complaint_kinds`.
/// BTYD outputs among `specs` are not columns of the text: their summary columns are.
pub fn render(specs: &[FeatureSpec], as_of: i32, complaint_kinds: &[String]) -> String {
    render_keeping(specs, as_of, complaint_kinds, Keep::EVERYONE)
}

/// [`render`] for the customers `keep` keeps only: the named ones are joined before the
/// grouping (the engine aggregates only their rows), the active ones kept by the grouping's
/// `HAVING`; the side tables are left-joined to what is kept.
pub fn render_keeping(
    specs: &[FeatureSpec],
    as_of: i32,
    complaint_kinds: &[String],
    keep: Keep,
) -> String {
    let specs = &engine_specs(specs)[..];
    let tx: Vec<&FeatureSpec> = specs.iter().filter(|s| s.side_table().is_none()).collect();
    let mut tx_sql = String::from("SELECT\n  customer_id");
    for spec in &tx {
        tx_sql.push_str(&format!(
            ",\n  {} AS {}",
            expression(spec, as_of),
            spec.name()
        ));
    }
    tx_sql.push_str(&format!(
        "\nFROM transactions{}\nWHERE day <= {as_of}\nGROUP BY customer_id{}",
        keep.join(),
        keep.having(&recency(as_of))
    ));
    if tx.len() == specs.len() {
        return tx_sql + "\nORDER BY customer_id";
    }

    let mut ctes = vec![format!("tx AS (\n{tx_sql}\n)")];
    let mut joins = String::new();
    for side in side_ctes(specs, as_of, complaint_kinds) {
        let name = side.name;
        ctes.extend(side.ctes);
        joins.push_str(&format!(
            "\nLEFT JOIN {name} ON tx.customer_id = {name}.customer_id"
        ));
    }
    let mut select = String::from("SELECT\n  tx.customer_id");
    for spec in specs {
        let name = spec.name();
        match spec.side_table() {
            None => select.push_str(&format!(",\n  tx.{name}")),
            Some(table) => {
                let cte = side_cte_name(table);
                select.push_str(&format!(",\n  COALESCE({cte}.{name}, 0.0) AS {name}"));
            }
        }
    }
    format!(
        "WITH {}\n{select}\nFROM tx{joins}\nORDER BY tx.customer_id",
        ctes.join(",\n")
    )
}

/// A query of [`render`] without its final ordering, to be used as a subquery or CTE (whose
/// order no engine keeps); other text is returned as it is, without trailing blanks.
pub fn unordered(features_sql: &str) -> &str {
    let text = features_sql.trim_end();
    text.strip_suffix("ORDER BY tx.customer_id")
        .or_else(|| text.strip_suffix("ORDER BY customer_id"))
        .unwrap_or(text)
        .trim_end()
}

/// The CTE holding the features of side table `table` ("arrears" or "events").
pub fn side_cte_name(table: &str) -> &'static str {
    if table == "arrears" {
        "arrears_now"
    } else {
        "complaints"
    }
}

/// The feature table in the result of [`render`] (rows in customer-id order); only customers
/// active within `active_within` days when that is given.
pub(crate) fn read_table(
    df: &DataFrame,
    specs: &[FeatureSpec],
    as_of: i32,
    active_within: Option<i32>,
) -> Result<FeatureTable> {
    let names: Vec<String> = engine_specs(specs).iter().map(|s| s.name()).collect();
    let values = names
        .iter()
        .map(|n| Ok(frame::f64_values(df, n)?.into_iter().map(stored).collect()))
        .collect::<Result<Vec<_>>>()?;
    let table = FeatureTable {
        as_of,
        customer_ids: frame::shared_str_values(df, "customer_id")?,
        names,
        values,
        btyd: Vec::new(),
    };
    match active_within {
        Some(days) => {
            let rows = table.active_rows(days)?;
            Ok(table.keep_rows(&rows))
        }
        None => Ok(table),
    }
}

/// [`read_table`], and when `customers` were asked for, the check that each came back, in
/// their order (the query of [`render_keeping`] with [`Keep::named`] returns them only).
pub(crate) fn read_kept(
    df: &DataFrame,
    specs: &[FeatureSpec],
    as_of: i32,
    active_within: Option<i32>,
    customers: Option<&[&str]>,
) -> Result<FeatureTable> {
    let table = read_table(df, specs, as_of, active_within)?;
    match customers {
        Some(ids) => table.select_customers(ids),
        None => Ok(table),
    }
}

/// The features of the customers `customers` names (registered as [`keep::WANTED`] by the
/// caller), or of everyone; only the active ones when `active_within` is given. `run` is the
/// backend's query, returning rows in customer-id order.
///
/// [`keep::WANTED`]: crate::engine::sql::keep::WANTED
pub(crate) fn kept(
    specs: &[FeatureSpec],
    as_of: i32,
    complaint_kinds: &[String],
    active_within: Option<i32>,
    customers: Option<&[&str]>,
    run: impl FnOnce(&str) -> Result<DataFrame>,
) -> Result<FeatureTable> {
    let keep = match customers {
        Some(_) => Keep::named(active_within),
        None => Keep::active(active_within),
    };
    let df = run(&render_keeping(specs, as_of, complaint_kinds, keep))?;
    read_kept(&df, specs, as_of, active_within, customers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feature::default_specs;
    use crate::util::dates::parse_day;

    #[test]
    fn default_feature_sql() {
        let as_of = parse_day("2024-03-31").unwrap();
        insta::assert_snapshot!(render(&default_specs(false, false), as_of, &[]));
    }

    #[test]
    fn feature_sql_with_side_tables() {
        let as_of = parse_day("2024-03-31").unwrap();
        let specs = [
            FeatureSpec::RecencyDays,
            FeatureSpec::ArrearsOutstanding,
            FeatureSpec::Complaints { window_days: 90 },
        ];
        insta::assert_snapshot!(render(
            &specs,
            as_of,
            &["complaint".into(), "o'brien".into()]
        ));
    }

    #[test]
    fn sql_stays_inside_the_portable_subset() {
        let text = render(&default_specs(true, true), 19_000, &["complaint".into()]).to_uppercase();
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
