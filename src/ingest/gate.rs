//! The rejected-share gate: a file with more rejected rows than its table allows is more likely a
//! changed export than a few bad rows, so it is refused whole (exit 4) rather than loaded in
//! part. The same gate serves transactions and every side table; it runs before anything is
//! written.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::ingest::validate;

/// Fails with [`Error::Gate`] when `rejected` holds more than `max_share` of `rows_read` rows;
/// the message names the file, the key (`key`) that sets the share and the commonest reasons.
pub fn refuse_if_broken(
    source: &str,
    rows_read: u64,
    rejected: &DataFrame,
    max_share: f64,
    key: &str,
) -> Result<()> {
    let rows_rejected = rejected.height() as u64;
    if rows_read == 0 || rows_rejected as f64 <= max_share * rows_read as f64 {
        return Ok(());
    }
    let mut reasons: Vec<(String, usize)> = Vec::new();
    for r in crate::util::frame::str_values(rejected, "reason")? {
        let r = validate::reason_kind(&r);
        match reasons.iter_mut().find(|(k, _)| k == r) {
            Some((_, n)) => *n += 1,
            None => reasons.push((r.to_string(), 1)),
        }
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    let top: Vec<String> = reasons
        .iter()
        .take(3)
        .map(|(r, n)| format!("{n} x {r}"))
        .collect();
    Err(Error::Gate(format!(
        "{source}: {rows_rejected} of {rows_read} rows rejected ({:.1}%), above {key} = \
         {max_share}; nothing was loaded. Most common: {}",
        100.0 * rows_rejected as f64 / rows_read as f64,
        top.join("; ")
    )))
}
