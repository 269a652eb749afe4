//! Where DataFusion runs: a session in this process, or a Ballista client connected to a
//! scheduler (a remote cluster, or one started inside this process), and the Tokio runtime the
//! synchronous [`Backend`](crate::engine::Backend) drives it on.

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use tokio::runtime::Runtime;

use crate::domain::engine::{EngineKind, EngineSettings};
use crate::error::{Error, Result};

/// Stack for the runtime's threads: DataFusion's planner recurses deeply on long `CASE WHEN`
/// lists (Ballista's own binaries use the same 32 MB).
const STACK_BYTES: usize = 32 * 1024 * 1024;

/// A DataFusion session and the runtime its futures run on.
pub(super) struct Session {
    pub runtime: Runtime,
    pub ctx: SessionContext,
    /// Whether queries leave this process (errors are then "engine unavailable", exit 3).
    pub remote: bool,
}

/// The error of a failed DataFusion or Ballista step: exit 3 ("retry later") when the query ran
/// on a cluster, whose scheduler or executors may be back tomorrow; exit 1 in process.
pub(super) fn failed(remote: bool, context: impl Into<String>, e: impl std::fmt::Display) -> Error {
    Error::Distributed {
        context: context.into(),
        message: e.to_string(),
        remote,
    }
}

/// Opens the session `settings` ask for (`kind` is DataFusion or Ballista).
pub(super) fn open(settings: &EngineSettings) -> Result<Session> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.target_partitions.clamp(1, 64))
        .thread_stack_size(STACK_BYTES)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting", "the DataFusion runtime", e))?;
    let partitions = settings.target_partitions;
    let (ctx, remote) = match settings.kind {
        EngineKind::Ballista => {
            // The static distributed planner, not the adaptive one (Ballista 55's default):
            // after an executor is lost mid-stage, the adaptive planner's stage resubmission
            // can fail to record a finished task ("Can't find active stage to update stage
            // outputs") and the job then runs forever, with every later job of the night
            // queued behind it (seen in the loopback cluster test, about one run in two).
            let config = SessionConfig::new_with_ballista()
                .with_target_partitions(partitions)
                .with_ballista_adaptive_query_planner(false);
            let state = SessionStateBuilder::new()
                .with_default_features()
                .with_config(config)
                .build();
            match &settings.endpoint {
                Some(endpoint) => {
                    let url = endpoint.url();
                    let ctx = runtime
                        .block_on(SessionContext::remote_with_state(&url, state))
                        .map_err(|e| {
                            failed(
                                true,
                                format!("connecting to the Ballista scheduler {url}"),
                                e,
                            )
                        })?;
                    (ctx, true)
                }
                None => {
                    let ctx = runtime
                        .block_on(SessionContext::standalone_with_state(state))
                        .map_err(|e| failed(false, "starting Ballista in process", e))?;
                    (ctx, false)
                }
            }
        }
        _ => {
            let config = SessionConfig::new().with_target_partitions(partitions);
            (SessionContext::new_with_config(config), false)
        }
    };
    Ok(Session {
        runtime,
        ctx,
        remote,
    })
}
