//! `outputs/latest.json`: the newest complete night, so downstream jobs need not compute the
//! date. Written after every output of a night is in place, atomically, and only moved forward:
//! a backfill of an older night leaves it naming the newer one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::util::atomic_file;

/// The file's content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Latest {
    pub as_of: String,
    /// The night's folder, relative to `outputs/` (`as_of=YYYY-MM-DD`).
    pub dir: String,
    pub model_id: String,
    pub listed_accounts: usize,
    /// The run that wrote it (`runs/<run_id>.json`), when written by `churnflow run`.
    pub run_id: Option<String>,
    pub written_at: String,
}

impl Latest {
    /// The record of a scored night, written by `run_id` when a `run` wrote it.
    pub fn of(outcome: &crate::score::ScoreOutcome, run_id: Option<&str>) -> Self {
        Latest {
            as_of: outcome.as_of.to_string(),
            dir: format!("as_of={}", outcome.as_of),
            model_id: outcome.model.model_id.clone(),
            listed_accounts: outcome.listed.len(),
            run_id: run_id.map(str::to_string),
            written_at: chrono::Utc::now().to_rfc3339(),
        }
    }
}

/// Where it lives under the workdir's `outputs/`.
pub fn path(outputs_root: &Path) -> PathBuf {
    outputs_root.join("latest.json")
}

/// Records `night` as the latest unless a newer night is already recorded; returns whether it
/// was written. An unreadable file is replaced (it names nothing usable).
pub fn record(outputs_root: &Path, night: &Latest) -> Result<bool> {
    let file = path(outputs_root);
    if let Ok(text) = std::fs::read_to_string(&file)
        && let Ok(current) = serde_json::from_str::<Latest>(&text)
        && current.as_of > night.as_of
    {
        return Ok(false);
    }
    atomic_file::write_json(&file, night)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(as_of: &str) -> Latest {
        Latest {
            as_of: as_of.into(),
            dir: format!("as_of={as_of}"),
            model_id: "m".into(),
            listed_accounts: 3,
            run_id: None,
            written_at: "now".into(),
        }
    }

    #[test]
    fn latest_only_moves_forward() {
        let dir = tempfile::tempdir().unwrap();
        assert!(record(dir.path(), &night("2024-12-30")).unwrap());
        assert!(record(dir.path(), &night("2024-12-31")).unwrap());
        // A backfilled older night does not move it back; the same night again rewrites it.
        assert!(!record(dir.path(), &night("2024-06-30")).unwrap());
        assert!(record(dir.path(), &night("2024-12-31")).unwrap());
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        let l: Latest = serde_json::from_str(&text).unwrap();
        assert_eq!(l.as_of, "2024-12-31");
        // A garbled file is replaced.
        std::fs::write(path(dir.path()), "{").unwrap();
        assert!(record(dir.path(), &night("2024-01-01")).unwrap());
    }
}
