//! What DataFusion sees: the warehouse's committed parts as `transactions` (with `day`, as the
//! polars backend gives it), the side tables, and tables of the driver's own rows; and reading a
//! result the engine wrote back into a polars frame.

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::{DataType as ArrowType, Schema};
use datafusion::prelude::ParquetReadOptions;
use polars::prelude::*;

use super::scratch::Scratch;
use super::session::{Session, failed};
use crate::domain::input::SideKind;
use crate::error::{EngineContext, Error, Result};
use crate::warehouse::manifest::Manifest;
use crate::warehouse::{parts, side};

/// The parts as stored; `transactions` is a view over it.
const PARTS: &str = "warehouse_parts";

/// `transactions` as every SQL engine sees it: `day` is the epoch day of `ts` (stored as a
/// naive local timestamp), exactly as the polars backend casts it.
const TRANSACTIONS_VIEW: &str = "CREATE VIEW transactions AS SELECT customer_id, \
     CAST(CAST(ts AS DATE) AS INT) AS day, amount, quantity, order_id, product_id \
     FROM warehouse_parts";

/// Registers the committed parts and the side tables of the warehouse at `warehouse`.
pub(super) fn register(session: &Session, warehouse: &Path, scratch: &mut Scratch) -> Result<()> {
    let manifest = Manifest::load(warehouse)?;
    // A damaged part is named before any query reads it.
    parts::verify(warehouse, &manifest)?;
    let mut listed: Vec<_> = manifest.batches.iter().flat_map(|b| &b.parts).collect();
    listed.sort_by(|a, b| a.month.cmp(&b.month));
    if listed.is_empty() {
        return Err(Error::Data(format!(
            "the warehouse {} holds no transactions: run `churnflow ingest` first",
            warehouse.display()
        )));
    }
    let root =
        std::fs::canonicalize(warehouse).map_err(|e| Error::io("resolving", warehouse, e))?;
    // Only the manifest's parts: a file in the folder that no manifest names (an interrupted
    // write) is not data.
    let files: Vec<PathBuf> = listed.iter().map(|p| root.join(&p.path)).collect();
    register_parts(session, &files)?;
    // Side tables are small and their rules (the last snapshot of a customer's day wins) are
    // polars' own: they are prepared by the warehouse code and handed over as files.
    for kind in [SideKind::Arrears, SideKind::Events] {
        if let Some(lf) = side::scan_side(warehouse, &manifest, kind)? {
            let mut df = lf
                .collect()
                .engine(|| format!("reading the {} table", kind.name()))?;
            register_frame(session, scratch, kind.name(), &mut df)?;
        }
    }
    Ok(())
}

/// Registers `files` (warehouse parts, in the canonical schema) as `transactions`.
pub(super) fn register_parts(session: &Session, files: &[PathBuf]) -> Result<()> {
    // By absolute path: executors resolve paths themselves, from their own folders.
    let files = files
        .iter()
        .map(|f| {
            std::path::absolute(f)
                .map(|f| f.to_string_lossy().into_owned())
                .map_err(|e| Error::io("resolving", f, e))
        })
        .collect::<Result<Vec<String>>>()?;
    let Session {
        runtime,
        ctx,
        remote,
    } = session;
    runtime.block_on(async {
        let parts = ctx
            .read_parquet(files, ParquetReadOptions::default())
            .await
            .map_err(|e| failed(*remote, "reading the warehouse's parts", e))?;
        ctx.register_table(PARTS, parts.into_view())
            .map_err(|e| failed(*remote, "registering the warehouse's parts", e))?;
        ctx.sql(TRANSACTIONS_VIEW)
            .await
            .map_err(|e| failed(*remote, "defining the transactions view", e))?;
        Ok(())
    })
}

/// Makes `df` queryable as table `name` (replacing any table of that name), through a Parquet
/// file in the scratch folder. Each registration writes a file of its own, never over the one
/// it replaces: DataFusion caches Parquet footers by path, and a table registered again (a
/// training cutoff's sampled customers after the previous cutoff's) must never be read with
/// its predecessor's footer.
pub(super) fn register_frame(
    session: &Session,
    scratch: &mut Scratch,
    name: &str,
    df: &mut DataFrame,
) -> Result<()> {
    let path = scratch.next_table(name);
    parts::write_parquet_file(&path, df)?;
    let Session {
        runtime,
        ctx,
        remote,
    } = session;
    runtime.block_on(async {
        ctx.deregister_table(name)
            .map_err(|e| failed(*remote, format!("replacing table {name}"), e))?;
        ctx.register_parquet(name, path.to_string_lossy(), ParquetReadOptions::default())
            .await
            .map_err(|e| failed(*remote, format!("registering table {name}"), e))
    })
}

/// A result's columns: name, and whether it is text (everything else is read as numbers).
pub(super) fn result_columns(schema: &Schema) -> Vec<(String, bool)> {
    schema
        .fields()
        .iter()
        .map(|f| {
            let text = matches!(
                f.data_type(),
                ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
            );
            (f.name().clone(), text)
        })
        .collect()
}

/// The result the engine wrote into `dir` (any number of files, one per partition that had
/// rows), as one frame; an empty frame with `columns` when no file was written.
pub(super) fn read_result(dir: &Path, columns: &[(String, bool)]) -> Result<DataFrame> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io("reading", dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    if files.is_empty() {
        let empty: Vec<Column> = columns
            .iter()
            .map(|(name, text)| {
                let dtype = if *text {
                    DataType::String
                } else {
                    DataType::Float64
                };
                Column::new_empty(name.as_str().into(), &dtype)
            })
            .collect();
        return DataFrame::new(0, empty).engine(|| "building an empty result".into());
    }
    let paths = files
        .iter()
        .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
        .collect();
    LazyFrame::scan_parquet_files(paths, parts::scan_args())
        .and_then(|lf| lf.collect())
        .engine(|| format!("reading the result in {}", dir.display()))
}
