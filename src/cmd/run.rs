//! `churnflow run`: the nightly job. Ingest, train when no model exists, score, summarise, and
//! record what ran in `runs/<run_id>.json`.

use std::time::Instant;

use serde::Serialize;

use crate::atomic_file;
use crate::cli::AsOfArgs;
use crate::cmd::{Out, engine, ingest as ingest_cmd, load, train as train_cmd};
use crate::error::Result;
use crate::ingest::manifest::Manifest;
use crate::ingest::{self, IngestReport, lock::WorkdirLock};
use crate::model::policy;
use crate::model::registry::Decision;
use crate::report::summary;
use crate::score;

#[derive(Serialize)]
struct Stage {
    name: &'static str,
    seconds: f64,
}

#[derive(Serialize)]
struct TrainedModel {
    model_id: String,
    promoted: bool,
    reason: String,
}

#[derive(Serialize)]
struct RunManifest {
    run_id: String,
    pipeline: String,
    pipeline_sha256: String,
    churnflow_version: &'static str,
    started_at: String,
    as_of: String,
    ingest: Vec<IngestReport>,
    retrain: policy::RetrainDecision,
    trained_model: Option<TrainedModel>,
    model_id: String,
    scored_accounts: usize,
    listed_accounts: usize,
    outputs: Vec<String>,
    stages: Vec<Stage>,
}

/// Runs the whole job.
pub fn run(args: &AsOfArgs, out: Out) -> Result<()> {
    let started_at = chrono::Utc::now();
    let p = load(&args.pipeline)?;
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    let mut stages = Vec::new();
    let mut timed = |name: &'static str, t: Instant| {
        stages.push(Stage {
            name,
            seconds: t.elapsed().as_secs_f64(),
        })
    };

    let t = Instant::now();
    let ingest_report = ingest::ingest_all(&p)?;
    crate::memory::give_back();
    for r in &ingest_report {
        ingest_cmd::print_report(r, &p.warehouse_dir(), out);
    }
    timed("ingest", t);

    let mut trained_model = None;
    let fingerprint = Manifest::load(&p.warehouse_dir())?.fingerprint();
    // One engine for the night: the warehouse no longer changes, and the in-memory history it
    // builds on first use serves the drift check, training and scoring.
    let mut engine = engine(&p)?;
    // A night outside the data is refused before anything is trained or written.
    let as_of = Some(crate::engine::night(&mut engine, args.as_of)?);
    let (retrain, mut tonight) = policy::retrain_decision(&p, &mut engine, &fingerprint, as_of)?;
    if retrain.retrain {
        let t = Instant::now();
        out.line(format!("retraining: {}", retrain.reason));
        let r = train_cmd::train_and_report(&p, &mut engine, out)?;
        // Training computed the features as of the last day for its drift reference; scoring
        // uses them when it scores that day (score_with checks the day).
        tonight = Some(r.features_at_last);
        trained_model = Some(TrainedModel {
            model_id: r.artifact.model_id.clone(),
            promoted: r.decision == Decision::Promoted,
            reason: r.reason,
        });
        timed("train", t);
    } else {
        out.line(format!("no retraining: {}", retrain.reason));
    }

    let t = Instant::now();
    // Tonight's features do not depend on the model: those of the drift check or of training
    // are reused.
    let outcome = score::score_with(&p, &mut engine, as_of, tonight)?;
    timed("score", t);
    out.line(summary::top_accounts(&outcome, p.scoring.summary_rows).trim_end());
    for path in &outcome.outputs {
        out.line(format!("wrote {}", path.display()));
    }

    let run_id = format!(
        "{}-{}",
        started_at.format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    );
    let manifest = RunManifest {
        run_id: run_id.clone(),
        pipeline: p.file.display().to_string(),
        pipeline_sha256: p.file_hash.clone(),
        churnflow_version: env!("CARGO_PKG_VERSION"),
        started_at: started_at.to_rfc3339(),
        as_of: outcome.as_of.clone(),
        ingest: ingest_report,
        retrain,
        trained_model,
        model_id: outcome.model.model_id.clone(),
        scored_accounts: outcome.scored.len(),
        listed_accounts: outcome.listed.len(),
        outputs: outcome
            .outputs
            .iter()
            .map(|o| o.display().to_string())
            .collect(),
        stages,
    };
    let path = p.runs_dir().join(format!("{run_id}.json"));
    atomic_file::write_json(&path, &manifest)?;
    out.line(format!("run manifest: {}", path.display()));
    Ok(())
}
