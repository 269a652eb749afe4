//! Which engine computes features, labels and lists (`[engine]`), and where it runs.

/// The engine a pipeline runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// Reads the warehouse once into memory, grouped by customer, and computes every cutoff
    /// from there (the default; side tables still go through SQL).
    #[default]
    History,
    /// Runs the portable SQL text on polars SQL for every cutoff: the reference the history
    /// is checked against.
    Polars,
    /// The same SQL text on Apache DataFusion in this process, over `target_partitions`
    /// partitions (built with the `distributed` feature).
    DataFusion,
    /// The same SQL text on an Apache DataFusion Ballista cluster: the scheduler at `endpoint`,
    /// or, without one, a scheduler and executor started inside this process (built with the
    /// `distributed` feature).
    Ballista,
}

impl EngineKind {
    /// Every accepted name, for messages.
    pub const NAMES: &'static str = "history, polars, datafusion, ballista";

    /// Every kind.
    pub const ALL: [EngineKind; 4] = [
        EngineKind::History,
        EngineKind::Polars,
        EngineKind::DataFusion,
        EngineKind::Ballista,
    ];

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<EngineKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Its name in the pipeline file.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::History => "history",
            EngineKind::Polars => "polars",
            EngineKind::DataFusion => "datafusion",
            EngineKind::Ballista => "ballista",
        }
    }

    /// Whether this kind needs the `distributed` Cargo feature.
    pub fn needs_distributed_build(self) -> bool {
        matches!(self, EngineKind::DataFusion | EngineKind::Ballista)
    }

    /// Whether this binary can run this kind.
    pub fn available(self) -> bool {
        !self.needs_distributed_build() || cfg!(feature = "distributed")
    }

    /// Every kind this binary can run.
    pub fn available_kinds() -> Vec<EngineKind> {
        Self::ALL.into_iter().filter(|k| k.available()).collect()
    }
}

/// A Ballista scheduler's address, from `endpoint = "df://HOST:PORT"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// Parses `df://HOST:PORT` (the form Ballista's clients use); says what was expected.
    pub fn parse(text: &str) -> std::result::Result<Endpoint, String> {
        let expected =
            "expected \"df://HOST:PORT\", for instance \"df://scheduler.internal:50050\"";
        let rest = text
            .strip_prefix("df://")
            .ok_or_else(|| format!("{expected}, found {text:?} (no df:// scheme)"))?;
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("{expected}, found {text:?} (no port)"))?;
        let port: u16 = port.parse().ok().filter(|&p| p > 0).ok_or_else(|| {
            format!("{expected}, found {text:?} (port {port:?} is not 1..=65535)")
        })?;
        let valid_host = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !valid_host {
            return Err(format!("{expected}, found {text:?} (host {host:?})"));
        }
        Ok(Endpoint {
            host: host.to_string(),
            port,
        })
    }

    /// `df://HOST:PORT`, as Ballista's client takes it.
    pub fn url(&self) -> String {
        format!("df://{}:{}", self.host, self.port)
    }
}

/// Default `[engine] target_partitions`: the machine's cores.
pub fn default_partitions() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `[engine]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    pub kind: EngineKind,
    /// The Ballista scheduler; `None` runs Ballista inside this process (standalone).
    pub endpoint: Option<Endpoint>,
    /// Partitions DataFusion and Ballista split each query into (ignored by the others).
    pub target_partitions: usize,
    /// Times a query that failed on a Ballista cluster is run again (a lost executor).
    pub retries: u32,
    /// Seconds before a failed query is run again: longer than the scheduler's
    /// `--executor-timeout-seconds`, so a lost executor is no longer given tasks.
    pub retry_wait_seconds: u64,
    /// Seconds a query on a Ballista cluster may run before it counts as failed (and is run
    /// again): a scheduler that lost an executor mid-stage can leave a job running forever.
    pub query_timeout_seconds: u64,
}

/// Default `[engine] retries`.
pub const DEFAULT_RETRIES: u32 = 2;
/// Default `[engine] retry_wait_seconds`: the `cluster scheduler` default executor timeout, plus
/// the time its sweep takes to notice.
pub const DEFAULT_RETRY_WAIT_SECONDS: u64 = 90;
/// Default `[engine] query_timeout_seconds`: an hour, far above any query of a night at 10^8
/// rows, far below the next night.
pub const DEFAULT_QUERY_TIMEOUT_SECONDS: u64 = 3600;

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            kind: EngineKind::default(),
            endpoint: None,
            target_partitions: default_partitions(),
            retries: DEFAULT_RETRIES,
            retry_wait_seconds: DEFAULT_RETRY_WAIT_SECONDS,
            query_timeout_seconds: DEFAULT_QUERY_TIMEOUT_SECONDS,
        }
    }
}

impl From<EngineKind> for EngineSettings {
    fn from(kind: EngineKind) -> Self {
        EngineSettings {
            kind,
            ..EngineSettings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in EngineKind::ALL {
            assert_eq!(EngineKind::parse(k.name()), Some(k));
            assert!(EngineKind::NAMES.contains(k.name()));
        }
        assert_eq!(EngineKind::parse("sql"), None);
        assert_eq!(EngineKind::parse("Ballista"), None);
    }

    #[test]
    fn endpoints_parse_or_say_what_was_expected() {
        let e = Endpoint::parse("df://10.0.0.5:50050").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("10.0.0.5", 50050));
        assert_eq!(e.url(), "df://10.0.0.5:50050");
        for (bad, why) in [
            ("10.0.0.5:50050", "no df:// scheme"),
            ("df://host", "no port"),
            ("df://host:0", "is not 1..=65535"),
            ("df://host:99999", "is not 1..=65535"),
            ("df://:50050", "host"),
            ("df://a b:50050", "host"),
            ("http://host:50050", "no df:// scheme"),
        ] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert!(
                err.contains(why) && err.contains("df://HOST:PORT"),
                "{bad}: {err}"
            );
        }
    }
}
