//! Input preparation: a source path may be a file, a folder or a glob of daily files; each file
//! may be gzip- or zstd-compressed and in UTF-8 (with or without BOM), GBK or GB18030. Anything
//! that is not plain UTF-8 is decompressed and transcoded into a temporary UTF-8 copy under the
//! warehouse's `.staging/` folder, which the reader then reads like any export.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use crate::domain::input::Encoding;

/// The files a source path names, sorted: the file itself, every regular file in a folder
/// (hidden ones skipped), or every match of a glob pattern.
pub fn expand(path: &Path) -> Result<Vec<PathBuf>> {
    let text = path.to_string_lossy();
    let mut files: Vec<PathBuf> = if text.contains(['*', '?', '[']) {
        glob::glob(&text)
            .map_err(|e| Error::Input {
                path: path.to_path_buf(),
                message: format!("invalid glob pattern: {e}"),
            })?
            .filter_map(|m| m.ok())
            .filter(|p| p.is_file())
            .collect()
    } else if path.is_dir() {
        fs::read_dir(path)
            .map_err(|e| Error::io("listing", path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect()
    } else {
        if !path.exists() {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: "no such file".into(),
            });
        }
        vec![path.to_path_buf()]
    };
    files.sort();
    if files.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "matches no file".into(),
        });
    }
    Ok(files)
}

/// Compression recognised from a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

fn sniff(path: &Path) -> Result<Compression> {
    let mut magic = [0u8; 4];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(|e| Error::io("reading", path, e))?;
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
        _ => Compression::None,
    })
}

/// A file ready for the CSV reader; a staged copy is removed when this is dropped.
pub struct Prepared {
    pub path: PathBuf,
    staged: bool,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if self.staged {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// `file` as plain UTF-8 text, staging a copy under `staging` when needed.
pub fn prepare(file: &Path, encoding: Encoding, staging: &Path) -> Result<Prepared> {
    let compression = sniff(file)?;
    // Parquet is binary with its own compression: never transcoded.
    let parquet = compression == Compression::None && crate::ingest::read::is_parquet(file)?;
    if parquet || (compression == Compression::None && encoding == Encoding::Utf8) {
        return Ok(Prepared {
            path: file.to_path_buf(),
            staged: false,
        });
    }
    fs::create_dir_all(staging).map_err(|e| Error::io("creating directory", staging, e))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let target = staging.join(format!("{}-{name}.csv", std::process::id()));
    let prepared = Prepared {
        path: target.clone(),
        staged: true,
    };
    let input = BufReader::new(File::open(file).map_err(|e| Error::io("opening", file, e))?);
    let mut reader: Box<dyn Read> = match compression {
        Compression::None => Box::new(input),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(input)
                .map_err(|e| Error::io("decompressing", file, e))?,
        ),
    };
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| Error::Input {
        path: file.to_path_buf(),
        message: format!("cannot decompress ({compression:?}): {e}; the file may be truncated"),
    })?;
    let text: std::borrow::Cow<[u8]> = match encoding {
        Encoding::Utf8 => bytes.as_slice().into(),
        Encoding::Gbk | Encoding::Gb18030 => {
            // GB18030 is a superset of GBK; decoding with it accepts both.
            let (text, _, had_errors) = encoding_rs::GB18030.decode(&bytes);
            if had_errors {
                return Err(Error::Input {
                    path: file.to_path_buf(),
                    message:
                        "contains bytes that are not valid GBK/GB18030 text; check source.encoding"
                            .into(),
                });
            }
            text.into_owned().into_bytes().into()
        }
    };
    let mut out =
        BufWriter::new(File::create(&target).map_err(|e| Error::io("creating", &target, e))?);
    out.write_all(&text)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("writing", &target, e))?;
    Ok(prepared)
}

/// Runs `read` on the prepared (decompressed, UTF-8) copy of `file`; errors name `file`.
pub fn read_prepared<T>(
    file: &Path,
    encoding: Encoding,
    staging: &Path,
    read: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    let prepared = prepare(file, encoding, staging)?;
    read(&prepared.path).map_err(|e| match e {
        Error::Input { message, .. } => Error::Input {
            path: file.to_path_buf(),
            message,
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_zstd_and_gbk_become_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let text = "customer_id,name\nC1,华信贸易有限公司\n";
        let gz = dir.path().join("a.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(
            File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        let zst = dir.path().join("b.csv.zst");
        fs::write(&zst, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        let gbk = dir.path().join("c.csv");
        fs::write(&gbk, encoding_rs::GBK.encode(text).0).unwrap();
        let staging = dir.path().join(".staging");
        for (file, enc) in [
            (&gz, Encoding::Utf8),
            (&zst, Encoding::Utf8),
            (&gbk, Encoding::Gbk),
        ] {
            let p = prepare(file, enc, &staging).unwrap();
            assert_eq!(
                fs::read_to_string(&p.path).unwrap(),
                text,
                "{}",
                file.display()
            );
        }
        assert_eq!(
            fs::read_dir(&staging).unwrap().count(),
            0,
            "staged copies are removed"
        );
        // A truncated gzip is a clear error, not garbage.
        let bytes = fs::read(&gz).unwrap();
        fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
        let err = prepare(&gz, Encoding::Utf8, &staging)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("may be truncated"), "{err}");
    }

    #[test]
    fn folders_and_globs_expand_sorted() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["2024-01-02.csv", "2024-01-01.csv", ".hidden", "notes.txt"] {
            fs::write(dir.path().join(n), "x").unwrap();
        }
        let all = expand(dir.path()).unwrap();
        let names: Vec<String> = all
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["2024-01-01.csv", "2024-01-02.csv", "notes.txt"]);
        let csv = expand(&dir.path().join("*.csv")).unwrap();
        assert_eq!(csv.len(), 2);
        assert!(
            expand(&dir.path().join("*.parquet"))
                .unwrap_err()
                .to_string()
                .contains("matches no file")
        );
    }
}
