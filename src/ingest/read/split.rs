//! Splitting a CSV file record by record when polars cannot read it whole.

use std::path::Path;

use super::header::{header_names, positional_names};
use super::raw::{LINE, Malformed};
use crate::domain::input::Dialect;
use crate::error::{Error, Result};

/// Splits `path` record by record (quotes and embedded newlines understood) into a clean copy
/// with a header and each record's line number, and the records that cannot be used.
///
/// A record that spans several lines and has the wrong number of fields is taken for a stray
/// quote that swallowed the lines after it (the opening quote found its "closing" quote on a
/// later line): its first line is set aside and reading resumes on the next line, so the lines
/// it swallowed are read as the records they are.
///
/// Long by design: one state machine over the records, with the stray-quote recovery inside it.
pub(super) fn split_records(
    path: &Path,
    dialect: Dialect,
    staged: &Path,
) -> Result<(Vec<String>, Vec<Malformed>)> {
    let text = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    let mut out = csv::WriterBuilder::new()
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .from_path(staged)
        .map_err(|e| Error::io("creating", staged, std::io::Error::other(e.to_string())))?;
    let reader_at = |from: usize| {
        csv::ReaderBuilder::new()
            .delimiter(dialect.delimiter)
            .quote(dialect.quote)
            .has_headers(false)
            .flexible(true)
            .from_reader(&text[from..])
    };
    let mut header: Vec<String> = Vec::new();
    let mut malformed = Vec::new();
    let mut record = csv::ByteRecord::new();
    // The reader starts at `base`; lines are counted up to `counted` (line `line` starts there).
    let (mut base, mut rdr) = (0usize, reader_at(0));
    let (mut counted, mut line) = (0usize, 1u64);
    let write_err =
        |e: csv::Error| Error::io("writing", staged, std::io::Error::other(e.to_string()));
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    message: format!("unreadable CSV: {e}"),
                });
            }
        }
        // The csv crate's own line count skips blank lines; count newlines up to the record (a
        // record after blank lines is reported at the first of them: step over them).
        let mut start = base + record.position().map_or(0, |p| p.byte() as usize);
        while start < text.len() && matches!(text[start], b'\n' | b'\r') {
            start += 1;
        }
        line += memchr::memchr_iter(b'\n', &text[counted..start.max(counted)]).count() as u64;
        counted = counted.max(start);
        let end = base + rdr.position().byte() as usize;
        if header.is_empty() {
            header = if dialect.has_header {
                header_names(&record)
            } else {
                positional_names(record.len())
            };
            let mut h = csv::ByteRecord::new();
            for f in &header {
                h.push_field(f.as_bytes());
            }
            h.push_field(LINE.as_bytes());
            out.write_byte_record(&h).map_err(write_err)?;
            if dialect.has_header {
                continue;
            }
        }
        let body = &text[start..end.min(text.len())];
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        if record.len() != header.len() && body.contains(&b'\n') && body.contains(&dialect.quote) {
            // A stray quote: set its first line aside, read on from the next.
            let first = memchr::memchr(b'\n', body).map_or(body.len(), |i| i);
            malformed.push(Malformed {
                line,
                reason: crate::ingest::read::records::stray_reason(dialect.limits),
                fields: vec![
                    String::from_utf8_lossy(&body[..first])
                        .trim_end_matches('\r')
                        .to_string(),
                ],
            });
            base = start + first + 1;
            rdr = reader_at(base.min(text.len()));
            continue;
        }
        let lossy: Vec<String> = record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        // Short records get empty trailing fields, as polars' direct read gives them, so both
        // paths treat a file alike; validation then rejects a missing required value.
        while record.len() < header.len() {
            record.push_field(b"");
        }
        let reason = if record.len() > header.len() {
            Some(format!(
                "expected {} fields, found {}",
                header.len(),
                record.len()
            ))
        } else if record.iter().any(|f| std::str::from_utf8(f).is_err()) {
            Some("not valid UTF-8 text (check source.encoding)".to_string())
        } else {
            None
        };
        match reason {
            Some(reason) => malformed.push(Malformed {
                line,
                reason,
                fields: lossy,
            }),
            None => {
                let mut r = record.clone();
                r.push_field(line.to_string().as_bytes());
                out.write_byte_record(&r).map_err(write_err)?;
            }
        }
    }
    out.flush().map_err(|e| Error::io("writing", staged, e))?;
    Ok((header, malformed))
}
