//! The history backend: reads the warehouse once, one part at a time, into memory grouped by
//! customer ([`History`], about 12 bytes per transaction), and answers every cutoff's features
//! and label facts, and the lapsed accounts, from there in parallel over customers, where the
//! SQL text costs one scan and group-by of the warehouse per cutoff. Side tables (small) and
//! products (only the listed accounts) still go through its [`SqlBackend`].

mod build;
mod kernels;
mod rows;

pub use build::History;
pub use kernels::needs_quantity;

use std::collections::HashMap;

use polars::prelude::LazyFrame;
use rayon::prelude::*;

use crate::domain::facts::{LapsedAccount, OutcomeFacts, Purchases};
use crate::domain::feature::FeatureSpec;
use crate::domain::table::FeatureTable;
use crate::engine::backend::Backend;
use crate::engine::sql::{SqlBackend, features as sql_text};
use crate::error::Result;

/// The in-memory history over an SQL backend for what it does not hold.
pub struct HistoryBackend {
    sql: SqlBackend,
    /// Built on first use; dropped by [`Backend::release`].
    history: Option<History>,
}

impl HistoryBackend {
    /// Opens the warehouse at `warehouse`; the history is read when first needed.
    pub fn open(warehouse: &std::path::Path) -> Result<Self> {
        Ok(Self::over(SqlBackend::open(warehouse)?))
    }

    /// Wraps a frame in the canonical warehouse schema (used by tests).
    pub fn from_transactions(lf: LazyFrame) -> Self {
        Self::over(SqlBackend::from_transactions(lf))
    }

    fn over(sql: SqlBackend) -> Self {
        HistoryBackend { sql, history: None }
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
            self.history = Some(History::build(self.sql.sources(), with_quantity)?);
            crate::util::memory::give_back();
        }
        Ok(self.history.as_ref().expect("built above"))
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
        let tx: Vec<FeatureSpec> = specs
            .iter()
            .filter(|s| s.side_table().is_none())
            .copied()
            .collect();
        let mut table =
            self.history(needs_quantity(&tx))?
                .features_where(&tx, as_of, active_within)?;
        for side in sql_text::side_ctes(specs, as_of, complaint_kinds) {
            self.sql.add_side_features(&side, &mut table)?;
        }
        table.reorder(specs)
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
