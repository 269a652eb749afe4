//! Reads an export into a frame of raw text columns, so that every value can be validated (and
//! quarantined verbatim) instead of failing the whole file on the first bad cell.

use std::fs::File;
use std::io::{BufRead, BufReader};

use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{EngineContext, Error, Result};
use crate::ingest::records::{QuoteLimits, Stray};

/// Name of the column holding each record's line number in the source file (header = line 1).
pub const LINE: &str = "__line";

/// A record that could not even be split into the header's fields.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub line: u64,
    pub reason: String,
    /// The record's fields as far as they could be read (lossy UTF-8).
    pub fields: Vec<String>,
}

/// An export read as text.
pub struct RawRead {
    /// Mapped columns as text plus [`LINE`].
    pub frame: DataFrame,
    /// Records rejected before parsing (wrong field count, invalid UTF-8).
    pub malformed: Vec<Malformed>,
    /// The header, for placing malformed fields under their columns.
    pub header: Vec<String>,
}

pub use crate::domain::input::{Dialect, Format};

/// Column names of a file without a header: 1-based positions.
fn positional_names(n: usize) -> Vec<String> {
    (1..=n).map(|i| i.to_string()).collect()
}

/// A reader of raw records (every line, the header too; any field count) in `dialect`.
fn record_reader(path: &Path, dialect: Dialect) -> Result<csv::Reader<File>> {
    csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Column names of a header record: BOM and surrounding blanks removed.
fn header_names(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string()
        })
        .collect()
}

/// Reads the header record and returns the column names (BOM and surrounding blanks removed),
/// or positional names when the dialect has no header.
pub fn read_header(path: &Path, dialect: Dialect) -> Result<Vec<String>> {
    let mut rdr = record_reader(path, dialect)?;
    let mut record = csv::ByteRecord::new();
    let found = rdr.read_byte_record(&mut record).unwrap_or(false);
    if !found || (record.len() == 1 && record[0].iter().all(|b| b.is_ascii_whitespace())) {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: if dialect.has_header {
                "the file is empty: expected a header line naming the columns".into()
            } else {
                "the file is empty".into()
            },
        });
    }
    if !dialect.has_header {
        return Ok(positional_names(record.len()));
    }
    Ok(header_names(&record))
}

/// Reads the header of `path` (or, for JSON lines, the keys of its first objects) and fails,
/// naming file, keys and columns, when a mapped column is missing. Returns the header.
pub fn check_header(
    path: &Path,
    format: Format,
    section: &str,
    wanted: &[(&str, &String)],
) -> Result<Vec<String>> {
    if is_parquet(path)? {
        return parquet_columns(path, section, wanted);
    }
    let header = match format {
        Format::Csv(d) => read_header(path, d)?,
        Format::JsonLines => json_keys(path, 1000)?,
    };
    // A mapped column named twice is ambiguous: which one holds the value?
    for (_, name) in wanted {
        let at: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h == name)
            .map(|(i, _)| i + 1)
            .collect();
        if at.len() > 1 {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: format!(
                    "the header names column {name:?} {} times (columns {}); rename all but one \
                     in the export",
                    at.len(),
                    at.iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    let missing = missing_columns(&header, section, wanted);
    if !missing.is_empty() {
        let hint = match format {
            Format::Csv(d) if !d.has_header => format!(
                "the file has {} columns, named by position \"1\"..\"{}\" because \
                 {section}.has_header = false",
                header.len(),
                header.len()
            ),
            Format::Csv(_) => format!(
                "the header has {header:?}. Check {section}.columns and {section}.delimiter in \
                 the pipeline file"
            ),
            Format::JsonLines => format!(
                "the objects have the keys {header:?}. Check {section}.columns in the pipeline \
                 file"
            ),
        };
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: format!("missing column(s) {}; {hint}", missing.join(", ")),
        });
    }
    Ok(header)
}

fn polars_read(
    path: &Path,
    dialect: Dialect,
    header: &[String],
    wanted: &[(&str, &String)],
    line_column: bool,
) -> PolarsResult<DataFrame> {
    let file = File::open(path)?;
    let first_line = if dialect.has_header { 2 } else { 1 };
    polars_read_from(file, dialect, header, wanted, line_column, first_line)
}

