//! The columns scoring reads for tonight's active rows, picked once from the feature table.

use crate::domain::feature as spec;
use crate::domain::table::FeatureTable;
use crate::error::Result;

/// Tonight's active rows and what scoring reads of them, row by row.
pub(super) struct Columns {
    /// Rows of the feature table, in its order.
    pub rows: Vec<usize>,
    pub ids: Vec<String>,
    pub prob: Vec<f64>,
    /// 12-month value (negative net values count as 0).
    pub value: Vec<f64>,
    pub orders: Vec<f64>,
    pub recency: Vec<Option<f64>>,
    pub tenure: Vec<Option<f64>>,
    pub cycle: Vec<Option<f64>>,
    pub trend: Vec<Option<f64>>,
    /// Present when the pipeline has an arrears table.
    pub arrears: Option<Vec<Option<f64>>>,
    pub overdue: Option<Vec<Option<f64>>>,
}

impl Columns {
    /// The columns of `rows` of `table`, with their probabilities `prob`.
    pub fn of(table: &FeatureTable, rows: Vec<usize>, prob: Vec<f64>) -> Result<Columns> {
        let pick = |name: &str| -> Result<Vec<Option<f64>>> {
            let c = table.require(name)?;
            Ok(rows.iter().map(|&i| c.get(i)).collect())
        };
        let optional = |name: &str| {
            table
                .column(name)
                .map(|c| rows.iter().map(|&i| c.get(i)).collect::<Vec<_>>())
        };
        Ok(Columns {
            ids: rows
                .iter()
                .map(|&i| table.customer_ids[i].to_string())
                .collect(),
            value: pick(&spec::VALUE_12M.name())?
                .iter()
                .map(|v| v.unwrap_or(0.0).max(0.0))
                .collect(),
            orders: pick(&spec::ORDERS_12M.name())?
                .iter()
                .map(|v| v.unwrap_or(0.0))
                .collect(),
            recency: pick("recency_days")?,
            tenure: pick("tenure_days")?,
            cycle: pick("purchase_cycle_days")?,
            trend: pick(&spec::SPEND_TREND_90D.name())?,
            arrears: optional("arrears_outstanding"),
            overdue: optional("arrears_days_overdue"),
            rows,
            prob,
        })
    }
}
