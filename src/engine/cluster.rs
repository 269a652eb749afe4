//! `churnflow cluster`: Ballista's scheduler and executor embedded as libraries, so a deployment
//! ships one binary (`distributed` builds). Both run until the process is stopped (SIGTERM,
//! SIGINT); a night's client connects with `[engine] kind = "ballista"`, `endpoint = "df://…"`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

use crate::error::{Error, Result};

/// What `cluster scheduler` needs.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Address the scheduler's gRPC service listens on.
    pub bind: SocketAddr,
    /// Host name executors and clients reach it by (default: the bind host).
    pub external_host: Option<String>,
    /// Seconds without a heartbeat before an executor is taken as lost and its tasks
    /// rescheduled or its jobs failed.
    pub executor_timeout_seconds: u64,
}

/// What `cluster executor` needs.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler, `HOST:PORT`.
    pub scheduler: (String, u16),
    /// Address of the executor's Arrow Flight service (results and shuffles). Executors pull
    /// their tasks from the scheduler, so no other port listens.
    pub bind: SocketAddr,
    /// Host name the scheduler and other executors reach it by (default: the bind host).
    pub external_host: Option<String>,
    /// Where shuffle files are written (default: a temporary folder).
    pub work_dir: Option<PathBuf>,
    /// Tasks run at once (default: the cores).
    pub concurrent_tasks: Option<usize>,
    /// Seconds between heartbeats to the scheduler.
    pub heartbeat_seconds: u64,
}

fn failed(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Distributed {
        context: context.to_string(),
        message: e.to_string(),
        remote: true,
    }
}

/// Resolves `HOST:PORT` (a name or an address) to one socket address, or says what was wrong.
pub fn resolve(what: &str, text: &str) -> Result<SocketAddr> {
    text.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| Error::Usage(format!("{what}: expected HOST:PORT, found {text:?}")))
}

/// Splits `HOST:PORT` without resolving the host (the executor resolves the scheduler itself).
pub fn host_port(what: &str, text: &str) -> Result<(String, u16)> {
    text.rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_string(), p.parse().ok().filter(|&p: &u16| p > 0)?)))
        .filter(|(h, _)| !h.is_empty())
        .ok_or_else(|| Error::Usage(format!("{what}: expected HOST:PORT, found {text:?}")))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Ballista's own binaries use 32 MB: its planner recurses deeply.
        .thread_stack_size(32 * 1024 * 1024)
        .build()
        .map_err(|e| Error::io("starting", "the Tokio runtime", e))
}

/// Runs a scheduler until the process is stopped.
pub fn run_scheduler(opts: &SchedulerOptions) -> Result<()> {
    let config = SchedulerConfig {
        bind_host: opts.bind.ip().to_string(),
        bind_port: opts.bind.port(),
        external_host: opts
            .external_host
            .clone()
            .unwrap_or_else(|| opts.bind.ip().to_string()),
        executor_timeout_seconds: opts.executor_timeout_seconds,
        expire_dead_executor_interval_seconds: (opts.executor_timeout_seconds / 3).max(1),
        no_executors_grace_period_seconds: opts.executor_timeout_seconds,
        // Executors pull their tasks. With Ballista 55's default push policy, an executor lost
        // mid-stage left the scheduler counting slots of the executor that was left as busy:
        // the rolled-back job and every later one were queued forever (the loopback cluster
        // test hung in about one run in three). Pulled, 6 of 6 such runs recovered by
        // themselves; a slot is whatever the executor says it has free.
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        ..SchedulerConfig::default()
    };
    runtime()?.block_on(async {
        let cluster = BallistaCluster::new_from_config(&config)
            .await
            .map_err(|e| failed("setting up the scheduler's state", e))?;
        start_server(cluster, opts.bind, Arc::new(config))
            .await
            .map_err(|e| failed(&format!("serving the scheduler on {}", opts.bind), e))
    })
}

/// Runs an executor until the process is stopped.
pub fn run_executor(opts: &ExecutorOptions) -> Result<()> {
    let port = opts.bind.port();
    let defaults = ExecutorProcessConfig::default();
    let config = ExecutorProcessConfig {
        bind_host: opts.bind.ip().to_string(),
        external_host: Some(
            opts.external_host
                .clone()
                .unwrap_or_else(|| opts.bind.ip().to_string()),
        ),
        port,
        scheduler_host: opts.scheduler.0.clone(),
        scheduler_port: opts.scheduler.1,
        // Wait for a scheduler that starts after the executor (a unit ordering, a restart).
        scheduler_connect_timeout_seconds: 60,
        vcores: opts.concurrent_tasks.unwrap_or(defaults.vcores),
        work_dir: opts
            .work_dir
            .as_ref()
            .map(|d| d.to_string_lossy().into_owned()),
        executor_heartbeat_interval_seconds: opts.heartbeat_seconds,
        print_thread_info: false,
        // Tasks are pulled, as the scheduler is told too (see `run_scheduler`): the executor
        // asks for work when it has a free slot, and runs no gRPC service of its own.
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        ..defaults
    };
    runtime()?.block_on(async {
        start_executor_process(Arc::new(config))
            .await
            .map_err(|e| failed("running the executor", e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert_eq!(
            host_port("--scheduler", "sched:50050").unwrap(),
            ("sched".into(), 50050)
        );
        for bad in ["sched", ":50050", "sched:0", "sched:x"] {
            let e = host_port("--scheduler", bad).unwrap_err().to_string();
            assert!(e.contains("expected HOST:PORT"), "{e}");
        }
        assert_eq!(resolve("--bind", "127.0.0.1:7").unwrap().port(), 7);
        assert!(resolve("--bind", "127.0.0.1").is_err());
    }
}
