//! What an ingest tells the person running it: one line per file that changed something or
//! was refused, one line for all the files already ingested, and the quarantine's place.

use std::path::Path;

use crate::app::out::Out;
use crate::ingest::IngestReport;

/// Reports a night's ingests: each file that changed something (or was refused) on its own
/// line, and the files already ingested in one line, however many there are.
pub fn print_reports(reports: &[IngestReport], warehouse: &Path, out: Out) {
    let mut already = 0usize;
    for r in reports {
        if r.is_quiet_repeat() {
            already += 1;
        } else {
            print_report(r, warehouse, out);
        }
    }
    match already {
        0 => {}
        1 => {
            let r = reports
                .iter()
                .find(|r| r.is_quiet_repeat())
                .expect("one already-ingested report");
            print_report(r, warehouse, out);
        }
        n => out.line(format!(
            "ingest: {n} files already ingested (same SHA-256); nothing to do for them"
        )),
    }
}

/// Reports what an ingest did, with its warnings.
pub fn print_report(r: &IngestReport, warehouse: &Path, out: Out) {
    for w in &r.warnings {
        out.warn(w);
    }
    if r.retracted {
        // The warning above says what to do.
        return;
    }
    if r.already_ingested {
        out.ingested(
            r,
            format!(
                "ingest: {} already ingested as batch {} (same SHA-256); nothing to do",
                r.source, r.batch_id
            ),
        );
        return;
    }
    // Every row read is in exactly one of these counts.
    let restated = if r.rows_restated > 0 || r.orders_replaced > 0 {
        format!(
            ", {} restating {} earlier orders",
            r.rows_restated, r.orders_replaced
        )
    } else {
        String::new()
    };
    out.ingested(
        r,
        format!(
            "ingest: {} rows read from {}: {} accepted, {} rejected, {} duplicates dropped\
             {restated} (batch {})",
            r.rows_read, r.source, r.rows_accepted, r.rows_rejected, r.rows_duplicate, r.batch_id
        ),
    );
    if let Some(q) = &r.quarantine {
        out.warn(format!(
            "{} rejected rows written with their reasons to {}",
            r.rows_rejected,
            warehouse.join(q).display()
        ));
    }
}
