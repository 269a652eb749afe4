//! `_manifest.json`: the list of ingested batches and the Parquet parts each produced.
//!
//! The manifest is the warehouse's commit point. Parts are written and renamed into place first;
//! only when the manifest naming them has been renamed into place do readers see them. A crash
//! before that leaves the previous manifest, which names only complete files.
//!
//! Nothing is ever deleted on the manifest's word alone. A warehouse gets its (empty) manifest
//! before its first part, so a part without a manifest means the manifest was lost: every
//! command then refuses (exit 3) until `churnflow repair` rebuilds it from the parts, each of
//! which carries its batch in its footer. A write announces its parts in an intent file first
//! (`_pending/<batch>.json`), so the leftovers of a killed write are known for what they are.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::util::atomic_file;
use crate::util::hashing::hex;

/// File name of the manifest inside the warehouse root.
pub const MANIFEST_FILE: &str = "_manifest.json";
/// Version of the manifest layout (2: part checksums, restatements, superseded rows).
pub const FORMAT_VERSION: u32 = 2;

/// The whole manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format_version: u32,
    /// Transaction batches.
    pub batches: Vec<Batch>,
    /// Side-table batches (customers, arrears, events); each part's `month` names its table.
    #[serde(default)]
    pub side_batches: Vec<Batch>,
    /// Batches taken out by `churnflow retract`: their sources are not ingested again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retracted: Vec<Retracted>,
}

/// A batch taken out by `churnflow retract`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Retracted {
    pub batch_id: String,
    pub source_path: String,
    pub source_sha256: String,
    pub at: String,
}

/// One ingested source file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub batch_id: String,
    pub source_path: String,
    pub source_sha256: String,
    pub source_bytes: u64,
    pub ingested_at: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    /// Rows dropped because an identical row was already in this file or the warehouse (or,
    /// with `restatements = "keep_first"`, because their order was already there).
    pub rows_duplicate: u64,
    /// Rows that restated orders already in the warehouse and replaced them.
    #[serde(default)]
    pub rows_restated: u64,
    /// Orders of earlier batches this batch replaced.
    #[serde(default)]
    pub orders_replaced: u64,
    /// Quarantine file relative to the warehouse root, when rows were rejected.
    pub quarantine: Option<String>,
    pub parts: Vec<Part>,
    /// Rows of earlier batches this batch replaced, kept aside so that retracting this batch
    /// puts them back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<Superseded>,
}

/// Rows of batch `batch_id` that a later batch replaced, kept in a file of their own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Superseded {
    /// The batch the rows came from.
    pub batch_id: String,
    pub part: Part,
}

