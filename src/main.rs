//! The `churnflow` binary: parse arguments, call the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

use churnflow::cli::{Cli, Command};
use churnflow::cmd::{self, Out};
use churnflow::{EXIT_OK, Result};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn dispatch(cli: &Cli, out: Out) -> Result<()> {
    match &cli.command {
        Command::Generate(a) => cmd::generate::run(a, out),
        Command::Ingest(a) => cmd::ingest::run(a, out),
        Command::Features(a) => cmd::features::run(a, out),
        Command::Train(a) => cmd::train::run(a, out),
        Command::Score(a) => cmd::score::run(a, out),
        Command::Run(a) => cmd::run::run(a, out),
        Command::Validate(a) => cmd::validate::run(a, out),
        Command::Backtest(a) => cmd::backtest::run(a, out),
        Command::Models(a) => cmd::models::run(a, out),
        Command::Retract(a) => cmd::retract::run(a, out),
        Command::Repair(a) => cmd::repair::run(a, out),
        Command::Cluster(a) => cmd::cluster::run(a, out),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out {
        quiet: cli.quiet,
        format: cli.log_format,
    };
    out.init();
    match dispatch(&cli, out) {
        Ok(()) => ExitCode::from(EXIT_OK as u8),
        Err(e) => {
            // Every variant's message already includes its cause, so print it once.
            out.error(e.to_string(), e.exit_code());
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
