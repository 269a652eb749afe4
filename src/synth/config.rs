//! What the generator is asked for, what it made, and what it remembers of each account's
//! simulated life for the side tables.

use std::path::PathBuf;

use chrono::NaiveDate;

/// Generator settings.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub customers: usize,
    pub start: NaiveDate,
    pub days: i32,
    pub seed: u64,
    /// Deliberately malformed rows mixed in, to exercise validation and quarantine.
    pub bad_rows: usize,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct SynthSummary {
    pub transactions: PathBuf,
    pub truth: PathBuf,
    pub rows: usize,
    pub churners: usize,
}

/// What the side tables need to know about an account's simulated life.
#[derive(Debug, Clone, Copy)]
pub(super) struct Life {
    pub signup: i32,
    pub churn: i32,
    pub decline_days: f64,
    pub order_value: f64,
}

/// Customer id with leading zeros, as many ERP exports have.
pub fn customer_id(k: usize) -> String {
    format!("C{:05}", k + 1)
}
