//! Restated orders. With an order id mapped, the order id is an order's identity across
//! deliveries: a later batch holding order X says what X is now. When X's rows in the batch are
//! the same set as its rows in the warehouse, the batch's rows are duplicates; when they differ,
//! the order was restated, and `[source] restatements` decides: `replace` (the default: the
//! warehouse's rows of X are superseded by the batch's), `keep_first` (the batch's rows of X are
//! dropped) or `quarantine` (they go to the quarantine file). Without this, a corrected order
//! (100.00 restated as 10.00) was kept twice and its revenue counted twice.
//!
//! Only orders present in both are looked at: the batch's order ids are matched against each
//! part's `order_id` column, so the cost follows the overlap, not the warehouse.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use crate::error::{EngineContext, Result};
use crate::ingest::identity;
use crate::warehouse::manifest::{Intent, Manifest, Part, Superseded};
use crate::warehouse::parts::{self, IDENTITY, PartFooter};

pub use crate::domain::input::Policy;

/// What happens to one order of the batch that the warehouse already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Same rows as in the warehouse: the batch's are duplicates.
    Same,
    /// Restated and replacing: the warehouse's rows (of batches named) are superseded.
    Replace,
    /// Restated, kept as first delivered: the batch's rows are dropped.
    KeepFirst,
    /// Restated, sent to quarantine; the earlier batch is named in the reason.
    Quarantine { earlier: String },
}

/// The decisions for a batch's orders that the warehouse already holds.
#[derive(Debug, Default)]
pub struct Plan {
    /// Order id -> decision; orders absent from the warehouse are not listed.
    pub orders: HashMap<String, Decision>,
    /// Committed parts (relative path) -> indices of their rows to supersede, ascending.
    pub superseded: HashMap<String, Vec<IdxSize>>,
}

impl Plan {
    /// The decision for order `id`, if the warehouse held it.
    pub fn decision(&self, id: &str) -> Option<&Decision> {
        self.orders.get(id)
    }

    /// Orders replaced.
    pub fn orders_replaced(&self) -> u64 {
        self.orders
            .values()
            .filter(|d| **d == Decision::Replace)
            .count() as u64
    }
}

/// A set of rows' identity: the wrapping sum of their distinct identity hashes, and how many.
type Signature = (u128, u64);

fn signatures(df: &DataFrame) -> Result<HashMap<String, Signature>> {
    let ids = crate::util::frame::str_values(df, "order_id")?;
    let hashes = identity::hashes(df, &IDENTITY)?;
    let mut pairs: Vec<(&str, u128)> = ids.iter().map(|s| s.as_str()).zip(hashes).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut out: HashMap<String, Signature> = HashMap::new();
    for (id, h) in pairs {
        let e = out.entry(id.to_string()).or_insert((0, 0));
        e.0 = e.0.wrapping_add(h);
        e.1 += 1;
    }
    Ok(out)
}

