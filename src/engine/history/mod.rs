//! The history backend: reads the warehouse once, one part at a time, into memory grouped by
//! customer ([`History`], about 12 bytes per transaction), and answers every cutoff's features
//! and label facts, and the lapsed accounts, from there in parallel over customers, where the
//! SQL text costs one scan and group-by of the warehouse per cutoff. Side tables (small) and
//! products (only the listed accounts) still go through its [`SqlBackend`].

mod build;
mod kernels;
mod merge;
mod rows;
mod state;
mod state_file;

pub use build::History;
pub use kernels::needs_quantity;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::LazyFrame;
use rayon::prelude::*;

use crate::domain::facts::{LapsedAccount, OutcomeFacts, Purchases};
use crate::domain::feature::FeatureSpec;
use crate::domain::table::FeatureTable;
use crate::engine::backend::Backend;
use crate::engine::sql::{SqlBackend, features as sql_text};
use crate::error::{Error, Result};
use crate::warehouse::manifest::Manifest;

/// The in-memory history over an SQL backend for what it does not hold.
pub struct HistoryBackend {
    sql: SqlBackend,
    /// Built on first use; dropped by [`Backend::release`].
    history: Option<History>,
    /// Where the history is saved between nights, and the warehouse it describes.
    saved: Option<Saving>,
}

/// The history state of a warehouse (`state.rs`): its file, and tonight's manifest.
struct Saving {
    file: PathBuf,
    warehouse: PathBuf,
    manifest: Manifest,
}

impl HistoryBackend {
    /// Opens the warehouse at `warehouse`; the history is read when first needed.
    pub fn open(warehouse: &Path) -> Result<Self> {
        Ok(Self::over(SqlBackend::open(warehouse)?))
    }

    /// Opens the warehouse at `warehouse` with its history state kept in `state_dir`: the
    /// history is read from there and the batches committed since, and saved again when it
    /// changed (see `state.rs` for when it is rebuilt from the parts instead).
    pub fn open_with_state(warehouse: &Path, state_dir: &Path) -> Result<Self> {
        // One load: the state must name exactly the parts the backend reads. Loaded twice, an
        // ingest committing in between (`score` beside a `run`) would have saved a state
        // naming a batch whose rows it never read, and later nights would trust it.
        let manifest = Manifest::load(warehouse)?;
        let mut backend = Self::over(SqlBackend::open_at(warehouse, &manifest)?);
        backend.saved = Some(Saving {
            file: state::path_in(state_dir),
            warehouse: warehouse.to_path_buf(),
            manifest,
        });
        Ok(backend)
    }

    /// Wraps a frame in the canonical warehouse schema (used by tests).
    pub fn from_transactions(lf: LazyFrame) -> Self {
        Self::over(SqlBackend::from_transactions(lf))
    }

    fn over(sql: SqlBackend) -> Self {
        HistoryBackend {
            sql,
            history: None,
            saved: None,
        }
    }

    /// The history, built (again) if it is missing or lacks quantities `with_quantity` needs.
    fn history(&mut self, with_quantity: bool) -> Result<&History> {
        let usable = self
            .history
            .as_ref()
            .is_some_and(|h| h.has_quantity() || !with_quantity);
        if !usable {
            self.history = None;
            // The warehouse reads before it (day range, drift inputs) and the build's own
            // id maps are garbage by then; the history is held for the rest of training.
            crate::util::memory::give_back();
            self.history = Some(match &self.saved {
                Some(saving) => saving.history(self.sql.sources(), with_quantity)?,
                None => History::build(self.sql.sources(), with_quantity)?,
            });
            crate::util::memory::give_back();
        }
        Ok(self.history.as_ref().expect("built above"))
    }
}

impl Saving {
    /// The history from the saved state and the batches after it, or built from every part
    /// (`sources`) when the state is missing, unreadable, lacks quantities tonight needs, or no
    /// longer matches the manifest; saved again whenever it changed.
    fn history(&self, sources: &[LazyFrame], with_quantity: bool) -> Result<History> {
        let t = std::time::Instant::now();
        let now = state::covered(&self.manifest);
        let why_rebuilt = match state_file::load(&self.file) {
            Ok(Some(saved)) if !with_quantity || saved.history.has_quantity() => {
                match state::held(&saved.covers, &now) {
                    Some(k) if k == now.len() => {
                        tracing::info!(
                            "history: read from {} in {:.2} s (up to date)",
                            self.file.display(),
                            t.elapsed().as_secs_f64()
                        );
                        return Ok(saved.history);
                    }
                    Some(k) => {
                        let later = self.parts_of(&self.manifest.batches[k..])?;
                        let with_q = saved.history.has_quantity();
                        let h = saved.history.merged(History::build(&later, with_q)?);
                        tracing::info!(
                            "history: read from {} and {} batch(es) added in {:.2} s",
                            self.file.display(),
                            now.len() - k,
                            t.elapsed().as_secs_f64()
                        );
                        self.save(&h, &now);
                        return Ok(h);
                    }
                    None => {
                        "an earlier batch changed (restated, retracted or repaired)".to_string()
                    }
                }
            }
            Ok(Some(_)) => "it holds no quantities, and tonight's features need them".into(),
            Ok(None) => "there is none yet".into(),
            Err(e) => {
                tracing::warn!("{e}; rebuilding the history from the warehouse's parts");
                "it could not be read".into()
            }
        };
        let h = History::build(sources, with_quantity)?;
        tracing::info!(
            "history: built from {} warehouse parts in {:.2} s (the saved state was not used: {why_rebuilt})",
            sources.len(),
            t.elapsed().as_secs_f64()
        );
        self.save(&h, &now);
        Ok(h)
    }

