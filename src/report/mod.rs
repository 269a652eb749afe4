//! Writers for what people read: CSV lists, the Excel workbook, the HTML report and the terminal
//! summary. Every file is written whole (temporary name, then rename).

pub mod html;
pub mod latest;
pub mod lists;
pub mod sections;
pub mod summary;
pub mod svg;
pub mod xlsx;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::score::ScoreOutcome;
use crate::warehouse::parts::{write_parquet_batches, write_parquet_file};
use crate::warehouse::side::CustomerInfo;

/// Writes every output of a scoring night into `dir`; returns the paths.
pub fn write_all(
    o: &ScoreOutcome,
    master: &HashMap<String, CustomerInfo>,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut put = |name: &str| {
        let p = dir.join(name);
        written.push(p.clone());
        p
    };
    write_parquet_batches(&put("scores.parquet"), o.scored.len(), |start, len| {
        lists::scores(o, start, len)
    })?;
    let mut list = lists::at_risk(o)?;
    write_parquet_file(&put("at_risk_key_accounts.parquet"), &mut list)?;
    xlsx::write(o, &list, &put("at_risk_key_accounts.xlsx"))?;
    crate::util::atomic_file::write_csv(
        &put("winback.csv"),
        &mut lists::winback(o, master)?,
        true,
    )?;
    crate::util::atomic_file::write_csv(&put("resolved.csv"), &mut lists::resolved(o)?, true)?;
    crate::util::atomic_file::write_bytes(&put("report.html"), html::render(o).as_bytes())?;
    // The CSV list last: a scheduler watching for it finds every other file complete.
    crate::util::atomic_file::write_csv(&put("at_risk_key_accounts.csv"), &mut list, true)?;
    Ok(written)
}
