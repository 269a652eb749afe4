//! churnflow: nightly churn prediction for data teams.
//!
//! Exports are ingested into a validated, de-duplicated Parquet warehouse; features as of a date
//! are rendered to one portable SQL query; a logistic model is trained on monthly snapshots and
//! validated out of time; scores become a ranked at-risk key-account list with reasons in words.
//! Every stage reads and writes files only; `cmd` holds one file per subcommand. The floors and
//! the engine seam are described in `docs/ARCHITECTURE.md`.

pub mod app;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod domain;
pub mod engine;
pub mod error;
pub mod features;
pub mod ingest;
pub mod label;
pub mod model;
pub mod report;
pub mod score;
pub mod segment;
pub mod synth;
pub mod util;
pub mod warehouse;

pub use error::{Error, Result};
