//! Labelled snapshots computed from an engine: features at a cutoff, the labels of what
//! happened next, and the class-stratified samples training keeps of them.

use std::collections::BTreeMap;

use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::Result;
use crate::features::{self, spec};
use crate::label;
use crate::model::snapshot::{self, Snapshot};

/// Labelled snapshots, computed once per cutoff.
pub struct Snapshots {
    pub last: i32,
    /// Keep a class-stratified sample of at most this many rows per cutoff (with this seed).
    sample: Option<(usize, u64)>,
    by_cutoff: BTreeMap<i32, Snapshot>,
}

impl Snapshots {
    /// An empty cache for a warehouse whose data ends on `last`.
    pub fn new(last: i32) -> Self {
        Snapshots {
            last,
            sample: None,
            by_cutoff: BTreeMap::new(),
        }
    }

    /// Snapshots that keep a class-stratified sample of at most `max_rows` rows each.
    pub fn sampled(last: i32, max_rows: usize, seed: u64) -> Self {
        Snapshots {
            sample: Some((max_rows, seed)),
            ..Self::new(last)
        }
    }

    /// Computes the snapshots of `cutoffs` that are not cached yet.
    pub fn ensure(
        &mut self,
        p: &Pipeline,
        engine: &mut dyn Backend,
        cutoffs: &[i32],
    ) -> Result<()> {
        let missing: Vec<i32> = cutoffs
            .iter()
            .copied()
            .filter(|c| !self.by_cutoff.contains_key(c))
            .collect();
        let bar = crate::util::progress::bar(missing.len() as u64, "features at cutoffs");
        for c in missing {
            let s = match self.sample {
                Some((max_rows, seed)) => sampled_snapshot(
                    p,
                    engine,
                    c,
                    self.last,
                    max_rows,
                    seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                )?,
                None => snapshot(p, engine, c, self.last)?,
            };
            self.by_cutoff.insert(c, s);
            // The cutoff's whole active table was just sampled down: hand it back before the
            // next one is computed.
            crate::util::memory::give_back();
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(())
    }

    /// A computed snapshot.
    pub fn get(&self, cutoff: i32) -> &Snapshot {
        &self.by_cutoff[&cutoff]
    }

    /// A computed snapshot, moved out of the cache.
    pub fn take(&mut self, cutoff: i32) -> Snapshot {
        self.by_cutoff
            .remove(&cutoff)
            .expect("the snapshot was computed")
    }
}

/// Labels and lost value of `rows` of `table` (features as of the cutoff) under `rule`, with
/// data up to `last`.
pub fn outcomes_at(
    engine: &mut dyn Backend,
    rule: &label::LabelRule,
    table: &features::FeatureTable,
    rows: &[usize],
    last: i32,
) -> Result<label::Outcomes> {
    label::check_window(rule, table.as_of, last)?;
    let facts = engine.outcome_facts(table, rows, rule.max_window(), rule.value_horizon())?;
    Ok(label::outcomes(rule, table, rows, &facts))
}

/// Features, labels and lost value at one cutoff.
pub fn snapshot(
    p: &Pipeline,
    engine: &mut dyn Backend,
    cutoff: i32,
    last: i32,
) -> Result<Snapshot> {
    // Fitting and validation read only the active rows, so only those are computed: the
    // snapshots cost the active population rather than everyone ever seen (at 10^8 rows that
    // did not fit in memory).
    let table = features::compute_active_for(p, engine, cutoff)?;
    let rows: Vec<usize> = (0..table.len()).collect();
    let o = outcomes_at(engine, &p.label, &table, &rows, last)?;
    Ok(Snapshot {
        cutoff,
        population: table.len(),
        churners: o.churned.iter().filter(|c| **c).count(),
        table,
        rows,
        labels: o.churned,
        lost_value: o.lost_value,
    })
}

/// [`snapshot()`] keeping a class-stratified sample of at most `max_rows` rows, the same snapshot
/// as `snapshot(..).sample(max_rows, seed)`: the labels of the whole active population come
/// first (they read only `domain::label::LABEL_INPUTS`; an SQL engine labels them where the
/// data is and returns the labels only), the sample is drawn from them as `Snapshot::sample`
/// draws it, and the features are computed only for the customers it keeps (a training cutoff
/// keeps a few percent of its active rows, and the features were most of its cost).
pub fn sampled_snapshot(
    p: &Pipeline,
    engine: &mut dyn Backend,
    cutoff: i32,
    last: i32,
    max_rows: usize,
    seed: u64,
) -> Result<Snapshot> {
    label::check_window(&p.label, cutoff, last)?;
    let who = engine.active_labels(&p.label, cutoff, p.active_within_days)?;
    let o = &who.outcomes;
    let Some(keep) = snapshot::stratified_sample(&o.churned, max_rows, seed) else {
        // Every row is kept: nothing to skip.
        return snapshot(p, engine, cutoff, last);
    };
    let ids: Vec<&str> = keep.iter().map(|&k| &*who.customer_ids[k]).collect();
    let table = features::compute_active_of(p, engine, cutoff, &ids)?;
    Ok(Snapshot {
        cutoff,
        population: who.customer_ids.len(),
        churners: o.churned.iter().filter(|c| **c).count(),
        table,
        rows: (0..keep.len()).collect(),
        labels: keep.iter().map(|&k| o.churned[k]).collect(),
        lost_value: keep.iter().map(|&k| o.lost_value[k]).collect(),
    })
}

/// Recency (higher = more likely gone) for the snapshot's rows.
pub fn recency_scores(s: &Snapshot) -> Result<Vec<f64>> {
    let r = s.table.require("recency_days")?;
    Ok(s.rows
        .iter()
        .map(|&i| r.get(i).unwrap_or(f64::MAX))
        .collect())
}

/// Expected value at risk used to rank accounts: P(churn) x trailing 12-month value.
pub fn value_at_risk(s: &Snapshot, p: &[f64]) -> Result<Vec<f64>> {
    let v = s.table.require(&spec::VALUE_12M.name())?;
    Ok(s.rows
        .iter()
        .zip(p)
        .map(|(&i, p)| p * v.get(i).unwrap_or(0.0).max(0.0))
        .collect())
}
