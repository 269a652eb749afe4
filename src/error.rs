//! Typed errors of the library and the exit codes a scheduler can rely on.
//!
//! Every variant carries where the problem is (file, row, column, key) so the message alone is
//! enough to act on. `main` prints the chain once and exits with [`Error::exit_code`].

use std::path::PathBuf;

use polars::prelude::PolarsError;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: runtime or data failure.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code: usage error or invalid pipeline file.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: engine or storage unavailable (retry later), e.g. the warehouse is locked.
pub const EXIT_UNAVAILABLE: i32 = 3;
/// Exit code: a data-quality or model gate refused to continue.
pub const EXIT_GATE: i32 = 4;

/// Everything that can go wrong inside churnflow.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline file is unreadable or invalid; `problems` lists every problem found.
    #[error("invalid pipeline file {}:\n{problems}", path.display())]
    Config { path: PathBuf, problems: String },

    /// The command was asked for something the data cannot answer (an as-of day outside the
    /// data, for instance); exit code 2, like a usage error.
    #[error("{0}")]
    Usage(String),

    /// An input file does not have the shape the pipeline file promised.
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },

    /// A file or directory could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The dataframe engine failed; `context` says which step.
    #[error("{context}: {source}")]
    Engine {
        context: String,
        #[source]
        source: PolarsError,
    },

    /// DataFusion or Ballista failed (`distributed` builds); `context` says which step. On a
    /// cluster (`remote`) it is exit 3, "retry later": a lost executor or scheduler is an outage,
    /// not a fault of the data; in process it is exit 1.
    #[error("{context}: {message}")]
    Distributed {
        context: String,
        message: String,
        remote: bool,
    },

    /// Another process holds the warehouse lock.
    #[error("{0}")]
    Locked(String),

    /// The warehouse cannot be used as it is (a lost or unreadable manifest, a damaged part):
    /// nothing was changed, and the message says how to repair it. Exit 3.
    #[error("{0}")]
    Warehouse(String),

    /// A stored artifact (manifest, model, registry) is missing or inconsistent.
    #[error("{0}")]
    Artifact(String),

    /// The data cannot support the requested step (too little history, one class only, ...).
    #[error("{0}")]
    Data(String),

    /// A data-quality or model gate refused to continue.
    #[error("{0}")]
    Gate(String),
}

impl Error {
    /// The process exit code for this error (README "Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } | Error::Usage(_) => EXIT_USAGE,
            Error::Locked(_) | Error::Warehouse(_) => EXIT_UNAVAILABLE,
            Error::Distributed { remote: true, .. } => EXIT_UNAVAILABLE,
            Error::Gate(_) => EXIT_GATE,
            _ => EXIT_FAILURE,
        }
    }

    /// An I/O error on `path` while doing `action` ("reading", "writing", ...).
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Attaches a description of the step to polars errors.
pub trait EngineContext<T> {
    /// Wraps a polars error with `context`.
    fn engine(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> EngineContext<T> for std::result::Result<T, PolarsError> {
    fn engine(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Engine {
            context: context(),
            source,
        })
    }
}
