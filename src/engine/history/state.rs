//! The history state: the in-memory [`History`](super::History) saved beside the warehouse, so
//! that a night reads one file and the parts of the batches committed since it was saved, instead
//! of every part.
//!
//! Rules kept:
//! - The state names what it holds: every batch it was built from, with each part's path, rows,
//!   size and SHA-256, in manifest order. It is used only when those batches are exactly the first
//!   batches of tonight's manifest; the batches after them are added from their parts
//!   ([`History::merged`](super::History::merged)). A restatement, retraction or repair changes
//!   an earlier batch's parts, so the state no longer matches and the history is rebuilt from the parts. A stale state can
//!   therefore never be read as current: it is committed "atomically with the manifest" in the
//!   sense that matters, since it is only ever trusted against the manifest it names.
//! - It is a cache. A missing, damaged (checksum), truncated or other-format file means a rebuild
//!   from the parts and a new file, never a failed night. A write that fails (disk full) is a
//!   warning; the night goes on with the history it built.
//! - Written whole: a temporary file, then a rename. It is not synced to disk (a gigabyte at
//!   10^8 rows): after a crash a half-written file fails its checksum and is rebuilt.
//!
//! The file itself (layout, checksum, writing and reading) is `state_file.rs`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::warehouse::manifest::{Manifest, Part};

/// The state's file name inside its folder.
pub const FILE: &str = "history.bin";

/// One warehouse batch as the state saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Covered {
    pub batch_id: String,
    pub parts: Vec<PartKey>,
}

/// What identifies a part's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartKey {
    pub path: String,
    pub rows: u64,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
}

impl PartKey {
    fn of(p: &Part) -> Self {
        PartKey {
            path: p.path.clone(),
            rows: p.rows,
            bytes: p.bytes,
            sha256: p.sha256.clone(),
        }
    }
}

/// The manifest's transaction batches as a state would name them.
pub fn covered(manifest: &Manifest) -> Vec<Covered> {
    manifest
        .batches
        .iter()
        .map(|b| Covered {
            batch_id: b.batch_id.clone(),
            parts: b.parts.iter().map(PartKey::of).collect(),
        })
        .collect()
}

/// How many of `now`'s batches a state built from `saved` already holds: `Some(k)` when `saved`
/// is exactly `now[..k]`, `None` when an earlier batch changed (then only a rebuild is right).
pub fn held(saved: &[Covered], now: &[Covered]) -> Option<usize> {
    (saved.len() <= now.len() && saved == &now[..saved.len()]).then_some(saved.len())
}

/// Where a pipeline keeps its history state.
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::engine::history) fn covers() -> Vec<Covered> {
        vec![Covered {
            batch_id: "b1".into(),
            parts: vec![PartKey {
                path: "transactions/month=2024-01/part-b1.parquet".into(),
                rows: 5,
                bytes: Some(10),
                sha256: Some("ab".into()),
            }],
        }]
    }

    #[test]
    fn a_state_holds_a_prefix_of_the_batches_or_nothing() {
        let one = covers();
        let mut two = one.clone();
        two.push(Covered {
            batch_id: "b2".into(),
            parts: vec![],
        });
        assert_eq!(held(&one, &two), Some(1));
        assert_eq!(held(&two, &two), Some(2));
        assert_eq!(held(&[], &two), Some(0));
        assert_eq!(held(&two, &one), None, "a batch was retracted");
        let mut changed = two.clone();
        changed[0].parts[0].sha256 = Some("cd".into());
        assert_eq!(held(&changed, &two), None, "a part was rewritten");
    }
}
