//! Query engines. Features and labels are rendered to one portable SQL text and run by an
//! [`Engine`]; polars' `SQLContext` over the Parquet warehouse is the default.

pub mod polars_sql;

use polars::prelude::DataFrame;

use crate::error::Result;

/// Runs SQL over a table named `transactions` with columns `customer_id, day, amount, quantity,
/// order_id, product_id` (`day` = days since 1970-01-01).
pub trait Engine {
    /// Runs one query and returns its result.
    fn query(&mut self, sql: &str) -> Result<DataFrame>;
    /// First and last transaction day in the warehouse.
    fn day_range(&mut self) -> Result<(i32, i32)>;
}

pub use polars_sql::PolarsEngine;