/// A column past the header's, filled only by records with too many fields.
const EXTRA: &str = "__extra_field";

/// Reads the mapped columns as text; without `line_column` the records are numbered from
/// `first_line`, one line each.
fn polars_read_from<R: polars::io::mmap::MmapBytesReader>(
    source: R,
    dialect: Dialect,
    header: &[String],
    wanted: &[(&str, &String)],
    line_column: bool,
    first_line: i64,
) -> PolarsResult<DataFrame> {
    let mut names: Vec<PlSmallStr> = wanted
        .iter()
        .map(|(_, n)| PlSmallStr::from(n.as_str()))
        .collect();
    names.dedup();
    let mut fields: Vec<Field> = header
        .iter()
        .map(|h| Field::new(h.as_str().into(), DataType::String))
        .collect();
    if line_column {
        fields.push(Field::new(LINE.into(), DataType::Int64));
        names.push(LINE.into());
    }
    // polars skips the fields of a record beyond the last projected column, so a record with
    // too many fields would pass unnoticed: one more column catches them.
    fields.push(Field::new(EXTRA.into(), DataType::String));
    names.push(EXTRA.into());
    let df = CsvReadOptions::default()
        .with_has_header(dialect.has_header)
        .with_schema(Some(Arc::new(Schema::from_iter(fields))))
        .with_columns(Some(names.into()))
        .with_row_index(Some(RowIndex {
            name: "__row".into(),
            offset: 0,
        }))
        .map_parse_options(|o| {
            o.with_separator(dialect.delimiter)
                .with_quote_char(Some(dialect.quote))
        })
        .into_reader_with_file_handle(source)
        .finish()?;
    let extra = df.column(EXTRA)?;
    if extra.null_count() < extra.len() {
        polars_bail!(ComputeError: "a record has more fields than the header");
    }
    let df = df.drop(EXTRA)?;
    if line_column {
        return df.drop("__row");
    }
    df.lazy()
        .with_column((col("__row").cast(DataType::Int64) + lit(first_line)).alias(LINE))
        .drop(cols(["__row"]))
        .collect()
}

/// Reads one chunk of whole records (see [`crate::ingest::chunks`]) like [`read_raw`], with
/// lines as in the source file. `header` is the file's checked header.
pub fn read_chunk(
    chunk: crate::ingest::chunks::Chunk,
    dialect: Dialect,
    header: &[String],
    wanted: &[(&str, &String)],
    staging: &Path,
    shown: &Path,
) -> Result<RawRead> {
    let first_line = chunk.first_line as i64;
    let strays = as_malformed(chunk.strays, dialect.limits);
    // As for a whole file: the direct read is right only when every record is one line (polars
    // reads a chunk of blank lines as a record of nulls, so those take the record path too).
    let records = &chunk.text[chunk.records_start..];
    let blank = records.starts_with(b"\n")
        || records.starts_with(b"\r\n")
        || memchr::memmem::find(records, b"\n\n").is_some()
        || memchr::memmem::find(records, b"\n\r\n").is_some();
    let direct = if blank {
        None
    } else {
        polars_read_from(
            std::io::Cursor::new(&chunk.text),
            dialect,
            header,
            wanted,
            false,
            first_line,
        )
        .ok()
    };
    if let Some(frame) = direct.filter(|f| f.height() as u64 == chunk.lines) {
        return Ok(RawRead {
            frame,
            malformed: strays,
            header: header.to_vec(),
        });
    }
    std::fs::create_dir_all(staging).map_err(|e| Error::io("creating directory", staging, e))?;
    let staged = staging.join(format!("{}-chunk-{first_line}.csv", std::process::id()));
    let result = std::fs::write(&staged, &chunk.text)
        .map_err(|e| Error::io("writing", &staged, e))
        .and_then(|()| read_records(&staged, dialect, wanted, staging, shown));
    let _ = std::fs::remove_file(&staged);
    let mut read = result?;
    // The staged copy has the header on line 1 and the chunk's records from line 2.
    let shift = first_line - 2;
    read.frame = read
        .frame
        .lazy()
        .with_column(col(LINE) + lit(shift))
        .collect()
        .engine(|| "numbering the lines of a chunk".into())?;
    for m in &mut read.malformed {
        m.line = (m.line as i64 + shift) as u64;
    }
    read.malformed.extend(strays);
    read.malformed.sort_by_key(|m| m.line);
    Ok(read)
}

