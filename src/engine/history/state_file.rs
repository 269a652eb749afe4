//! The history state's file: writing it whole and reading it back, or refusing it with what
//! was found (see `state.rs` for when a saved state is used).
//!
//! Layout (little-endian): `MAGIC`, the body (each id's byte length as u32, the ids' bytes,
//! `starts` as u64, `days` as i32, `amounts` as f64, `quantities` as f64 when held), the header
//! as JSON, the header's byte length as u64, `MAGIC`. The header carries the body's XXH3-64.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use crate::domain::table::CustomerId;
use crate::error::{Error, Result};

use super::build::History;
use super::state::Covered;

const MAGIC: &[u8; 8] = b"CFHIST\x00\x01";
/// Bumped whenever the layout or the meaning of a field changes: another format is rebuilt.
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: u32,
    covers: Vec<Covered>,
    customers: u64,
    rows: u64,
    id_bytes: u64,
    with_quantity: bool,
    body_xxh3: u64,
}

/// Writes through a hasher: the body's checksum is computed as it is written.
struct Hashed<W: Write> {
    out: W,
    hash: Xxh3,
    buf: Vec<u8>,
}

impl<W: Write> Hashed<W> {
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.hash.update(b);
        self.out.write_all(b)
    }

    /// Values as little-endian bytes, a block at a time.
    fn values<T: Copy, const N: usize>(
        &mut self,
        v: &[T],
        le: impl Fn(T) -> [u8; N],
    ) -> std::io::Result<()> {
        for block in v.chunks(8192) {
            self.buf.clear();
            for &x in block {
                self.buf.extend_from_slice(&le(x));
            }
            self.hash.update(&self.buf);
            self.out.write_all(&self.buf)?;
        }
        Ok(())
    }
}

/// Saves `h`, built from the batches `covers` names, as `path` (whole, by rename).
pub fn save(path: &Path, h: &History, covers: &[Covered]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))?;
    crate::util::atomic_file::sweep_leftovers(path);
    let tmp = crate::util::atomic_file::temp_path(path);
    let result = write_to(&tmp, h, covers);
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    crate::util::atomic_file::commit(&tmp, path)
}

fn write_to(tmp: &Path, h: &History, covers: &[Covered]) -> Result<()> {
    let io = |e| Error::io("writing", tmp, e);
    let file = File::create(tmp).map_err(|e| Error::io("creating", tmp, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(MAGIC).map_err(io)?;
    let mut w = Hashed {
        out,
        hash: Xxh3::new(),
        buf: Vec::with_capacity(8192 * 8),
    };
    let lens: Vec<u32> = h.ids.iter().map(|id| id.len() as u32).collect();
    w.values(&lens, u32::to_le_bytes).map_err(io)?;
    let mut id_bytes = 0u64;
    for id in &h.ids {
        w.bytes(id.as_bytes()).map_err(io)?;
        id_bytes += id.len() as u64;
    }
    w.values(&h.starts, |s| (s as u64).to_le_bytes())
        .map_err(io)?;
    w.values(&h.days, i32::to_le_bytes).map_err(io)?;
    w.values(&h.amounts, f64::to_le_bytes).map_err(io)?;
    if let Some(q) = &h.quantities {
        w.values(q, f64::to_le_bytes).map_err(io)?;
    }
    let header = Header {
        format: FORMAT,
        covers: covers.to_vec(),
        customers: h.ids.len() as u64,
        rows: h.days.len() as u64,
        id_bytes,
        with_quantity: h.quantities.is_some(),
        body_xxh3: w.hash.digest(),
    };
    let json = serde_json::to_vec(&header)
        .map_err(|e| Error::Artifact(format!("cannot serialise the history state: {e}")))?;
    let mut out = w.out;
    out.write_all(&json).map_err(io)?;
    out.write_all(&(json.len() as u64).to_le_bytes())
        .map_err(io)?;
    out.write_all(MAGIC).map_err(io)?;
    out.flush().map_err(io)?;
    Ok(())
}

/// A saved state: the batches it holds and the history.
pub struct Saved {
    pub covers: Vec<Covered>,
    pub history: History,
}

/// Reads the state at `path`: `Ok(None)` when there is none, `Err` when it cannot be trusted
/// (damaged, truncated, another format), with what was found.
pub fn load(path: &Path) -> Result<Option<Saved>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading", path, e)),
    };
    decode(&bytes)
        .map(Some)
        .map_err(|why| Error::Data(format!("history state {}: {why}", path.display())))
}

