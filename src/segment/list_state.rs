//! The list across nights: which accounts were on the previous night's list and since when, so an
//! account is announced as new once, then "still", or "escalated" when its risk rose by more than
//! the margin; accounts that left the list are reported as resolved. Also remembers when each
//! account was last a key account, for the grace period.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::util::atomic_file;
use crate::util::dates::{Day, parse_day};

/// One listed account as remembered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Listed {
    pub first_listed: Day,
    pub churn_probability: f64,
}

/// What one night left behind.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ListState {
    pub as_of: Day,
    pub listed: BTreeMap<String, Listed>,
    /// The last night each account was a key account (before any grace period).
    pub key_last_seen: BTreeMap<String, Day>,
}

/// An account's status on tonight's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    New,
    Still,
    Escalated,
}

impl Status {
    /// Name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Still => "still",
            Status::Escalated => "escalated",
        }
    }
}

fn state_path(dir: &Path, as_of: Day) -> PathBuf {
    dir.join(format!("as_of={as_of}.json"))
}

impl ListState {
    /// The state of the latest night before `as_of` (re-running a night compares with the night
    /// before it, not with itself).
    pub fn previous(dir: &Path, as_of: i32) -> Result<Option<ListState>> {
        if !dir.exists() {
            return Ok(None);
        }
        let mut best: Option<(i32, PathBuf)> = None;
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io("listing", dir, e))? {
            let path = entry.map_err(|e| Error::io("listing", dir, e))?.path();
            let day = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("as_of=")?.strip_suffix(".json"))
                .and_then(parse_day);
            if let Some(d) = day
                && d < as_of
                && best.as_ref().is_none_or(|(b, _)| d > *b)
            {
                best = Some((d, path));
            }
        }
        best.map(|(_, p)| atomic_file::read_json(&p)).transpose()
    }

    /// Writes tonight's state.
    pub fn save(&self, dir: &Path) -> Result<()> {
        atomic_file::write_json(&state_path(dir, self.as_of), self)
    }

    /// Status and first-listed day of an account on tonight's list.
    pub fn status(
        prev: Option<&ListState>,
        id: &str,
        probability: f64,
        margin: f64,
        as_of: i32,
    ) -> (Status, i32) {
        match prev.and_then(|s| s.listed.get(id)) {
            None => (Status::New, as_of),
            Some(l) => {
                let first = l.first_listed.number();
                let status = if probability - l.churn_probability > margin {
                    Status::Escalated
                } else {
                    Status::Still
                };
                (status, first)
            }
        }
    }

    /// The last night each account was key, tonight included.
    pub fn carry_key_days<'a>(
        prev: Option<&ListState>,
        key_tonight: impl IntoIterator<Item = (&'a str, bool)>,
        as_of: i32,
    ) -> BTreeMap<String, Day> {
        let mut seen = prev.map(|p| p.key_last_seen.clone()).unwrap_or_default();
        for (id, key) in key_tonight {
            if key {
                seen.insert(id.to_string(), Day::new(as_of));
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_then_still_then_escalated_and_the_latest_earlier_night_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let d1 = parse_day("2024-03-01").unwrap();
        assert_eq!(
            ListState::status(None, "a", 0.6, 0.1, d1),
            (Status::New, d1)
        );
        let mut listed = BTreeMap::new();
        listed.insert(
            "a".to_string(),
            Listed {
                first_listed: Day::new(d1),
                churn_probability: 0.6,
            },
        );
        let night1 = ListState {
            as_of: Day::new(d1),
            listed,
            key_last_seen: BTreeMap::new(),
        };
        night1.save(dir.path()).unwrap();
        let d2 = d1 + 1;
        let prev = ListState::previous(dir.path(), d2).unwrap().unwrap();
        assert_eq!(
            ListState::status(Some(&prev), "a", 0.65, 0.1, d2),
            (Status::Still, d1)
        );
        assert_eq!(
            ListState::status(Some(&prev), "a", 0.75, 0.1, d2),
            (Status::Escalated, d1)
        );
        // Re-running night 1 does not compare night 1 with itself.
        assert!(ListState::previous(dir.path(), d1).unwrap().is_none());
    }
}