/// Splits `path` record by record (quotes and embedded newlines understood) into a clean copy
/// with a header and each record's line number, and the records that cannot be used.
///
/// A record that spans several lines and has the wrong number of fields is taken for a stray
/// quote that swallowed the lines after it (the opening quote found its "closing" quote on a
/// later line): its first line is set aside and reading resumes on the next line, so the lines
/// it swallowed are read as the records they are.
fn split_records(
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
                reason: crate::ingest::records::stray_reason(dialect.limits),
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

/// Reads the mapped columns of an export as text, with each record's line in [`LINE`].
/// `wanted` pairs a pipeline key (for messages) with the export column. Parquet is recognised by
/// its content whatever `format` says. Fails with the missing column names when a mapped column
/// is absent.
pub fn read_raw(
    path: &Path,
    format: Format,
    section: &str,
    wanted: &[(&str, &String)],
    staging: &Path,
) -> Result<RawRead> {
    if is_parquet(path)? {
        return read_parquet_raw(path, section, wanted);
    }
    match format {
        Format::Csv(dialect) => read_csv_raw(path, dialect, section, wanted, staging),
        Format::JsonLines => read_jsonl_raw(path, section, wanted),
    }
}

/// Reads an export piece by piece, calling `each` on the pieces in file order, so that memory is
/// bounded by `chunk_bytes` of text rather than by the file. A CSV file with a header is read in
/// chunks of whole records; JSON lines, Parquet and header-less CSV are read whole, as one piece.
pub fn for_each_raw(
    path: &Path,
    format: Format,
    section: &str,
    wanted: &[(&str, &String)],
    staging: &Path,
    chunk_bytes: usize,
    mut each: impl FnMut(RawRead) -> Result<()>,
) -> Result<()> {
    match format {
        Format::Csv(dialect) if dialect.has_header && !is_parquet(path)? => {
            let header = check_header(path, format, section, wanted)?;
            let mut chunks =
                crate::ingest::chunks::RecordChunks::open(path, dialect.syntax(), chunk_bytes)?;
            while let Some(chunk) = chunks.next_chunk()? {
                each(read_chunk(chunk, dialect, &header, wanted, staging, path)?)?;
            }
            Ok(())
        }
        _ => each(read_raw(path, format, section, wanted, staging)?),
    }
}

/// A well-formed CSV file is read directly by polars; when polars cannot parse it, the file is
/// split record by record so that malformed records are quarantined instead of failing the file.
fn read_csv_raw(
    path: &Path,
    dialect: Dialect,
    section: &str,
    wanted: &[(&str, &String)],
    staging: &Path,
) -> Result<RawRead> {
    let header = check_header(path, Format::Csv(dialect), section, wanted)?;
    if let Some(read) = read_with_strays_set_aside(path, dialect, wanted, staging)? {
        return Ok(read);
    }
    // Without a header polars silently drops fields beyond the first record's count, so such
    // files always take the record-level path, which rejects them.
    // The direct read numbers records by position, which is the line only when every record is
    // one line: a quoted newline or a blank line sends the file to the record-level path too.
    let direct = if dialect.has_header {
        polars_read(path, dialect, &header, wanted, false).ok()
    } else {
        None
    };
    let direct = match direct {
        Some(frame) if frame.height() as u64 + 1 == count_lines(path)? => Some(frame),
        _ => None,
    };
    if let Some(frame) = direct {
        return Ok(RawRead {
            frame,
            malformed: Vec::new(),
            header,
        });
    }
    read_records(path, dialect, wanted, staging, path)
}

/// A whole file with a stray quote (see [`crate::ingest::chunks`]): the stray records are set
/// aside, the rest is read record by record from a staged copy with their lines blanked (so the
/// lines stay the file's). None when the file has no stray quote.
fn read_with_strays_set_aside(
    path: &Path,
    dialect: Dialect,
    wanted: &[(&str, &String)],
    staging: &Path,
) -> Result<Option<RawRead>> {
    let text = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    let found = crate::ingest::records::scan(&text, dialect.syntax(), text.len(), true);
    // A stray in the header line is left to the header check.
    let strays: Vec<_> = found
        .strays
        .into_iter()
        .filter(|r| !dialect.has_header || r.start > 0)
        .collect();
    if strays.is_empty() {
        return Ok(None);
    }
    let (kept, strays) = crate::ingest::records::set_aside(&text, &strays, 1);
    drop(text);
    std::fs::create_dir_all(staging).map_err(|e| Error::io("creating directory", staging, e))?;
    let staged = staging.join(format!("{}-strays.csv", std::process::id()));
    std::fs::write(&staged, kept).map_err(|e| Error::io("writing", &staged, e))?;
    let result = read_records(&staged, dialect, wanted, staging, path);
    let _ = std::fs::remove_file(&staged);
    let mut read = result?;
    read.malformed.extend(as_malformed(strays, dialect.limits));
    read.malformed.sort_by_key(|m| m.line);
    Ok(Some(read))
}

/// Stray-quote records as malformed records, with the reason.
fn as_malformed(strays: Vec<Stray>, limits: QuoteLimits) -> Vec<Malformed> {
    strays
        .into_iter()
        .map(|s| Malformed {
            line: s.line,
            reason: crate::ingest::records::stray_reason(limits),
            fields: vec![s.text],
        })
        .collect()
}

/// The record-level read: exact lines, and malformed records set aside instead of failing.
/// `shown` is the file messages name (the user's file, never a staged copy).
fn read_records(
    path: &Path,
    dialect: Dialect,
    wanted: &[(&str, &String)],
    staging: &Path,
    shown: &Path,
) -> Result<RawRead> {
    std::fs::create_dir_all(staging).map_err(|e| Error::io("creating directory", staging, e))?;
    let staged = staging.join(format!("{}-records.csv", std::process::id()));
    let result = split_records(path, dialect, &staged).and_then(|(header, malformed)| {
        let staged_dialect = Dialect {
            has_header: true,
            ..dialect
        };
        let frame = polars_read(&staged, staged_dialect, &header, wanted, true)
            .engine(|| format!("reading {} as CSV", shown.display()))?;
        Ok(RawRead {
            frame,
            malformed,
            header,
        })
    });
    let _ = std::fs::remove_file(&staged);
    result
}

/// Lines in a file: newline characters, plus one when the last line has none.
fn count_lines(path: &Path) -> Result<u64> {
    let (mut lines, mut last) = (0u64, b'\n');
    crate::ingest::for_each_chunk(path, |chunk| {
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        last = chunk[chunk.len() - 1];
    })?;
    Ok(lines + u64::from(last != b'\n'))
}

/// The keys of the first `limit` JSON objects of a JSON lines file, in order of appearance.
fn json_keys(path: &Path, limit: usize) -> Result<Vec<String>> {
    let mut keys: Vec<String> = Vec::new();
    let mut seen = 0;
    for_each_json_line(path, |_, parsed| {
        if let Ok(obj) = parsed {
            for k in obj.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
            seen += 1;
        }
        seen < limit
    })?;
    if seen == 0 {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "no JSON object found: expected one object per line".into(),
        });
    }
    Ok(keys)
}

