//! Splits a delimited export into chunks of whole records, so that a file of any size is read
//! with memory bounded by the chunk. A line break ends a record only outside quotes. Quotes are
//! read as the record reader (the csv crate) reads them: a quote opens a quoted field only at the
//! start of a field, a doubled quote inside one is a literal quote, and a quote anywhere else is
//! text.
//!
//! An unclosed quote would otherwise make the rest of the file one field. So a quoted field that
//! runs past [`QuoteLimits`] (lines or bytes), or to the end of the file, is taken for a stray
//! quote: the first line of its record is set aside as one malformed record (blanked in the
//! chunk, so line numbers stay as in the file), and reading resumes on the next line, where a
//! second stray quote is found the same way.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ingest::reader::Malformed;

/// How far a quoted field may run before its opening quote is taken for a stray one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteLimits {
    /// Line breaks one quoted field may hold.
    pub max_lines: u64,
    /// Bytes one record with an open quote may span.
    pub max_bytes: u64,
}

impl Default for QuoteLimits {
    /// 100 lines or 1 MiB: far beyond an address or a comment with line breaks, far below the
    /// rest of a file.
    fn default() -> Self {
        QuoteLimits {
            max_lines: 100,
            max_bytes: 1 << 20,
        }
    }
}

/// The record syntax a scan follows.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    pub delimiter: u8,
    pub quote: u8,
    pub limits: QuoteLimits,
}

/// What a scan of a buffer found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Offset just past the last whole record (or stray) that the scan accepted.
    pub end: usize,
    /// Stray-quote records before `end`: the first line of each, line break included.
    pub strays: Vec<Range<usize>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of a doubled quote.
    QuoteInQuoted,
}

/// Scans `text`, which starts at a record start, for whole records ending at or before `limit`
/// (a stray found while scanning a record that starts before `limit` is taken whole). With
/// `eof`, the text ends where the file does: a last record without a line break is whole, and a
/// quote still open there is stray.
pub fn scan(text: &[u8], syntax: Syntax, limit: usize, eof: bool) -> Scan {
    let Syntax {
        delimiter,
        quote,
        limits,
    } = syntax;
    let mut out = Scan::default();
    let mut pos = 0;
    // One record per pass of the outer loop.
    'records: while pos < text.len() && pos <= limit {
        let start = pos;
        let mut state = State::FieldStart;
        let mut lines = 0u64;
        loop {
            if pos >= text.len() {
                if !eof {
                    break 'records;
                }
                if state == State::Quoted {
                    let end = line_end(text, start);
                    out.strays.push(start..end);
                    out.end = end;
                    pos = end;
                    continue 'records;
                }
                if text.len() <= limit || out.end == 0 {
                    out.end = text.len();
                }
                break 'records;
            }
            match state {
                State::FieldStart => {
                    let b = text[pos];
                    pos += 1;
                    if b == quote {
                        state = State::Quoted;
                        lines = 0;
                    } else if b == b'\n' {
                        break;
                    } else if b != delimiter {
                        state = State::Unquoted;
                    }
                }
                State::Unquoted => match memchr::memchr2(delimiter, b'\n', &text[pos..]) {
                    None => pos = text.len(),
                    Some(i) => {
                        let b = text[pos + i];
                        pos += i + 1;
                        if b == b'\n' {
                            break;
                        }
                        state = State::FieldStart;
                    }
                },
                State::Quoted => {
                    let found = memchr::memchr2(quote, b'\n', &text[pos..]);
                    let next = found.map_or(text.len(), |i| pos + i);
                    let too_long = |lines: u64, at: usize| {
                        lines > limits.max_lines || (at - start) as u64 > limits.max_bytes
                    };
                    if too_long(lines, next) {
                        let end = line_end(text, start);
                        out.strays.push(start..end);
                        out.end = end;
                        pos = end;
                        continue 'records;
                    }
                    match found {
                        None => pos = text.len(),
                        Some(_) => {
                            if text[next] == b'\n' {
                                lines += 1;
                            } else {
                                state = State::QuoteInQuoted;
                            }
                            pos = next + 1;
                        }
                    }
                }
                State::QuoteInQuoted => {
                    let b = text[pos];
                    pos += 1;
                    state = if b == quote {
                        State::Quoted
                    } else if b == delimiter {
                        State::FieldStart
                    } else if b == b'\n' {
                        break;
                    } else {
                        State::Unquoted
                    };
                }
            }
        }
        // A record ended just before `pos`: take it unless it ends past the limit and the scan
        // already has something (the first record is taken whatever its length).
        if pos > limit && out.end > 0 {
            break;
        }
        out.end = pos;
    }
    out
}

/// Offset just past the line break at or after `from`, or the end of `text`.
fn line_end(text: &[u8], from: usize) -> usize {
    memchr::memchr(b'\n', &text[from..]).map_or(text.len(), |i| from + i + 1)
}

/// The reason given for a stray-quote record.
pub fn stray_reason(limits: QuoteLimits) -> String {
    format!(
        "unclosed quote: a quoted field runs past {} lines or {} bytes, or to the end of the \
         file (source.max_quoted_lines, source.max_quoted_bytes); this record was set aside and \
         reading resumed on the next line",
        limits.max_lines, limits.max_bytes
    )
}

