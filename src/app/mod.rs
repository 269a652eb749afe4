//! The night above the stages: what `run` and `score` share. Scoring computes the outcome; the
//! report writers put every file of the night in place; only then is tonight's list state saved
//! (the rule that keeps a killed night from being compared with itself).

use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::Result;
use crate::features::FeatureTable;
use crate::report;
use crate::score::{self, ScoreOutcome};

/// Scores the night as of `as_of` (default: the last day with data), writes its outputs and then
/// its list state; `tonight` are features already computed for that day, reused when they match.
pub fn score_night(
    p: &Pipeline,
    engine: &mut dyn Backend,
    as_of: Option<i32>,
    tonight: Option<FeatureTable>,
) -> Result<ScoreOutcome> {
    let score::Scored {
        mut outcome,
        master,
        state,
        state_dir,
    } = score::score_with(p, engine, as_of, tonight)?;
    let out_dir = p.outputs_dir(&outcome.as_of);
    let written = report::write_all(&outcome, &master, &out_dir)?;
    outcome.outputs.extend(written);
    state.save(&state_dir)?;
    Ok(outcome)
}
