//! Features as of a date: specs -> one SQL text -> engine -> one row per customer, using only
//! rows on or before the as-of day.

/// Feature specs live on the domain floor; `features::spec` keeps naming them.
pub use crate::domain::feature as spec;
/// The portable SQL the features are rendered to lives with the SQL backend.
pub use crate::engine::sql::features as sql;

mod btyd;

use std::path::Path;

use polars::prelude::*;

use crate::engine::Backend;
use crate::error::{EngineContext, Result};
use crate::warehouse::parts::write_parquet_batches;
use spec::FeatureSpec;

pub use crate::domain::table::{FeatureTable, Values};

/// Computes `specs` as of `as_of` with `engine`; `complaint_kinds` are the event kinds counted
/// as complaints.
pub fn compute(
    engine: &mut dyn Backend,
    specs: &[FeatureSpec],
    as_of: i32,
    complaint_kinds: &[String],
) -> Result<FeatureTable> {
    compute_where(engine, specs, as_of, complaint_kinds, None)
}

fn compute_where(
    engine: &mut dyn Backend,
    specs: &[FeatureSpec],
    as_of: i32,
    complaint_kinds: &[String],
    active_within: Option<i32>,
) -> Result<FeatureTable> {
    compute_who(engine, specs, as_of, complaint_kinds, active_within, None)
}

/// [`compute_where`], for `customers` only when they are given (see `Backend::features_of`).
fn compute_who(
    engine: &mut dyn Backend,
    specs: &[FeatureSpec],
    as_of: i32,
    complaint_kinds: &[String],
    active_within: Option<i32>,
    customers: Option<&[&str]>,
) -> Result<FeatureTable> {
    let ask = |engine: &mut dyn Backend, specs: &[FeatureSpec]| match customers {
        Some(ids) => engine.features_of(specs, as_of, complaint_kinds, active_within, ids),
        None => engine.features(specs, as_of, complaint_kinds, active_within),
    };
    if !specs.iter().any(FeatureSpec::is_btyd) {
        return ask(engine, specs);
    }
    let table = ask(engine, &spec::engine_specs(specs))?;
    btyd::add(engine, table, specs)
}

/// The pipeline's features as of `as_of` for `customers` (ascending, all in the active
/// population): a training cutoff's sampled rows, the same values [`compute_active_for`] gives
/// them.
pub fn compute_active_of(
    p: &crate::config::Pipeline,
    engine: &mut dyn Backend,
    as_of: i32,
    customers: &[&str],
) -> Result<FeatureTable> {
    compute_who(
        engine,
        &spec::with_required(&p.features),
        as_of,
        &p.complaint_kinds,
        Some(p.active_within_days),
        Some(customers),
    )
}

/// [`compute_for`] for the pipeline's active population only (`active_within_days`): what a
/// training or validation snapshot uses.
pub fn compute_active_for(
    p: &crate::config::Pipeline,
    engine: &mut dyn Backend,
    as_of: i32,
) -> Result<FeatureTable> {
    compute_pipeline(p, engine, as_of, Some(p.active_within_days))
}

/// Everything the pipeline computes as of `as_of`: its model features plus the ones the lists
/// always need.
pub fn compute_for(
    p: &crate::config::Pipeline,
    engine: &mut dyn Backend,
    as_of: i32,
) -> Result<FeatureTable> {
    compute_pipeline(p, engine, as_of, None)
}

fn compute_pipeline(
    p: &crate::config::Pipeline,
    engine: &mut dyn Backend,
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

/// The pipeline's features as of one night, computed at most once and shared by the stages of
/// the night that ask for them (the drift check, training's drift reference, scoring), over one
/// engine on a warehouse that no longer changes.
#[derive(Debug, Default)]
pub struct Tonight {
    table: Option<FeatureTable>,
}

impl Tonight {
    /// [`compute_for`] as of `as_of`, computed on first use (again if asked for another day).
    pub fn get(
        &mut self,
        p: &crate::config::Pipeline,
        engine: &mut dyn Backend,
        as_of: i32,
    ) -> Result<&FeatureTable> {
        if self.table.as_ref().is_none_or(|t| t.as_of != as_of) {
            self.table = None;
            self.table = Some(compute_for(p, engine, as_of)?);
        }
        Ok(self.table.as_ref().expect("computed above"))
    }

    /// Like [`Tonight::get`], handing the table over to its last user.
    pub fn take(
        &mut self,
        p: &crate::config::Pipeline,
        engine: &mut dyn Backend,
        as_of: i32,
    ) -> Result<FeatureTable> {
        self.get(p, engine, as_of)?;
        Ok(self.table.take().expect("computed above"))
    }
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
            let values: Vec<Option<f64>> = Values::of(&values[rows.clone()]).to_vec();
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
            Values::of(&v).to_vec(),
            [Some(1.5), None, None, None, Some(0.0)]
        );
        assert_eq!(Values::of(&v).get(2), None);
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
            btyd: Vec::new(),
        };
        for rows in [vec![], vec![0, 1, 2], vec![1, 3, 6], vec![6], vec![2, 1]] {
            let kept = t.clone().keep_rows(&rows);
            assert_eq!(kept, t.select_rows(&rows), "rows {rows:?}");
            assert_eq!(kept.len(), rows.len());
        }
    }
}