/// `text` with each stray range reduced to its line breaks (so later lines keep their
/// numbers), and the strays as malformed records numbered from `first_line`, the line `text`
/// starts on. `strays` are in order and do not overlap.
pub fn set_aside(
    text: &[u8],
    strays: &[Range<usize>],
    first_line: u64,
    limits: QuoteLimits,
) -> (Vec<u8>, Vec<Malformed>) {
    let mut kept = Vec::with_capacity(text.len());
    let mut malformed = Vec::with_capacity(strays.len());
    let (mut line, mut at) = (first_line, 0usize);
    for r in strays {
        kept.extend_from_slice(&text[at..r.start]);
        line += count_newlines(&text[at..r.start]);
        let stray = &text[r.clone()];
        malformed.push(Malformed {
            line,
            reason: stray_reason(limits),
            fields: vec![
                String::from_utf8_lossy(stray)
                    .trim_end_matches(['\n', '\r'])
                    .to_string(),
            ],
        });
        let breaks = count_newlines(stray);
        kept.extend(std::iter::repeat_n(b'\n', breaks as usize));
        line += breaks;
        at = r.end;
    }
    kept.extend_from_slice(&text[at..]);
    (kept, malformed)
}

/// Whole records of a file, preceded by the file's header line.
pub struct Chunk {
    /// The header line, then the records (stray-quote records reduced to their line breaks).
    pub text: Vec<u8>,
    /// Where the records start in `text`.
    pub records_start: usize,
    /// The source line of the first record (the header is line 1).
    pub first_line: u64,
    /// Lines the records span in the source (blank lines included).
    pub lines: u64,
    /// Stray-quote records set aside from this chunk, with their source lines.
    pub strays: Vec<Malformed>,
}

/// Reads a file chunk by chunk; see the module documentation.
pub struct RecordChunks {
    file: File,
    path: PathBuf,
    syntax: Syntax,
    target: usize,
    header: Vec<u8>,
    pending: Vec<u8>,
    next_line: u64,
    eof: bool,
}

impl RecordChunks {
    /// Opens `path` and reads its header line; chunks hold about `target` bytes of records.
    pub fn open(path: &Path, syntax: Syntax, target: usize) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
        let mut chunks = RecordChunks {
            file,
            path: path.to_path_buf(),
            syntax,
            target: target.max(1),
            header: Vec::new(),
            pending: Vec::new(),
            next_line: 1,
            eof: false,
        };
        // The header is the first record: read until its end (a header with a stray quote ends
        // at its first line break).
        let mut buf = Vec::new();
        let end = loop {
            let scanned = buf.len();
            chunks.fill(&mut buf, scanned + (64 << 10))?;
            let s = scan(&buf, syntax, 0, chunks.eof);
            if let Some(stray) = s.strays.first().filter(|r| r.start == 0) {
                break line_end(&buf[..stray.end], 0);
            }
            if s.end > 0 {
                break s.end;
            }
            if chunks.eof {
                break buf.len();
            }
        };
        chunks.pending = buf.split_off(end);
        if !buf.ends_with(b"\n") {
            buf.push(b'\n');
        }
        chunks.next_line += count_newlines(&buf);
        chunks.header = buf;
        Ok(chunks)
    }

    /// Appends from the file until `buf` holds `len` bytes or the file ends.
    fn fill(&mut self, buf: &mut Vec<u8>, len: usize) -> Result<()> {
        let mut block = vec![0u8; 1 << 20];
        while buf.len() < len && !self.eof {
            let want = (len - buf.len()).min(block.len());
            let n = self
                .file
                .read(&mut block[..want])
                .map_err(|e| Error::io("reading", &self.path, e))?;
            if n == 0 {
                self.eof = true;
            }
            buf.extend_from_slice(&block[..n]);
        }
        Ok(())
    }

    /// The next chunk, or None at the end of the file.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        let mut records = std::mem::take(&mut self.pending);
        let mut target = self.target;
        let found = loop {
            self.fill(&mut records, target)?;
            let s = scan(&records, self.syntax, target, self.eof);
            if s.end > 0 || self.eof {
                break s;
            }
            // One record longer than the target: read on until it ends (a stray quote ends it
            // within the limits).
            target = target.saturating_mul(2);
        };
        let end = if found.end == 0 && self.eof {
            records.len()
        } else {
            found.end
        };
        self.pending = records.split_off(end);
        if records.is_empty() {
            return Ok(None);
        }
        let first_line = self.next_line;
        let newlines = count_newlines(&records);
        let lines = newlines + u64::from(!records.ends_with(b"\n"));
        self.next_line += newlines;
        let (records, strays) = if found.strays.is_empty() {
            (records, Vec::new())
        } else {
            set_aside(&records, &found.strays, first_line, self.syntax.limits)
        };
        let mut text = Vec::with_capacity(self.header.len() + records.len());
        text.extend_from_slice(&self.header);
        text.extend_from_slice(&records);
        Ok(Some(Chunk {
            text,
            records_start: self.header.len(),
            first_line,
            lines,
            strays,
        }))
    }
}

