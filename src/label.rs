//! Churn labels: a customer in the population at cutoff c has churned when they make no purchase
//! in (c, c + horizon]. Needs data up to c + horizon.

use std::collections::HashSet;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::features::sql;
use crate::frame;

/// True (churned) for each customer id in `customer_ids`.
pub fn churn_labels(
    engine: &mut dyn Engine,
    customer_ids: &[String],
    cutoff: i32,
    horizon_days: i32,
    last_day: i32,
) -> Result<Vec<bool>> {
    if cutoff + horizon_days > last_day {
        return Err(Error::Data(format!(
            "cannot label cutoff {}: the horizon ends {} but data ends {}",
            crate::dates::format_day(cutoff),
            crate::dates::format_day(cutoff + horizon_days),
            crate::dates::format_day(last_day)
        )));
    }
    let df = engine.query(&sql::render_purchasers(cutoff, horizon_days))?;
    let purchasers: HashSet<String> = frame::str_values(&df, "customer_id")?.into_iter().collect();
    Ok(customer_ids
        .iter()
        .map(|c| !purchasers.contains(c))
        .collect())
}