type JsonObject = serde_json::Map<String, serde_json::Value>;

/// Calls `each(line, object or (reason, raw text))` for every non-blank line until it returns
/// false.
fn for_each_json_line(
    path: &Path,
    mut each: impl FnMut(u64, std::result::Result<JsonObject, (String, String)>) -> bool,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io("reading", path, e))?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let mut bytes = buf.as_slice();
        if line == 1 {
            bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        }
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let parsed = match std::str::from_utf8(bytes) {
            Err(_) => Err((
                "not valid UTF-8 text (check source.encoding)".to_string(),
                String::from_utf8_lossy(bytes).trim_end().to_string(),
            )),
            Ok(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(obj)) => Ok(obj),
                Ok(other) => Err((
                    format!("expected a JSON object, found {}", json_kind(&other)),
                    text.trim_end().to_string(),
                )),
                Err(e) => Err((format!("not valid JSON: {e}"), text.trim_end().to_string())),
            },
        };
        if !each(line, parsed) {
            return Ok(());
        }
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Reads the mapped keys of a JSON lines export as text: strings as they are, numbers and
/// booleans as written, null or absent keys as missing. A line that is not a JSON object, or
/// whose mapped value is an array or object, is malformed; its raw text is kept under the first
/// mapped column so the quarantine loses nothing.
fn read_jsonl_raw(path: &Path, section: &str, wanted: &[(&str, &String)]) -> Result<RawRead> {
    let mut names: Vec<&String> = wanted.iter().map(|(_, n)| *n).collect();
    names.dedup();
    let mut values: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    let mut present = vec![false; names.len()];
    let mut lines: Vec<i64> = Vec::new();
    let mut malformed = Vec::new();
    let mut objects = 0usize;
    for_each_json_line(path, |line, parsed| {
        let obj = match parsed {
            Ok(obj) => obj,
            Err((reason, raw)) => {
                malformed.push(Malformed {
                    line,
                    reason,
                    fields: vec![raw],
                });
                return true;
            }
        };
        objects += 1;
        let mut row = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let v = match obj.get(name.as_str()) {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
                Some(other) => {
                    malformed.push(Malformed {
                        line,
                        reason: format!(
                            "key {name:?} holds {}, expected text, a number or null",
                            json_kind(other)
                        ),
                        fields: vec![serde_json::Value::Object(obj.clone()).to_string()],
                    });
                    return true;
                }
            };
            present[i] |= obj.contains_key(name.as_str());
            row.push(v);
        }
        for (column, v) in values.iter_mut().zip(row) {
            column.push(v);
        }
        lines.push(line as i64);
        true
    })?;
    if objects == 0 && malformed.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "the file is empty: expected one JSON object per line".into(),
        });
    }
    let header: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    if objects > 0 {
        let seen: Vec<String> = names
            .iter()
            .zip(&present)
            .filter(|(_, p)| **p)
            .map(|(n, _)| n.to_string())
            .collect();
        let missing = missing_columns(&seen, section, wanted);
        if !missing.is_empty() {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: format!(
                    "missing column(s) {}: no object in the file has that key. Check \
                     {section}.columns in the pipeline file",
                    missing.join(", ")
                ),
            });
        }
    }
    let mut columns: Vec<Column> = names
        .iter()
        .zip(values)
        .map(|(n, v)| Column::new(n.as_str().into(), v))
        .collect();
    columns.push(Column::new(LINE.into(), lines));
    let frame = DataFrame::new_infer_height(columns)
        .engine(|| format!("reading {} as JSON lines", path.display()))?;
    Ok(RawRead {
        frame,
        malformed,
        header,
    })
}

