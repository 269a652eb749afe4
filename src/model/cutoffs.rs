//! Which cutoffs a training may use, as of a night: every cutoff whose label window has passed
//! by that night (never by the warehouse's last day, which may lie months later in a backfill),
//! and how they split into training and validation.

use crate::config::Pipeline;
use crate::engine::Backend;
use crate::error::{Error, Result};
use crate::util::dates::{format_day, month_ends_between};

/// Every cutoff whose label window has passed by `last`, oldest first: month ends, or every
/// `cadence_days` counted back from the latest one. A cutoff needs `min_history` days of data
/// before it.
pub fn labelable_cutoffs(
    first: i32,
    last: i32,
    window: i32,
    min_history: i32,
    cadence_days: Option<i32>,
) -> Vec<i32> {
    let (lo, hi) = (first + min_history, last - window);
    match cadence_days {
        None => month_ends_between(lo, hi),
        Some(step) => {
            let mut out: Vec<i32> = (0..)
                .map(|k| hi - k * step)
                .take_while(|&c| c >= lo)
                .collect();
            out.reverse();
            out
        }
    }
}

/// What a training as of a night may see.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    /// The first day of data.
    pub first: i32,
    /// The night: nothing after this day is used (the warehouse may hold later days).
    pub until: i32,
    /// The label's longest window.
    pub window: i32,
    /// Every cutoff whose label window ended by `until`.
    pub labelable: Vec<i32>,
    /// Days of history each cutoff has before it at least: `train.min_history_days`, or
    /// [`SHORT_HISTORY_DAYS`] when no cutoff has that much.
    pub min_history_days: i32,
    /// True when `min_history_days` was lowered to [`SHORT_HISTORY_DAYS`].
    pub relaxed: bool,
}

/// The least history before a cutoff a short history falls back to when no cutoff has
/// `train.min_history_days` (a new client with 9-12 months of data): features over longer
/// windows then see fewer days, which the model card says.
pub const SHORT_HISTORY_DAYS: i32 = 60;

/// The cutoffs known as of `until` (default: the warehouse's last day).
pub fn known(p: &Pipeline, engine: &mut dyn Backend, until: Option<i32>) -> Result<Known> {
    let (first, last) = engine.day_range()?;
    let until = until.unwrap_or(last).min(last);
    let window = p.label.max_window();
    let mut min_history_days = p.train.min_history_days;
    let mut relaxed = false;
    let mut labelable =
        labelable_cutoffs(first, until, window, min_history_days, p.train.cadence_days);
    if labelable.is_empty() && min_history_days > SHORT_HISTORY_DAYS {
        min_history_days = SHORT_HISTORY_DAYS;
        relaxed = true;
        labelable = labelable_cutoffs(first, until, window, min_history_days, p.train.cadence_days);
    }
    Ok(Known {
        first,
        until,
        window,
        labelable,
        min_history_days,
        relaxed,
    })
}

/// How a model is validated.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Training cutoffs whose label windows end by the validation cutoff, validated on it.
    OutOfTime { validation: i32, train: Vec<i32> },
    /// Too little history for a separate validation cutoff: every cutoff is trained on, and a
    /// share of customers (the same at every cutoff) is held out and validated on at the latest.
    InTimeHoldout { cutoffs: Vec<i32> },
}

impl Plan {
    /// The validation kind as stored in `model.json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Plan::OutOfTime { .. } => "out_of_time",
            Plan::InTimeHoldout { .. } => "in_time_holdout",
        }
    }
}

/// The validation cutoff (the latest whose label window has passed by `known_until`) and up to
/// `n_train` training cutoffs before it whose label windows end on or before it.
pub fn plan(
    labelable: &[i32],
    known_until: i32,
    window: i32,
    n_train: usize,
) -> Result<(i32, Vec<i32>)> {
    let validation = latest(labelable, known_until, window)?;
    let train: Vec<i32> = labelable
        .iter()
        .copied()
        .filter(|&c| c + window <= validation)
        .collect();
    let train = train[train.len().saturating_sub(n_train)..].to_vec();
    if train.is_empty() {
        return Err(Error::Data(format!(
            "not enough history to train out of time: the validation cutoff is {} and no earlier \
             cutoff has its label window ({window} days) finished by then",
            format_day(validation)
        )));
    }
    Ok((validation, train))
}

fn latest(labelable: &[i32], known_until: i32, window: i32) -> Result<i32> {
    labelable
        .iter()
        .rev()
        .find(|&&c| c + window <= known_until)
        .copied()
        .ok_or_else(|| {
            Error::Data(format!(
                "not enough history to train: no cutoff has train.min_history_days of history \
                 before it and its label window ({window} days) finished by {}",
                format_day(known_until)
            ))
        })
}