fn count_newlines(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYNTAX: Syntax = Syntax {
        delimiter: b',',
        quote: b'"',
        limits: QuoteLimits {
            max_lines: 3,
            max_bytes: 200,
        },
    };

    fn chunks_of(text: &str, target: usize) -> Vec<(String, u64, u64)> {
        chunks_and_strays(text, target).0
    }

    type Chunks = Vec<(String, u64, u64)>;

    fn chunks_and_strays(text: &str, target: usize) -> (Chunks, Vec<(u64, String)>) {
        let mut strays = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let mut r = RecordChunks::open(&path, SYNTAX, target).unwrap();
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk().unwrap() {
            for m in &c.strays {
                strays.push((m.line, m.fields[0].clone()));
            }
            out.push((String::from_utf8(c.text).unwrap(), c.first_line, c.lines));
        }
        (out, strays)
    }

    #[test]
    fn chunks_hold_whole_records_after_the_header() {
        let got = chunks_of("a,b\n1,2\n3,4\n5,6\n", 8);
        assert_eq!(
            got,
            vec![
                ("a,b\n1,2\n3,4\n".to_string(), 2, 2),
                ("a,b\n5,6\n".to_string(), 4, 1),
            ]
        );
    }

    #[test]
    fn a_quoted_line_break_is_not_a_boundary() {
        let got = chunks_of("a,b\n1,\"x\ny\"\n3,4", 9);
        assert_eq!(
            got,
            vec![
                ("a,b\n1,\"x\ny\"\n".to_string(), 2, 2),
                ("a,b\n3,4".to_string(), 4, 1),
            ]
        );
    }

    #[test]
    fn a_header_only_file_has_no_chunks() {
        assert!(chunks_of("a,b\n", 10).is_empty());
        assert!(chunks_of("a,b", 10).is_empty());
    }

    #[test]
    fn every_byte_lands_in_exactly_one_chunk() {
        let body: String = (0..500).map(|i| format!("{i},\"v\"\"{i}\"\n")).collect();
        let text = format!("a,b\n{body}");
        for target in [1, 7, 64, 1000, 100_000] {
            let got = chunks_of(&text, target);
            let joined: String = got.iter().map(|(t, _, _)| &t["a,b\n".len()..]).collect();
            assert_eq!(joined, body, "target {target}");
            let mut line = 2;
            for (_, first, lines) in &got {
                assert_eq!(*first, line);
                line += lines;
            }
        }
    }

    #[test]
    fn an_unclosed_quote_is_set_aside_and_reading_resumes_on_the_next_line() {
        let body: String = (0..20).map(|i| format!("{i},x{i}\n")).collect();
        let text = format!("a,b\n1,2\n3,\"never closed\n{body}");
        for target in [1, 10, 64, 100_000] {
            let (chunks, strays) = chunks_and_strays(&text, target);
            assert_eq!(
                strays,
                vec![(3, "3,\"never closed".to_string())],
                "{target}"
            );
            let kept: String = chunks.iter().map(|(t, _, _)| &t["a,b\n".len()..]).collect();
            // The stray line is blank; every later line is intact and on its own line.
            assert_eq!(kept, format!("1,2\n\n{body}"), "target {target}");
            let lines: u64 = chunks.iter().map(|c| c.2).sum();
            assert_eq!(lines, 22, "target {target}");
        }
    }

    #[test]
    fn a_quote_open_at_the_end_of_the_file_is_stray() {
        let (chunks, strays) = chunks_and_strays("a,b\n1,2\n3,\"x\n4,5", 1000);
        assert_eq!(strays, vec![(3, "3,\"x".to_string())]);
        assert_eq!(chunks[0].0, "a,b\n1,2\n\n4,5");
    }

    #[test]
    fn quoted_line_breaks_within_the_limits_and_mid_field_quotes_are_kept() {
        // Two line breaks in a quoted field (limit 3), a doubled quote, a quote inside an
        // unquoted field (text, as the csv crate reads it).
        let text = "a,b\n1,\"x\ny\nz \"\"q\"\"\"\n2,3\" inch\n4,5\n";
        let (chunks, strays) = chunks_and_strays(text, 1000);
        assert!(strays.is_empty(), "{strays:?}");
        assert_eq!(chunks[0].0, text);
        let s = scan(&text.as_bytes()[4..], SYNTAX, 1000, true);
        assert_eq!(s.end, text.len() - 4);
    }

    #[test]
    fn too_many_lines_or_bytes_in_a_quoted_field_is_stray() {
        let long_lines = "a,b\n1,\"1\n2\n3\n4\n5\"\n6,7\n";
        let (_, strays) = chunks_and_strays(long_lines, 1000);
        assert_eq!(strays, vec![(2, "1,\"1".to_string())]);
        let long_bytes = format!("a,b\n1,\"{}\"\n6,7\n", "x".repeat(300));
        let (chunks, strays) = chunks_and_strays(&long_bytes, 1000);
        assert_eq!(strays.len(), 1);
        assert_eq!(chunks[0].0, "a,b\n\n6,7\n");
    }
}
