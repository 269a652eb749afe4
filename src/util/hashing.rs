//! SHA-256 of files and bytes as lower-case hex: the identity of exports, parts, pipeline
//! sections and models.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Calls `each` on successive non-empty chunks of a file (1 MB at a time).
pub fn for_each_chunk(path: &Path, mut each: impl FnMut(&[u8])) -> Result<()> {
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("reading", path, e))?;
        if n == 0 {
            return Ok(());
        }
        each(&buf[..n]);
    }
}

/// SHA-256 and size of a file.
pub fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    for_each_chunk(path, |chunk| {
        total += chunk.len() as u64;
        hasher.update(chunk);
    })?;
    Ok((hex(&hasher.finalize()), total))
}
