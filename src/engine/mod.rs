//! Query engines. Features and labels are rendered to one portable SQL text and run by an
//! [`Engine`]; polars' `SQLContext` over the Parquet warehouse is the default.

pub mod history;
pub mod polars_sql;

use polars::prelude::DataFrame;

use crate::error::Result;

/// Runs SQL over a table named `transactions` with columns `customer_id, day, amount, quantity,
/// order_id, product_id` (`day` = days since 1970-01-01).
pub trait Engine {
    /// Runs one query and returns its result.
    fn query(&mut self, sql: &str) -> Result<DataFrame>;
    /// The transactions in memory, grouped by customer, when this engine keeps them
    /// (quantities loaded if `with_quantity`); features and labels are then computed from it
    /// instead of by SQL. Engines that only run SQL return `None`.
    fn history(&mut self, with_quantity: bool) -> Result<Option<&History>> {
        let _ = with_quantity;
        Ok(None)
    }
    /// Runs `sql` on each part of the transactions separately (one part at a time in memory)
    /// and hands each part's result to `each` before the next part is read; the caller merges
    /// them, so the query must be one whose results add up across parts (per-group sums, for
    /// instance). Engines without parts run it once on everything.
    fn for_each_part(
        &mut self,
        sql: &str,
        each: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        each(self.query(sql)?)
    }
    /// Frees what the engine holds in memory for features and labels (rebuilt if needed again).
    fn release(&mut self) {}
    /// Makes `df` queryable as table `name` (replacing any table of that name).
    fn register(&mut self, name: &str, df: DataFrame) -> Result<()>;
    /// First and last transaction day in the warehouse.
    fn day_range(&mut self) -> Result<(i32, i32)>;
}

/// Days an as-of day may lie past the warehouse's last day of data (a quiet weekend, a late
/// export) before the night is refused: scoring further out would list every account as lapsed
/// and call yesterday's list "resolved".
pub const MAX_DAYS_PAST_DATA: i32 = 7;

/// The night's as-of day: `as_of`, or the warehouse's last day with data. A day before the first
/// day of data, or more than [`MAX_DAYS_PAST_DATA`] after the last, is a usage error (exit 2)
/// naming the data's range.
pub fn night(engine: &mut dyn Engine, as_of: Option<i32>) -> Result<i32> {
    let (first, last) = engine.day_range()?;
    let Some(day) = as_of else { return Ok(last) };
    let range = || {
        format!(
            "the warehouse holds data from {} to {}",
            crate::dates::format_day(first),
            crate::dates::format_day(last)
        )
    };
    if day < first {
        return Err(crate::error::Error::Usage(format!(
            "--as-of {} is before the first day of data: {}; choose a day in that range",
            crate::dates::format_day(day),
            range()
        )));
    }
    if day > last + MAX_DAYS_PAST_DATA {
        return Err(crate::error::Error::Usage(format!(
            "--as-of {} is {} days after the last day of data (at most {MAX_DAYS_PAST_DATA} \
             allowed): {}; ingest the missing exports first, or choose a day in that range",
            crate::dates::format_day(day),
            day - last,
            range()
        )));
    }
    Ok(day)
}

pub use history::History;
pub use polars_sql::PolarsEngine;

/// The freshness gate: refuses a night (exit 4, "stale data") whose newest row lies more than
/// `max_age_days` before `night` (today for a scheduled night, the `--as-of` day for a
/// backfill), so a night without new data is not silently scored on yesterday's.
pub fn check_fresh(engine: &mut dyn Engine, night: i32, max_age_days: Option<i32>) -> Result<()> {
    let Some(max_age) = max_age_days else {
        return Ok(());
    };
    let (_, last) = engine.day_range()?;
    let newest = last.min(night);
    let age = night - newest;
    if age > max_age {
        return Err(crate::error::Error::Gate(format!(
            "stale data: the newest row is from {} ({age} days before {}), more than \
             source.max_data_age_days = {max_age}; deliver tonight's export, or raise the limit",
            crate::dates::format_day(newest),
            crate::dates::format_day(night)
        )));
    }
    Ok(())
}
