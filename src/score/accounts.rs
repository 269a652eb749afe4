//! Tonight's scored accounts: value, risk, quadrant and lifecycle for every active account, and
//! the reasons and action for the listed ones only (sentences for every scored account were
//! most of scoring's time and memory on large warehouses).

use std::collections::HashMap;

use rayon::prelude::*;

use super::columns::Columns;
use super::outcome::{Explained, ListEntry, ScoredAccount};
use crate::config::{RiskRule, Scoring};
use crate::domain::feature::FeatureSpec;
use crate::domain::table::{FeatureTable, Values};
use crate::error::Result;
use crate::model::artifact::ModelArtifact;
use crate::segment::action;
use crate::segment::key_accounts;
use crate::segment::lifecycle::LifecycleStage;
use crate::segment::list_state::ListState;
use crate::segment::quadrant::Quadrant;
use crate::segment::reasons::{self, AccountFacts};
use crate::warehouse::side::CustomerInfo;

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

/// Every active account of `c` scored, in its order; `key` are tonight's key accounts (grace
/// days included) and `horizon_share` the share of a year the value at risk covers. The ids
/// move out of `c` into the accounts (one copy of millions of strings, not two).
pub(super) fn accounts(
    c: &mut Columns,
    key: &[bool],
    horizon_share: f64,
    s: &Scoring,
    master: &HashMap<String, CustomerInfo>,
) -> Vec<ScoredAccount> {
    let next_value: Vec<f64> = c.value.iter().map(|v| v * horizon_share).collect();
    let high = high_risk(s.risk, &c.ids, &c.prob, &next_value);
    let ids = std::mem::take(&mut c.ids);
    let c = &*c;
    ids.into_par_iter()
        .enumerate()
        .map(|(r, id)| {
            let m = master.get(&id);
            ScoredAccount {
                customer_id: id,
                info: m.map(|m| Box::new(m.clone())),
                churn_probability: c.prob[r],
                value_12m: c.value[r],
                expected_value_at_risk: c.prob[r] * next_value[r],
                key_account: key[r],
                quadrant: Quadrant::of(key[r], high[r]),
                lifecycle: LifecycleStage::of(
                    &s.lifecycle,
                    c.tenure[r].unwrap_or(0.0),
                    c.recency[r].unwrap_or(f64::INFINITY),
                    c.cycle[r],
                    c.trend[r].unwrap_or(1.0),
                ),
                days_since_last_purchase: c.recency[r].unwrap_or(f64::NAN),
                usual_cycle_days: c.cycle[r],
                // Written by `explain_listed` for the listed accounts only.
                explained: None,
            }
        })
        .collect()
}

/// Writes the reasons, action and previous probability of every listed account: the model's
/// contributions for its row, and its overall pattern (against the mean probability of
/// tonight's active accounts) when no single feature stands out.
pub(super) fn explain_listed(
    model: &ModelArtifact,
    table: &FeatureTable,
    c: &Columns,
    listed: &[ListEntry],
    s: &Scoring,
    previous: Option<&ListState>,
    scored: &mut [ScoredAccount],
) -> Result<()> {
    let model_specs: Vec<FeatureSpec> = model.features.iter().map(|f| f.spec).collect();
    let model_raw: Vec<Values> = model
        .features
        .iter()
        .map(|f| table.require(&f.name))
        .collect::<Result<_>>()?;
    // "Similar accounts": the training median of the model's expected-purchases feature.
    let typical_purchases = model
        .features
        .iter()
        .find(|f| {
            matches!(
                f.spec,
                FeatureSpec::Btyd {
                    output: crate::domain::feature::BtydOutput::ExpectedPurchases,
                    ..
                }
            )
        })
        .map(|f| f.impute);
    let facts = |r: usize| AccountFacts {
        recency_days: c.recency[r],
        cycle_days: c.cycle[r],
        arrears_outstanding: c.arrears.as_ref().and_then(|a| a[r]),
        arrears_days_overdue: c.overdue.as_ref().and_then(|a| a[r]),
        typical_purchases,
    };
    let typical = c.prob.iter().sum::<f64>() / c.prob.len().max(1) as f64;
    // The model's inputs of the listed rows only.
    let listed_rows: Vec<usize> = listed.iter().map(|e| c.rows[e.index]).collect();
    let z = model.design(table, &listed_rows)?;
    let reasons: Vec<(usize, Vec<reasons::Reason>)> = listed
        .par_iter()
        .enumerate()
        .map(|(k, e)| {
            let (r, i) = (e.index, c.rows[e.index]);
            let z_row: Vec<f64> = z.row(k).to_vec();
            let contributions: Vec<f64> = model
                .model
                .coefficients
                .iter()
                .zip(&z_row)
                .map(|(w, z)| w * z)
                .collect();
            let raw: Vec<Option<f64>> = model_raw.iter().map(|v| v.get(i)).collect();
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
                why.push(reasons::pattern_reason(s.language, c.prob[r], typical));
            }
            (r, why)
        })
        .collect();
    for (r, why) in reasons {
        let a = &mut scored[r];
        a.explained = Some(Box::new(Explained {
            action: action::action(s.language, a.quadrant, &why),
            reasons: why.into_iter().map(|w| w.text).collect(),
            previous_probability: previous
                .and_then(|st| st.listed.get(&a.customer_id))
                .map(|l| l.churn_probability),
        }));
    }
    Ok(())
}
