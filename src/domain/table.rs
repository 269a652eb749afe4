//! A feature table: the values of every feature for the customers of one as-of day, column by
//! column, and the population rule that says who is active. Engines fill it; models and scoring
//! read it.

use crate::domain::feature::FeatureSpec;
use crate::error::{Error, Result};

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
    /// The BTYD models fitted as of the day that the table's BTYD columns come from (empty
    /// without them): what `model.json` and the run manifest record.
    pub btyd: Vec<crate::btyd::Fit>,
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
    /// The values of a stored column (NaN for missing).
    pub fn of(stored: &'a [f64]) -> Self {
        Values(stored)
    }
}

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
    pub fn to_vec(self) -> Vec<Option<f64>> {
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

    /// Rows of customers active as of the table's day (`is_active`).
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
            btyd: self.btyd.clone(),
            values: self
                .values
                .iter()
                .map(|v| rows.iter().map(|&i| v[i]).collect())
                .collect(),
        }
    }

    /// The table restricted to the rows of `customers` (ascending, each in the table), in that
    /// order; an error names the first one the table lacks.
    pub fn select_customers(self, customers: &[&str]) -> Result<FeatureTable> {
        let mut rows = Vec::with_capacity(customers.len());
        let mut at = 0;
        for id in customers {
            at += self.customer_ids[at..].partition_point(|c| &**c < *id);
            if self.customer_ids.get(at).map(|c| &**c) != Some(*id) {
                return Err(Error::Data(format!(
                    "customer {id} has no features as of {}",
                    crate::util::dates::format_day(self.as_of)
                )));
            }
            rows.push(at);
        }
        Ok(self.keep_rows(&rows))
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
        let mut values: Vec<Vec<f64>> = Vec::with_capacity(specs.len());
        let mut names = Vec::with_capacity(specs.len());
        for spec in specs {
            let name = spec.name();
            // A spec listed twice gets the same column twice (the first took it out).
            if let Some(k) = names.iter().position(|n| *n == name) {
                let copy: Vec<f64> = values[k].clone();
                values.push(copy);
                names.push(name);
                continue;
            }
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

/// The population rule: a customer is active as of a day D when their last purchase lies in
/// (D - active_within_days, D], i.e. recency < active_within_days. A purchase exactly
/// `active_within_days` ago is outside the window, as every `<window>d` feature is: such an
/// account has no order in its 365-day window and must not be scored as if it had.
pub fn is_active(recency_days: f64, active_within_days: i32) -> bool {
    recency_days.is_finite() && recency_days < active_within_days as f64
}
