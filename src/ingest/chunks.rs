//! Splits a delimited export into chunks of whole records, so that a file of any size is read
//! with memory bounded by the chunk. A line break ends a record only outside quotes; quotes are
//! balanced in RFC 4180 text (an escaped quote is doubled), so a line break after an even number
//! of quote characters since the chunk began is a record boundary.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Whole records of a file, preceded by the file's header line.
pub struct Chunk {
    /// The header line, then the records.
    pub text: Vec<u8>,
    /// Where the records start in `text`.
    pub records_start: usize,
    /// The source line of the first record (the header is line 1).
    pub first_line: u64,
    /// Lines the records span in the source (blank lines included).
    pub lines: u64,
}

/// Reads a file chunk by chunk; see the module documentation.
pub struct RecordChunks {
    file: File,
    path: PathBuf,
    quote: u8,
    target: usize,
    header: Vec<u8>,
    pending: Vec<u8>,
    next_line: u64,
    eof: bool,
}

/// Offsets just past each record boundary in `text`, which starts outside quotes.
fn boundaries(text: &[u8], quote: u8) -> impl Iterator<Item = usize> + '_ {
    let mut inside = false;
    memchr::memchr2_iter(quote, b'\n', text).filter_map(move |i| {
        if text[i] == quote {
            inside = !inside;
            None
        } else {
            (!inside).then_some(i + 1)
        }
    })
}

impl RecordChunks {
    /// Opens `path` and reads its header line; chunks hold about `target` bytes of records.
    pub fn open(path: &Path, quote: u8, target: usize) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
        let mut chunks = RecordChunks {
            file,
            path: path.to_path_buf(),
            quote,
            target: target.max(1),
            header: Vec::new(),
            pending: Vec::new(),
            next_line: 1,
            eof: false,
        };
        // The header is the first record: read until its end.
        let mut buf = Vec::new();
        let end = loop {
            let scanned = buf.len();
            chunks.fill(&mut buf, scanned + (64 << 10))?;
            if let Some(end) = boundaries(&buf, quote).next() {
                break end;
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
        let end = loop {
            self.fill(&mut records, target)?;
            if self.eof && records.len() <= target {
                break records.len();
            }
            match boundaries(&records[..target.min(records.len())], self.quote).last() {
                Some(end) => break end,
                // One record longer than the target: read on until it ends.
                None => target = target.saturating_mul(2),
            }
        };
        self.pending = records.split_off(end);
        if records.is_empty() {
            return Ok(None);
        }
        let newlines = count_newlines(&records);
        let lines = newlines + u64::from(!records.ends_with(b"\n"));
        let first_line = self.next_line;
        self.next_line += newlines;
        let mut text = Vec::with_capacity(self.header.len() + records.len());
        text.extend_from_slice(&self.header);
        text.extend_from_slice(&records);
        Ok(Some(Chunk {
            text,
            records_start: self.header.len(),
            first_line,
            lines,
        }))
    }
}

fn count_newlines(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks_of(text: &str, target: usize) -> Vec<(String, u64, u64)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let mut r = RecordChunks::open(&path, b'"', target).unwrap();
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk().unwrap() {
            out.push((String::from_utf8(c.text).unwrap(), c.first_line, c.lines));
        }
        out
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
}
