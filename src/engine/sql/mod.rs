//! The SQL backend: polars `SQLContext` over a lazy scan of the warehouse's committed parts,
//! running the portable SQL text ([`features`], [`facts`]) for every question. It is the
//! reference the history backend is checked against, and the shape a distributed engine takes.

pub mod btyd;
pub mod facts;
pub mod features;
pub mod keep;
pub mod labels;
pub mod literal;
pub mod summaries;

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::domain::facts::{LapsedAccount, OutcomeFacts, Purchases};
use crate::domain::feature::FeatureSpec;
use crate::domain::input::SideKind;
use crate::domain::label::{ActiveLabels, LabelRule};
use crate::domain::table::FeatureTable;
use crate::engine::backend::Backend;
use crate::error::{EngineContext, Error, Result};
use crate::util::frame;
use crate::warehouse::manifest::Manifest;
use crate::warehouse::{parts, side};
use keep::Keep;

/// polars SQL over the warehouse.
pub struct SqlBackend {
    ctx: SQLContext,
    /// The transactions, one frame per warehouse part, each with a `day` column.
    sources: Vec<LazyFrame>,
    /// Each source's part file (empty for frames handed over in code).
    source_paths: Vec<std::path::PathBuf>,
    /// Tables other than `transactions`, to register again in per-part contexts.
    others: Vec<(String, LazyFrame)>,
    /// First and last day, once asked: the night, the freshness gate and scoring all ask, and
    /// each ask is a scan of every part. The warehouse does not change while a backend is open
    /// (the workdir lock is held, and ingest runs before the engine opens).
    range: Option<(i32, i32)>,
}

fn with_day(lf: LazyFrame) -> LazyFrame {
    lf.with_column(
        col("ts")
            .cast(DataType::Date)
            .cast(DataType::Int32)
            .alias("day"),
    )
}

impl SqlBackend {
    /// Opens the warehouse at `warehouse` (only parts named by its manifest are visible).
    pub fn open(warehouse: &Path) -> Result<Self> {
        Self::open_at(warehouse, &Manifest::load(warehouse)?)
    }

