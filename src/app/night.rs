//! The nightly job (`churnflow run`): ingest, retrain when the policy says so, score, tell the
//! morning's readers, and record what ran in `runs/<run_id>.json`, failed nights included
//! (with their exit code, error and what they committed before failing). [`dry_run`] says what
//! the night would do and writes nothing.

use std::time::Instant;

use serde::Serialize;

use crate::app::ingest_lines::print_reports;
use crate::app::out::{Out, StageEvent};
use crate::app::training::train_and_report;
use crate::app::{engine, score_night, tell_scored};
use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::{EXIT_OK, Error, Result};
use crate::features::Tonight;
use crate::ingest::{self, IngestReport, pending};
use crate::model::policy;
use crate::model::registry::Decision;
use crate::report::latest;
use crate::util::atomic_file;
use crate::warehouse::lock::WorkdirLock;
use crate::warehouse::manifest::Manifest;

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

/// What the night committed, whether it finished or not.
#[derive(Serialize, Default)]
struct Committed {
    /// Batches added to the warehouse.
    batches: Vec<String>,
    /// A model trained and recorded in the registry (promoted or not).
    model_id: Option<String>,
    /// Output files in place.
    outputs: Vec<String>,
}

#[derive(Serialize)]
struct RunManifest {
    run_id: String,
    /// `succeeded` or `failed`.
    status: &'static str,
    exit_code: i32,
    error: Option<String>,
    pipeline: String,
    pipeline_sha256: String,
    churnflow_version: &'static str,
    started_at: String,
    finished_at: String,
    as_of: Option<String>,
    /// Files that changed the warehouse or were refused; the rest are counted.
    ingest: Vec<IngestReport>,
    already_ingested: usize,
    retrain: Option<policy::RetrainDecision>,
    trained_model: Option<TrainedModel>,
    model_id: Option<String>,
    scored_accounts: Option<usize>,
    listed_accounts: Option<usize>,
    /// Accounts that qualified for the list beyond its capacity.
    further_qualifying: Option<usize>,
    /// Lapsed key accounts beyond the win-back list's capacity.
    winback_beyond_capacity: Option<usize>,
    committed: Committed,
    /// The BTYD models fitted tonight for the scored features (absent without them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    btyd_fits: Vec<crate::model::artifact::BtydFit>,
    stages: Vec<Stage>,
}

/// What a night did so far.
struct Night {
    run_id: String,
    started_at: chrono::DateTime<chrono::Utc>,
    ingest: Vec<IngestReport>,
    as_of: Option<i32>,
    retrain: Option<policy::RetrainDecision>,
    trained_model: Option<TrainedModel>,
    scored: Option<(String, usize, usize, usize)>,
    outputs: Vec<String>,
    btyd_fits: Vec<crate::model::artifact::BtydFit>,
    winback_beyond: Option<usize>,
    stages: Vec<Stage>,
}

impl Night {
    fn timed(&mut self, name: &'static str, t: Instant) -> f64 {
        let seconds = t.elapsed().as_secs_f64();
        self.stages.push(Stage { name, seconds });
        seconds
    }

    fn manifest(self, p: &Pipeline, result: &Result<()>) -> RunManifest {
        let (already, changed): (Vec<IngestReport>, Vec<IngestReport>) = self
            .ingest
            .into_iter()
            .partition(IngestReport::is_quiet_repeat);
        let committed = Committed {
            batches: changed
                .iter()
                .filter(|r| !r.already_ingested)
                .map(|r| r.batch_id.clone())
                .collect(),
            model_id: self.trained_model.as_ref().map(|m| m.model_id.clone()),
            outputs: self.outputs.clone(),
        };
        let (model_id, scored, listed, further) = match self.scored {
            Some((m, s, l, f)) => (Some(m), Some(s), Some(l), Some(f)),
            None => (None, None, None, None),
        };
        RunManifest {
            run_id: self.run_id,
            status: if result.is_ok() {
                "succeeded"
            } else {
                "failed"
            },
            exit_code: result.as_ref().map_or_else(|e| e.exit_code(), |_| EXIT_OK),
            error: result.as_ref().err().map(|e| e.to_string()),
            pipeline: p.file.display().to_string(),
            pipeline_sha256: p.file_hash.clone(),
            churnflow_version: env!("CARGO_PKG_VERSION"),
            started_at: self.started_at.to_rfc3339(),
            finished_at: chrono::Utc::now().to_rfc3339(),
            as_of: self.as_of.map(crate::util::dates::format_day),
            ingest: changed,
            already_ingested: already.len(),
            retrain: self.retrain,
            trained_model: self.trained_model,
            model_id,
            scored_accounts: scored,
            listed_accounts: listed,
            further_qualifying: further,
            winback_beyond_capacity: self.winback_beyond,
            committed,
            btyd_fits: self.btyd_fits,
            stages: self.stages,
        }
    }
}

