//! JSON lines: one object per line, values read as text.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use polars::prelude::*;

use super::raw::{LINE, Malformed, RawRead};
use crate::domain::input::Mapped;
use crate::error::{EngineContext, Error, Result};

/// The keys of the first `limit` JSON objects of a JSON lines file, in order of appearance.
pub(super) fn json_keys(path: &Path, limit: usize) -> Result<Vec<String>> {
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
pub(super) fn for_each_json_line(
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

pub(super) fn json_kind(v: &serde_json::Value) -> &'static str {
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
///
/// Long by design: one pass over the lines that collects values, keys and malformed lines
/// together.
pub(super) fn read_jsonl_raw(path: &Path, section: &str, wanted: &Mapped) -> Result<RawRead> {
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
        let missing = wanted.missing_from(&seen, section);
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