    /// Opens the warehouse at `warehouse` as `manifest` (loaded by the caller, who needs to
    /// know exactly which parts the backend reads) describes it.
    pub(crate) fn open_at(warehouse: &Path, manifest: &Manifest) -> Result<Self> {
        // A damaged part is named before any query reads it.
        parts::verify(warehouse, manifest)?;
        let lf = parts::scan(warehouse, manifest)?.ok_or_else(|| {
            Error::Data(format!(
                "the warehouse {} holds no transactions: run `churnflow ingest` first",
                warehouse.display()
            ))
        })?;
        let mut engine = Self::from_transactions(lf);
        engine.sources = Self::sources_of(warehouse, manifest)?;
        engine.source_paths = parts::each_part_path(warehouse, manifest);
        for kind in [SideKind::Arrears, SideKind::Events] {
            if let Some(t) = side::scan_side(warehouse, manifest, kind)? {
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
        SqlBackend {
            ctx,
            sources: vec![lf],
            source_paths: Vec::new(),
            others: Vec::new(),
            range: None,
        }
    }

    /// The transactions of `manifest`'s parts, one lazy frame per part (with `day`), in the
    /// order every full read takes them (by month; a month's parts in batch order).
    pub(crate) fn sources_of(warehouse: &Path, manifest: &Manifest) -> Result<Vec<LazyFrame>> {
        Ok(parts::scan_each_part(warehouse, manifest)?
            .into_iter()
            .map(with_day)
            .collect())
    }

    /// The transactions, one lazy frame per warehouse part (with `day`).
    pub(crate) fn sources(&self) -> &[LazyFrame] {
        &self.sources
    }

    /// Runs one query over `transactions` (columns `customer_id, day, amount, quantity,
    /// order_id, product_id`; `day` = days since 1970-01-01) and the side tables.
    pub fn query(&mut self, sql: &str) -> Result<DataFrame> {
        self.ctx
            .execute(sql)
            .and_then(|lf| lf.collect())
            .engine(|| format!("running SQL on polars:\n{sql}\n"))
    }

    /// Makes `df` queryable as table `name` (replacing any table of that name).
    pub(crate) fn register(&mut self, name: &str, df: DataFrame) {
        let lf = df.lazy();
        self.ctx.register(name, lf.clone());
        self.others.retain(|(n, _)| n != name);
        self.others.push((name.to_string(), lf));
    }

    /// Runs `sql` on each part of the transactions that `read` keeps (asked of its file; every
    /// part of frames handed over in code) separately, one part at a time in memory, and hands
    /// each part's result to `each` before the next part is read; the query must be one whose
    /// results add up across parts (per-group sums, for instance).
    fn for_each_part(
        &mut self,
        sql: &str,
        read: &dyn Fn(&Path) -> Result<bool>,
        each: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        for (i, part) in self.sources.iter().enumerate() {
            if let Some(path) = self.source_paths.get(i)
                && !read(path)?
            {
                continue;
            }
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
            crate::util::memory::give_back();
        }
        Ok(())
    }

    /// The features of the customers `customers` names (registered as [`keep::WANTED`] by the
    /// caller), or of everyone; only the active ones when `active_within` is given.
    fn features_kept(
        &mut self,
        specs: &[FeatureSpec],
        as_of: i32,
        complaint_kinds: &[String],
        active_within: Option<i32>,
        customers: Option<&[&str]>,
    ) -> Result<FeatureTable> {
        features::kept(
            specs,
            as_of,
            complaint_kinds,
            active_within,
            customers,
            |sql| self.query(sql),
        )
    }

    /// Joins one side table's features onto `table` (0 for customers the side table does not
    /// name, like the full query's `COALESCE`).
    pub(crate) fn add_side_features(
        &mut self,
        side: &features::SideCtes,
        table: &mut FeatureTable,
    ) -> Result<()> {
        let df = self.query(&side.query())?;
        let ids = frame::str_values(&df, "customer_id")?;
        let row = frame::positions(&ids);
        for c in df.get_column_names() {
            if c.as_str() == "customer_id" {
                continue;
            }
            let values = frame::f64_values(&df, c)?;
            let column = table
                .customer_ids
                .iter()
                .map(|id| row.get(&**id).and_then(|&i| values[i]).unwrap_or(0.0))
                .collect();
            table.names.push(c.to_string());
            table.values.push(column);
        }
        Ok(())
    }
}

impl Backend for SqlBackend {
    fn features(
        &mut self,
        specs: &[FeatureSpec],
        as_of: i32,
        complaint_kinds: &[String],
        active_within: Option<i32>,
    ) -> Result<FeatureTable> {
        self.features_kept(specs, as_of, complaint_kinds, active_within, None)
    }

    fn features_of(
        &mut self,
        specs: &[FeatureSpec],
        as_of: i32,
        complaint_kinds: &[String],
        active_within: Option<i32>,
        customers: &[&str],
    ) -> Result<FeatureTable> {
        self.register(keep::WANTED, keep::wanted_table(customers.iter().copied())?);
        self.features_kept(
            specs,
            as_of,
            complaint_kinds,
            active_within,
            Some(customers),
        )
    }

    fn outcome_facts(
        &mut self,
        table: &FeatureTable,
        rows: &[usize],
        window: i32,
        value_horizon: i32,
    ) -> Result<Vec<OutcomeFacts>> {
        let ids = rows.iter().map(|&r| &*table.customer_ids[r]);
        self.register(keep::WANTED, keep::wanted_table(ids)?);
        let df = self.query(&facts::render_outcomes(
            table.as_of,
            window,
            value_horizon,
            Keep::named(None),
        ))?;
        facts::outcome_facts(&df, table, rows)
    }

    fn active_labels(
        &mut self,
        rule: &LabelRule,
        cutoff: i32,
        active_within: i32,
    ) -> Result<ActiveLabels> {
        labels::read(&self.query(&labels::render(rule, cutoff, active_within))?)
    }

    fn purchase_summaries(&mut self, as_of: i32) -> Result<Vec<crate::btyd::Weighted>> {
        let df = self.query(&summaries::render(as_of))?;
        summaries::read(&df)
    }

    fn lapsed(&mut self, as_of: i32, lost_after_days: f64) -> Result<Vec<LapsedAccount>> {
        let df = self.query(&facts::render(as_of, lost_after_days))?;
        facts::lapsed(&df, as_of, lost_after_days)
    }

    fn purchases(
        &mut self,
        accounts: &[(&str, i32)],
        as_of: i32,
    ) -> Result<HashMap<String, Purchases>> {
        let mut by_customer: HashMap<String, Purchases> = HashMap::new();
        if accounts.is_empty() {
            return Ok(by_customer);
        }
        self.register(facts::LISTED, facts::listed_table(accounts)?);
        // Part by part: joined to the whole warehouse at once, polars held every row of it;
        // per-part sums add up, and each part's are merged as it arrives. A part without product
        // ids and quantities adds nothing the list shows (units 0, no products; an account
        // absent from the result shows the same), so its footer is enough: exports without
        // those columns skip the join altogether.
        let informative = |path: &Path| {
            Ok(!crate::warehouse::footer::all_null(
                path,
                &["product_id", "quantity"],
            )?)
        };
        self.for_each_part(&facts::render_products(as_of), &informative, &mut |df| {
            facts::add_purchases(&mut by_customer, &df)
        })?;
        Ok(by_customer)
    }

    fn day_range(&mut self) -> Result<(i32, i32)> {
        if let Some(range) = self.range {
            return Ok(range);
        }
        let range = facts::day_range(&self.query(facts::DAY_RANGE)?)?;
        self.range = Some(range);
        Ok(range)
    }
}
