//! CSV output. Lists carry a UTF-8 byte-order mark so Excel opens names and sentences correctly.

use std::path::Path;

use polars::prelude::*;

use crate::atomic_file;
use crate::error::{EngineContext, Result};

/// Floats are written in their shortest exact form, so round them first.
/// Writes `df` as CSV to `path` atomically, with a BOM when `bom` is set.
pub fn write_frame(path: &Path, df: &mut DataFrame, bom: bool) -> Result<()> {
    atomic_file::write_with(path, |out| {
        CsvWriter::new(out)
            .include_bom(bom)
            .include_header(true)
            .finish(df)
            .engine(|| format!("writing {}", path.display()))
    })
}
