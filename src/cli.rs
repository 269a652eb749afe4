//! Command-line interface: subcommands and their flags (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// churnflow: nightly churn prediction from transaction exports to a ranked at-risk key-account list.
#[derive(Debug, Parser)]
#[command(name = "churnflow", version, about, long_about = None)]
pub struct Cli {
    /// Print only warnings and errors (to stderr).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Log format: human text, or one JSON object per line on stderr (for schedulers).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

pub use crate::app::out::LogFormat;

/// The stages, each reading and writing files only.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a seeded synthetic export (transactions.csv) and its ground truth (truth.csv).
    Generate(GenerateArgs),
    /// Validate the pipeline's export and add it to the Parquet warehouse.
    Ingest(PipelineArgs),
    /// Compute features as of a date (or print the SQL with --explain).
    Features(FeaturesArgs),
    /// Train a model with out-of-time validation and apply the promotion gate.
    Train(TrainArgs),
    /// Score customers with the current model and write the at-risk list.
    Score(AsOfArgs),
    /// The nightly job: ingest, retrain when the policy says so, score, summarise.
    Run(RunArgs),
    /// Check the pipeline file and the inputs' headers without running anything.
    Validate(PipelineArgs),
    /// Rolling-origin evaluation: train on what was known before each cutoff, test on it.
    Backtest(PipelineArgs),
    /// List the registry's models or show one model's card.
    Models(ModelsArgs),
    /// Take one batch (a delivery that was wrong) out of the warehouse, atomically.
    Retract(RetractArgs),
    /// Rebuild a lost or unreadable manifest from the parts, or set aside damaged parts.
    Repair(PipelineArgs),
    /// Run a Ballista scheduler or executor for `[engine] kind = "ballista"`.
    Cluster(ClusterArgs),
}

/// Arguments of `cluster`.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub command: ClusterCommand,
}

/// `cluster` subcommands: each runs until stopped (SIGTERM or Ctrl-C).
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// The scheduler: plans each night's queries and hands their tasks to executors.
    Scheduler {
        /// Address to listen on (pipelines name it as `endpoint = "df://HOST:PORT"`).
        #[arg(long, default_value = "0.0.0.0:50050")]
        bind: String,
        /// Host name executors and clients reach this scheduler by (default: the bind host).
        #[arg(long)]
        external_host: Option<String>,
        /// Seconds without a heartbeat before an executor counts as lost.
        #[arg(long, default_value_t = 60)]
        executor_timeout_seconds: u64,
    },
    /// An executor: runs tasks, reading the warehouse and writing results where the pipeline's
    /// workdir is (a path every executor must reach).
    Executor {
        /// The scheduler, HOST:PORT.
        #[arg(long)]
        scheduler: String,
        /// Address of its Arrow Flight service (results and shuffles); it pulls its tasks from
        /// the scheduler, so no other port listens.
        #[arg(long, default_value = "0.0.0.0:50051")]
        bind: String,
        /// Host name the scheduler and other executors reach this one by (default: the bind
        /// host).
        #[arg(long)]
        external_host: Option<String>,
        /// Folder for shuffle files (default: a temporary folder).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Tasks run at once (default: the cores).
        #[arg(long)]
        concurrent_tasks: Option<usize>,
        /// Seconds between heartbeats to the scheduler (below its --executor-timeout-seconds).
        #[arg(long, default_value_t = 15)]
        heartbeat_seconds: u64,
    },
}

/// Arguments of `retract`.
#[derive(Debug, clap::Args)]
pub struct RetractArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    /// The batch to take out, as `ingest` reported it (b followed by 16 hex digits).
    pub batch_id: String,
}

/// Arguments of `models`.
#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    #[command(subcommand)]
    pub command: ModelsCommand,
}

/// `models` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every trained model with its promotion decision; `*` marks the current one.
    List,
    /// A model's card (default: the current model).
    Show {
        /// Model id as listed by `models list`.
        model_id: Option<String>,
    },
}

/// A pipeline file.
#[derive(Debug, clap::Args)]
pub struct PipelineArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
}

/// A pipeline file and an optional as-of date.
#[derive(Debug, clap::Args)]
pub struct AsOfArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    /// Score as of the end of this day (YYYY-MM-DD); default: the last day with data.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<i32>,
}

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    /// The night's as-of day (YYYY-MM-DD): ingest, train and score use no later row; default:
    /// the last day with data.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<i32>,
    /// Retrain tonight whatever the retraining policy says.
    #[arg(long, conflicts_with = "no_retrain")]
    pub retrain: bool,
    /// Score with the current model whatever the retraining policy says.
    #[arg(long)]
    pub no_retrain: bool,
    /// Print what would be ingested and whether the night would retrain and why; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    /// Train as of the end of this day (YYYY-MM-DD): no later row is used, so a backfilled
    /// night's model is the one trained then; default: the last day with data.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<i32>,
}

/// Arguments of `features`.
#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    /// Features as of the end of this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    pub as_of: i32,
    /// Print the SQL instead of running it.
    #[arg(long)]
    pub explain: bool,
}

/// Arguments of `generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of accounts.
    #[arg(long, default_value_t = 2500)]
    pub customers: usize,
    /// First day of the export (YYYY-MM-DD).
    #[arg(long, default_value = "2023-01-01", value_parser = parse_date)]
    pub start: i32,
    /// Number of days covered.
    #[arg(long, default_value_t = 730)]
    pub days: i32,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Malformed rows to mix in (they exercise validation and quarantine).
    #[arg(long, default_value_t = 0)]
    pub bad_rows: usize,
}

fn parse_date(text: &str) -> Result<i32, String> {
    crate::util::dates::parse_day(text)
        .ok_or_else(|| format!("expected a date as YYYY-MM-DD, found {text:?}"))
}
