//! churnflow: nightly churn prediction for data teams.
//!
//! Exports are ingested into a validated, de-duplicated Parquet warehouse; features as of a date
//! are rendered to one portable SQL query; a logistic model is trained on monthly snapshots and
//! validated out of time; scores become a ranked at-risk key-account list with reasons in words.
//! Every stage reads and writes files only; `cmd` holds one file per subcommand. The floors and
//! the engine seam are described in `docs/ARCHITECTURE.md`.
//!
//! The modules are the crate's own. The public surface is the binary's [`cli`] and [`cmd`], and
//! the facade below: what the integration tests, the fuzz target and an embedding program use
//! (the pipeline, the engines, features, ingest, the reader, the model's fit, and the
//! warehouse's files). Anything else is `pub(crate)`, so it can change without notice.

pub(crate) mod app;
pub(crate) mod btyd;
pub mod cli;
pub mod cmd;
pub(crate) mod config;
pub(crate) mod domain;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod features;
pub(crate) mod ingest;
pub(crate) mod label;
pub(crate) mod model;
pub(crate) mod report;
pub(crate) mod score;
pub(crate) mod segment;
pub(crate) mod synth;
pub(crate) mod util;
pub(crate) mod warehouse;

pub use btyd::{
    Fit as BtydFit, FitError as BtydFitError, Kind as BtydKind, Params as BtydParams,
    Summary as BtydSummary, Weighted as BtydWeighted, compress as compress_summaries,
    expected_purchases, fit as fit_btyd, p_alive, p_no_purchase,
};
pub use config::Pipeline;
pub use domain::engine::{EngineKind, EngineSettings};
pub use domain::input::Mapped;
#[cfg(feature = "distributed")]
pub use engine::datafusion::DataFusionBackend;
pub use engine::sql::btyd::render as btyd_sql;
pub use engine::sql::features::render as feature_sql;
pub use engine::{Backend, HistoryBackend, SqlBackend, open as open_engine};
pub use error::{EXIT_OK, Error, Result};
pub use features::{FeatureTable, compute, compute_active_for, compute_for, spec};
pub use ingest::read::records::QuoteLimits;
pub use ingest::read::{Dialect, Format, LINE, read_raw};
pub use ingest::{IngestReport, ingest, ingest_all};
pub use label::{LabelRule, outcomes as label_outcomes};
pub use model::artifact::ModelArtifact;
pub use model::fit::{FitParams, LinearModel, fit, fit_path};
pub use model::labelled::{sampled_snapshot, snapshot};
pub use model::preprocess::{fit as fit_scaling, predict_in_blocks};
pub use model::registry::Registry;
pub use model::sql::render_scores;
pub use score::LIST_COLUMNS;
pub use segment::winback::winback;
pub use util::dates::parse_day;
pub use util::frame::{f64_values, str_values};
pub use util::rng::Rng;
pub use warehouse::manifest::Manifest;
pub use warehouse::parts::{parquet_row_count, part_files, write_parquet_file};
pub use warehouse::side::customer_master;
