//! The portability gate (`distributed` builds): on random histories split into several Parquet
//! files, DataFusion and Ballista standalone (`target_partitions > 1`) give the in-memory
//! history's features, label facts, lapsed accounts and purchases, within 1e-9 relative
//! ([`assert_engines_agree`]), and the model rendered as SQL scores as the process does
//! ([`assert_scores_agree`]). Whole nights on every engine are compared in `features_fixture`,
//! `lists`, `end_to_end` and `cluster`.

use std::path::PathBuf;

use churnflow::{
    Backend, DataFusionBackend, EngineKind, EngineSettings, HistoryBackend, LinearModel,
};
use polars::prelude::*;
use proptest::prelude::*;

use crate::properties::{
    AS_OF, QTx, assert_engines_agree, every_transaction_spec, frame_with_quantities, random_rows,
};

/// Writes `rows` as `files` Parquet parts (see [`split_into_parts`]).
fn write_parts(rows: &[QTx], files: usize, dir: &std::path::Path) -> Vec<PathBuf> {
    split_into_parts(frame_with_quantities(rows), files, dir)
}

/// Writes a frame of transactions as `files` Parquet parts (rows dealt round-robin, so every
/// file holds some of each customer's rows, as months do), in the warehouse's column order.
fn split_into_parts(frame: LazyFrame, files: usize, dir: &std::path::Path) -> Vec<PathBuf> {
    let all = frame.with_row_index("row", None).collect().unwrap();
    (0..files)
        .map(|k| {
            let mut part = all
                .clone()
                .lazy()
                .filter((col("row") % lit(files as u32)).eq(lit(k as u32)))
                .select(
                    [
                        "customer_id",
                        "ts",
                        "amount",
                        "quantity",
                        "order_id",
                        "product_id",
                    ]
                    .map(col),
                )
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
    let as_of = AS_OF + as_of_shift;
    assert_engines_agree(&mut reference, &mut other, kind.name(), as_of)?;
    assert_scores_agree(&mut reference, &mut other, kind.name(), as_of)
}

/// The model rendered as SQL (imputation, transforms, standardisation, dot product, logistic)
/// and run by `other` over the warehouse gives the in-process scores of the reference's
/// features, within 1e-9 relative, for every transaction feature kind.
fn assert_scores_agree(
    reference: &mut dyn Backend,
    other: &mut DataFusionBackend,
    engine: &str,
    as_of: i32,
) -> Result<(), TestCaseError> {
    let specs = every_transaction_spec();
    let table = reference.features(&specs, as_of, &[], None).unwrap();
    let rows: Vec<usize> = (0..table.len()).collect();
    let scaling = churnflow::fit_scaling(&specs, &[(&table, &rows)]).unwrap();
    // Coefficients of both signs and sizes, so every feature moves the score.
    let model = LinearModel {
        intercept: 0.21,
        coefficients: (0..specs.len())
            .map(|j| ((j % 7) as f64 - 3.0) * 0.173)
            .collect(),
    };
    let expected = churnflow::predict_in_blocks(&model, &scaling, &[(&table, &rows)]).unwrap();
    let sql = churnflow::render_scores(
        &scaling,
        &model,
        &churnflow::feature_sql(&specs, as_of, &[]),
    );
    let df = other.query(&sql).unwrap();
    let df = df
        .sort(["customer_id"], SortMultipleOptions::default())
        .unwrap();
    let ids = churnflow::str_values(&df, "customer_id").unwrap();
    let got = churnflow::f64_values(&df, "p_churn").unwrap();
    let want: Vec<String> = table.customer_ids.iter().map(|c| c.to_string()).collect();
    prop_assert_eq!(&ids, &want);
    for (i, (p, q)) in expected.iter().zip(&got).enumerate() {
        let q = q.unwrap();
        prop_assert!(
            (p - q).abs() <= 1e-9 * p.abs().max(1e-12),
            "{} of {}: model {}, {} {}",
            "p_churn",
            ids[i],
            p,
            engine,
            q
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

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
    #![proptest_config(ProptestConfig { cases: 5, ..ProptestConfig::default() })]

    #[test]
    fn ballista_agrees_with_the_in_memory_history(
        rows in random_rows(),
        files in 2usize..=4,
        as_of_shift in prop::sample::select(vec![-200, -1, 0, 60]),
    ) {
        agree(&rows, files, as_of_shift, EngineKind::Ballista)?;
    }
}

/// The fitted BTYD models applied in SQL on DataFusion and Ballista (`target_partitions > 1`,
/// the warehouse in three files) give the driver's BTYD features and scores within 1e-9.
#[test]
fn distributed_engines_apply_the_fitted_btyd_models_as_the_driver_does() {
    use crate::btyd_sql::{assert_sql_applies_the_fits, bgnbd_rows, frame, specs};
    let rows = bgnbd_rows(900, 5);
    let dir = tempfile::tempdir().unwrap();
    let parts = split_into_parts(frame(&rows), 3, dir.path());
    let mut reference = HistoryBackend::from_transactions(frame(&rows));
    let table = churnflow::compute(&mut reference, &specs(), crate::btyd_sql::AS_OF, &[]).unwrap();
    for kind in [EngineKind::DataFusion, EngineKind::Ballista] {
        let mut other = DataFusionBackend::from_files(
            &parts,
            &settings(kind),
            &dir.path().join(format!("scratch-{}", kind.name())),
        )
        .unwrap();
        let mut query = |q: &str| {
            other
                .query(q)
                .unwrap()
                .sort(["customer_id"], SortMultipleOptions::default())
                .unwrap()
        };
        assert_sql_applies_the_fits(&mut reference, &mut query, &table, kind.name());
    }
}
