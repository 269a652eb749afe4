//! The default engine: polars `SQLContext` over a lazy scan of the warehouse's committed parts.

use std::path::Path;

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::config::SideKind;
use crate::engine::Engine;
use crate::error::{EngineContext, Error, Result};
use crate::ingest::manifest::Manifest;
use crate::ingest::{side, warehouse};

/// polars SQL over the warehouse.
pub struct PolarsEngine {
    ctx: SQLContext,
}

impl PolarsEngine {
    /// Opens the warehouse at `warehouse` (only parts named by its manifest are visible).
    pub fn open(warehouse: &Path) -> Result<Self> {
        let manifest = Manifest::load(warehouse)?;
        let lf = warehouse::scan(warehouse, &manifest)?.ok_or_else(|| {
            Error::Data(format!(
                "the warehouse {} holds no transactions: run `churnflow ingest` first",
                warehouse.display()
            ))
        })?;
        let engine = Self::from_transactions(lf);
        for kind in [SideKind::Arrears, SideKind::Events] {
            if let Some(t) = side::scan_side(warehouse, &manifest, kind)? {
                engine.ctx.register(kind.name(), t);
            }
        }
        Ok(engine)
    }

    /// Wraps a frame in the canonical warehouse schema (used by tests and by `open`).
    pub fn from_transactions(lf: LazyFrame) -> Self {
        let with_day = lf.with_column(
            col("ts")
                .cast(DataType::Date)
                .cast(DataType::Int32)
                .alias("day"),
        );
        let ctx = SQLContext::new();
        ctx.register("transactions", with_day);
        PolarsEngine { ctx }
    }
}

impl Engine for PolarsEngine {
    fn query(&mut self, sql: &str) -> Result<DataFrame> {
        self.ctx
            .execute(sql)
            .and_then(|lf| lf.collect())
            .engine(|| format!("running SQL on polars:\n{sql}\n"))
    }

    fn day_range(&mut self) -> Result<(i32, i32)> {
        let df =
            self.query("SELECT MIN(day) AS first_day, MAX(day) AS last_day FROM transactions")?;
        let get = |name: &str| -> Result<Option<i32>> {
            Ok(df
                .column(name)
                .and_then(|c| c.cast(&DataType::Int32))
                .engine(|| format!("reading {name}"))?
                .i32()
                .engine(|| format!("reading {name}"))?
                .get(0))
        };
        match (get("first_day")?, get("last_day")?) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(Error::Data("the warehouse holds no transactions".into())),
        }
    }
}
