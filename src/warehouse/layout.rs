//! The warehouse's layout on disk: which folders hold parts, and which files are parts or the
//! temporary files of atomic writes. Shared by the manifest (is a part without a manifest?) and
//! the warehouse writer (what did a killed write leave?).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Every Parquet file of the warehouse's tables (not temporary files), sorted.
pub fn part_files(warehouse: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for table in DATA_DIRS {
        collect_files(&warehouse.join(table), &is_part, &mut out)?;
    }
    out.sort();
    Ok(out)
}

/// Folders that hold parts.
pub const DATA_DIRS: [&str; 5] = [
    "transactions",
    "customers",
    "arrears",
    "events",
    "superseded",
];

/// Files under `dir` (recursively) that `keep` accepts.
pub fn collect_files(
    dir: &Path,
    keep: &dyn Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries {
        let path = e.map_err(|e| Error::io("listing", dir, e))?.path();
        if path.is_dir() {
            collect_files(&path, keep, out)?;
        } else if keep(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A part: a `.parquet` file that is not hidden (temporary files are).
pub fn is_part(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "parquet") && !file_name(path).starts_with('.')
}

/// A temporary file of an atomic write (hidden, with a `.tmp-<pid>` name).
pub fn is_temporary(path: &Path) -> bool {
    let name = file_name(path);
    name.starts_with('.') && name.contains(".tmp-")
}

/// A new folder for files no manifest can vouch for: `_orphans/<time>/` (never deleted).
pub fn orphans_dir(warehouse: &Path) -> PathBuf {
    warehouse
        .join("_orphans")
        .join(chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string())
}

/// Moves warehouse files under `dest`, keeping their paths relative to `warehouse`; a file
/// already gone is skipped.
pub fn move_aside(warehouse: &Path, files: &[PathBuf], dest: &Path) -> Result<()> {
    for from in files {
        if !from.exists() {
            continue;
        }
        let to = dest.join(from.strip_prefix(warehouse).unwrap_or(from));
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))?;
        }
        fs::rename(from, &to).map_err(|e| Error::io("moving aside", from, e))?;
    }
    Ok(())
}
