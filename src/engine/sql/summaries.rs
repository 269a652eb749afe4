//! The repeat-purchase summaries a BTYD fit reads, counted by the engine: one portable query and
//! the reading of its result (`features::btyd` fits on them; `sql/btyd.rs` applies the fit).

use polars::prelude::DataFrame;

use crate::btyd::{Summary, Weighted};
use crate::domain::feature::{FeatureSpec, SUMMARY_SPECS};
use crate::engine::sql::features::expression;
use crate::error::Result;
use crate::util::frame;

/// Every customer's repeat-purchase summary as of `as_of` (`SUMMARY_SPECS`, customers without
/// a purchase left out), counted by distinct summary: what a BTYD fit reads, a few hundred
/// thousand rows at most for millions of customers.
pub fn render(as_of: i32) -> String {
    let columns: Vec<String> = SUMMARY_SPECS
        .iter()
        .map(|s| format!("  {} AS {}", expression(s, as_of), s.name()))
        .collect();
    let names: Vec<String> = SUMMARY_SPECS.iter().map(|s| s.name()).collect();
    format!(
        "SELECT {names}, COUNT(*) AS customers\nFROM (\nSELECT\n{columns}\nFROM transactions\n\
         WHERE day <= {as_of}\nGROUP BY customer_id\n) summaries\nWHERE {age} IS NOT NULL\n\
         GROUP BY {names}",
        names = names.join(", "),
        columns = columns.join(",\n"),
        age = names[2],
    )
}

/// The rows in the result of [`render`], in (x, t_x, T) order.
pub(crate) fn read(df: &DataFrame) -> Result<Vec<Weighted>> {
    let column = |s: &FeatureSpec| frame::f64_values(df, &s.name());
    let (x, t_x, t) = (
        column(&SUMMARY_SPECS[0])?,
        column(&SUMMARY_SPECS[1])?,
        column(&SUMMARY_SPECS[2])?,
    );
    let n = frame::f64_values(df, "customers")?;
    let mut rows = Vec::with_capacity(n.len());
    for i in 0..n.len() {
        if let (Some(x), Some(t_x), Some(t), Some(weight)) = (x[i], t_x[i], t[i], n[i]) {
            rows.push(Weighted {
                summary: Summary { x, t_x, t },
                weight,
            });
        }
    }
    Ok(crate::btyd::merge(rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::dates::parse_day;

    #[test]
    fn purchase_summary_sql() {
        let as_of = parse_day("2024-03-31").unwrap();
        insta::assert_snapshot!(render(as_of));
    }
}
