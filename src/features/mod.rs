//! Features as of a date: specs -> one SQL text -> engine -> one row per customer, using only
//! rows on or before the as-of day.

/// Feature specs live on the domain floor; `features::spec` keeps naming them.
pub use crate::domain::feature as spec;
pub mod sql;

use std::path::Path;

use polars::prelude::*;

use crate::engine::Engine;
use crate::engine::history::needs_quantity;
use crate::error::{EngineContext, Error, Result};
use crate::frame;
use crate::ingest::warehouse::write_parquet_batches;
use spec::FeatureSpec;

/// Feature values for one as-of day, column by column.
#[derive(Debug, Clone)]
pub struct FeatureTable {
    /// The as-of day (days since 1970-01-01).
    pub as_of: i32,
    pub customer_ids: Vec<CustomerId>,
    pub names: Vec<String>,
    /// `values[j][i]`: feature `names[j]` of customer `customer_ids[i]`; NaN where the value
    /// is missing (SQL NULL). Plain `f64` is half the memory of `Option<f64>`, and training and
    /// scoring at 10^8 transactions hold millions of rows of these.
    pub values: Vec<Vec<f64>>,
}

/// A customer id, shared between the history and every feature table computed from it (16
/// bytes per row instead of a copy of the text: a full table at 10^8 transactions holds 7.8
/// million of them).
pub type CustomerId = std::sync::Arc<str>;

/// Missing values (NaN) compare equal: two tables are equal when they say the same.
impl PartialEq for FeatureTable {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: &f64, b: &f64| a == b || (a.is_nan() && b.is_nan());
        self.as_of == other.as_of
            && self.customer_ids == other.customer_ids
            && self.names == other.names
            && self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)))
    }
}

/// One feature's values, read as `Option<f64>`: NaN is missing, and so is an infinite value (a
/// trend whose earlier window sums to -1, e.g. a purchase with quantity -1, divides by zero; an
/// undefined ratio is imputed like a missing one rather than poisoning the model's inputs).
#[derive(Debug, Clone, Copy)]
pub struct Values<'a>(&'a [f64]);

impl<'a> Values<'a> {
    /// The value of row `i`, `None` if missing.
    pub fn get(&self, i: usize) -> Option<f64> {
        let v = self.0[i];
        v.is_finite().then_some(v)
    }

    /// All values in row order.
    pub fn iter(&self) -> impl Iterator<Item = Option<f64>> + 'a {
        self.0.iter().map(|&v| v.is_finite().then_some(v))
    }

    /// All values, as a vector.
    pub fn to_vec(&self) -> Vec<Option<f64>> {
        self.iter().collect()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The stored form of a value: NaN for missing.
pub fn stored(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

impl FeatureTable {
    /// The values of one feature, if computed.
    pub fn column(&self, name: &str) -> Option<Values<'_>> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|j| Values(self.values[j].as_slice()))
    }

    /// Like [`Self::column`], but an error naming what is missing.
    pub fn require(&self, name: &str) -> Result<Values<'_>> {
        self.column(name).ok_or_else(|| {
            Error::Data(format!(
                "feature {name} was not computed; computed features are {:?}",
                self.names
            ))
        })
    }

    /// Rows of customers active as of the table's day ([`is_active`]).
    pub fn active_rows(&self, active_within_days: i32) -> Result<Vec<usize>> {
        let recency = self.require("recency_days")?;
        Ok(recency
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_some_and(|r| is_active(r, active_within_days)))
            .map(|(i, _)| i)
            .collect())
    }

    /// The table restricted to `rows`, in that order.
    pub fn select_rows(&self, rows: &[usize]) -> FeatureTable {
        FeatureTable {
            as_of: self.as_of,
            customer_ids: rows.iter().map(|&i| self.customer_ids[i].clone()).collect(),
            names: self.names.clone(),
            values: self
                .values
                .iter()
                .map(|v| rows.iter().map(|&i| v[i]).collect())
                .collect(),
        }
    }

    /// The table restricted to `rows` (strictly increasing), moved in place: no second copy
    /// of the kept rows is held (the SQL engine's active population is cut from a table of
    /// everyone this way; `select_rows` copies).
    pub fn keep_rows(mut self, rows: &[usize]) -> FeatureTable {
        if !rows.windows(2).all(|w| w[0] < w[1]) {
            return self.select_rows(rows);
        }
        fn compact<T>(v: &mut Vec<T>, rows: &[usize]) {
            for (k, &i) in rows.iter().enumerate() {
                // k <= i: the row moves down into a slot already read.
                v.swap(k, i);
            }
            v.truncate(rows.len());
            v.shrink_to_fit();
        }
        compact(&mut self.customer_ids, rows);
        for v in &mut self.values {
            compact(v, rows);
        }
        self
    }

    /// The table with its columns in the order of `specs` (every spec must be computed).
    pub fn reorder(mut self, specs: &[FeatureSpec]) -> Result<FeatureTable> {
        let mut values = Vec::with_capacity(specs.len());
        let mut names = Vec::with_capacity(specs.len());
        for spec in specs {
            let name = spec.name();
            let j = self
                .names
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| Error::Data(format!("feature {name} was not computed")))?;
            values.push(std::mem::take(&mut self.values[j]));
            names.push(name);
        }
        Ok(FeatureTable {
            values,
            names,
            ..self
        })
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.customer_ids.len()
    }

    /// True when no customer has history.
    pub fn is_empty(&self) -> bool {
        self.customer_ids.is_empty()
    }
}

