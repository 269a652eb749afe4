//! Scoring one as-of day with the current model: probabilities for every active customer, key
//! accounts, quadrants, expected value at risk, reasons, and the ranked at-risk list on disk.

use std::path::PathBuf;

use polars::prelude::*;

use crate::config::Pipeline;
use crate::dates::format_day;
use crate::engine::Engine;
use crate::error::{EngineContext, Error, Result};
use crate::features::{self, spec};
use crate::ingest::warehouse::write_parquet_file;
use crate::model::artifact::ModelArtifact;
use crate::model::registry::Registry;
use crate::report;
use crate::segment::key_accounts;
use crate::segment::quadrant::Quadrant;
use crate::segment::reasons::{self, AccountFacts};

/// Columns of `at_risk_key_accounts.csv`, in order.
pub const LIST_COLUMNS: [&str; 15] = [
    "rank",
    "customer_id",
    "churn_probability",
    "value_12m",
    "expected_value_at_risk",
    "key_account",
    "quadrant",
    "action",
    "days_since_last_purchase",
    "usual_cycle_days",
    "reason_1",
    "reason_2",
    "reason_3",
    "model_id",
    "as_of",
];

/// One scored account.
#[derive(Debug, Clone)]
pub struct ScoredAccount {
    pub customer_id: String,
    pub churn_probability: f64,
    pub value_12m: f64,
    pub expected_value_at_risk: f64,
    pub key_account: bool,
    pub quadrant: Quadrant,
    pub days_since_last_purchase: f64,
    pub usual_cycle_days: Option<f64>,
    pub reasons: Vec<String>,
}