/// The mapped columns `header` lacks, each with its pipeline key.
fn missing_columns(header: &[String], section: &str, wanted: &[(&str, &String)]) -> Vec<String> {
    wanted
        .iter()
        .filter(|(_, name)| !header.contains(name))
        .map(|(key, name)| format!("{name:?} ({section}.columns.{key})"))
        .collect()
}

/// True when `path` is a Parquet file (it starts with the magic bytes `PAR1`).
pub fn is_parquet(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(|e| Error::io("reading", path, e))?;
    Ok(n == 4 && &magic == b"PAR1")
}

/// The column names of a Parquet file, from its footer; fails naming the mapped columns it lacks.
fn parquet_columns(path: &Path, section: &str, wanted: &[(&str, &String)]) -> Result<Vec<String>> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let header: Vec<String> = ParquetReader::new(file)
        .schema()
        .engine(|| format!("reading the schema of {} as Parquet", path.display()))?
        .iter_names()
        .map(|c| c.to_string())
        .collect();
    let missing = missing_columns(&header, section, wanted);
    if !missing.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "missing column(s) {}; the file has {header:?}",
                missing.join(", ")
            ),
        });
    }
    Ok(header)
}

/// Reads the mapped columns of a Parquet export as text (dates and datetimes in ISO form), so
/// the same validation applies; [`LINE`] holds the row number (1-based, Parquet has no lines).
fn read_parquet_raw(path: &Path, section: &str, wanted: &[(&str, &String)]) -> Result<RawRead> {
    let header = parquet_columns(path, section, wanted)?;
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let df = ParquetReader::new(file)
        .finish()
        .engine(|| format!("reading {} as Parquet", path.display()))?;
    let mut names: Vec<&String> = wanted.iter().map(|(_, n)| *n).collect();
    names.dedup();
    let mut exprs: Vec<Expr> = Vec::new();
    for n in &names {
        let dtype = df
            .column(n.as_str())
            .engine(|| format!("reading column {n}"))?
            .dtype()
            .clone();
        let e = match dtype {
            DataType::String => col(n.as_str()),
            DataType::Datetime(..) => col(n.as_str()).dt().strftime("%Y-%m-%d %H:%M:%S%.f"),
            DataType::Date => col(n.as_str()).dt().strftime("%Y-%m-%d"),
            d if d.is_primitive_numeric() || d == DataType::Boolean => {
                col(n.as_str()).cast(DataType::String)
            }
            other => {
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    message: format!(
                        "column {n:?} has type {other}, expected text, a number or a date"
                    ),
                });
            }
        };
        exprs.push(e.alias(n.as_str()));
    }
    exprs.push(
        (int_range(lit(0i64), len().cast(DataType::Int64), 1, DataType::Int64) + lit(1i64))
            .alias(LINE),
    );
    let frame = df
        .lazy()
        .select(exprs)
        .collect()
        .engine(|| format!("reading {}", path.display()))?;
    Ok(RawRead {
        frame,
        malformed: Vec::new(),
        header,
    })
}

