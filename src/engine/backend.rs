//! The engine seam itself: the questions every stage asks of the transactions, whatever runs
//! them (see `docs/ARCHITECTURE.md`, "The engine seam").

use std::collections::HashMap;

use crate::btyd::Weighted;
use crate::domain::facts::{LapsedAccount, OutcomeFacts, Purchases};
use crate::domain::feature::FeatureSpec;
use crate::domain::label::{self, ActiveLabels, LabelRule};
use crate::domain::table::FeatureTable;
use crate::error::Result;

/// What the stages ask of the transactions. Every answer uses only rows on or before the day
/// it names, except the label facts, which look past their cutoff by design.
pub trait Backend {
    /// `specs` (engine columns: no BTYD outputs, see `domain::feature::engine_specs`) as of
    /// `as_of` for every customer with a row on or before it, in customer-id order; only customers active within `active_within` days (recency below it; `specs`
    /// must include `recency_days`) when that is given. `complaint_kinds` are the event kinds
    /// counted as complaints.
    fn features(
        &mut self,
        specs: &[FeatureSpec],
        as_of: i32,
        complaint_kinds: &[String],
        active_within: Option<i32>,
    ) -> Result<FeatureTable>;
    /// [`Backend::features`] for `customers` only (a subset of the customers it returns with
    /// the same `active_within`, ascending), in their order: the rows a training sample keeps,
    /// without computing the rest. The default computes everyone's and keeps those; an engine
    /// that can look customers up does better.
    fn features_of(
        &mut self,
        specs: &[FeatureSpec],
        as_of: i32,
        complaint_kinds: &[String],
        active_within: Option<i32>,
        customers: &[&str],
    ) -> Result<FeatureTable> {
        let all = self.features(specs, as_of, complaint_kinds, active_within)?;
        all.select_customers(customers)
    }
    /// The facts behind the labels at `table.as_of` for `rows` of `table`, in their order:
    /// rows in `(cutoff - value_horizon, cutoff + max(window, value_horizon)]`.
    fn outcome_facts(
        &mut self,
        table: &FeatureTable,
        rows: &[usize],
        window: i32,
        value_horizon: i32,
    ) -> Result<Vec<OutcomeFacts>>;
    /// The labels under `rule` at `cutoff` of the customers active within `active_within` days
    /// then (recency below it), in customer-id order: what a training cutoff samples from. The
    /// default asks for `LABEL_INPUTS` and the facts of every row, and labels them here; an
    /// engine that can label where the data is returns the labels only (`engine::sql::labels`:
    /// no table of every active id crosses to the engine, and no facts come back).
    fn active_labels(
        &mut self,
        rule: &LabelRule,
        cutoff: i32,
        active_within: i32,
    ) -> Result<ActiveLabels> {
        let who = self.features(&label::LABEL_INPUTS, cutoff, &[], Some(active_within))?;
        let rows: Vec<usize> = (0..who.len()).collect();
        let facts = self.outcome_facts(&who, &rows, rule.max_window(), rule.value_horizon())?;
        let outcomes = label::outcomes(rule, &who, &rows, &facts);
        Ok(ActiveLabels {
            customer_ids: who.customer_ids,
            outcomes,
        })
    }
    /// Every customer's repeat-purchase summary (x, t_x, T in days) as of `as_of`, customers
    /// without a purchase on or before it left out, counted by distinct summary and ordered by
    /// (x, t_x, T): what a BTYD fit reads.
    fn purchase_summaries(&mut self, as_of: i32) -> Result<Vec<Weighted>>;
    /// Customers whose last purchase on or before `as_of` lies more than `lost_after_days`
    /// before it, in customer-id order.
    fn lapsed(&mut self, as_of: i32, lost_after_days: f64) -> Result<Vec<LapsedAccount>>;
    /// What each of `accounts` (customer, last purchase day) bought in the 365 days up to its
    /// last purchase (through `as_of`); accounts without purchases are absent.
    fn purchases(
        &mut self,
        accounts: &[(&str, i32)],
        as_of: i32,
    ) -> Result<HashMap<String, Purchases>>;
    /// Frees what the backend holds in memory (rebuilt if needed again).
    fn release(&mut self) {}
    /// First and last transaction day in the warehouse.
    fn day_range(&mut self) -> Result<(i32, i32)>;
}