/// What `score` produced.
#[derive(Debug)]
pub struct ScoreOutcome {
    pub as_of: String,
    pub model_id: String,
    /// Every scored account, in customer id order.
    pub scored: Vec<ScoredAccount>,
    /// Indices into `scored` of the listed accounts, in rank order.
    pub listed: Vec<usize>,
    pub outputs: Vec<PathBuf>,
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

/// Scores the active population as of `as_of` (default: the last day with data) and writes
/// features, `scores.parquet` and `at_risk_key_accounts.csv`.
pub fn score(p: &Pipeline, engine: &mut dyn Engine, as_of: Option<i32>) -> Result<ScoreOutcome> {
    let model = current_model(p)?;
    let (_, last) = engine.day_range()?;
    let as_of = as_of.unwrap_or(last);
    let as_of_text = format_day(as_of);
    let table = features::compute(engine, &spec::with_required(&p.features), as_of)?;
    model.check_features(&table)?;
    let features_path = p.features_file(&as_of_text);
    features::write(&table, &features_path)?;

    let rows = table.active_rows(p.active_within_days)?;
    let z = model.design(&table, &rows)?;
    let prob = model.model.predict(&z);
    let ids: Vec<String> = rows
        .iter()
        .map(|&i| table.customer_ids[i].clone())
        .collect();
    let value_col = table.require(&spec::VALUE_12M.name())?;
    let value: Vec<f64> = rows
        .iter()
        .map(|&i| value_col[i].unwrap_or(0.0).max(0.0))
        .collect();
    let key = key_accounts::pareto(&ids, &value, p.key_value_share);
    let recency = table.require("recency_days")?;
    let cycle = table.require("purchase_cycle_days")?;
    let model_specs: Vec<spec::FeatureSpec> = model.features.iter().map(|f| f.spec).collect();
    let model_raw: Vec<&[Option<f64>]> = model
        .features
        .iter()
        .map(|f| table.require(&f.name))
        .collect::<Result<_>>()?;
    // Expected next-period value: trailing 12-month value scaled to the label's horizon.
    let horizon_share = p.label.value_horizon() as f64 / 365.0;

    let scored: Vec<ScoredAccount> = rows
        .iter()
        .enumerate()
        .map(|(r, &i)| {
            let z_row: Vec<f64> = z.row(r).to_vec();
            let contributions: Vec<f64> = model
                .model
                .coefficients
                .iter()
                .zip(&z_row)
                .map(|(w, z)| w * z)
                .collect();
            let raw: Vec<Option<f64>> = model_raw.iter().map(|c| c[i]).collect();
            let facts = AccountFacts {
                recency_days: recency[i],
                cycle_days: cycle[i],
            };
            ScoredAccount {
                customer_id: ids[r].clone(),
                churn_probability: prob[r],
                value_12m: value[r],
                expected_value_at_risk: prob[r] * value[r] * horizon_share,
                key_account: key[r],
                quadrant: Quadrant::of(key[r], prob[r], p.risk_threshold),
                days_since_last_purchase: recency[i].unwrap_or(f64::NAN),
                usual_cycle_days: cycle[i],
                reasons: reasons::top_reasons(&model_specs, &z_row, &contributions, &raw, facts, 3),
            }
        })
        .collect();

    let mut listed: Vec<usize> = (0..scored.len())
        .filter(|&i| {
            p.list_quadrants
                .iter()
                .any(|q| q == scored[i].quadrant.name())
        })
        .collect();
    listed.sort_by(|&a, &b| {
        let (a, b) = (&scored[a], &scored[b]);
        b.expected_value_at_risk
            .total_cmp(&a.expected_value_at_risk)
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });

    let out_dir = p.outputs_dir(&as_of_text);
    let scores_path = out_dir.join("scores.parquet");
    write_parquet_file(&scores_path, &mut scores_frame(&scored)?)?;
    let list_path = out_dir.join("at_risk_key_accounts.csv");
    let mut list = list_frame(&scored, &listed, &model.model_id, &as_of_text)?;
    report::csv::write_frame(&list_path, &mut list, true)?;

    Ok(ScoreOutcome {
        as_of: as_of_text,
        model_id: model.model_id,
        scored,
        listed,
        outputs: vec![features_path, scores_path, list_path],
    })
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn scores_frame(scored: &[ScoredAccount]) -> Result<DataFrame> {
    let s = scored;
    DataFrame::new_infer_height(vec![
        Column::new(
            "customer_id".into(),
            s.iter().map(|a| a.customer_id.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "churn_probability".into(),
            s.iter().map(|a| a.churn_probability).collect::<Vec<_>>(),
        ),
        Column::new(
            "value_12m".into(),
            s.iter().map(|a| a.value_12m).collect::<Vec<_>>(),
        ),
        Column::new(
            "expected_value_at_risk".into(),
            s.iter()
                .map(|a| a.expected_value_at_risk)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "key_account".into(),
            s.iter().map(|a| a.key_account).collect::<Vec<_>>(),
        ),
        Column::new(
            "quadrant".into(),
            s.iter().map(|a| a.quadrant.name()).collect::<Vec<_>>(),
        ),
    ])
    .engine(|| "building scores".into())
}

fn list_frame(
    scored: &[ScoredAccount],
    listed: &[usize],
    model_id: &str,
    as_of: &str,
) -> Result<DataFrame> {
    let rows: Vec<&ScoredAccount> = listed.iter().map(|&i| &scored[i]).collect();
    let n = rows.len();
    let reason = |k: usize| -> Vec<String> {
        rows.iter()
            .map(|a| a.reasons.get(k).cloned().unwrap_or_default())
            .collect()
    };
    DataFrame::new_infer_height(vec![
        Column::new("rank".into(), (1..=n as u32).collect::<Vec<_>>()),
        Column::new(
            "customer_id".into(),
            rows.iter()
                .map(|a| a.customer_id.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "churn_probability".into(),
            rows.iter()
                .map(|a| round4(a.churn_probability))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "value_12m".into(),
            rows.iter().map(|a| round2(a.value_12m)).collect::<Vec<_>>(),
        ),
        Column::new(
            "expected_value_at_risk".into(),
            rows.iter()
                .map(|a| round2(a.expected_value_at_risk))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "key_account".into(),
            rows.iter().map(|a| a.key_account).collect::<Vec<_>>(),
        ),
        Column::new(
            "quadrant".into(),
            rows.iter().map(|a| a.quadrant.name()).collect::<Vec<_>>(),
        ),
        Column::new(
            "action".into(),
            rows.iter().map(|a| a.quadrant.action()).collect::<Vec<_>>(),
        ),
        Column::new(
            "days_since_last_purchase".into(),
            rows.iter()
                .map(|a| a.days_since_last_purchase as i64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "usual_cycle_days".into(),
            rows.iter()
                .map(|a| a.usual_cycle_days.map(|c| c.round() as i64))
                .collect::<Vec<_>>(),
        ),
        Column::new("reason_1".into(), reason(0)),
        Column::new("reason_2".into(), reason(1)),
        Column::new("reason_3".into(), reason(2)),
        Column::new("model_id".into(), vec![model_id; n]),
        Column::new("as_of".into(), vec![as_of; n]),
    ])
    .engine(|| "building the at-risk list".into())
}
