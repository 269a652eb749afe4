//! Splits a delimited export into chunks of whole records, so that a file of any size is read
//! with memory bounded by the chunk. A line break ends a record only outside quotes. Quotes are
//! read as the record reader (the csv crate) reads them: a quote opens a quoted field only at the
//! start of a field, a doubled quote inside one is a literal quote, and a quote anywhere else is
//! text.
//!
//! Records are found by [`crate::ingest::read::records::scan`], which also sets stray quotes aside
//! (blanked in the chunk, so line numbers stay as in the file).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ingest::read::records::{Stray, Syntax, count_newlines, line_end, scan, set_aside};

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
    pub strays: Vec<Stray>,
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
            set_aside(&records, &found.strays, first_line)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::read::records::QuoteLimits;

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
                strays.push((m.line, m.text.clone()));
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
