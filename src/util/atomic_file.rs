//! Whole-file writes: data goes to a hidden temporary file beside the target, is flushed to disk,
//! and only then renamed over the target, so readers see the old file or the new one, never half.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The temporary name used while `target` is being written.
pub fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `target` through `write`, atomically. On error the target is untouched.
pub fn write_with<F>(target: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<()>,
{
    if let Some(dir) = target.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))?;
    }
    sweep_leftovers(target);
    let tmp = temp_path(target);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io("writing", &tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    commit(&tmp, target)
}

/// Removes the temporary files of `path`'s writers that are gone (killed mid-write, e.g. by
/// kill -9: a gigabyte each for the history state at 10^8 rows, one per night otherwise). A
/// writer still running (its pid alive, Linux) keeps its file; elsewhere nothing is removed.
pub fn sweep_leftovers(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let gone = pid != std::process::id()
            && cfg!(target_os = "linux")
            && !Path::new(&format!("/proc/{pid}")).exists();
        if gone {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Writes `bytes` to `target` atomically.
pub fn write_bytes(target: &Path, bytes: &[u8]) -> Result<()> {
    write_with(target, |out| {
        out.write_all(bytes)
            .map_err(|e| Error::io("writing", target, e))
    })
}

/// Writes `value` as pretty JSON to `target` atomically.
pub fn write_json<T: serde::Serialize>(target: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Artifact(format!("cannot serialise {}: {e}", target.display())))?;
    text.push('\n');
    write_bytes(target, text.as_bytes())
}

/// Renames a finished temporary file into place.
pub fn commit(tmp: &Path, target: &Path) -> Result<()> {
    fs::rename(tmp, target).map_err(|e| Error::io("renaming into place", target, e))
}

/// Reads and parses a JSON file, naming the file in any error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Artifact(format!("{} is not valid: {e}", path.display())))
}

/// Writes `df` as CSV to `path` atomically, with a UTF-8 byte-order mark when `bom` is set (lists
/// carry one so Excel opens names and sentences correctly; quarantine files do not). Floats are
/// written in their shortest exact form, so callers round them first.
pub fn write_csv(path: &Path, df: &mut polars::prelude::DataFrame, bom: bool) -> Result<()> {
    use crate::error::EngineContext;
    use polars::prelude::{CsvWriter, SerWriter};
    write_with(path, |out| {
        CsvWriter::new(out)
            .include_bom(bom)
            .include_header(true)
            .finish(df)
            .engine(|| format!("writing {}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_old_content_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("list.csv");
        write_bytes(&target, b"old").unwrap();
        let err = write_with(&target, |out| {
            out.write_all(b"half").unwrap();
            Err(Error::Data("boom".into()))
        });
        assert!(err.is_err());
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A writer killed mid-write (kill -9) leaves its temporary file; the next write of the
    /// same target removes it, and keeps the file of a writer that is still running.
    #[test]
    #[cfg(target_os = "linux")]
    fn the_next_write_removes_a_killed_writers_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("source_hashes.json");
        // Linux pids stop at 2^22: this writer is certainly gone. Pid 1 is certainly alive.
        let dead = dir.path().join(".source_hashes.json.tmp-999999999");
        let alive = dir.path().join(".source_hashes.json.tmp-1");
        let other = dir.path().join(".other.json.tmp-999999999");
        for f in [&dead, &alive, &other] {
            fs::write(f, b"half").unwrap();
        }
        write_bytes(&target, b"{}").unwrap();
        assert!(!dead.exists());
        assert!(alive.exists(), "a running writer keeps its file");
        assert!(other.exists(), "only the target's own leftovers go");
        assert_eq!(fs::read(&target).unwrap(), b"{}");
    }
}
