//! The win-back list: accounts that have lapsed (no order for longer than the lifecycle's
//! `lost_after_days`) and whose value in the year before their last order reached tonight's
//! key-account line, ranked by that past value, with what they used to buy.

use crate::engine::Backend;
use crate::error::Result;

/// A sum of money (or units) as listed: rounded to millionths. Floating-point sums depend on the
/// order their terms were added in, which differs between engines (one pass per customer, polars'
/// groups, DataFusion's partitions) by a few units in the last place; rounded, every engine lists
/// the same figure, and an average on a half cent rounds the same way everywhere.
fn listed_sum(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

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

/// Lapsed accounts whose year before lapsing was worth at least `key_line`, most valuable first,
/// with their units and top products.
pub fn winback(
    engine: &mut dyn Backend,
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

/// The first `max` accounts of `list` (all of them without a limit) and how many are left out:
/// the list is most valuable first, so a team works through the largest lost value.
pub fn within(mut list: Vec<WinbackAccount>, max: Option<usize>) -> (Vec<WinbackAccount>, usize) {
    let keep = max.unwrap_or(usize::MAX).min(list.len());
    let beyond = list.len() - keep;
    list.truncate(keep);
    (list, beyond)
}

/// Every lapsed account with value in its year before lapsing, most valuable first, without
/// units and products (see [`at_or_above`], [`add_products`]): the part that reads the engine's
/// in-memory history, which the caller can free before the products are queried.
pub fn lapsed_list(
    engine: &mut dyn Backend,
    as_of: i32,
    lost_after_days: f64,
) -> Result<Vec<WinbackAccount>> {
    let mut out: Vec<WinbackAccount> = engine
        .lapsed(as_of, lost_after_days)?
        .into_iter()
        .filter(|a| a.value > 0.0)
        .map(|a| WinbackAccount {
            customer_id: a.customer_id,
            last_order_day: a.last_day,
            value_year_before: listed_sum(a.value),
            orders_year_before: a.orders,
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
    engine: &mut dyn Backend,
    mut out: Vec<WinbackAccount>,
    as_of: i32,
) -> Result<Vec<WinbackAccount>> {
    let accounts: Vec<(&str, i32)> = out
        .iter()
        .map(|a| (a.customer_id.as_str(), a.last_order_day))
        .collect();
    let by_customer = engine.purchases(&accounts, as_of)?;
    for a in &mut out {
        if let Some(bought) = by_customer.get(a.customer_id.as_str()) {
            a.units_year_before = listed_sum(bought.units);
            let mut list: Vec<(f64, &String)> = bought
                .value_by_product
                .iter()
                .map(|(p, v)| (listed_sum(*v), p))
                .collect();
            list.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| x.1.cmp(y.1)));
            a.top_products = list.iter().take(3).map(|(_, p)| p.to_string()).collect();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::listed_sum;

    #[test]
    fn a_listed_sum_does_not_depend_on_the_order_of_its_terms() {
        let terms = [0.1, 0.2, 0.3];
        let forward: f64 = terms.iter().sum();
        let backward: f64 = terms.iter().rev().sum();
        assert_ne!(forward, backward, "the example must show the problem");
        assert_eq!(listed_sum(forward), listed_sum(backward));
        assert_eq!(listed_sum(forward), 0.6);
        assert_eq!(listed_sum(-12.345_678_9), -12.345_679);
    }
}