/// One Parquet file of the warehouse.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Path relative to the warehouse root.
    pub path: String,
    pub month: String,
    pub rows: u64,
    /// SHA-256 of the file and its size, checked before it is read (absent in manifests of
    /// format 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl Manifest {
    /// An empty manifest.
    pub fn empty() -> Self {
        Manifest {
            format_version: FORMAT_VERSION,
            batches: Vec::new(),
            side_batches: Vec::new(),
            retracted: Vec::new(),
        }
    }

    /// Reads the manifest of `warehouse`: empty when the warehouse has no data yet. A manifest
    /// that is missing while parts exist, or that cannot be read, is an error (exit 3) naming the
    /// file and `churnflow repair`: reading on would see an empty or partial warehouse, and
    /// writing on would bury the parts it no longer names.
    pub fn load(warehouse: &Path) -> Result<Self> {
        let path = warehouse.join(MANIFEST_FILE);
        if !path.exists() {
            let parts = crate::warehouse::layout::part_files(warehouse)?;
            if let Some(first) = parts.first() {
                return Err(Error::Warehouse(format!(
                    "{} is missing but the warehouse holds {} part file(s) (e.g. {}); nothing \
                     was changed. Run `churnflow repair PIPELINE` to rebuild the manifest from \
                     the parts",
                    path.display(),
                    parts.len(),
                    first.display()
                )));
            }
            return Ok(Manifest::empty());
        }
        let mut m: Manifest = atomic_file::read_json(&path).map_err(|e| {
            Error::Warehouse(format!(
                "{e}; nothing was changed. Run `churnflow repair PIPELINE` to rebuild the \
                 manifest from the parts (the broken file is kept beside it)"
            ))
        })?;
        if m.format_version > FORMAT_VERSION {
            return Err(Error::Warehouse(format!(
                "{} has format {}, newer than this churnflow ({FORMAT_VERSION}); use a newer \
                 churnflow",
                path.display(),
                m.format_version
            )));
        }
        m.format_version = FORMAT_VERSION;
        Ok(m)
    }

    /// Writes an empty manifest when the warehouse has none yet, before its first part, so that
    /// a part is never without a manifest unless the manifest was lost.
    pub fn ensure_exists(warehouse: &Path) -> Result<()> {
        if warehouse.join(MANIFEST_FILE).exists() {
            return Ok(());
        }
        let m = Manifest::load(warehouse)?;
        m.save(warehouse)
    }

    /// Every batch, transactions and side tables, by id.
    pub fn batch(&self, batch_id: &str) -> Option<&Batch> {
        self.batches
            .iter()
            .chain(&self.side_batches)
            .find(|b| b.batch_id == batch_id)
    }

    /// Atomically replaces the manifest of `warehouse`.
    pub fn save(&self, warehouse: &Path) -> Result<()> {
        atomic_file::write_json(&warehouse.join(MANIFEST_FILE), self)
    }

    /// The retraction of a file with this content hash, if it was retracted.
    pub fn find_retracted(&self, sha256: &str) -> Option<&Retracted> {
        self.retracted.iter().find(|r| r.source_sha256 == sha256)
    }

    /// The side-table batch that ingested a file with this content hash into `table`, if any.
    pub fn find_side_by_hash(&self, sha256: &str, table: &str) -> Option<&Batch> {
        self.side_batches
            .iter()
            .find(|b| b.source_sha256 == sha256 && b.parts.iter().any(|p| p.month == table))
    }

    /// The batch that ingested a file with this content hash, if any.
    pub fn find_by_hash(&self, sha256: &str) -> Option<&Batch> {
        self.batches.iter().find(|b| b.source_sha256 == sha256)
    }

    /// Absolute paths of every committed part, in manifest order.
    pub fn part_paths(&self, warehouse: &Path) -> Vec<PathBuf> {
        self.batches
            .iter()
            .flat_map(|b| b.parts.iter().map(|p| warehouse.join(&p.path)))
            .collect()
    }

    /// Absolute paths of every file the manifest names: parts, superseded rows, quarantine files.
    pub fn named_files(&self, warehouse: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for b in self.batches.iter().chain(&self.side_batches) {
            out.extend(b.parts.iter().map(|p| warehouse.join(&p.path)));
            out.extend(b.superseded.iter().map(|s| warehouse.join(&s.part.path)));
            out.extend(b.quarantine.iter().map(|q| warehouse.join(q)));
        }
        out
    }

    /// Total committed rows.
    pub fn total_rows(&self) -> u64 {
        self.batches
            .iter()
            .flat_map(|b| &b.parts)
            .map(|p| p.rows)
            .sum()
    }

    /// A hash identifying the warehouse content: the ordered batch ids and source hashes.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for b in self.batches.iter().chain(&self.side_batches) {
            h.update(b.batch_id.as_bytes());
            h.update(b":");
            h.update(b.source_sha256.as_bytes());
            h.update(b"\n");
        }
        hex(&h.finalize())
    }
}

/// Folder of intent files inside the warehouse root.
pub const PENDING_DIR: &str = "_pending";

/// What a write is about to add: the files it may create, announced before the first of them is
/// written and removed once the manifest naming them is committed. After a kill, the files an
/// intent names and no manifest names are provably that write's leftovers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub batch_id: String,
    /// Paths relative to the warehouse root.
    pub files: Vec<String>,
}

impl Intent {
    fn path(warehouse: &Path, batch_id: &str) -> PathBuf {
        warehouse.join(PENDING_DIR).join(format!("{batch_id}.json"))
    }

    /// Announces (or extends) the files of a write.
    pub fn announce(warehouse: &Path, batch_id: &str, files: &[String]) -> Result<()> {
        let path = Self::path(warehouse, batch_id);
        let mut intent = if path.exists() {
            atomic_file::read_json::<Intent>(&path)?
        } else {
            Intent {
                batch_id: batch_id.to_string(),
                files: Vec::new(),
            }
        };
        for f in files {
            if !intent.files.contains(f) {
                intent.files.push(f.clone());
            }
        }
        atomic_file::write_json(&path, &intent)
    }

    /// Removes the intent of a committed (or abandoned) write.
    pub fn done(warehouse: &Path, batch_id: &str) -> Result<()> {
        let path = Self::path(warehouse, batch_id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("removing", &path, e)),
        }
    }

    /// Every intent left in `warehouse`, with its file.
    pub fn all(warehouse: &Path) -> Result<Vec<(PathBuf, Intent)>> {
        let dir = warehouse.join(PENDING_DIR);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for e in entries {
            let path = e.map_err(|e| Error::io("listing", &dir, e))?.path();
            if path.extension().is_some_and(|x| x == "json") {
                // An intent cut short by a kill is itself a leftover (its write never began).
                match atomic_file::read_json::<Intent>(&path) {
                    Ok(i) => out.push((path, i)),
                    Err(_) => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
        }
        Ok(out)
    }
}
