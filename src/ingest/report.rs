//! What one file's ingest did, row by row accounted for: read = accepted + rejected +
//! duplicates + restated.

use crate::warehouse::manifest::{Batch, Part};

/// What one ingest did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestReport {
    pub source: String,
    pub source_sha256: String,
    pub batch_id: String,
    /// True when this content had been ingested before and nothing was done.
    pub already_ingested: bool,
    /// True when this content's batch was retracted: nothing was done either.
    pub retracted: bool,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub rows_duplicate: u64,
    /// Rows that restated orders already in the warehouse (stored, replacing the earlier rows).
    pub rows_restated: u64,
    /// Orders of earlier batches replaced.
    pub orders_replaced: u64,
    pub quarantine: Option<String>,
    pub warnings: Vec<String>,
}

impl IngestReport {
    /// The manifest entry of this ingest, which wrote `parts`.
    pub fn batch(&self, source_bytes: u64, parts: Vec<Part>) -> Batch {
        let r = self;
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
            rows_restated: r.rows_restated,
            orders_replaced: r.orders_replaced,
            quarantine: r.quarantine.clone(),
            parts,
            superseded: Vec::new(),
        }
    }
}

impl IngestReport {
    /// A file already in the warehouse that needs no one's attention (not retracted, no
    /// warning): such files are reported together, in one line.
    pub fn is_quiet_repeat(&self) -> bool {
        self.already_ingested && !self.retracted && self.warnings.is_empty()
    }

    /// The report of a file whose content was ingested before.
    pub fn already(source: String, sha: String, batch_id: String) -> Self {
        IngestReport {
            source,
            source_sha256: sha,
            batch_id,
            already_ingested: true,
            retracted: false,
            rows_read: 0,
            rows_accepted: 0,
            rows_rejected: 0,
            rows_duplicate: 0,
            rows_restated: 0,
            orders_replaced: 0,
            quarantine: None,
            warnings: vec![],
        }
    }
}
