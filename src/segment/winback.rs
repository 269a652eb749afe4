//! The win-back list: accounts that have lapsed (no order for longer than the lifecycle's
//! `lost_after_days`) and whose value in the year before their last order reached tonight's
//! key-account line, ranked by that past value, with what they used to buy.

use std::collections::HashMap;

use crate::engine::Engine;
use crate::error::{EngineContext, Result};
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

/// Per lapsed customer: last purchase day, and net value and purchases from the 365 days up to
/// it to `as_of`.
pub fn render(as_of: i32, lost_after_days: f64) -> String {
    format!(
        "{}\
         SELECT t.customer_id, MAX(l.last_day) AS last_day, SUM(t.amount) AS value_year_before,\n  \
         SUM(CASE WHEN t.amount > 0 THEN 1.0 ELSE 0.0 END) AS orders_year_before\n\
         FROM transactions t JOIN last l ON t.customer_id = l.customer_id\n\
         WHERE t.day <= {as_of} AND t.day > l.last_day - 365\nGROUP BY t.customer_id\nORDER BY t.customer_id",
        lapsed(as_of, lost_after_days)
    )
}

/// The table of listed accounts that [`render_products`] joins to.
const LISTED: &str = "winback_accounts";

/// Purchases per listed account and product (null product included) over the same days:
/// value and units.
pub fn render_products(as_of: i32) -> String {
    format!(
        "SELECT t.customer_id, t.product_id, SUM(t.amount) AS value, SUM(COALESCE(t.quantity, 0.0)) AS units\n\
         FROM transactions t JOIN {LISTED} w ON t.customer_id = w.customer_id\n\
         WHERE t.day <= {as_of} AND t.day > w.last_day - 365 AND t.amount > 0\n\
         GROUP BY t.customer_id, t.product_id"
    )
}

/// Lapsed accounts as (customer, last purchase day, value, purchases): from the engine's
/// in-memory history when it has one, else by [`render`].
fn lapsed_accounts(
    engine: &mut dyn Engine,
    as_of: i32,
    lost_after_days: f64,
) -> Result<Vec<(String, i32, f64, f64)>> {
    if let Some(h) = engine.history(false)? {
        return Ok(h
            .lapsed(as_of, lost_after_days)
            .into_iter()
            .map(|l| (h.id(l.customer).to_string(), l.last_day, l.value, l.orders))
            .collect());
    }
    let df = engine.query(&render(as_of, lost_after_days))?;
    let ids = frame::str_values(&df, "customer_id")?;
    let last = frame::f64_values(&df, "last_day")?;
    let value = frame::f64_values(&df, "value_year_before")?;
    let orders = frame::f64_values(&df, "orders_year_before")?;
    Ok(ids
        .into_iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let last = last[i]? as i32;
            ((as_of - last) as f64 > lost_after_days)
                .then(|| (id, last, value[i].unwrap_or(0.0), orders[i].unwrap_or(0.0)))
        })
        .collect())
}

/// An account's units, and value per product.
type UnitsAndProducts = (f64, HashMap<String, f64>);

/// Lapsed accounts whose year before lapsing was worth at least `key_line`, most valuable first,
/// with their units and top products.
pub fn winback(
    engine: &mut dyn Engine,
    as_of: i32,
    lost_after_days: f64,
    key_line: f64,
) -> Result<Vec<WinbackAccount>> {
    let out = at_or_above(lapsed_list(engine, as_of, lost_after_days)?, key_line);
    add_products(engine, out, as_of)
}

/// The accounts of a [`lapsed_list`] worth at least `key_line`, in the same order.
pub fn at_or_above(list: Vec<WinbackAccount>, key_line: f64) -> Vec<WinbackAccount> {
    list.into_iter()
        .filter(|a| a.value_year_before >= key_line)
        .collect()
}

/// Every lapsed account with value in its year before lapsing, most valuable first, without
/// units and products (see [`at_or_above`], [`add_products`]): the part that reads the engine's
/// in-memory history, which the caller can free before the products are queried.
pub fn lapsed_list(
    engine: &mut dyn Engine,
    as_of: i32,
    lost_after_days: f64,
) -> Result<Vec<WinbackAccount>> {
    let mut out: Vec<WinbackAccount> = lapsed_accounts(engine, as_of, lost_after_days)?
        .into_iter()
        .filter(|a| a.2 > 0.0)
        .map(|(customer_id, last, v, orders)| WinbackAccount {
            customer_id,
            last_order_day: last,
            value_year_before: v,
            orders_year_before: orders,
            units_year_before: 0.0,
            top_products: Vec::new(),
        })
        .collect();
    out.sort_by(|a, b| {
        b.value_year_before
            .total_cmp(&a.value_year_before)
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });
    Ok(out)
}

/// Fills in units and top products of the year before each account's last purchase.
pub fn add_products(
    engine: &mut dyn Engine,
    mut out: Vec<WinbackAccount>,
    as_of: i32,
) -> Result<Vec<WinbackAccount>> {
    if out.is_empty() {
        return Ok(out);
    }
    // Units and products only for the listed accounts: the join costs their rows only.
    let listed = polars::prelude::df!(
        "customer_id" => out.iter().map(|a| a.customer_id.as_str()).collect::<Vec<_>>(),
        "last_day" => out.iter().map(|a| a.last_order_day).collect::<Vec<_>>(),
    )
    .engine(|| "building the win-back accounts table".into())?;
    engine.register(LISTED, listed)?;
    // Part by part: joined to the whole warehouse at once, polars held every row of it (16 GB at
    // 10^8 transactions); per-part sums add up.
    // Each part's sums are merged as it arrives: at 10^7 transactions the parts' results held
    // together, with each part's unreturned working memory, added 160 MB to scoring's peak.
    let mut by_customer: HashMap<String, UnitsAndProducts> = HashMap::new();
    engine.for_each_part(&render_products(as_of), &mut |df| {
        let ids = frame::str_values(&df, "customer_id")?;
        let products = frame::opt_str_values(&df, "product_id")?;
        let values = frame::f64_values(&df, "value")?;
        let units = frame::f64_values(&df, "units")?;
        for (i, id) in ids.into_iter().enumerate() {
            let entry = by_customer.entry(id).or_default();
            entry.0 += units[i].unwrap_or(0.0);
            if let Some(p) = &products[i] {
                *entry.1.entry(p.clone()).or_default() += values[i].unwrap_or(0.0);
            }
        }
        Ok(())
    })?;
    for a in &mut out {
        if let Some((units, products)) = by_customer.get(a.customer_id.as_str()) {
            a.units_year_before = *units;
            let mut list: Vec<(&f64, &String)> = products.iter().map(|(p, v)| (v, p)).collect();
            list.sort_by(|x, y| y.0.total_cmp(x.0).then_with(|| x.1.cmp(y.1)));
            a.top_products = list.iter().take(3).map(|(_, p)| p.to_string()).collect();
        }
    }
    Ok(out)
}
