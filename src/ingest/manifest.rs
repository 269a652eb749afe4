//! `_manifest.json`: the list of ingested batches and the Parquet parts each produced.
//!
//! The manifest is the warehouse's commit point. Parts are written and renamed into place first;
//! only when the manifest naming them has been renamed into place do readers see them. A crash
//! before that leaves the previous manifest, which names only complete files.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic_file;
use crate::config::hex;
use crate::error::Result;

/// File name of the manifest inside the warehouse root.
pub const MANIFEST_FILE: &str = "_manifest.json";
/// Version of the manifest layout.
pub const FORMAT_VERSION: u32 = 1;

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
    /// Accepted rows dropped because an identical row was already in this file or the warehouse.
    pub rows_duplicate: u64,
    /// Quarantine file relative to the warehouse root, when rows were rejected.
    pub quarantine: Option<String>,
    pub parts: Vec<Part>,
}

/// One Parquet file of the warehouse.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Path relative to the warehouse root.
    pub path: String,
    pub month: String,
    pub rows: u64,
}

impl Batch {
    /// The manifest entry of an ingest that wrote `parts`.
    pub fn from_report(
        r: &crate::ingest::IngestReport,
        source_bytes: u64,
        parts: Vec<Part>,
    ) -> Self {
        Batch {
            batch_id: r.batch_id.clone(),
            source_path: r.source.clone(),
            source_sha256: r.source_sha256.clone(),
            source_bytes,
            ingested_at: chrono::Utc::now().to_rfc3339(),
            rows_read: r.rows_read,
            rows_accepted: r.rows_accepted,
            rows_rejected: r.rows_rejected,
            rows_duplicate: r.rows_duplicate,
            quarantine: r.quarantine.clone(),
            parts,
        }
    }
}

impl Manifest {
    /// Reads the manifest of `warehouse`, or an empty one when none exists yet.
    pub fn load(warehouse: &Path) -> Result<Self> {
        let path = warehouse.join(MANIFEST_FILE);
        if !path.exists() {
            return Ok(Manifest {
                format_version: FORMAT_VERSION,
                batches: Vec::new(),
                side_batches: Vec::new(),
            });
        }
        atomic_file::read_json(&path)
    }

    /// Atomically replaces the manifest of `warehouse`.
    pub fn save(&self, warehouse: &Path) -> Result<()> {
        atomic_file::write_json(&warehouse.join(MANIFEST_FILE), self)
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
