//! Scoring one as-of day with the current model: probabilities for every active customer, key
//! accounts, quadrants, lifecycle stages, expected value at risk, reasons, list state across
//! nights, the win-back list, and every output file on disk.

pub mod list;
mod resolved;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::config::{Pipeline, RiskRule};
use crate::engine::Backend;
use crate::error::{Error, Result};
use crate::features::{self, FeatureTable, spec};
use crate::model::artifact::ModelArtifact;
use crate::model::registry::Registry;
use crate::segment::action;
use crate::segment::key_accounts::{self, KeyInputs};
use crate::segment::lifecycle::LifecycleStage;
use crate::segment::list_state::{ListState, Listed, Status};
use crate::segment::quadrant::Quadrant;
use crate::segment::reasons::{self, AccountFacts};
use crate::segment::winback::{self, WinbackAccount};
use crate::util::dates::format_day;
use crate::warehouse::side;

/// Columns of `at_risk_key_accounts.csv`, in order (README "Outputs").
pub const LIST_COLUMNS: [&str; 23] = [
    "rank",
    "customer_id",
    "name",
    "owner",
    "churn_probability",
    "value_12m",
    "expected_value_at_risk",
    "key_account",
    "quadrant",
    "action",
    "lifecycle_stage",
    "days_since_last_purchase",
    "usual_cycle_days",
    "reason_1",
    "reason_2",
    "reason_3",
    "status",
    "days_on_list",
    "model_id",
    "as_of",
    "region",
    "previous_probability",
    "probability_change",
];

/// One scored account.
#[derive(Debug, Clone)]
pub struct ScoredAccount {
    pub customer_id: String,
    pub name: String,
    pub owner: String,
    pub region: String,
    pub churn_probability: f64,
    pub value_12m: f64,
    pub expected_value_at_risk: f64,
    pub key_account: bool,
    pub quadrant: Quadrant,
    pub lifecycle: LifecycleStage,
    pub days_since_last_purchase: f64,
    pub usual_cycle_days: Option<f64>,
    pub reasons: Vec<String>,
    /// What to do, from the quadrant and the strongest reason (`segment::action`).
    pub action: String,
    /// The probability on the previous night's list, when the account was on it.
    pub previous_probability: Option<f64>,
}

/// A listed account's state across nights.
#[derive(Debug, Clone, Copy)]
pub struct ListEntry {
    pub index: usize,
    pub status: Status,
    pub days_on_list: i32,
}

/// An account that left the list since the previous night.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub customer_id: String,
    pub first_listed: String,
    pub last_probability: f64,
    pub probability_now: Option<f64>,
    pub why: &'static str,
}

/// What `score` produced.
#[derive(Debug)]
pub struct ScoreOutcome {
    pub as_of: String,
    pub model: ModelArtifact,
    /// Every scored account, in customer id order.
    pub scored: Vec<ScoredAccount>,
    /// The at-risk list, in rank order.
    pub listed: Vec<ListEntry>,
    pub resolved: Vec<Resolved>,
    pub winback: Vec<WinbackAccount>,
    pub outputs: Vec<PathBuf>,
    /// Accounts that qualified for the list but were beyond its capacity.
    pub further_qualifying: usize,
    /// The list is empty or too long, and which rule caused it.
    pub warnings: Vec<String>,
    /// The currency label for money in the report ("" for none).
    pub currency: String,
}

impl ScoreOutcome {
    /// How many scored accounts are key accounts.
    pub fn key_accounts(&self) -> usize {
        self.scored.iter().filter(|a| a.key_account).count()
    }

    /// Expected value at risk summed over the listed accounts.
    pub fn listed_value_at_risk(&self) -> f64 {
        self.listed
            .iter()
            .map(|e| self.scored[e.index].expected_value_at_risk)
            .sum()
    }

    /// The listed account at rank `r` (0-based).
    pub fn listed_account(&self, r: usize) -> &ScoredAccount {
        &self.scored[self.listed[r].index]
    }
}

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

fn column<'a>(t: &'a FeatureTable, name: &str) -> Result<features::Values<'a>> {
    t.require(name)
}

/// High-risk flags under the pipeline's risk rule.
fn high_risk(rule: RiskRule, ids: &[String], prob: &[f64], next_value: &[f64]) -> Vec<bool> {
    match rule {
        RiskRule::Probability(t) => prob.iter().map(|&p| p >= t).collect(),
        RiskRule::TopShare(s) => key_accounts::top_share(ids, prob, s),
        RiskRule::Cost {
            retention_cost,
            save_rate,
        } => prob
            .iter()
            .zip(next_value)
            .map(|(p, v)| p * v * save_rate > retention_cost)
            .collect(),
    }
}

