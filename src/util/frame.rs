//! Small, typed accessors for polars frames, so the rest of the crate reads plain vectors and
//! polars' changing API stays in few places.

use polars::prelude::*;

use crate::error::{EngineContext, Result};

/// A column as `f64` values (nulls kept).
pub fn f64_values(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let c = df
        .column(name)
        .and_then(|c| c.cast(&DataType::Float64))
        .engine(|| format!("reading column {name} as numbers"))?;
    Ok(c.f64()
        .engine(|| format!("reading column {name}"))?
        .iter()
        .collect())
}

/// A column as strings (nulls become empty strings).
pub fn str_values(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    Ok(opt_str_values(df, name)?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect())
}

/// A column as shared strings (nulls become empty strings), each text copied once, straight
/// from the frame: the customer ids of a feature table or of a cutoff's labels (millions of
/// them at 10^8 rows, where a `Vec<String>` in between was a second transient copy).
pub fn shared_str_values(df: &DataFrame, name: &str) -> Result<Vec<std::sync::Arc<str>>> {
    each_text(df, name, |v| std::sync::Arc::from(v.unwrap_or_default()))
}

/// `f` of each value of column `name` read as text (None for nulls).
fn each_text<T>(df: &DataFrame, name: &str, f: impl Fn(Option<&str>) -> T) -> Result<Vec<T>> {
    let c = df
        .column(name)
        .and_then(|c| c.cast(&DataType::String))
        .engine(|| format!("reading column {name} as text"))?;
    Ok(c.str()
        .engine(|| format!("reading column {name}"))?
        .iter()
        .map(f)
        .collect())
}

/// A column as optional strings (nulls kept).
pub fn opt_str_values(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    each_text(df, name, |v| v.map(str::to_string))
}

/// The position of each id in `ids` (the last one when an id repeats), for joining a query's
/// rows back to a feature table's customers.
pub fn positions(ids: &[String]) -> std::collections::HashMap<&str, usize> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect()
}