/// Reads arbitrary bytes as an export (the first byte picks CSV dialect or JSON lines) and
/// panics if the reader breaks its contract: it must not panic, and every record it returns must
/// carry a line number inside the file. Shared by the fuzz target and its regression test.
#[doc(hidden)]
pub fn check_arbitrary_input(data: &[u8], dir: &Path) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let format = if selector & 0b1000 != 0 {
        Format::JsonLines
    } else {
        Format::Csv(Dialect {
            delimiter: [b',', b';', b'\t', b'|'][(selector & 0b11) as usize],
            quote: if selector & 0b100 != 0 { b'\'' } else { b'"' },
            has_header: selector & 0b1_0000 == 0,
            limits: QuoteLimits::default(),
        })
    };
    std::fs::create_dir_all(dir).expect("creating the scratch folder");
    let file = dir.join("input");
    std::fs::write(&file, body).expect("writing the input");
    let names: [String; 3] = if matches!(format, Format::Csv(d) if !d.has_header) {
        ["1".into(), "2".into(), "3".into()]
    } else {
        ["customer_id".into(), "ts".into(), "amount".into()]
    };
    let wanted = [
        ("customer_id", &names[0]),
        ("timestamp", &names[1]),
        ("amount", &names[2]),
    ];
    if let Ok(read) = read_raw(&file, format, "source", &wanted, dir) {
        let lines = body.iter().filter(|&&b| b == b'\n').count() as i64 + 1;
        let column = read.frame.column(LINE).expect("line column");
        let values = column.i64().expect("integer lines");
        for &line in values.downcast_iter().flat_map(|a| a.values_iter()) {
            assert!(
                (1..=lines).contains(&line),
                "line {line} outside 1..={lines}"
            );
        }
        for m in &read.malformed {
            assert!(
                (1..=lines as u64).contains(&m.line),
                "malformed line {} outside 1..={lines}",
                m.line
            );
        }
    }
}
