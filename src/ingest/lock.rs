//! One writer per workdir. A lock file holds the owner's pid and host; a second run exits at once
//! with a clear message, and a lock left by a process that no longer exists is taken over.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct WorkdirLock {
    path: PathBuf,
}

const LOCK_FILE: &str = ".churnflow.lock";

impl WorkdirLock {
    /// Takes the lock of `workdir`, creating the folder if needed.
    pub fn acquire(workdir: &Path) -> Result<Self> {
        fs::create_dir_all(workdir).map_err(|e| Error::io("creating directory", workdir, e))?;
        let path = workdir.join(LOCK_FILE);
        // The owner's details are written to a private file first and hard-linked into place:
        // the link is atomic and fails if the lock exists, so a run killed at any point never
        // leaves a lock file without an owner (which nobody could tell was stale).
        let own = workdir.join(format!("{LOCK_FILE}.{}", std::process::id()));
        let text = format!(
            "pid={}\nhost={}\nstarted={}\n",
            std::process::id(),
            hostname(),
            chrono::Utc::now().to_rfc3339()
        );
        fs::write(&own, text).map_err(|e| Error::io("writing lock file", &own, e))?;
        let result = Self::link(workdir, &own, &path);
        let _ = fs::remove_file(&own);
        if result.is_ok() {
            remove_leftovers(workdir);
        }
        result
    }

    fn link(workdir: &Path, own: &Path, path: &Path) -> Result<Self> {
        for _ in 0..2 {
            match fs::hard_link(own, path) {
                Ok(()) => {
                    return Ok(WorkdirLock {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let owner = fs::read_to_string(path).unwrap_or_default();
                    if is_stale(&owner) {
                        // The owner died without cleaning up; nobody else can be writing.
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    return Err(Error::Locked(format!(
                        "{} is locked by another churnflow run ({}); try again when it has \
                         finished, or delete the lock file if that process no longer exists",
                        workdir.display(),
                        owner.split_whitespace().collect::<Vec<_>>().join(" ")
                    )));
                }
                Err(e) => return Err(Error::io("creating lock file", path, e)),
            }
        }
        Err(Error::Locked(format!(
            "could not take the lock {} after removing a stale one",
            path.display()
        )))
    }
}

/// Removes owner files of runs killed between writing them and taking the lock.
fn remove_leftovers(workdir: &Path) {
    let prefix = format!("{LOCK_FILE}.");
    for entry in fs::read_dir(workdir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

impl Drop for WorkdirLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn field<'a>(owner: &'a str, key: &str) -> Option<&'a str> {
    owner
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

/// A lock is stale when it names this host and a pid that is not running.
fn is_stale(owner: &str) -> bool {
    let (Some(pid), Some(host)) = (field(owner, "pid"), field(owner, "host")) else {
        return false;
    };
    host == hostname()
        && !Path::new("/proc").join(pid.trim()).exists()
        && Path::new("/proc/self").exists()
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = WorkdirLock::acquire(dir.path()).unwrap();
        let err = WorkdirLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Locked(_)));
        assert!(
            err.to_string()
                .contains(&format!("pid={}", std::process::id())),
            "{err}"
        );
        drop(first);
        WorkdirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn stale_lock_of_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("pid=999999999\nhost={}\n", hostname());
        fs::write(dir.path().join(LOCK_FILE), text).unwrap();
        WorkdirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn owner_file_of_a_run_killed_before_locking_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let leftover = dir.path().join(format!("{LOCK_FILE}.999999999"));
        fs::write(&leftover, "pid=999999999\n").unwrap();
        let lock = WorkdirLock::acquire(dir.path()).unwrap();
        assert!(!leftover.exists());
        let owner = fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert!(
            owner.contains(&format!("pid={}", std::process::id())),
            "{owner}"
        );
        drop(lock);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