/// What scoring leaves for the writers (`app::score_night`): the outcome, the customer master
/// (names on the win-back list) and tonight's list state, to be saved only once every output is
/// in place, so a night killed while writing is scored again against the same previous night.
pub struct Scored {
    pub outcome: ScoreOutcome,
    pub master: HashMap<String, side::CustomerInfo>,
    pub state: ListState,
    pub state_dir: PathBuf,
}

/// Scores the active population as of `as_of` (default: the last day with data), reusing
/// `tonight` (features already computed on the same warehouse, e.g. by the drift check) when it
/// is as of the scoring day. Writes tonight's features; the lists and reports are written by the
/// caller from the outcome.
pub fn score_with(
    p: &Pipeline,
    engine: &mut dyn Backend,
    as_of: Option<i32>,
    tonight: Option<features::FeatureTable>,
) -> Result<Scored> {
    let model = current_model(p)?;
    let as_of = crate::engine::night(engine, as_of)?;
    let as_of_text = format_day(as_of);
    let table = match tonight {
        Some(t) if t.as_of == as_of => t,
        _ => features::compute_for(p, engine, as_of)?,
    };
    model.check_features(&table)?;
    let s = &p.scoring;
    // The lapsed accounts are the last use of the engine's in-memory history: take them (every
    // one with value; the key-account line is applied once it is known) and free the history before
    // anything else of tonight is built, so that the history (about 2.4 GB at 10^8
    // transactions) and tonight's accounts are never held together.
    let lapsed = winback::lapsed_list(engine, as_of, s.lifecycle.lost_after_days)?;
    engine.release();
    crate::util::memory::give_back();
    let features_path = p.features_file(&as_of_text);
    features::write(&table, &features_path)?;
    crate::util::memory::give_back();

    let rows = table.active_rows(p.active_within_days)?;
    let prob = model.predict(&table, &rows)?;
    let ids: Vec<String> = rows
        .iter()
        .map(|&i| table.customer_ids[i].to_string())
        .collect();
    let pick = |name: &str| -> Result<Vec<Option<f64>>> {
        let c = column(&table, name)?;
        Ok(rows.iter().map(|&i| c.get(i)).collect())
    };
    let value: Vec<f64> = pick(&spec::VALUE_12M.name())?
        .iter()
        .map(|v| v.unwrap_or(0.0).max(0.0))
        .collect();
    let recency = pick("recency_days")?;
    let tenure = pick("tenure_days")?;
    let cycle = pick("purchase_cycle_days")?;
    let trend = pick(&spec::SPEND_TREND_90D.name())?;
    let arrears = table
        .column("arrears_outstanding")
        .map(|c| rows.iter().map(|&i| c.get(i)).collect::<Vec<_>>());
    let overdue = table
        .column("arrears_days_overdue")
        .map(|c| rows.iter().map(|&i| c.get(i)).collect::<Vec<_>>());

    let state_dir = p.workdir.join("state").join("lists");
    let previous = ListState::previous(&state_dir, as_of)?;
    let key_inputs = KeyInputs {
        ids,
        value_12m: value.clone(),
        orders_12m: pick(&spec::ORDERS_12M.name())?
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect(),
        arrears: arrears.as_ref().map_or(vec![0.0; rows.len()], |a| {
            a.iter().map(|v| v.unwrap_or(0.0)).collect()
        }),
        cycle_days: cycle.clone(),
    };
    let key_tonight = key_accounts::select(s.key, &key_inputs);
    let ids = key_inputs.ids;
    // The key-account line tonight: the smallest 12-month value among tonight's key accounts.
    let key_line = value
        .iter()
        .zip(&key_tonight)
        .filter(|(_, k)| **k)
        .map(|(v, _)| *v)
        .fold(f64::INFINITY, f64::min);
    let winback = winback::add_products(engine, winback::at_or_above(lapsed, key_line), as_of)?;
    crate::util::memory::give_back();
    let key_last: Vec<Option<i32>> = ids
        .iter()
        .map(|id| {
            previous
                .as_ref()
                .and_then(|st| st.key_last_seen.get(id))
                .and_then(|d| crate::util::dates::parse_day(d))
        })
        .collect();
    let key = key_accounts::with_grace(&key_tonight, &key_last, as_of, s.key_grace_days);
    let horizon_share = p.label.value_horizon() as f64 / 365.0;
    let next_value: Vec<f64> = value.iter().map(|v| v * horizon_share).collect();
    let high = high_risk(s.risk, &ids, &prob, &next_value);
    let master = side::customer_master(&p.warehouse_dir())?;

    let model_specs: Vec<spec::FeatureSpec> = model.features.iter().map(|f| f.spec).collect();
    let model_raw: Vec<features::Values> = model
        .features
        .iter()
        .map(|f| table.require(&f.name))
        .collect::<Result<_>>()?;
    let facts = |r: usize| AccountFacts {
        recency_days: recency[r],
        cycle_days: cycle[r],
        arrears_outstanding: arrears.as_ref().and_then(|a| a[r]),
        arrears_days_overdue: overdue.as_ref().and_then(|a| a[r]),
    };
    let key_last_seen = ListState::carry_key_days(
        previous.as_ref(),
        ids.iter()
            .map(String::as_str)
            .zip(key_tonight.iter().copied()),
        as_of,
    );
    // The ids move into the scored accounts (one copy of millions of strings, not two).
    let mut scored: Vec<ScoredAccount> = ids
        .into_par_iter()
        .enumerate()
        .map(|(r, id)| {
            let m = master.get(&id);
            ScoredAccount {
                customer_id: id,
                name: m.map(|m| m.name.clone()).unwrap_or_default(),
                owner: m.map(|m| m.owner.clone()).unwrap_or_default(),
                region: m.map(|m| m.region.clone()).unwrap_or_default(),
                churn_probability: prob[r],
                value_12m: value[r],
                expected_value_at_risk: prob[r] * next_value[r],
                key_account: key[r],
                quadrant: Quadrant::of(key[r], high[r]),
                lifecycle: LifecycleStage::of(
                    &s.lifecycle,
                    tenure[r].unwrap_or(0.0),
                    recency[r].unwrap_or(f64::INFINITY),
                    cycle[r],
                    trend[r].unwrap_or(1.0),
                ),
                days_since_last_purchase: recency[r].unwrap_or(f64::NAN),
                usual_cycle_days: cycle[r],
                // Written below for the listed accounts only: sentences for every scored
                // account were most of scoring's time and memory at 10^8 transactions.
                reasons: Vec::new(),
                action: String::new(),
                previous_probability: None,
            }
        })
        .collect();

    let built = list::build(&scored, s, previous.as_ref(), as_of);
    let mut warnings = list::warnings(&scored, s, &built);
    // `score --as-of` a past night with a model trained later: its probabilities have seen
    // that night's future (`run` retrains instead).
    if crate::util::dates::parse_day(&model.training.data_to).is_some_and(|d| d > as_of) {
        warnings.push(format!(
            "model {} was trained on data to {}, after this night ({as_of_text}): its scores have \
             seen the night's future; `churnflow run --as-of {as_of_text}` trains as of the night",
            model.model_id, model.training.data_to
        ));
    }
    let listed = built.listed;
    // A listed account with no single risky feature is explained by its overall pattern,
    // against the mean probability of tonight's active accounts.
    let typical = prob.iter().sum::<f64>() / prob.len().max(1) as f64;
    // The model's inputs of the listed rows only, for their reasons.
    let listed_rows: Vec<usize> = listed.iter().map(|e| rows[e.index]).collect();
    let z = model.design(&table, &listed_rows)?;
    let reasons: Vec<(usize, Vec<reasons::Reason>)> = listed
        .par_iter()
        .enumerate()
        .map(|(k, e)| {
            let (r, i) = (e.index, rows[e.index]);
            let z_row: Vec<f64> = z.row(k).to_vec();
            let contributions: Vec<f64> = model
                .model
                .coefficients
                .iter()
                .zip(&z_row)
                .map(|(w, z)| w * z)
                .collect();
            let raw: Vec<Option<f64>> = model_raw.iter().map(|c| c.get(i)).collect();
            let mut why = reasons::reasons(
                s.language,
                &model_specs,
                &z_row,
                &contributions,
                &raw,
                facts(r),
                3,
            );
            if why.is_empty() {
                why.push(reasons::pattern_reason(s.language, prob[r], typical));
            }
            (r, why)
        })
        .collect();
    for (r, why) in reasons {
        let a = &mut scored[r];
        a.action = action::action(s.language, a.quadrant, &why);
        a.reasons = why.into_iter().map(|w| w.text).collect();
        a.previous_probability = previous
            .as_ref()
            .and_then(|st| st.listed.get(&a.customer_id))
            .map(|l| l.churn_probability);
    }
    // Only the scored accounts are needed from here on: the outputs of millions of accounts
    // are built next, and tonight's features and model inputs would double the peak.
    drop((
        z, model_raw, recency, tenure, cycle, trend, arrears, overdue,
    ));
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
        as_of: as_of_text.clone(),
        model,
        scored,
        listed,
        resolved,
        winback,
        outputs: vec![features_path],
        further_qualifying: built.beyond_capacity.len(),
        warnings,
        currency: s.currency.clone(),
    };
    // Tonight's list state, saved by the caller once every output is in place.
    let state = ListState {
        as_of: as_of_text,
        listed: outcome
            .listed
            .iter()
            .map(|e| {
                let a = &outcome.scored[e.index];
                let first = format_day(as_of - e.days_on_list + 1);
                (
                    a.customer_id.clone(),
                    Listed {
                        first_listed: first,
                        churn_probability: a.churn_probability,
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
        key_last_seen,
    };
    Ok(Scored {
        outcome,
        master,
        state,
        state_dir,
    })
}
