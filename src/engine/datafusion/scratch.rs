//! The night's scratch folder for query results (`<workdir>/engine/night-<pid>-<time>@<host>/`):
//! each result is written there by the engine, read once by the driver, then removed; the folder
//! goes when the backend does, and one left by a killed process is swept by the next night on
//! the same host. The workdir may be shared between hosts (a cluster's), and a pid means nothing
//! on another host: another host's folder is never swept.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub(super) struct Scratch {
    dir: PathBuf,
    results: usize,
    /// Table files written so far (each registration names its own file).
    tables: usize,
}

/// This host's name as it appears in scratch folder names.
fn this_host() -> String {
    crate::warehouse::lock::hostname()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The process id in a scratch folder's name, if it is one made on `host`.
fn owner(name: &str, host: &str) -> Option<u32> {
    let (night, made_on) = name.strip_prefix("night-")?.rsplit_once('@')?;
    if made_on != host {
        return None;
    }
    night.split('-').next()?.parse().ok()
}

/// Removes the scratch folders under `root` whose process has ended (killed nights). Only where
/// `/proc` tells which processes run; elsewhere they stay until removed by hand.
fn sweep(root: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    let host = this_host();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if let Some(pid) = name.to_str().and_then(|n| owner(n, &host))
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

impl Scratch {
    /// A new, empty scratch folder under `root`.
    pub fn create(root: &Path) -> Result<Scratch> {
        fs::create_dir_all(root).map_err(|e| Error::io("creating", root, e))?;
        sweep(root);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = root.join(format!(
            "night-{}-{nanos}@{}",
            std::process::id(),
            this_host()
        ));
        fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        // Absolute: executors resolve the path themselves, from their own working directories.
        let dir = fs::canonicalize(&dir).map_err(|e| Error::io("resolving", &dir, e))?;
        Ok(Scratch {
            dir,
            results: 0,
            tables: 0,
        })
    }

    /// A fresh folder for the next query's result.
    pub fn next_result(&mut self) -> Result<PathBuf> {
        self.results += 1;
        let dir = self.dir.join(format!("result-{}", self.results));
        fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        Ok(dir)
    }

    /// A new file for table `name`, directly in the scratch folder; the files of the tables it
    /// replaces are removed (a failure to remove only costs disk until the end).
    pub fn next_table(&mut self, name: &str) -> PathBuf {
        self.tables += 1;
        let prefix = format!("table-{name}-");
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        self.dir.join(format!("{prefix}{}.parquet", self.tables))
    }

    /// Removes a result folder once read (a failure to remove only costs disk until the end).
    pub fn remove(&self, dir: &Path) {
        let _ = fs::remove_dir_all(dir);
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_of_ended_processes_are_swept() {
        let root = tempfile::tempdir().unwrap();
        // No process has this id (above Linux's pid_max of 2^22).
        let dead = root.path().join(format!("night-4194999-1@{}", this_host()));
        fs::create_dir_all(dead.join("result-1")).unwrap();
        // The same pid on another host may be running: its folder stays.
        let elsewhere = root.path().join("night-4194999-1@another.host");
        fs::create_dir_all(&elsewhere).unwrap();
        let other = root.path().join("notes");
        fs::create_dir_all(&other).unwrap();
        let mut s = Scratch::create(root.path()).unwrap();
        assert!(!dead.exists() || !Path::new("/proc/self").exists());
        assert!(other.exists(), "only scratch folders are swept");
        assert!(elsewhere.exists(), "another host's folder is not swept");
        let r = s.next_result().unwrap();
        assert!(r.is_dir() && r.starts_with(&s.dir));
        let mine = s.dir.clone();
        drop(s);
        assert!(!mine.exists());
        assert_eq!(owner("night-12-99@h", "h"), Some(12));
        assert_eq!(owner("night-12-99@h", "g"), None);
        assert_eq!(owner("nightly", "h"), None);
    }
}