fn decode(bytes: &[u8]) -> std::result::Result<Saved, String> {
    let n = bytes.len();
    if n < 24 || &bytes[..8] != MAGIC || &bytes[n - 8..] != MAGIC {
        return Err(format!(
            "expected a churnflow history state (format {FORMAT}), found {n} bytes without its \
             markers"
        ));
    }
    let header_len = u64::from_le_bytes(bytes[n - 16..n - 8].try_into().expect("8 bytes")) as usize;
    let header_start = (n - 16)
        .checked_sub(header_len)
        .filter(|&s| s >= 8)
        .ok_or_else(|| format!("header of {header_len} bytes does not fit in {n} bytes"))?;
    let header: Header = serde_json::from_slice(&bytes[header_start..n - 16])
        .map_err(|e| format!("unreadable header: {e}"))?;
    if header.format != FORMAT {
        return Err(format!(
            "format {} (this churnflow reads format {FORMAT})",
            header.format
        ));
    }
    let body = &bytes[8..header_start];
    let (c, r) = (header.customers as usize, header.rows as usize);
    // The header is not under the checksum: sizes from a damaged one must not overflow.
    let row_bytes = if header.with_quantity { 20 } else { 12 };
    let want = (c as u128) * 12 + 8 + u128::from(header.id_bytes) + (r as u128) * row_bytes;
    if body.len() as u128 != want {
        return Err(format!(
            "expected a body of {want} bytes for {c} customers and {r} rows, found {}",
            body.len()
        ));
    }
    if xxhash_rust::xxh3::xxh3_64(body) != header.body_xxh3 {
        return Err("checksum mismatch (the file is damaged)".into());
    }
    let mut at = 0;
    let mut take = |len: usize| {
        let s = &body[at..at + len];
        at += len;
        s
    };
    let lens: Vec<u32> = le_values(take(c * 4), u32::from_le_bytes);
    let id_bytes = take(header.id_bytes as usize);
    let mut ids = Vec::with_capacity(c);
    let mut pos = 0;
    for len in lens {
        let s = id_bytes
            .get(pos..pos + len as usize)
            .ok_or("customer ids longer than their bytes")?;
        let s = std::str::from_utf8(s).map_err(|_| "a customer id is not UTF-8")?;
        ids.push(CustomerId::from(s));
        pos += len as usize;
    }
    let starts: Vec<usize> = le_values(take((c + 1) * 8), |b: [u8; 8]| {
        u64::from_le_bytes(b) as usize
    });
    let days: Vec<i32> = le_values(take(r * 4), i32::from_le_bytes);
    let amounts: Vec<f64> = le_values(take(r * 8), f64::from_le_bytes);
    let quantities = header
        .with_quantity
        .then(|| le_values(take(r * 8), f64::from_le_bytes));
    // The checksum vouches for the bytes; these vouch for the structure the kernels index by.
    let ordered = ids.windows(2).all(|w| w[0] < w[1]);
    let starts_ok = starts.first() == Some(&0)
        && starts.last() == Some(&r)
        && starts.windows(2).all(|w| w[0] < w[1]);
    if !ordered || !starts_ok {
        return Err("customers out of order or rows out of range".into());
    }
    Ok(Saved {
        covers: header.covers,
        history: History {
            ids,
            starts,
            days,
            amounts,
            quantities,
        },
    })
}

fn le_values<T, const N: usize>(b: &[u8], from: impl Fn([u8; N]) -> T) -> Vec<T> {
    b.chunks_exact(N)
        .map(|c| from(c.try_into().expect("N bytes")))
        .collect()
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;
    use crate::engine::history::state::tests::covers;
    use crate::engine::history::state::{FILE, path_in};

    fn history(with_quantity: bool) -> History {
        let df = df!(
            "customer_id" => ["b", "a", "b", "ä", "a"],
            "day" => [3, 1, 2, 7, 1],
            "amount" => [1.5, -2.0, 3.25, 4.0, 0.1],
            "quantity" => [Some(1.0), None, Some(2.0), Some(3.0), None],
        )
        .unwrap();
        History::build(&[df.lazy()], with_quantity).unwrap()
    }

    #[test]
    fn a_saved_history_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        assert!(load(&path).unwrap().is_none(), "none yet");
        for q in [false, true] {
            let h = history(q);
            save(&path, &h, &covers()).unwrap();
            let back = load(&path).unwrap().unwrap();
            assert_eq!(back.covers, covers());
            assert!(
                super::super::merge::tests::same(&h, &back.history),
                "quantity {q}"
            );
        }
        let empty = History::build(&[], false).unwrap();
        save(&path, &empty, &[]).unwrap();
        assert!(load(&path).unwrap().unwrap().history.ids.is_empty());
    }

    #[test]
    fn a_damaged_truncated_or_foreign_file_is_refused_with_what_was_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        save(&path, &history(true), &covers()).unwrap();
        let good = fs::read(&path).unwrap();
        let refused = |bytes: &[u8]| {
            fs::write(&path, bytes).unwrap();
            match load(&path) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("accepted"),
            }
        };
        let mut flipped = good.clone();
        flipped[20] ^= 1;
        assert!(refused(&flipped).contains("checksum mismatch"));
        assert!(refused(&good[..good.len() - 3]).contains("without its markers"));
        assert!(refused(b"").contains("found 0 bytes"));
        let at = good
            .windows(10)
            .position(|w| w == b"\"format\":1")
            .expect("the header names its format");
        let mut other = good.clone();
        other[at + 9] = b'9';
        assert!(refused(&other).contains("format 9"));
    }

    #[test]
    fn leftovers_of_gone_writers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        // pid 4194304 is above Linux's pid_max: no process has it.
        let gone = dir.path().join(format!(".{FILE}.tmp-4194304"));
        let mine = dir
            .path()
            .join(format!(".{FILE}.tmp-{}", std::process::id()));
        fs::write(&gone, "half").unwrap();
        save(&path, &history(false), &covers()).unwrap();
        assert_eq!(gone.exists(), !cfg!(target_os = "linux"));
        assert!(
            !mine.exists(),
            "the writer's own temporary file became the state"
        );
    }
}
