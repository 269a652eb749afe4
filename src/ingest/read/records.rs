//! Where the records of delimited text begin and end. Quotes are read as the record reader (the
//! csv crate) reads them: a quote opens a quoted field only at the start of a field, a doubled
//! quote inside one is a literal quote, and a quote anywhere else is text.
//!
//! An unclosed quote would otherwise make the rest of the file one field. So a quoted field that
//! runs past [`QuoteLimits`] (lines or bytes), or to the end of the file, is taken for a stray
//! quote: the first line of its record is set aside as one malformed record, and reading resumes
//! on the next line, where a second stray quote is found the same way.

use std::ops::Range;

pub use crate::domain::input::{QuoteLimits, Syntax};

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
///
/// Long by design: one state machine over the bytes (quotes, line ends, stray-quote limits).
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
pub fn line_end(text: &[u8], from: usize) -> usize {
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

/// A stray-quote record set aside: its source line and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    pub line: u64,
    pub text: String,
}

/// `text` with each stray range reduced to its line breaks (so later lines keep their
/// numbers), and the strays numbered from `first_line`, the line `text` starts on. `strays` are
/// in order and do not overlap.
pub fn set_aside(text: &[u8], strays: &[Range<usize>], first_line: u64) -> (Vec<u8>, Vec<Stray>) {
    let mut kept = Vec::with_capacity(text.len());
    let mut malformed = Vec::with_capacity(strays.len());
    let (mut line, mut at) = (first_line, 0usize);
    for r in strays {
        kept.extend_from_slice(&text[at..r.start]);
        line += count_newlines(&text[at..r.start]);
        let stray = &text[r.clone()];
        malformed.push(Stray {
            line,
            text: String::from_utf8_lossy(stray)
                .trim_end_matches(['\n', '\r'])
                .to_string(),
        });
        let breaks = count_newlines(stray);
        kept.extend(std::iter::repeat_n(b'\n', breaks as usize));
        line += breaks;
        at = r.end;
    }
    kept.extend_from_slice(&text[at..]);
    (kept, malformed)
}

/// Line breaks in `text`.
pub fn count_newlines(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}
