//! The DataFusion backend (`[engine] kind = "datafusion" | "ballista"`, `distributed` builds):
//! the portable SQL text of [`crate::engine::sql`] run by Apache DataFusion, in this process or
//! on an Apache DataFusion Ballista cluster.
//!
//! The rule kept: results cross to the driver through Parquet, never as an Arrow stream. Each
//! query's result is written by the engine (on a cluster, by its executors) into this night's
//! scratch folder, and polars reads it back; the two Arrow stacks (arrow-rs under DataFusion,
//! polars' own) meet at files, as they do at the warehouse, and no gRPC message limit applies to
//! a result's size. Every answer is then read by the same readers as the polars SQL backend's,
//! so the three SQL engines differ only in who ran the text.

mod scratch;
mod session;
mod tables;

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use crate::domain::engine::EngineSettings;
use crate::domain::facts::{LapsedAccount, OutcomeFacts, Purchases};
use crate::domain::feature::FeatureSpec;
use crate::domain::label::{ActiveLabels, LabelRule};
use crate::domain::table::FeatureTable;
use crate::engine::backend::Backend;
use crate::engine::sql::keep::{self, Keep};
use crate::engine::sql::{facts, features, labels, summaries};
use crate::error::{EngineContext, Result};

use scratch::Scratch;
use session::Session;

/// DataFusion (or Ballista) over the warehouse's committed parts.
pub struct DataFusionBackend {
    session: Session,
    scratch: Scratch,
    /// First and last day, once asked (the warehouse does not change while a backend is open:
    /// the workdir lock is held, and ingest runs before the engine opens).
    range: Option<(i32, i32)>,
    /// `[engine] retries`, `retry_wait_seconds` and `query_timeout_seconds`.
    retries: u32,
    retry_wait: std::time::Duration,
    query_timeout: std::time::Duration,
}

impl DataFusionBackend {
    /// Opens the warehouse at `warehouse` on the engine `settings` name; query results are
    /// written under `scratch_root` (a folder every executor can write and the driver read).
    pub fn open(warehouse: &Path, settings: &EngineSettings, scratch_root: &Path) -> Result<Self> {
        Self::with_tables(settings, scratch_root, |session, scratch| {
            tables::register(session, warehouse, scratch)
        })
    }

    /// DataFusion (or Ballista) over Parquet `files` in the warehouse's canonical schema, without
    /// a manifest or side tables (property tests split random histories into such files).
    pub fn from_files(
        files: &[std::path::PathBuf],
        settings: &EngineSettings,
        scratch_root: &Path,
    ) -> Result<Self> {
        Self::with_tables(settings, scratch_root, |session, _| {
            tables::register_parts(session, files)
        })
    }

    /// A session for `settings` whose tables `register` defines.
    fn with_tables(
        settings: &EngineSettings,
        scratch_root: &Path,
        register: impl FnOnce(&Session, &mut Scratch) -> Result<()>,
    ) -> Result<Self> {
        let mut scratch = Scratch::create(scratch_root)?;
        let session = session::open(settings)?;
        register(&session, &mut scratch)?;
        Ok(DataFusionBackend {
            session,
            scratch,
            range: None,
            retries: settings.retries,
            retry_wait: std::time::Duration::from_secs(settings.retry_wait_seconds),
            query_timeout: std::time::Duration::from_secs(settings.query_timeout_seconds),
        })
    }

    /// Runs `sql` and reads its result, written to Parquet by the engine, into a frame. On a
    /// cluster a query whose run failed (an executor lost mid-query, whose shuffle output went
    /// with it) is run again, `retries` times, after `retry_wait_seconds`: the scheduler has
    /// dropped the lost executor by then. A run on a cluster that has not finished within
    /// `query_timeout_seconds` counts as failed too: Ballista 55's scheduler can leave a job
    /// running forever after losing an executor mid-stage (seen in the loopback cluster test:
    /// "Can't find active stage to update stage outputs" after a stage resubmission), and a
    /// night that hangs is worse than one that fails with exit 3. Each run writes into a fresh
    /// folder, so a failed or abandoned run's files are never read. Planning errors are not
    /// retried: the text is wrong everywhere.
    pub fn query(&mut self, sql: &str) -> Result<DataFrame> {
        let mut attempt = 0;
        loop {
            let dir = self.scratch.next_result()?;
            match self.run_once(sql, &dir) {
                Ok(columns) => {
                    let out = tables::read_result(&dir, &columns);
                    self.scratch.remove(&dir);
                    return out;
                }
                Err(Failure::Run(e)) if self.session.remote && attempt < self.retries => {
                    self.scratch.remove(&dir);
                    attempt += 1;
                    tracing::warn!(
                        "a query failed on the Ballista cluster ({e}); running it again in {} s \
                         (attempt {} of {})",
                        self.retry_wait.as_secs(),
                        attempt + 1,
                        self.retries + 1
                    );
                    std::thread::sleep(self.retry_wait);
                }
                Err(Failure::Plan(e) | Failure::Run(e)) => {
                    self.scratch.remove(&dir);
                    return Err(e);
                }
            }
        }
    }

