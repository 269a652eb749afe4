//! `churnflow cluster scheduler|executor`: one binary for the whole deployment. The work is in
//! `engine::cluster` (Ballista embedded as libraries); builds without the `distributed` feature
//! say how to get one.

use crate::cli::{ClusterArgs, ClusterCommand};
use crate::cmd::Out;
use crate::error::Result;

/// Runs `cluster`.
#[cfg(feature = "distributed")]
pub fn run(args: &ClusterArgs, out: Out) -> Result<()> {
    use crate::engine::cluster::{self, ExecutorOptions, SchedulerOptions};
    match &args.command {
        ClusterCommand::Scheduler {
            bind,
            external_host,
            executor_timeout_seconds,
        } => {
            let opts = SchedulerOptions {
                bind: cluster::resolve("--bind", bind)?,
                external_host: external_host.clone(),
                executor_timeout_seconds: (*executor_timeout_seconds).max(2),
            };
            out.line(format!("Ballista scheduler listening on {}", opts.bind));
            cluster::run_scheduler(&opts)
        }
        ClusterCommand::Executor {
            scheduler,
            bind,
            external_host,
            work_dir,
            concurrent_tasks,
            heartbeat_seconds,
        } => {
            let opts = ExecutorOptions {
                scheduler: cluster::host_port("--scheduler", scheduler)?,
                bind: cluster::resolve("--bind", bind)?,
                external_host: external_host.clone(),
                work_dir: work_dir.clone(),
                concurrent_tasks: *concurrent_tasks,
                heartbeat_seconds: (*heartbeat_seconds).max(1),
            };
            out.line(format!(
                "Ballista executor on {} (pulling tasks from the scheduler {scheduler})",
                opts.bind
            ));
            cluster::run_executor(&opts)
        }
    }
}

/// Runs `cluster`: this build has no Ballista.
#[cfg(not(feature = "distributed"))]
pub fn run(args: &ClusterArgs, _out: Out) -> Result<()> {
    let which = match args.command {
        ClusterCommand::Scheduler { .. } => "scheduler",
        ClusterCommand::Executor { .. } => "executor",
    };
    Err(crate::error::Error::Usage(format!(
        "`churnflow cluster {which}` needs a churnflow built with the `distributed` feature \
         (`cargo build --release --features distributed`); this binary was built without it"
    )))
}
