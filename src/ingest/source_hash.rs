//! The SHA-256 of an export file, remembered by the file's stamp, so that a night does not read
//! every file of its source folder again only to find it already ingested (5.85 GB of history at
//! 10^8 transactions, every night).
//!
//! Rule kept, as git's index keeps it: a remembered hash is used only when the file's size,
//! modification and status-change times (nanoseconds) and inode are all what they were when it
//! was hashed. Any write changes the status-change time, which no user can set back, so a file
//! rewritten in place, even with its modification time restored, is hashed again. A stamp is
//! remembered only when the file did not change while it was hashed and both its times lie at
//! least two seconds in the past (a write in the same clock tick as the hash would otherwise
//! keep its stamp). The store is a cache: unreadable or unwritable means hashing, never a failed
//! night. Outside Unix nothing is remembered.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::util::hashing::hash_file;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stamp {
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
    dev: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    stamp: Stamp,
    sha256: String,
}

#[cfg(unix)]
fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    let ns = |s: i64, n: i64| s as i128 * 1_000_000_000 + n as i128;
    Some(Stamp {
        len: m.len(),
        mtime_ns: ns(m.mtime(), m.mtime_nsec()),
        ctime_ns: ns(m.ctime(), m.ctime_nsec()),
        inode: m.ino(),
        dev: m.dev(),
    })
}

#[cfg(not(unix))]
fn stamp(_path: &Path) -> Option<Stamp> {
    None
}

/// True when both of the stamp's times lie at least two seconds before now.
fn settled(s: &Stamp) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let margin = 2_000_000_000;
    s.mtime_ns + margin <= now && s.ctime_ns + margin <= now
}

/// SHA-256 and size of `file`, from `store` when its stamp is unchanged (see the module
/// documentation), else computed and remembered there.
pub fn sha256(store: &Path, file: &Path) -> Result<(String, u64)> {
    let key = file.display().to_string();
    let mut known: BTreeMap<String, Entry> =
        crate::util::atomic_file::read_json(store).unwrap_or_default();
    let before = stamp(file);
    if let (Some(s), Some(e)) = (before, known.get(&key))
        && e.stamp == s
    {
        return Ok((e.sha256.clone(), s.len));
    }
    let (sha, bytes) = hash_file(file)?;
    if let (Some(b), Some(a)) = (before, stamp(file))
        && b == a
        && a.len == bytes
        && settled(&a)
    {
        known.retain(|path, _| Path::new(path).exists());
        known.insert(
            key,
            Entry {
                stamp: a,
                sha256: sha.clone(),
            },
        );
        if let Err(e) = crate::util::atomic_file::write_json(store, &known) {
            tracing::debug!("export hashes not remembered ({e}); the next night hashes again");
        }
    }
    Ok((sha, bytes))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Waits until the file's times lie two seconds back (its status-change time cannot be
    /// set).
    fn age() {
        std::thread::sleep(std::time::Duration::from_millis(2100));
    }

    #[test]
    fn a_settled_file_is_remembered_and_any_rewrite_is_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("hashes.json");
        let file = dir.path().join("export.csv");
        std::fs::write(&file, "a,b\n1,2\n").unwrap();
        // Fresh: hashed, not remembered.
        let first = sha256(&store, &file).unwrap();
        assert_eq!(first, hash_file(&file).unwrap());
        assert!(
            !store.exists(),
            "a file written this second is not remembered"
        );
        age();
        sha256(&store, &file).unwrap();
        assert!(
            std::fs::read_to_string(&store)
                .unwrap()
                .contains("export.csv")
        );
        // A remembered hash is what the store says: plant a wrong one to see it used.
        let text = std::fs::read_to_string(&store)
            .unwrap()
            .replace(&first.0, "planted");
        std::fs::write(&store, text).unwrap();
        assert_eq!(sha256(&store, &file).unwrap().0, "planted");
        // Rewritten in place with the same size and its modification time put back: the
        // status-change time moved, so it is hashed again.
        let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::write(&file, "a,b\n3,4\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let again = sha256(&store, &file).unwrap();
        assert_eq!(again, hash_file(&file).unwrap());
        assert_ne!(again.0, first.0);
        // An unreadable store is no store.
        std::fs::write(&store, "{not json").unwrap();
        assert_eq!(sha256(&store, &file).unwrap(), again);
    }
}