    /// The parts of `batches` as sources with `day`, in the order the full read takes them.
    fn parts_of(&self, batches: &[crate::warehouse::manifest::Batch]) -> Result<Vec<LazyFrame>> {
        let mut partial = self.manifest.clone();
        partial.batches = batches.to_vec();
        SqlBackend::sources_of(&self.warehouse, &partial)
    }

    /// Saves the state; a failure (disk full, read-only folder) costs the next night a rebuild,
    /// not tonight's run, so it is a warning.
    fn save(&self, h: &History, covers: &[state::Covered]) {
        let t = std::time::Instant::now();
        match state_file::save(&self.file, h, covers) {
            Ok(()) => tracing::info!(
                "history: saved to {} in {:.2} s",
                self.file.display(),
                t.elapsed().as_secs_f64()
            ),
            Err(e) => tracing::warn!(
                "the history state was not saved ({e}); the next night rebuilds it from the warehouse's parts"
            ),
        }
    }
}

/// The specs of `specs` the history computes (side-table ones go through SQL).
fn transaction_specs(specs: &[FeatureSpec]) -> Vec<FeatureSpec> {
    specs
        .iter()
        .filter(|s| s.side_table().is_none())
        .copied()
        .collect()
}

impl HistoryBackend {
    /// `table` (transaction features) with the side-table features of `specs` joined on, in
    /// the order of `specs`.
    fn with_side_features(
        &mut self,
        mut table: FeatureTable,
        specs: &[FeatureSpec],
        as_of: i32,
        complaint_kinds: &[String],
    ) -> Result<FeatureTable> {
        for side in sql_text::side_ctes(specs, as_of, complaint_kinds) {
            self.sql.add_side_features(&side, &mut table)?;
        }
        table.reorder(specs)
    }
}

impl Backend for HistoryBackend {
    fn features(
        &mut self,
        specs: &[FeatureSpec],
        as_of: i32,
        complaint_kinds: &[String],
        active_within: Option<i32>,
    ) -> Result<FeatureTable> {
        let tx = transaction_specs(specs);
        let table = self
            .history(needs_quantity(&tx))?
            .features_where(&tx, as_of, active_within)?;
        self.with_side_features(table, specs, as_of, complaint_kinds)
    }

    fn features_of(
        &mut self,
        specs: &[FeatureSpec],
        as_of: i32,
        complaint_kinds: &[String],
        _active_within: Option<i32>,
        customers: &[&str],
    ) -> Result<FeatureTable> {
        let tx = transaction_specs(specs);
        let history = self.history(needs_quantity(&tx))?;
        let positions = history
            .positions(customers.iter().copied())
            .into_iter()
            .zip(customers)
            .map(|(at, id)| {
                at.ok_or_else(|| {
                    Error::Data(format!(
                        "customer {id} has no history as of {}",
                        crate::util::dates::format_day(as_of)
                    ))
                })
            })
            .collect::<Result<Vec<usize>>>()?;
        let table = history.features_at(&tx, as_of, &positions)?;
        self.with_side_features(table, specs, as_of, complaint_kinds)
    }

    fn outcome_facts(
        &mut self,
        table: &FeatureTable,
        rows: &[usize],
        window: i32,
        value_horizon: i32,
    ) -> Result<Vec<OutcomeFacts>> {
        let history = self.history(false)?;
        let at = history.positions(rows.iter().map(|&r| &*table.customer_ids[r]));
        Ok(at
            .par_iter()
            .map(|c| match *c {
                Some(c) => history.outcome_facts(c, table.as_of, window, value_horizon),
                None => OutcomeFacts::NONE,
            })
            .collect())
    }

    fn purchase_summaries(&mut self, as_of: i32) -> Result<Vec<crate::btyd::Weighted>> {
        Ok(self.history(false)?.purchase_summaries(as_of))
    }

    fn lapsed(&mut self, as_of: i32, lost_after_days: f64) -> Result<Vec<LapsedAccount>> {
        let h = self.history(false)?;
        Ok(h.lapsed(as_of, lost_after_days)
            .into_iter()
            .map(|l| LapsedAccount {
                customer_id: h.id(l.customer).to_string(),
                last_day: l.last_day,
                value: l.value,
                orders: l.orders,
            })
            .collect())
    }

    fn purchases(
        &mut self,
        accounts: &[(&str, i32)],
        as_of: i32,
    ) -> Result<HashMap<String, Purchases>> {
        self.sql.purchases(accounts, as_of)
    }

    fn release(&mut self) {
        self.history = None;
    }

    fn day_range(&mut self) -> Result<(i32, i32)> {
        match self.history.as_ref().and_then(History::day_range) {
            Some(range) => Ok(range),
            None => self.sql.day_range(),
        }
    }
}