/// Computes `specs` as of `as_of` with `engine`; `complaint_kinds` are the event kinds counted
/// as complaints.
pub fn compute(
    engine: &mut dyn Engine,
    specs: &[FeatureSpec],
    as_of: i32,
    complaint_kinds: &[String],
) -> Result<FeatureTable> {
    compute_where(engine, specs, as_of, complaint_kinds, None)
}

/// The population rule: a customer is active as of a day D when their last purchase lies in
/// (D - active_within_days, D], i.e. recency < active_within_days. A purchase exactly
/// `active_within_days` ago is outside the window, as every `<window>d` feature is: such an
/// account has no order in its 365-day window and must not be scored as if it had.
pub fn is_active(recency_days: f64, active_within_days: i32) -> bool {
    recency_days.is_finite() && recency_days < active_within_days as f64
}

/// Like [`compute`], for the customers active within `active_within` days only
/// (`FeatureTable::active_rows`; `specs` must include `recency_days`).
pub fn compute_active(
    engine: &mut dyn Engine,
    specs: &[FeatureSpec],
    as_of: i32,
    complaint_kinds: &[String],
    active_within: i32,
) -> Result<FeatureTable> {
    compute_where(engine, specs, as_of, complaint_kinds, Some(active_within))
}

fn compute_where(
    engine: &mut dyn Engine,
    specs: &[FeatureSpec],
    as_of: i32,
    complaint_kinds: &[String],
    active_within: Option<i32>,
) -> Result<FeatureTable> {
    let tx: Vec<FeatureSpec> = specs
        .iter()
        .filter(|s| s.side_table().is_none())
        .copied()
        .collect();
    if let Some(history) = engine.history(needs_quantity(&tx))? {
        let mut table = history.features_where(&tx, as_of, active_within)?;
        for side in sql::side_ctes(specs, as_of, complaint_kinds) {
            add_side_features(engine, &side, &mut table)?;
        }
        return table.reorder(specs);
    }
    let df = engine.query(&sql::render(specs, as_of, complaint_kinds))?;
    let names: Vec<String> = specs.iter().map(|s| s.name()).collect();
    let values = names
        .iter()
        .map(|n| Ok(frame::f64_values(&df, n)?.into_iter().map(stored).collect()))
        .collect::<Result<Vec<_>>>()?;
    let table = FeatureTable {
        as_of,
        customer_ids: frame::str_values(&df, "customer_id")?
            .into_iter()
            .map(CustomerId::from)
            .collect(),
        names,
        values,
    };
    match active_within {
        Some(days) => {
            let rows = table.active_rows(days)?;
            Ok(table.keep_rows(&rows))
        }
        None => Ok(table),
    }
}