    /// One run of `sql`, its result written into `dir`; the result's columns.
    fn run_once(&self, sql: &str, dir: &Path) -> std::result::Result<Vec<(String, bool)>, Failure> {
        let Session {
            runtime,
            ctx,
            remote,
        } = &self.session;
        let run = async {
            let df = ctx.sql(sql).await.map_err(|e| {
                Failure::Plan(session::failed(
                    *remote,
                    format!("planning SQL:\n{sql}\n"),
                    e,
                ))
            })?;
            let columns = tables::result_columns(df.schema().as_arrow());
            df.write_parquet(
                &format!("{}/", dir.display()),
                datafusion::dataframe::DataFrameWriteOptions::new(),
                None,
            )
            .await
            .map_err(|e| {
                Failure::Run(session::failed(
                    *remote,
                    format!("running SQL:\n{sql}\n"),
                    e,
                ))
            })?;
            Ok(columns)
        };
        if !*remote {
            return runtime.block_on(run);
        }
        // Dropping the run on its deadline stops this client polling the job; the scheduler
        // keeps its record of the job (Ballista 55 gives the client no job id to cancel).
        runtime.block_on(async {
            tokio::time::timeout(self.query_timeout, run)
                .await
                .unwrap_or_else(|_| {
                    Err(Failure::Run(session::failed(
                        true,
                        format!("running SQL:\n{sql}\n"),
                        format!(
                            "the cluster did not finish it within {} s \
                             ([engine] query_timeout_seconds)",
                            self.query_timeout.as_secs()
                        ),
                    )))
                })
        })
    }

    /// Registers `ids` as the table a [`Keep::named`] query keeps.
    fn register_wanted<'a>(&mut self, ids: impl Iterator<Item = &'a str>) -> Result<()> {
        let mut wanted = keep::wanted_table(ids)?;
        tables::register_frame(&self.session, &mut self.scratch, keep::WANTED, &mut wanted)
    }

    /// The features of the customers `customers` names (registered by
    /// [`Self::register_wanted`]), or of everyone; only the active ones when `active_within` is
    /// given.
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
            |sql| by_customer(self.query(sql)?),
        )
    }
}

/// Why a query gave no result.
enum Failure {
    /// The text did not plan: the same everywhere, never retried.
    Plan(crate::error::Error),
    /// The run failed: on a cluster, worth running again.
    Run(crate::error::Error),
}

/// `df` sorted by customer id (a result written by several partitions comes back in any order).
fn by_customer(df: DataFrame) -> Result<DataFrame> {
    df.sort(["customer_id"], SortMultipleOptions::default())
        .engine(|| "ordering a DataFusion result by customer".into())
}

impl Backend for DataFusionBackend {
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
        self.register_wanted(customers.iter().copied())?;
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
        self.register_wanted(rows.iter().map(|&r| &*table.customer_ids[r]))?;
        let sql = facts::render_outcomes(table.as_of, window, value_horizon, Keep::named(None));
        let df = self.query(&sql)?;
        facts::outcome_facts(&df, table, rows)
    }

    fn active_labels(
        &mut self,
        rule: &LabelRule,
        cutoff: i32,
        active_within: i32,
    ) -> Result<ActiveLabels> {
        let sql = labels::render(rule, cutoff, active_within);
        labels::read(&by_customer(self.query(&sql)?)?)
    }

    fn purchase_summaries(&mut self, as_of: i32) -> Result<Vec<crate::btyd::Weighted>> {
        // Counted by partition in any order; `summaries::read` orders and merges them.
        let df = self.query(&summaries::render(as_of))?;
        summaries::read(&df)
    }

    fn lapsed(&mut self, as_of: i32, lost_after_days: f64) -> Result<Vec<LapsedAccount>> {
        let df = by_customer(self.query(&facts::render(as_of, lost_after_days))?)?;
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
        let mut listed = facts::listed_table(accounts)?;
        tables::register_frame(&self.session, &mut self.scratch, facts::LISTED, &mut listed)?;
        let df = self.query(&facts::render_products(as_of))?;
        facts::add_purchases(&mut by_customer, &df)?;
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