/// What a night is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct NightOptions {
    /// The night's as-of day (default: the last day with data, freshness judged against today).
    pub as_of: Option<i32>,
    /// Whether the retraining policy decides, or the user.
    pub retraining: policy::Override,
}

/// Runs the whole night and writes its run manifest, a failed night's too.
pub fn run(p: &Pipeline, o: &NightOptions, out: Out) -> Result<()> {
    let started_at = chrono::Utc::now();
    let mut night = Night {
        run_id: format!(
            "{}-{}",
            started_at.format("%Y%m%dT%H%M%SZ"),
            std::process::id()
        ),
        started_at,
        ingest: Vec::new(),
        as_of: None,
        retrain: None,
        trained_model: None,
        scored: None,
        outputs: Vec::new(),
        btyd_fits: Vec::new(),
        winback_beyond: None,
        stages: Vec::new(),
    };
    let result = run_night(p, o, out, &mut night);
    // Every night leaves its record, a failed one too: what it committed and why it stopped.
    let manifest = night.manifest(p, &result);
    let path = p.runs_dir().join(format!("{}.json", manifest.run_id));
    match atomic_file::write_json(&path, &manifest) {
        Ok(()) => out.line(format!("run manifest: {}", path.display())),
        Err(e) if result.is_err() => out.warn(format!("the run manifest was not written: {e}")),
        Err(e) => return Err(e),
    }
    result
}

fn run_night(p: &Pipeline, o: &NightOptions, out: Out, night: &mut Night) -> Result<()> {
    let _lock = WorkdirLock::acquire(&p.workdir)?;
    ingest_stage(p, out, night)?;
    let fingerprint = Manifest::load(&p.warehouse_dir())?.fingerprint();
    // One engine for the night: the warehouse no longer changes, and the in-memory history it
    // builds on first use serves the drift check, training and scoring.
    let mut engine = engine(p)?;
    // A night outside the data is refused before anything is trained or written, and so is a
    // night without fresh data.
    let as_of = crate::engine::night(engine.as_mut(), o.as_of)?;
    night.as_of = Some(as_of);
    let today = crate::util::dates::to_day(chrono::Utc::now().date_naive());
    crate::engine::check_fresh(
        engine.as_mut(),
        o.as_of.unwrap_or(today),
        p.source.max_data_age_days,
    )?;
    // Tonight's features, computed once for whichever of the drift check, training's drift
    // reference and scoring asks first.
    let mut tonight = Tonight::default();
    let retrain = policy::retrain_decision(
        p,
        engine.as_mut(),
        &fingerprint,
        as_of,
        o.retraining,
        &mut tonight,
    )?;
    night.retrain = Some(retrain.clone());
    if retrain.retrain {
        train_stage(
            p,
            engine.as_mut(),
            as_of,
            &retrain,
            &mut tonight,
            out,
            night,
        )?;
    } else {
        out.line(format!("no retraining: {}", retrain.reason));
    }
    score_stage(p, engine.as_mut(), as_of, &mut tonight, out, night)
}

/// Ingests every export file, each its own batch; the reports are kept as each commits, so a
/// failed night still says what it committed.
fn ingest_stage(p: &Pipeline, out: Out, night: &mut Night) -> Result<()> {
    let t = Instant::now();
    let ingested = ingest::ingest_all_into(p, &mut night.ingest);
    crate::util::memory::give_back();
    print_reports(&night.ingest, &p.warehouse_dir(), out);
    ingested?;
    let seconds = night.timed("ingest", t);
    out.stage(
        &StageEvent {
            stage: "ingest",
            seconds,
            ..StageEvent::default()
        },
        format!("ingest: done in {seconds:.1} s"),
    );
    Ok(())
}

