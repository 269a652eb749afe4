//! The portability gate (`distributed` builds): on random histories split into several Parquet
//! files, DataFusion and Ballista standalone (`target_partitions > 1`) give the in-memory
//! history's features, label facts, lapsed accounts and purchases, within 1e-9 relative
//! ([`assert_engines_agree`]). Whole nights on every engine are compared in `features_fixture`
//! and `lists`.

use std::path::PathBuf;

use churnflow::{DataFusionBackend, EngineKind, EngineSettings, HistoryBackend};
use polars::prelude::*;
use proptest::prelude::*;

use crate::properties::{AS_OF, QTx, assert_engines_agree, frame_with_quantities, random_rows};

/// Writes `rows` as `files` Parquet parts (rows dealt round-robin, so every file holds some of
/// each customer's rows, as months do), in the warehouse's column order.
fn write_parts(rows: &[QTx], files: usize, dir: &std::path::Path) -> Vec<PathBuf> {
    let all = frame_with_quantities(rows)
        .with_row_index("row", None)
        .collect()
        .unwrap();
    (0..files)
        .map(|k| {
            let mut part = all
                .clone()
                .lazy()
                .filter((col("row") % lit(files as u32)).eq(lit(k as u32)))
                .select([
                    col("customer_id"),
                    col("ts"),
                    col("amount"),
                    col("quantity"),
                    col("order_id"),
                    col("product_id"),
                ])
                .collect()
                .unwrap();
            let path = dir.join(format!("part-{k}.parquet"));
            churnflow::write_parquet_file(&path, &mut part).unwrap();
            path
        })
        .collect()
}

fn settings(kind: EngineKind) -> EngineSettings {
    EngineSettings {
        kind,
        target_partitions: 3,
        ..EngineSettings::from(kind)
    }
}

fn agree(
    rows: &[QTx],
    files: usize,
    as_of_shift: i32,
    kind: EngineKind,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let parts = write_parts(rows, files, dir.path());
    let mut reference = HistoryBackend::from_transactions(frame_with_quantities(rows));
    let mut other =
        DataFusionBackend::from_files(&parts, &settings(kind), &dir.path().join("scratch"))
            .unwrap();
    assert_engines_agree(&mut reference, &mut other, kind.name(), AS_OF + as_of_shift)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn datafusion_agrees_with_the_in_memory_history(
        rows in random_rows(),
        files in 1usize..=4,
        as_of_shift in prop::sample::select(vec![-450, -200, -1, 0, 60]),
    ) {
        agree(&rows, files, as_of_shift, EngineKind::DataFusion)?;
    }
}

proptest! {
    // Each case starts a Ballista cluster in the process; each query is a Ballista job.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn ballista_agrees_with_the_in_memory_history(
        rows in random_rows(),
        files in 2usize..=4,
        as_of_shift in prop::sample::select(vec![-200, -1, 0, 60]),
    ) {
        agree(&rows, files, as_of_shift, EngineKind::Ballista)?;
    }
}