/// Plans the restatements of a batch whose staged rows are `staged` (each with the canonical
/// columns) against the committed transaction parts of `manifest`.
///
/// Long by design: the decision for each restated order is made in one pass over the staged and
/// committed order ids.
pub fn plan(wh: &Path, manifest: &Manifest, staged: &[LazyFrame], policy: Policy) -> Result<Plan> {
    let mut plan = Plan::default();
    if staged.is_empty() || manifest.batches.iter().all(|b| b.parts.is_empty()) {
        return Ok(plan);
    }
    let identity_cols: Vec<Expr> = IDENTITY.iter().map(|c| col(*c)).collect();
    let batch = concat(staged, UnionArgs::default())
        .engine(|| "reading staged rows".into())?
        .filter(col("order_id").is_not_null())
        .select(identity_cols.clone())
        .collect()
        .engine(|| "reading the batch's order ids".into())?;
    if batch.height() == 0 {
        return Ok(plan);
    }
    let ids = batch
        .column("order_id")
        .engine(|| "reading order ids".into())?
        .as_materialized_series()
        .unique()
        .engine(|| "listing order ids".into())?;
    // The warehouse's rows of those orders, in one scan of every part (in manifest order, so a
    // row's global index and the parts' row counts give its part and its row in that part).
    // Parts whose order-id range (footer statistics) misses the batch's are skipped unread: ids
    // mostly grow with time, so a night's new orders meet no earlier part.
    let (lo, hi) = {
        let mut v = crate::util::frame::str_values(&ids.clone().into_frame(), ids.name())?;
        v.sort_unstable();
        (
            v.first().cloned().unwrap_or_default().into_bytes(),
            v.last().cloned().unwrap_or_default().into_bytes(),
        )
    };
    let mut parts: Vec<&Part> = Vec::new();
    for p in manifest.batches.iter().flat_map(|b| &b.parts) {
        let meets = match parts::text_range(&wh.join(&p.path), "order_id")? {
            Some((a, b)) => a <= hi && lo <= b,
            None => true,
        };
        if meets {
            parts.push(p);
        }
    }
    if parts.is_empty() {
        return Ok(plan);
    }
    let paths: Vec<PlRefPath> = parts
        .iter()
        .map(|p| PlRefPath::new(wh.join(&p.path).to_string_lossy().as_ref()))
        .collect();
    let old = LazyFrame::scan_parquet_files(paths.into_iter().collect(), parts::scan_args())
        .engine(|| "scanning the warehouse".into())?
        .with_row_index("__row", None)
        .filter(col("order_id").is_in(lit(ids).implode(false), false))
        .select(
            identity_cols
                .iter()
                .cloned()
                .chain([col("__row"), col("source_batch")])
                .collect::<Vec<_>>(),
        )
        .collect()
        .engine(|| "finding restated orders in the warehouse".into())?;
    if old.height() == 0 {
        return Ok(plan);
    }
    let old_sigs = signatures(&old)?;
    let present: Vec<String> = old_sigs.keys().cloned().collect();
    let new = batch
        .lazy()
        .filter(col("order_id").is_in(lit(Series::new("".into(), present)).implode(false), false))
        .collect()
        .engine(|| "reading restated orders".into())?;
    let new_sigs = signatures(&new)?;
    let old_ids = crate::util::frame::str_values(&old, "order_id")?;
    let old_batches = crate::util::frame::str_values(&old, "source_batch")?;
    let earlier: HashMap<&str, &str> = old_ids
        .iter()
        .map(|s| s.as_str())
        .zip(old_batches.iter().map(|s| s.as_str()))
        .collect();
    for (id, sig) in &new_sigs {
        let decision = if old_sigs.get(id) == Some(sig) {
            Decision::Same
        } else {
            match policy {
                Policy::Replace => Decision::Replace,
                Policy::KeepFirst => Decision::KeepFirst,
                Policy::Quarantine => Decision::Quarantine {
                    earlier: earlier.get(id.as_str()).unwrap_or(&"?").to_string(),
                },
            }
        };
        plan.orders.insert(id.clone(), decision);
    }
    let rows = old
        .column("__row")
        .and_then(|c| c.cast(&IDX_DTYPE))
        .engine(|| "reading row numbers".into())?;
    let rows = rows.idx().engine(|| "reading row numbers".into())?;
    // Where each part starts in the scan.
    let starts: Vec<u64> = parts
        .iter()
        .scan(0u64, |at, p| {
            let s = *at;
            *at += p.rows;
            Some(s)
        })
        .collect();
    for (id, row) in old_ids.iter().zip(rows.into_no_null_iter()) {
        if plan.decision(id) == Some(&Decision::Replace) {
            let i = starts.partition_point(|&s| s <= row as u64) - 1;
            plan.superseded
                .entry(parts[i].path.clone())
                .or_default()
                .push((row as u64 - starts[i]) as IdxSize);
        }
    }
    for rows in plan.superseded.values_mut() {
        rows.sort_unstable();
        rows.dedup();
    }
    Ok(plan)
}

/// The manifest changes of superseding rows: committed parts rewritten without them, and the
/// superseded rows kept in files of their own under the replacing batch.
#[derive(Debug, Default)]
pub struct Superseding {
    /// (batch, old part path, its replacement or None when no row is left).
    pub rewritten: Vec<(String, String, Option<Part>)>,
    /// The superseded rows, for the replacing batch's manifest entry.
    pub kept: Vec<Superseded>,
    /// Files the manifest stops naming once the change is committed.
    pub obsolete: Vec<String>,
}

