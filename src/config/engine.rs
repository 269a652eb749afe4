//! `[engine]`: which engine runs the night's questions, and where (issue 17).

use crate::config::raw::RawEngine;
use crate::domain::engine::{
    DEFAULT_QUERY_TIMEOUT_SECONDS, DEFAULT_RETRIES, DEFAULT_RETRY_WAIT_SECONDS, Endpoint,
    EngineKind, EngineSettings, default_partitions,
};

/// Most partitions a query may be split into: more only adds scheduling cost.
const MAX_PARTITIONS: i64 = 4096;

/// Checks `[engine]`, pushing every problem found.
pub(super) fn check_engine(raw: &RawEngine, problems: &mut Vec<String>) -> EngineSettings {
    let kind = EngineKind::parse(&raw.kind).unwrap_or_else(|| {
        problems.push(format!(
            "engine.kind: expected one of {}, found {:?}",
            EngineKind::NAMES,
            raw.kind
        ));
        EngineKind::default()
    });
    if !kind.available() {
        problems.push(format!(
            "engine.kind: {:?} needs a churnflow built with the `distributed` feature \
             (`cargo build --release --features distributed`); this binary was built without it, \
             so choose \"history\" or \"polars\", or run a build that has it",
            kind.name()
        ));
    }
    let endpoint = raw.endpoint.as_deref().and_then(|text| {
        if kind != EngineKind::Ballista {
            problems.push(format!(
                "engine.endpoint: only kind = \"ballista\" connects to a scheduler, found \
                 endpoint {text:?} with kind = {:?}; remove it or set kind = \"ballista\"",
                kind.name()
            ));
            return None;
        }
        Endpoint::parse(text)
            .map_err(|e| problems.push(format!("engine.endpoint: {e}")))
            .ok()
    });
    let target_partitions = match raw.target_partitions {
        None => default_partitions(),
        Some(n) => {
            super::check::in_range(problems, "engine.target_partitions", n, 1, MAX_PARTITIONS);
            n.clamp(1, MAX_PARTITIONS) as usize
        }
    };
    let mut whole = |key: &str, value: Option<i64>, default: u64, lo: i64, hi: i64| match value {
        None => default,
        Some(n) => {
            super::check::in_range(problems, key, n, lo, hi);
            n.clamp(lo, hi) as u64
        }
    };
    let retries = whole("engine.retries", raw.retries, DEFAULT_RETRIES.into(), 0, 10) as u32;
    let retry_wait_seconds = whole(
        "engine.retry_wait_seconds",
        raw.retry_wait_seconds,
        DEFAULT_RETRY_WAIT_SECONDS,
        0,
        3600,
    );
    let query_timeout_seconds = whole(
        "engine.query_timeout_seconds",
        raw.query_timeout_seconds,
        DEFAULT_QUERY_TIMEOUT_SECONDS,
        1,
        86_400,
    );
    EngineSettings {
        kind,
        endpoint,
        target_partitions,
        retries,
        retry_wait_seconds,
        query_timeout_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: &str, endpoint: Option<&str>, partitions: Option<i64>) -> RawEngine {
        RawEngine {
            kind: kind.into(),
            endpoint: endpoint.map(String::from),
            target_partitions: partitions,
            retries: None,
            retry_wait_seconds: Some(-1),
            query_timeout_seconds: Some(0),
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut problems = Vec::new();
        check_engine(&raw("polars", Some("df://h:1"), Some(0)), &mut problems);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("only kind = \"ballista\""));
        assert!(problems[1].contains("engine.target_partitions: expected 1..=4096, found 0"));
        assert!(problems[2].contains("engine.retry_wait_seconds: expected 0..=3600, found -1"));
        assert!(problems[3].contains("engine.query_timeout_seconds: expected 1..=86400, found 0"));
    }

    #[test]
    fn a_ballista_endpoint_is_checked() {
        let mut problems = Vec::new();
        let mut r = raw("ballista", Some("df://sched:50050"), Some(8));
        r.retry_wait_seconds = None;
        r.query_timeout_seconds = None;
        let s = check_engine(&r, &mut problems);
        if EngineKind::Ballista.available() {
            assert!(problems.is_empty(), "{problems:?}");
        } else {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains("built with the `distributed` feature"));
        }
        assert_eq!(s.endpoint.unwrap().port, 50050);
        assert_eq!(s.target_partitions, 8);
        let mut problems = Vec::new();
        let mut r = raw("ballista", Some("sched:50050"), None);
        r.retry_wait_seconds = None;
        r.query_timeout_seconds = None;
        check_engine(&r, &mut problems);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("engine.endpoint: expected \"df://HOST:PORT\""))
        );
    }

    #[test]
    fn the_in_memory_engines_need_no_feature() {
        for kind in ["history", "polars"] {
            let mut problems = Vec::new();
            let mut r = raw(kind, None, None);
            r.retry_wait_seconds = Some(5);
            r.query_timeout_seconds = Some(60);
            let s = check_engine(&r, &mut problems);
            assert!(problems.is_empty(), "{problems:?}");
            assert!(s.target_partitions >= 1);
        }
    }
}
