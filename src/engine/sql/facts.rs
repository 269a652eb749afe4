//! The SQL behind labels and the win-back list, and reading its results into the engine's
//! fact types. Portable like the features' text: `CASE WHEN`, aggregates, joins, epoch-day
//! integers.

use std::collections::HashMap;

use crate::domain::facts::{LapsedAccount, OutcomeFacts, Purchases};
use polars::prelude::DataFrame;

use crate::domain::table::FeatureTable;
use crate::engine::sql::keep::Keep;
use crate::error::{EngineContext, Result};
use crate::util::frame;

/// Per-customer facts after (and just before) a cutoff, in one portable query, for the customers
/// `keep` names (its active line does not apply: the facts look past the cutoff).
pub fn render_outcomes(cutoff: i32, window: i32, value_horizon: i32, keep: Keep) -> String {
    format!(
        "SELECT\n  customer_id,\n  MIN(CASE WHEN amount > 0 AND day > {c} THEN day END) AS next_purchase_day,\n  \
         SUM(CASE WHEN day > {c} AND day <= {next_end} THEN amount ELSE 0.0 END) AS next_value,\n  \
         SUM(CASE WHEN day > {prev_start} AND day <= {c} THEN amount ELSE 0.0 END) AS previous_value\n\
         FROM transactions{join}\nWHERE day > {prev_start} AND day <= {end}\nGROUP BY customer_id",
        join = keep.join(),
        c = cutoff,
        next_end = cutoff + value_horizon,
        prev_start = cutoff - value_horizon,
        end = cutoff + window.max(value_horizon),
    )
}

/// Last purchase day of the customers lapsed as of `as_of` (none for longer than `lost_after_days`).
/// Only those are joined back to their transactions: the join and the grouping after it then
/// cost the lapsed accounts' rows, not the whole history.
fn lapsed_cte(as_of: i32, lost_after_days: f64) -> String {
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
        lapsed_cte(as_of, lost_after_days)
    )
}

/// First and last transaction day.
pub(crate) const DAY_RANGE: &str =
    "SELECT MIN(day) AS first_day, MAX(day) AS last_day FROM transactions";

/// The days in the result of [`DAY_RANGE`]; an error for a warehouse without transactions.
pub(crate) fn day_range(df: &DataFrame) -> Result<(i32, i32)> {
    let get = |name: &str| -> Result<Option<i32>> {
        Ok(frame::f64_values(df, name)?
            .first()
            .copied()
            .flatten()
            .map(|d| d as i32))
    };
    match (get("first_day")?, get("last_day")?) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(crate::error::Error::Data(
            "the warehouse holds no transactions".into(),
        )),
    }
}

/// The table of listed accounts that [`render_products`] joins to.
pub(crate) const LISTED: &str = "winback_accounts";

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

/// The facts behind the labels for `rows` of `table`, from the result of [`render_outcomes`].
pub(crate) fn outcome_facts(
    df: &DataFrame,
    table: &FeatureTable,
    rows: &[usize],
) -> Result<Vec<OutcomeFacts>> {
    let ids = frame::str_values(df, "customer_id")?;
    let next_day = frame::f64_values(df, "next_purchase_day")?;
    let next_value = frame::f64_values(df, "next_value")?;
    let prev_value = frame::f64_values(df, "previous_value")?;
    let by_id = frame::positions(&ids);
    Ok(rows
        .iter()
        .map(|&r| match by_id.get(&*table.customer_ids[r]) {
            Some(&k) => OutcomeFacts {
                next_purchase_day: next_day[k].map(|d| d as i32),
                next_value: next_value[k].unwrap_or(0.0),
                previous_value: prev_value[k].unwrap_or(0.0),
            },
            None => OutcomeFacts::NONE,
        })
        .collect())
}

/// Lapsed accounts from the result of [`render`], in customer-id order.
pub(crate) fn lapsed(
    df: &DataFrame,
    as_of: i32,
    lost_after_days: f64,
) -> Result<Vec<LapsedAccount>> {
    let ids = frame::str_values(df, "customer_id")?;
    let last = frame::f64_values(df, "last_day")?;
    let value = frame::f64_values(df, "value_year_before")?;
    let orders = frame::f64_values(df, "orders_year_before")?;
    Ok(ids
        .into_iter()
        .enumerate()
        .filter_map(|(i, customer_id)| {
            let last_day = last[i]? as i32;
            ((as_of - last_day) as f64 > lost_after_days).then(|| LapsedAccount {
                customer_id,
                last_day,
                value: value[i].unwrap_or(0.0),
                orders: orders[i].unwrap_or(0.0),
            })
        })
        .collect())
}

/// The table of `accounts` (customer, last purchase day) that [`render_products`] joins to:
/// only the listed accounts are joined, so the join costs their rows only.
pub(crate) fn listed_table(accounts: &[(&str, i32)]) -> Result<DataFrame> {
    polars::prelude::df!(
        "customer_id" => accounts.iter().map(|a| a.0).collect::<Vec<_>>(),
        "last_day" => accounts.iter().map(|a| a.1).collect::<Vec<_>>(),
    )
    .engine(|| "building the win-back accounts table".into())
}

/// Adds one warehouse part's result of [`render_products`] to `by_customer`.
pub(crate) fn add_purchases(
    by_customer: &mut HashMap<String, Purchases>,
    df: &DataFrame,
) -> Result<()> {
    let ids = frame::str_values(df, "customer_id")?;
    let products = frame::opt_str_values(df, "product_id")?;
    let values = frame::f64_values(df, "value")?;
    let units = frame::f64_values(df, "units")?;
    for (i, id) in ids.into_iter().enumerate() {
        let entry = by_customer.entry(id).or_default();
        entry.units += units[i].unwrap_or(0.0);
        if let Some(p) = &products[i] {
            *entry.value_by_product.entry(p.clone()).or_default() += values[i].unwrap_or(0.0);
        }
    }
    Ok(())
}
