//! The side tables in the warehouse (`warehouse/<table>/part-<batch>.parquet`, listed in the
//! manifest's side batches): scanned with later deliveries winning, and the customer master
//! read into names, owners, regions and segments.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use crate::domain::input::SideKind;
use crate::error::{EngineContext, Result};
use crate::util::frame;
use crate::warehouse::manifest::Manifest;

/// All committed rows of a side table, latest delivery last; None when never ingested.
pub fn scan_side(wh: &Path, manifest: &Manifest, kind: SideKind) -> Result<Option<LazyFrame>> {
    let paths: Vec<PlRefPath> = manifest
        .side_batches
        .iter()
        .flat_map(|b| &b.parts)
        .filter(|p| p.month == kind.name())
        .map(|p| PlRefPath::new(wh.join(&p.path).to_string_lossy().as_ref()))
        .collect();
    if paths.is_empty() {
        return Ok(None);
    }
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_disabled(),
        ..ScanArgsParquet::default()
    };
    let lf = LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
        .engine(|| format!("scanning the {} table", kind.name()))?;
    let day = |c: &str| {
        col(c)
            .cast(DataType::Date)
            .cast(DataType::Int32)
            .alias("day")
    };
    Ok(Some(match kind {
        SideKind::Customers => lf,
        SideKind::Arrears => lf.with_column(day("as_of")).unique_stable_generic(
            Some(vec![col("customer_id"), col("day")]),
            UniqueKeepStrategy::Last,
        ),
        SideKind::Events => lf.with_column(day("ts")),
    }))
}

/// Name, owner, region and segment of a customer.
#[derive(Debug, Clone, Default)]
pub struct CustomerInfo {
    pub name: String,
    pub owner: String,
    pub region: String,
    pub segment: String,
}

/// The customer master (latest row per customer); empty when none was ingested.
pub fn customer_master(wh: &Path) -> Result<HashMap<String, CustomerInfo>> {
    let manifest = Manifest::load(wh)?;
    let Some(lf) = scan_side(wh, &manifest, SideKind::Customers)? else {
        return Ok(HashMap::new());
    };
    let df = lf
        .unique_stable_generic(Some(vec![col("customer_id")]), UniqueKeepStrategy::Last)
        .collect()
        .engine(|| "reading the customer master".into())?;
    let ids = frame::str_values(&df, "customer_id")?;
    let get = |c: &str| frame::str_values(&df, c);
    let (name, owner, region, segment) =
        (get("name")?, get("owner")?, get("region")?, get("segment")?);
    Ok(ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            (
                id,
                CustomerInfo {
                    name: name[i].clone(),
                    owner: owner[i].clone(),
                    region: region[i].clone(),
                    segment: segment[i].clone(),
                },
            )
        })
        .collect())
}
