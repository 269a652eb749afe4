//! Scoring one as-of day with the current model: probabilities for every active customer, key
//! accounts, quadrants, lifecycle stages, expected value at risk, reasons, list state across
//! nights and the win-back list, returned as a [`Scored`] for the writers.

mod accounts;
mod columns;
pub mod list;
mod outcome;
mod resolved;

use std::collections::BTreeMap;

use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::{Error, Result};
use crate::features;
use crate::model::artifact::ModelArtifact;
use crate::model::registry::Registry;
use crate::segment::key_accounts::{self, KeyInputs};
use crate::segment::list_state::{ListState, Listed};
use crate::segment::winback;
use crate::util::dates::{Day, parse_day};
use crate::warehouse::side;

pub use outcome::{LIST_COLUMNS, ScoreOutcome, Scored, ScoredAccount};

/// The current model of the pipeline, or a clear error when none was promoted yet.
pub fn current_model(p: &Pipeline) -> Result<ModelArtifact> {
    let registry = Registry::load(&p.models_dir)?;
    let id = registry.current.ok_or_else(|| {
        Error::Artifact(format!(
            "no current model in {}: run `churnflow train {}` first",
            p.models_dir.display(),
            p.file.display()
        ))
    })?;
    ModelArtifact::load(&p.models_dir, &id)
}

/// Scores the active population as of `as_of` (default: the last day with data), with the
/// features `tonight` holds for that day (computed there if no stage before asked for them).
/// Writes tonight's features; the lists and reports are written by the caller from the outcome.
///
/// Long by design: the order of its steps sets scoring's peak memory (the history is freed before
/// tonight's accounts are built, tonight's columns before the outputs); each step is its own
/// function.
pub fn score_with(
    p: &Pipeline,
    engine: &mut dyn Backend,
    as_of: Option<i32>,
    tonight: &mut features::Tonight,
) -> Result<Scored> {
    let model = current_model(p)?;
    let as_of = crate::engine::night(engine, as_of)?;
    let night = Day::new(as_of);
    let table = tonight.take(p, engine, as_of)?;
    model.check_features(&table)?;
    let s = &p.scoring;
    // The lapsed accounts are the last use of the engine's in-memory history: take them (every
    // one with value; the key-account line is applied once it is known) and free the history
    // before anything else of tonight is built, so that the history and tonight's accounts are
    // never held together.
    let lapsed = winback::lapsed_list(engine, as_of, s.lifecycle.lost_after_days)?;
    engine.release();
    crate::util::memory::give_back();
    let features_path = p.features_file(night);
    features::write(&table, &features_path)?;
    crate::util::memory::give_back();

    let rows = table.active_rows(p.active_within_days)?;
    let prob = model.predict(&table, &rows)?;
    let mut c = columns::Columns::of(&table, rows, prob)?;
    let state_dir = p.list_state_dir();
    let previous = ListState::previous(&state_dir, as_of)?;
    let key_inputs = KeyInputs {
        ids: std::mem::take(&mut c.ids),
        value_12m: c.value.clone(),
        orders_12m: c.orders.clone(),
        arrears: c.arrears.as_ref().map_or(vec![0.0; c.rows.len()], |a| {
            a.iter().map(|v| v.unwrap_or(0.0)).collect()
        }),
        cycle_days: c.cycle.clone(),
    };
    let key_tonight = key_accounts::select(s.key, &key_inputs);
    c.ids = key_inputs.ids;
    // The key-account line tonight: the smallest 12-month value among tonight's key accounts.
    let key_line = c
        .value
        .iter()
        .zip(&key_tonight)
        .filter(|(_, k)| **k)
        .map(|(v, _)| *v)
        .fold(f64::INFINITY, f64::min);
    // Units and products are asked only for the accounts the list holds (at 10^7 transactions
    // of short histories, 193,000 lapsed key accounts would all have been joined to the
    // warehouse for a list nobody reads to the end).
    let (candidates, winback_beyond) =
        winback::within(winback::at_or_above(lapsed, key_line), s.max_winback);
    let winback = winback::add_products(engine, candidates, as_of)?;
    crate::util::memory::give_back();
    let key_last: Vec<Option<i32>> = c
        .ids
        .iter()
        .map(|id| {
            previous
                .as_ref()
                .and_then(|st| st.key_last_seen.get(id))
                .map(|d| d.number())
        })
        .collect();
    let key = key_accounts::with_grace(&key_tonight, &key_last, as_of, s.key_grace_days);
    let key_last_seen = ListState::carry_key_days(
        previous.as_ref(),
        c.ids
            .iter()
            .map(String::as_str)
            .zip(key_tonight.iter().copied()),
        as_of,
    );
    let master = side::customer_master(&p.warehouse_dir())?;
    let horizon_share = p.label.value_horizon() as f64 / 365.0;
    let mut scored = accounts::accounts(&mut c, &key, horizon_share, s, &master);

    let built = list::build(&scored, s, previous.as_ref(), as_of);
    let mut warnings = list::warnings(&scored, s, &built);
    // `score --as-of` a past night with a model trained later: its probabilities have seen
    // that night's future (`run` retrains instead).
    if parse_day(&model.training.data_to).is_some_and(|d| d > as_of) {
        warnings.push(format!(
            "model {} was trained on data to {}, after this night ({night}): its scores have \
             seen the night's future; `churnflow run --as-of {night}` trains as of the night",
            model.model_id, model.training.data_to
        ));
    }
    let listed = built.listed;
    accounts::explain_listed(
        &model,
        &table,
        &c,
        &listed,
        s,
        previous.as_ref(),
        &mut scored,
    )?;
    // Only the scored accounts are needed from here on: the outputs of millions of accounts
    // are built next, and tonight's features and model inputs would double the peak.
    let btyd_fits = crate::model::artifact::BtydFit::of(&table);
    drop(c);
    drop(table);
    crate::util::memory::give_back();
    let resolved = resolved::since(
        previous.as_ref(),
        &scored,
        &listed,
        &built.beyond_capacity,
        as_of,
    );

    let outcome = ScoreOutcome {
        as_of: night,
        model,
        scored,
        listed,
        resolved,
        winback,
        winback_beyond_capacity: winback_beyond,
        outputs: vec![features_path],
        further_qualifying: built.beyond_capacity.len(),
        warnings,
        currency: s.currency.clone(),
        btyd_fits,
    };
    // Tonight's list state, saved by the caller once every output is in place.
    let state = list_state(&outcome, as_of, key_last_seen);
    Ok(Scored {
        outcome,
        master,
        state,
        state_dir,
    })
}

/// Tonight's list state: each listed account with its first night and probability, and the
/// last night each key account was one.
fn list_state(
    outcome: &ScoreOutcome,
    as_of: i32,
    key_last_seen: BTreeMap<String, Day>,
) -> ListState {
    ListState {
        as_of: outcome.as_of,
        listed: outcome
            .listed
            .iter()
            .map(|e| {
                let a = &outcome.scored[e.index];
                let first = Day::new(as_of - e.days_on_list + 1);
                (
                    a.customer_id.clone(),
                    Listed {
                        first_listed: first,
                        churn_probability: a.churn_probability,
                    },
                )
            })
            .collect(),
        key_last_seen,
    }
}