/// Trains as of the night. A changed pipeline whose new model cannot be trained stops the night
/// (exit 2): the old model no longer answers what the pipeline asks.
fn train_stage(
    p: &Pipeline,
    engine: &mut dyn Backend,
    as_of: i32,
    retrain: &policy::RetrainDecision,
    tonight: &mut Tonight,
    out: Out,
    night: &mut Night,
) -> Result<()> {
    let t = Instant::now();
    out.line(format!("retraining: {}", retrain.reason));
    let r = match train_and_report(p, engine, as_of, tonight, out) {
        Ok(r) => r,
        Err(Error::Data(why)) if retrain.cause == policy::Cause::PipelineChanged => {
            return Err(Error::Usage(format!(
                "{}, and a new model cannot be trained: {why}; the old model no longer \
                 answers what the pipeline asks, so nothing was scored. Revert the change \
                 or deliver more history",
                retrain.reason
            )));
        }
        Err(e) => return Err(e),
    };
    night.trained_model = Some(TrainedModel {
        model_id: r.artifact.model_id.clone(),
        promoted: r.decision == Decision::Promoted,
        reason: r.reason,
    });
    let seconds = night.timed("train", t);
    out.stage(
        &StageEvent {
            stage: "train",
            seconds,
            model_id: Some(&r.artifact.model_id),
            ..StageEvent::default()
        },
        format!("train: done in {seconds:.1} s"),
    );
    Ok(())
}

/// Scores the night, writes its outputs and list state, tells the morning's readers, and moves
/// `outputs/latest.json` to it.
fn score_stage(
    p: &Pipeline,
    engine: &mut dyn Backend,
    as_of: i32,
    tonight: &mut Tonight,
    out: Out,
    night: &mut Night,
) -> Result<()> {
    let t = Instant::now();
    // Tonight's features do not depend on the model: those of the drift check or of training
    // are reused.
    let outcome = score_night(p, engine, Some(as_of), tonight)?;
    night.outputs = outcome
        .outputs
        .iter()
        .map(|o| o.display().to_string())
        .collect();
    night.btyd_fits = outcome.btyd_fits.clone();
    night.winback_beyond = Some(outcome.winback_beyond_capacity);
    night.scored = Some((
        outcome.model.model_id.clone(),
        outcome.scored.len(),
        outcome.listed.len(),
        outcome.further_qualifying,
    ));
    let seconds = night.timed("score", t);
    tell_scored(p, &outcome, out);
    out.stage(
        &StageEvent {
            stage: "score",
            seconds,
            model_id: Some(&outcome.model.model_id),
            listed: Some(outcome.listed.len()),
            scored: Some(outcome.scored.len()),
        },
        format!("score: done in {seconds:.1} s"),
    );
    latest::record(
        &p.outputs_root(),
        &latest::Latest::of(&outcome, Some(&night.run_id)),
    )?;
    Ok(())
}

/// `--dry-run`: the files an ingest would take, and whether the night would retrain and why,
/// judged on the warehouse as it stands. Takes no lock and writes nothing.
pub fn dry_run(p: &Pipeline, o: &NightOptions, out: Out) -> Result<()> {
    out.line("dry run: nothing is ingested, trained, scored or written");
    let files = pending::pending(p)?;
    for line in pending::describe(&files) {
        out.line(line);
    }
    let changes = pending::would_change(&files);
    let fingerprint = Manifest::load(&p.warehouse_dir())?.fingerprint();
    let mut engine = match engine(p) {
        Ok(e) => e,
        Err(Error::Data(_)) => {
            out.line(format!(
                "would retrain: the warehouse {} holds no transactions yet (the files above \
                 would be its first data)",
                p.warehouse_dir().display()
            ));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let as_of = crate::engine::night(engine.as_mut(), o.as_of)?;
    let decision = policy::retrain_decision(
        p,
        engine.as_mut(),
        &fingerprint,
        as_of,
        o.retraining,
        &mut Tonight::default(),
    )?;
    let on = if changes {
        " (judged on the warehouse as it stands; the files above would change its content)"
    } else {
        ""
    };
    out.line(format!(
        "as of {}: {}: {}{on}",
        crate::util::dates::format_day(as_of),
        if decision.retrain {
            "would retrain"
        } else {
            "would not retrain"
        },
        decision.reason
    ));
    Ok(())
}
