//! One writer per workdir, and one registry decision at a time per models folder.
//!
//! The locks are the kernel's advisory file locks (`flock`, through `std::fs::File::try_lock`):
//! a lock is held by an open file, so it ends when its process ends however it ends (kill -9, a
//! restarted container, a crashed host's NFS lease), and two processes can never hold it at once.
//! Nothing has to decide whether a lock file is stale, so a file left behind — with another
//! host's name, empty or garbled — never blocks a night. The file itself is never deleted:
//! removing a lock file while another process waits on it would let a third create a new one and
//! both hold "the" lock. What the file holds (pid, host, boot id, process start time, when) is
//! only there to say who holds it.

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Holds a lock until dropped.
#[derive(Debug)]
pub struct WorkdirLock {
    _file: File,
}

/// Lock file of a workdir.
pub const LOCK_FILE: &str = ".churnflow.lock";
/// Lock file of a models folder's registry.
pub const REGISTRY_LOCK_FILE: &str = ".registry.lock";

impl WorkdirLock {
    /// Takes the lock of `workdir`, creating the folder if needed; fails at once (exit 3) when
    /// another process holds it, naming the lock file, its holder and what to do.
    pub fn acquire(workdir: &Path) -> Result<Self> {
        fs::create_dir_all(workdir).map_err(|e| Error::io("creating directory", workdir, e))?;
        remove_leftovers(workdir);
        let path = workdir.join(LOCK_FILE);
        let file = open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let owner = fs::read_to_string(&path).unwrap_or_default();
                let owner = owner.split_whitespace().collect::<Vec<_>>().join(" ");
                return Err(Error::Locked(format!(
                    "{} is locked by a running churnflow process ({}); lock file {}. The lock \
                     ends when that process does (it is a kernel file lock, never left behind \
                     by a killed run): wait for it, or stop that process",
                    workdir.display(),
                    if owner.is_empty() {
                        "details not yet written"
                    } else {
                        &owner
                    },
                    path.display()
                )));
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("locking", &path, e)),
        }
        write_owner(&file, &path)?;
        Ok(WorkdirLock { _file: file })
    }

    /// Takes the registry lock of `models_dir`, waiting for another process's decision to be
    /// written first (a decision takes seconds; waiting loses none of them).
    pub fn registry(models_dir: &Path) -> Result<Self> {
        fs::create_dir_all(models_dir)
            .map_err(|e| Error::io("creating directory", models_dir, e))?;
        let path = models_dir.join(REGISTRY_LOCK_FILE);
        let file = open(&path)?;
        file.lock().map_err(|e| Error::io("locking", &path, e))?;
        write_owner(&file, &path)?;
        Ok(WorkdirLock { _file: file })
    }
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io("opening lock file", path, e))
}

/// Replaces the lock file's text with this process's details (only the holder writes it).
fn write_owner(file: &File, path: &Path) -> Result<()> {
    let text = format!(
        "pid={}\nhost={}\nboot_id={}\nprocess_start={}\nstarted={}\n",
        std::process::id(),
        hostname(),
        read_trimmed("/proc/sys/kernel/random/boot_id").unwrap_or_else(|| "unknown".into()),
        process_start().unwrap_or_else(|| "unknown".into()),
        chrono::Utc::now().to_rfc3339()
    );
    let mut f = file;
    f.set_len(0)
        .and_then(|()| f.rewind())
        .and_then(|()| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io("writing lock file", path, e))
}

/// Owner files of the previous lock scheme (`.churnflow.lock.<pid>`), left by runs killed while
/// taking it; nothing refers to them.
fn remove_leftovers(workdir: &Path) {
    let prefix = format!("{LOCK_FILE}.");
    for entry in fs::read_dir(workdir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// This process's start time in clock ticks since boot (field 22 of /proc/self/stat): with the
/// boot id and pid it names one process, even after pids are reused.
fn process_start() -> Option<String> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; fields after it follow its closing ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(19).map(str::to_string)
}

/// This machine's host name (for lock files and scratch folders).
pub(crate) fn hostname() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
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
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid={}", std::process::id())),
            "{text}"
        );
        assert!(text.contains(LOCK_FILE), "{text}");
        drop(first);
        WorkdirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_lock_file_left_behind_never_blocks() {
        for left in [
            "pid=1\nhost=another-container\n".to_string(),
            String::new(),
            "\u{0}\u{1}garbled".to_string(),
            format!("pid={}\nhost={}\n", std::process::id(), hostname()),
        ] {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join(LOCK_FILE), &left).unwrap();
            let _lock = WorkdirLock::acquire(dir.path()).unwrap();
            let owner = fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
            assert!(owner.contains("boot_id="), "{owner}");
            assert!(owner.contains("process_start="), "{owner}");
        }
    }

    #[test]
    fn owner_file_of_the_old_scheme_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let leftover = dir.path().join(format!("{LOCK_FILE}.999999999"));
        fs::write(&leftover, "pid=999999999\n").unwrap();
        let _lock = WorkdirLock::acquire(dir.path()).unwrap();
        assert!(!leftover.exists());
    }

    #[test]
    fn many_racing_starts_never_hold_the_lock_twice() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(LOCK_FILE), "pid=1\nhost=gone\n").unwrap();
        let holders = AtomicUsize::new(0);
        let (most, taken) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    for _ in 0..50 {
                        if let Ok(lock) = WorkdirLock::acquire(dir.path()) {
                            let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            taken.fetch_add(1, Ordering::SeqCst);
                            std::thread::yield_now();
                            holders.fetch_sub(1, Ordering::SeqCst);
                            drop(lock);
                        }
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert!(taken.load(Ordering::SeqCst) > 0);
    }
}