/// Joins one side table's features onto `table` (0 for customers the side table does not name,
/// like the SQL's `COALESCE`).
fn add_side_features(
    engine: &mut dyn Engine,
    side: &sql::SideCtes,
    table: &mut FeatureTable,
) -> Result<()> {
    let df = engine.query(&side.query())?;
    let ids = frame::str_values(&df, "customer_id")?;
    let row: std::collections::HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    for c in df.get_column_names() {
        if c.as_str() == "customer_id" {
            continue;
        }
        let values = frame::f64_values(&df, c)?;
        let column = table
            .customer_ids
            .iter()
            .map(|id| row.get(&**id).and_then(|&i| values[i]).unwrap_or(0.0))
            .collect();
        table.names.push(c.to_string());
        table.values.push(column);
    }
    Ok(())
}

/// [`compute_for`] for the pipeline's active population only (`active_within_days`): what a
/// training or validation snapshot uses.
pub fn compute_active_for(
    p: &crate::config::Pipeline,
    engine: &mut dyn Engine,
    as_of: i32,
) -> Result<FeatureTable> {
    compute_pipeline(p, engine, as_of, Some(p.active_within_days))
}

/// Everything the pipeline computes as of `as_of`: its model features plus the ones the lists
/// always need.
pub fn compute_for(
    p: &crate::config::Pipeline,
    engine: &mut dyn Engine,
    as_of: i32,
) -> Result<FeatureTable> {
    compute_pipeline(p, engine, as_of, None)
}

fn compute_pipeline(
    p: &crate::config::Pipeline,
    engine: &mut dyn Engine,
    as_of: i32,
    active_within: Option<i32>,
) -> Result<FeatureTable> {
    compute_where(
        engine,
        &spec::with_required(&p.features),
        as_of,
        &p.complaint_kinds,
        active_within,
    )
}

/// Writes a feature table to Parquet (one row per customer, plus the `as_of` date) atomically.
pub fn write(table: &FeatureTable, path: &Path) -> Result<()> {
    write_parquet_batches(path, table.len(), |start, len| {
        let rows = start..start + len;
        let ids: Vec<&str> = table.customer_ids[rows.clone()]
            .iter()
            .map(|s| &**s)
            .collect();
        let mut columns = vec![Column::new("customer_id".into(), ids)];
        for (name, values) in table.names.iter().zip(&table.values) {
            let values: Vec<Option<f64>> = Values(&values[rows.clone()]).to_vec();
            columns.push(Column::new(name.as_str().into(), values));
        }
        columns.push(
            Column::new("as_of".into(), vec![table.as_of; len])
                .cast(&DataType::Date)
                .engine(|| "building the as_of column".into())?,
        );
        DataFrame::new_infer_height(columns).engine(|| "building the feature frame".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_infinite_values_read_as_missing() {
        let v = [1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0];
        assert_eq!(
            Values(&v).to_vec(),
            [Some(1.5), None, None, None, Some(0.0)]
        );
        assert_eq!(Values(&v).get(2), None);
    }

    #[test]
    fn rows_kept_in_place_equal_the_selected_copy() {
        let t = FeatureTable {
            as_of: 10,
            customer_ids: (0..7).map(|i| format!("c{i}").into()).collect(),
            names: vec!["a".into(), "b".into()],
            values: vec![
                (0..7).map(f64::from).collect(),
                (0..7).map(|i| f64::from(i) * 10.0).collect(),
            ],
        };
        for rows in [vec![], vec![0, 1, 2], vec![1, 3, 6], vec![6], vec![2, 1]] {
            let kept = t.clone().keep_rows(&rows);
            assert_eq!(kept, t.select_rows(&rows), "rows {rows:?}");
            assert_eq!(kept.len(), rows.len());
        }
    }
}
