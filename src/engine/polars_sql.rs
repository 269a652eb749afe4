//! The default engine: polars `SQLContext` over a lazy scan of the warehouse's committed parts.

use std::path::Path;

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::config::SideKind;
use crate::engine::Engine;
use crate::engine::history::History;
use crate::error::{EngineContext, Error, Result};
use crate::ingest::manifest::Manifest;
use crate::ingest::{side, warehouse};

/// polars SQL over the warehouse, and the in-memory [`History`] built from the same rows for
/// features and labels (unless `CHURNFLOW_ENGINE=sql`).
pub struct PolarsEngine {
    ctx: SQLContext,
    /// The transactions, one frame per warehouse part, each with a `day` column.
    sources: Vec<LazyFrame>,
    native: bool,
    history: Option<History>,
    /// Tables other than `transactions`, to register again in per-part contexts.
    others: Vec<(String, LazyFrame)>,
}

/// Environment variable choosing how features and labels are computed: `sql` runs the portable
/// SQL text on polars for every cutoff; anything else (or unset) uses the in-memory history.
pub const ENGINE_ENV: &str = "CHURNFLOW_ENGINE";

fn with_day(lf: LazyFrame) -> LazyFrame {
    lf.with_column(
        col("ts")
            .cast(DataType::Date)
            .cast(DataType::Int32)
            .alias("day"),
    )
}

impl PolarsEngine {
    /// Opens the warehouse at `warehouse` (only parts named by its manifest are visible).
    pub fn open(warehouse: &Path) -> Result<Self> {
        let manifest = Manifest::load(warehouse)?;
        // A damaged part is named before any query reads it.
        warehouse::verify(warehouse, &manifest)?;
        let lf = warehouse::scan(warehouse, &manifest)?.ok_or_else(|| {
            Error::Data(format!(
                "the warehouse {} holds no transactions: run `churnflow ingest` first",
                warehouse.display()
            ))
        })?;
        let mut engine = Self::from_transactions(lf);
        engine.sources = warehouse::scan_each_part(warehouse, &manifest)?
            .into_iter()
            .map(with_day)
            .collect();
        engine.native = std::env::var(ENGINE_ENV).map_or(true, |v| v != "sql");
        for kind in [SideKind::Arrears, SideKind::Events] {
            if let Some(t) = side::scan_side(warehouse, &manifest, kind)? {
                engine.ctx.register(kind.name(), t.clone());
                engine.others.push((kind.name().to_string(), t));
            }
        }
        Ok(engine)
    }

    /// Wraps a frame in the canonical warehouse schema (used by tests and by `open`).
    pub fn from_transactions(lf: LazyFrame) -> Self {
        let lf = with_day(lf);
        let ctx = SQLContext::new();
        ctx.register("transactions", lf.clone());
        PolarsEngine {
            ctx,
            sources: vec![lf],
            native: true,
            history: None,
            others: Vec::new(),
        }
    }

    /// Computes features and labels with the SQL text only (`native = false`) or from the
    /// in-memory history (`true`, the default).
    pub fn native(mut self, native: bool) -> Self {
        self.native = native;
        self
    }
}

impl Engine for PolarsEngine {
    fn query(&mut self, sql: &str) -> Result<DataFrame> {
        self.ctx
            .execute(sql)
            .and_then(|lf| lf.collect())
            .engine(|| format!("running SQL on polars:\n{sql}\n"))
    }

    fn history(&mut self, with_quantity: bool) -> Result<Option<&History>> {
        if !self.native {
            return Ok(None);
        }
        let usable = self
            .history
            .as_ref()
            .is_some_and(|h| h.has_quantity() || !with_quantity);
        if !usable {
            self.history = None;
            // The warehouse reads before it (day range, drift inputs) and the build's own
            // id maps are garbage by then; the history is held for the rest of training.
            crate::memory::give_back();
            self.history = Some(History::build(&self.sources, with_quantity)?);
            crate::memory::give_back();
        }
        Ok(self.history.as_ref())
    }

    fn release(&mut self) {
        self.history = None;
    }

    fn register(&mut self, name: &str, df: DataFrame) -> Result<()> {
        let lf = df.lazy();
        self.ctx.register(name, lf.clone());
        self.others.retain(|(n, _)| n != name);
        self.others.push((name.to_string(), lf));
        Ok(())
    }

    fn for_each_part(
        &mut self,
        sql: &str,
        each: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        for (i, part) in self.sources.iter().enumerate() {
            let mut ctx = SQLContext::new();
            ctx.register("transactions", part.clone());
            for (name, lf) in &self.others {
                ctx.register(name, lf.clone());
            }
            let df = ctx
                .execute(sql)
                .and_then(|lf| lf.collect())
                .engine(|| format!("running SQL on warehouse part {}:\n{sql}\n", i + 1))?;
            each(df)?;
            // The part's working memory, before the next part is read.
            crate::memory::give_back();
        }
        Ok(())
    }

    fn day_range(&mut self) -> Result<(i32, i32)> {
        if let Some(range) = self.history.as_ref().and_then(History::day_range) {
            return Ok(range);
        }
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
