//! Ingest through the library: overlapping deliveries, parts on disk, crashes before the commit.

use churnflow::config::Pipeline;
use churnflow::ingest::{self, manifest::Manifest};

use crate::util::write_pipeline;

const HEADER: &str = "order_id,customer_id,order_date,amount,quantity\n";

fn rows(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| {
            format!(
                "SO{i},{:05},2024-0{}-1{} 10:00:00,{}.50,{}\n",
                i % 7,
                1 + i % 6,
                i % 10,
                10 + i,
                1 + i % 3
            )
        })
        .collect()
}

#[test]
fn an_overlapping_redelivery_adds_only_the_new_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export.csv");
    std::fs::write(&csv, format!("{HEADER}{}", rows(0..40))).unwrap();
    let p = Pipeline::load(&write_pipeline(dir.path(), &csv, "")).unwrap();
    let first = ingest::ingest(&p).unwrap();
    assert_eq!((first.rows_accepted, first.rows_duplicate), (40, 0));

    // The next export repeats the first 40 rows and adds 25 new ones, under the same name.
    std::fs::write(&csv, format!("{HEADER}{}", rows(0..65))).unwrap();
    let second = ingest::ingest(&p).unwrap();
    assert_eq!((second.rows_accepted, second.rows_duplicate), (65, 40));
    assert!(
        second.warnings[0].contains("different content"),
        "{:?}",
        second.warnings
    );
    let manifest = Manifest::load(&p.warehouse_dir()).unwrap();
    assert_eq!(manifest.total_rows(), 65);
    // Leading zeros of customer ids survive.
    let engine_rows = churnflow::engine::PolarsEngine::open(&p.warehouse_dir())
        .and_then(|mut e| {
            use churnflow::engine::Engine;
            e.query("SELECT DISTINCT customer_id FROM transactions ORDER BY customer_id")
        })
        .unwrap();
    let ids = churnflow::frame::str_values(&engine_rows, "customer_id").unwrap();
    assert_eq!(
        ids,
        [
            "00000", "00001", "00002", "00003", "00004", "00005", "00006"
        ]
    );
}

#[test]
fn parts_left_by_a_crash_before_the_manifest_are_invisible_and_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export.csv");
    std::fs::write(&csv, format!("{HEADER}{}", rows(0..30))).unwrap();
    let p = Pipeline::load(&write_pipeline(dir.path(), &csv, "")).unwrap();
    ingest::ingest(&p).unwrap();
    // A crashed run wrote a part (and a temporary file) but never replaced the manifest.
    let month = p.warehouse_dir().join("transactions/month=2024-02");
    std::fs::copy(
        std::fs::read_dir(&month)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
        month.join("part-bcrashed.parquet"),
    )
    .unwrap();
    std::fs::write(month.join(".part-bother.parquet.tmp-1"), b"half").unwrap();
    let manifest = Manifest::load(&p.warehouse_dir()).unwrap();
    assert_eq!(manifest.total_rows(), 30);
    let mut engine = churnflow::engine::PolarsEngine::open(&p.warehouse_dir()).unwrap();
    use churnflow::engine::Engine;
    let n = engine
        .query("SELECT COUNT(*) AS n FROM transactions")
        .unwrap();
    assert_eq!(churnflow::frame::f64_values(&n, "n").unwrap(), [Some(30.0)]);

    // The next ingest removes what no manifest names.
    std::fs::write(&csv, format!("{HEADER}{}", rows(0..31))).unwrap();
    ingest::ingest(&p).unwrap();
    let names: Vec<String> = std::fs::read_dir(&month)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("crashed") || n.contains(".tmp-")),
        "{names:?}"
    );
}
