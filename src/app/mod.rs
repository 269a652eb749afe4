//! The night above the stages: what `run` and `score` share. Scoring computes the outcome; the
//! report writers put every file of the night in place; only then is tonight's list state saved
//! (the rule that keeps a killed night from being compared with itself).

pub mod ingest_lines;
pub mod night;
pub mod out;
pub mod training;

use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::Result;
use crate::features::Tonight;
use crate::report::{self, summary};
use crate::score::{self, ScoreOutcome};

/// Scores the night as of `as_of` (default: the last day with data), writes its outputs and then
/// its list state; tonight's features come from `tonight` (reused when already computed).
pub fn score_night(
    p: &Pipeline,
    engine: &mut dyn Backend,
    as_of: Option<i32>,
    tonight: &mut Tonight,
) -> Result<ScoreOutcome> {
    let score::Scored {
        mut outcome,
        master,
        state,
        state_dir,
    } = score::score_with(p, engine, as_of, tonight)?;
    let out_dir = p.outputs_dir(outcome.as_of);
    let written = report::write_all(&outcome, &master, &out_dir)?;
    outcome.outputs.extend(written);
    state.save(&state_dir)?;
    Ok(outcome)
}

/// Tells the morning's readers what the night scored: the top of the list, its warnings, and
/// the files written.
pub fn tell_scored(p: &Pipeline, outcome: &ScoreOutcome, out: out::Out) {
    out.line(summary::top_accounts(outcome, p.scoring.summary_rows).trim_end());
    for w in &outcome.warnings {
        out.warn(w);
    }
    for path in &outcome.outputs {
        out.line(format!("wrote {}", path.display()));
    }
}

/// Opens the pipeline's engine (`[engine] kind`) over its warehouse.
pub fn engine(p: &Pipeline) -> Result<Box<dyn Backend>> {
    crate::engine::open(
        &p.warehouse_dir(),
        &p.engine,
        &p.engine_scratch_dir(),
        Some(&p.history_state_dir()),
    )
}