/// [`plan`] when an out-of-time validation fits, else an in-time holdout over the latest
/// `n_train + 1` cutoffs; an error only when no cutoff at all can be labelled.
pub fn plan_or_holdout(
    labelable: &[i32],
    known_until: i32,
    window: i32,
    n_train: usize,
) -> Result<Plan> {
    match plan(labelable, known_until, window, n_train) {
        Ok((validation, train)) => Ok(Plan::OutOfTime { validation, train }),
        Err(e) => {
            latest(labelable, known_until, window).map_err(|_| e)?;
            let usable: Vec<i32> = labelable
                .iter()
                .copied()
                .filter(|&c| c + window <= known_until)
                .collect();
            let cutoffs = usable[usable.len().saturating_sub(n_train + 1)..].to_vec();
            Ok(Plan::InTimeHoldout { cutoffs })
        }
    }
}

/// Share of customers held out by an in-time holdout.
pub const HOLDOUT_SHARE: f64 = 0.2;

/// Whether a customer is in the in-time holdout: a hash of the id and the seed, so the same
/// customers are held out at every cutoff and on every machine.
pub fn held_out(customer_id: &str, seed: u64) -> bool {
    // FNV-1a, then a final mix: stable across Rust versions (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in customer_id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    (h % 1000) < (HOLDOUT_SHARE * 1000.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::dates::parse_day;

    #[test]
    fn label_windows_of_training_cutoffs_end_before_validation() {
        let first = parse_day("2023-01-01").unwrap();
        let last = parse_day("2024-12-31").unwrap();
        let labelable = labelable_cutoffs(first, last, 90, 30, None);
        let (val, train) = plan(&labelable, last, 90, 6).unwrap();
        assert_eq!(format_day(val), "2024-09-30");
        assert_eq!(train.len(), 6);
        assert_eq!(format_day(*train.last().unwrap()), "2024-06-30");
        assert!(train.iter().all(|c| c + 90 <= val));
    }

    #[test]
    fn cadence_counts_back_from_the_latest_labelable_day() {
        let first = parse_day("2024-01-01").unwrap();
        let last = parse_day("2024-12-31").unwrap();
        let c = labelable_cutoffs(first, last, 90, 30, Some(14));
        assert_eq!(format_day(*c.last().unwrap()), "2024-10-02");
        assert!(c.windows(2).all(|w| w[1] - w[0] == 14));
        assert!(c[0] >= first + 30);
    }

    #[test]
    fn too_little_history_is_explained() {
        let first = parse_day("2024-10-01").unwrap();
        let c = labelable_cutoffs(first, first + 100, 90, 30, None);
        let err = plan(&c, first + 100, 90, 6).unwrap_err().to_string();
        assert!(err.contains("not enough history"), "{err}");
        let err = plan_or_holdout(&c, first + 100, 90, 6)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not enough history to train:"), "{err}");
    }

    #[test]
    fn a_short_history_gets_an_in_time_holdout() {
        // Ten months of data and a 90-day label: cutoffs at the month ends 2 .. 7, but no
        // training cutoff's label window ends by the latest one.
        let first = parse_day("2024-01-01").unwrap();
        let last = parse_day("2024-10-31").unwrap();
        let c = labelable_cutoffs(first, last, 180, 30, None);
        assert!(plan(&c, last, 180, 6).is_err());
        let Plan::InTimeHoldout { cutoffs } = plan_or_holdout(&c, last, 180, 6).unwrap() else {
            panic!("expected an in-time holdout")
        };
        assert_eq!(cutoffs, c);
        assert!(cutoffs.iter().all(|&k| k + 180 <= last));
        // With enough history the out-of-time plan is kept.
        let c = labelable_cutoffs(first - 400, last, 90, 30, None);
        assert!(matches!(
            plan_or_holdout(&c, last, 90, 6).unwrap(),
            Plan::OutOfTime { .. }
        ));
    }

    #[test]
    fn the_holdout_is_a_fifth_and_stable() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("C{i:06}")).collect();
        let n = ids.iter().filter(|id| held_out(id, 7)).count();
        assert!((3_700..4_300).contains(&n), "{n}");
        assert_eq!(held_out("C000001", 7), held_out("C000001", 7));
        // Another seed holds out other customers.
        let other = ids
            .iter()
            .filter(|id| held_out(id, 7) != held_out(id, 8))
            .count();
        assert!(other > 5_000, "{other}");
    }
}
