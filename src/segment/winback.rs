//! The win-back list: accounts that have lapsed (no order for longer than the lifecycle's
//! `lost_after_days`) and whose value in the year before their last order reached tonight's
//! key-account line, ranked by that past value, with what they used to buy.

use crate::engine::Engine;
use crate::error::Result;
use crate::frame;

/// One lapsed former key account.
#[derive(Debug, Clone, PartialEq)]
pub struct WinbackAccount {
    pub customer_id: String,
    pub last_order_day: i32,
    /// Net value in the 365 days up to the last order.
    pub value_year_before: f64,
    pub orders_year_before: f64,
    pub units_year_before: f64,
    /// Up to three products with the most value in that year (when the export has products).
    pub top_products: Vec<String>,
}

/// Last purchase day of the customers lapsed as of `as_of` (none for longer than `lost_after_days`).
/// Only those are joined back to their transactions: the join and the grouping after it then
/// cost the lapsed accounts' rows, not the whole history.
fn lapsed(as_of: i32, lost_after_days: f64) -> String {
    format!(
        "WITH last AS (\nSELECT customer_id, MAX(CASE WHEN amount > 0 THEN day END) AS last_day\nFROM transactions\nWHERE day <= {as_of}\nGROUP BY customer_id\nHAVING {as_of} - MAX(CASE WHEN amount > 0 THEN day END) > {lost_after_days:?}\n)\n"
    )
}

/// Per lapsed customer: last purchase day and the year before it, as of `as_of`.
pub fn render(as_of: i32, lost_after_days: f64) -> String {
    format!(
        "{}\
         SELECT t.customer_id, MAX(l.last_day) AS last_day, SUM(t.amount) AS value_year_before,\n  \
         SUM(CASE WHEN t.amount > 0 THEN 1.0 ELSE 0.0 END) AS orders_year_before,\n  \
         SUM(CASE WHEN t.amount > 0 THEN COALESCE(t.quantity, 0.0) ELSE 0.0 END) AS units_year_before\n\
         FROM transactions t JOIN last l ON t.customer_id = l.customer_id\n\
         WHERE t.day <= {as_of} AND t.day > l.last_day - 365\nGROUP BY t.customer_id\nORDER BY t.customer_id",
        lapsed(as_of, lost_after_days)
    )
}

/// Value per lapsed customer and product in the year before the customer's last purchase.
pub fn render_products(as_of: i32, lost_after_days: f64) -> String {
    format!(
        "{}\
         SELECT t.customer_id, t.product_id, SUM(t.amount) AS value\n\
         FROM transactions t JOIN last l ON t.customer_id = l.customer_id\n\
         WHERE t.day <= {as_of} AND t.day > l.last_day - 365 AND t.amount > 0 AND t.product_id IS NOT NULL\n\
         GROUP BY t.customer_id, t.product_id",
        lapsed(as_of, lost_after_days)
    )
}

/// Lapsed accounts whose year before lapsing was worth at least `key_line`, most valuable first.
pub fn winback(
    engine: &mut dyn Engine,
    as_of: i32,
    lost_after_days: f64,
    key_line: f64,
) -> Result<Vec<WinbackAccount>> {
    let df = engine.query(&render(as_of, lost_after_days))?;
    let ids = frame::str_values(&df, "customer_id")?;
    let last = frame::f64_values(&df, "last_day")?;
    let value = frame::f64_values(&df, "value_year_before")?;
    let orders = frame::f64_values(&df, "orders_year_before")?;
    let units = frame::f64_values(&df, "units_year_before")?;
    let mut out: Vec<WinbackAccount> = (0..ids.len())
        .filter_map(|i| {
            let last = last[i]? as i32;
            let v = value[i].unwrap_or(0.0);
            ((as_of - last) as f64 > lost_after_days && v >= key_line && v > 0.0).then(|| {
                WinbackAccount {
                    customer_id: ids[i].clone(),
                    last_order_day: last,
                    value_year_before: v,
                    orders_year_before: orders[i].unwrap_or(0.0),
                    units_year_before: units[i].unwrap_or(0.0),
                    top_products: Vec::new(),
                }
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.value_year_before
            .total_cmp(&a.value_year_before)
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });
    if !out.is_empty() {
        let df = engine.query(&render_products(as_of, lost_after_days))?;
        let (ids, products, values) = (
            frame::str_values(&df, "customer_id")?,
            frame::str_values(&df, "product_id")?,
            frame::f64_values(&df, "value")?,
        );
        let mut by_customer: std::collections::HashMap<&str, Vec<(f64, &str)>> = Default::default();
        for i in 0..ids.len() {
            by_customer
                .entry(&ids[i])
                .or_default()
                .push((values[i].unwrap_or(0.0), &products[i]));
        }
        for a in &mut out {
            if let Some(list) = by_customer.get_mut(a.customer_id.as_str()) {
                list.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| x.1.cmp(y.1)));
                a.top_products = list.iter().take(3).map(|(_, p)| p.to_string()).collect();
            }
        }
    }
    Ok(out)
}