/// Rewrites every part `plan` supersedes rows of (as `part-<batch>.<by>.parquet`, its own footer
/// kept) and writes the superseded rows to `superseded/<by>/`; each file is announced in the
/// intent of batch `by` first, the old parts as obsolete.
pub fn supersede(wh: &Path, manifest: &Manifest, plan: &Plan, by: &str) -> Result<Superseding> {
    let mut out = Superseding::default();
    for b in &manifest.batches {
        for part in &b.parts {
            let Some(rows) = plan.superseded.get(&part.path) else {
                continue;
            };
            let path = wh.join(&part.path);
            let Some(footer) = parts::read_footer(&path)? else {
                return Err(crate::error::Error::Warehouse(format!(
                    "{} has no churnflow footer (written by an older churnflow); run \
                     `churnflow repair PIPELINE` to add it before restating its orders",
                    path.display()
                )));
            };
            let all = parts::read_part(&path)?;
            let mask: Vec<bool> = {
                let mut m = vec![false; all.height()];
                for &r in rows {
                    m[r as usize] = true;
                }
                m
            };
            let take = BooleanChunked::from_slice("".into(), &mask);
            let mut gone = all
                .filter(&take)
                .engine(|| "selecting superseded rows".into())?;
            let mut left = all
                .filter(&!&take)
                .engine(|| "selecting the rows left".into())?;
            let dir = Path::new(&part.path)
                .parent()
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default();
            let new_rel = format!("{dir}/part-{}.{by}.parquet", b.batch_id);
            let gone_rel = format!("superseded/{by}/{}-{}.parquet", b.batch_id, part.month);
            let mut announce = vec![gone_rel.clone(), part.path.clone()];
            if left.height() > 0 {
                announce.push(new_rel.clone());
            }
            Intent::announce(wh, by, &announce)?;
            let kept = parts::write_part(
                wh,
                &gone_rel,
                &mut gone,
                &PartFooter {
                    table: "superseded".into(),
                    superseded_from: Some(b.batch_id.clone()),
                    batch_id: by.to_string(),
                    ..footer.clone()
                },
            )?;
            out.kept.push(Superseded {
                batch_id: b.batch_id.clone(),
                part: kept,
            });
            let replacement = if left.height() > 0 {
                Some(parts::write_part(wh, &new_rel, &mut left, &footer)?)
            } else {
                None
            };
            out.rewritten
                .push((b.batch_id.clone(), part.path.clone(), replacement));
            out.obsolete.push(part.path.clone());
        }
    }
    Ok(out)
}

/// Applies rewritten parts to `manifest`'s batches.
pub fn apply(manifest: &mut Manifest, rewritten: &[(String, String, Option<Part>)]) {
    for (batch, old, new) in rewritten {
        if let Some(b) = manifest.batches.iter_mut().find(|b| &b.batch_id == batch) {
            match (b.parts.iter().position(|p| &p.path == old), new) {
                (Some(i), Some(n)) => b.parts[i] = n.clone(),
                (Some(i), None) => {
                    b.parts.remove(i);
                }
                (None, _) => {}
            }
        }
    }
}

/// Quarantine rows for staged rows of orders sent to quarantine as restatements: the leading
/// columns, then the canonical values under the export's column names.
pub fn rejects(
    rows: &DataFrame,
    plan: &Plan,
    fields: &[crate::ingest::validate::Field],
    source: &str,
) -> Result<DataFrame> {
    let ids = crate::util::frame::str_values(rows, "order_id")?;
    let reasons: Vec<String> = ids
        .iter()
        .map(|id| match plan.decision(id) {
            Some(Decision::Quarantine { earlier }) => format!(
                "restated order: order id {id:?} is already in the warehouse with other values \
                 (batch {earlier}); source.restatements = \"quarantine\""
            ),
            _ => "restated order".to_string(),
        })
        .collect();
    let order_column = fields
        .iter()
        .find(|f| f.name == "order_id")
        .and_then(|f| f.column.clone())
        .unwrap_or_else(|| "order_id".into());
    let mut exprs = vec![
        lit(source.to_string()).alias("source_file"),
        col(crate::ingest::validate::ACCEPTED_LINE).alias("line"),
        lit(order_column).alias("column"),
        lit(Series::new("reason".into(), reasons)).alias("reason"),
    ];
    for f in fields {
        if let Some(c) = &f.column {
            exprs.push(col(f.name).cast(DataType::String).alias(c.as_str()));
        }
    }
    rows.clone()
        .lazy()
        .select(exprs)
        .collect()
        .engine(|| "listing restated orders for quarantine".into())
}
