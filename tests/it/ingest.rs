//! Ingest through the library: overlapping deliveries, parts on disk, crashes before the commit.

use churnflow::Manifest;
use churnflow::Pipeline;

use crate::util::{export_pipeline, write_pipeline};

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
    let (p, csv) = export_pipeline(dir.path(), format!("{HEADER}{}", rows(0..40)), "");
    let first = churnflow::ingest(&p).unwrap().remove(0);
    assert_eq!((first.rows_accepted, first.rows_duplicate), (40, 0));

    // The next export repeats the first 40 rows and adds 25 new ones, under the same name.
    std::fs::write(&csv, format!("{HEADER}{}", rows(0..65))).unwrap();
    let second = churnflow::ingest(&p).unwrap().remove(0);
    assert_eq!((second.rows_accepted, second.rows_duplicate), (25, 40));
    assert!(
        second.warnings[0].contains("different content"),
        "{:?}",
        second.warnings
    );
    let manifest = Manifest::load(&p.warehouse_dir()).unwrap();
    assert_eq!(manifest.total_rows(), 65);
    // Leading zeros of customer ids survive.
    let engine_rows = churnflow::SqlBackend::open(&p.warehouse_dir())
        .and_then(|mut e| {
            e.query("SELECT DISTINCT customer_id FROM transactions ORDER BY customer_id")
        })
        .unwrap();
    let ids = churnflow::str_values(&engine_rows, "customer_id").unwrap();
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
    let (p, csv) = export_pipeline(dir.path(), format!("{HEADER}{}", rows(0..30)), "");
    churnflow::ingest(&p).unwrap();
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
    let mut engine = churnflow::SqlBackend::open(&p.warehouse_dir()).unwrap();
    let n = engine
        .query("SELECT COUNT(*) AS n FROM transactions")
        .unwrap();
    assert_eq!(churnflow::f64_values(&n, "n").unwrap(), [Some(30.0)]);

    // The next ingest removes what no manifest names.
    std::fs::write(&csv, format!("{HEADER}{}", rows(0..31))).unwrap();
    churnflow::ingest(&p).unwrap();
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

#[test]
fn implausible_rows_are_quarantined_with_exact_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export.csv");
    std::fs::write(
        &csv,
        "order_id,customer_id,order_date,amount,quantity\n\
         1,007,2024-01-02,10.00,1\n\
         2,007,1900-01-01,10.00,1\n\
         3,007,2100-01-01,10.00,1\n\
         4,007,2024-01-03,1e12,1\n\
         5,007,2024-01-03,NaN,1\n\
         6,008,2024-01-04,20.00,2\n\
         6,009,2024-01-04,25.00,2\n\
         1,007,2024-01-02,10.00,1\n\
         7,010,2024-01-05,-5.00,x\n",
    )
    .unwrap();
    let p = Pipeline::load(&write_pipeline(dir.path(), &csv, "")).unwrap();
    let mut p = p;
    p.source.max_rejected_share = 1.0;
    let r = churnflow::ingest(&p).unwrap().remove(0);
    // Rows 1, 6 (first use of the id) kept; the exact repeat of row 1 is a duplicate, not an error.
    assert_eq!((r.rows_read, r.rows_rejected, r.rows_duplicate), (9, 6, 1));
    let q = p.warehouse_dir().join(r.quarantine.unwrap());
    let (_, rows) = crate::util::read_csv(&q);
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r[1].clone(), r[2].clone(), r[3].clone()))
        .collect();
    let expect = [
        (
            "3",
            "order_date",
            "timestamp outside the plausible range 1990-01-01 ..",
        ),
        (
            "4",
            "order_date",
            "timestamp outside the plausible range 1990-01-01 ..",
        ),
        (
            "5",
            "amount",
            "amount outside the plausible range -1000000000 .. 1000000000",
        ),
        ("6", "amount", "amount is not a number"),
        (
            "8",
            "order_id",
            "duplicate order id: an earlier row of this file has the same id with other values",
        ),
        ("10", "quantity", "quantity is not a number"),
    ];
    assert_eq!(got.len(), expect.len(), "{got:?}");
    for ((line, column, reason), (l, c, why)) in got.iter().zip(expect) {
        assert_eq!((line.as_str(), column.as_str()), (l, c));
        assert!(reason.starts_with(why), "line {line}: {reason}");
    }
    // Leading zeros of ids survive into the warehouse.
    let mut engine = churnflow::SqlBackend::open(&p.warehouse_dir()).unwrap();
    let ids = engine
        .query("SELECT DISTINCT customer_id FROM transactions ORDER BY customer_id")
        .unwrap();
    assert_eq!(
        churnflow::str_values(&ids, "customer_id").unwrap(),
        ["007", "008"]
    );
}

#[test]
fn a_folder_of_daily_files_in_gzip_and_gbk_is_ingested_file_by_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let daily = dir.path().join("daily");
    std::fs::create_dir(&daily).unwrap();
    // Day 1 plain, day 2 gzip; names in GBK need the encoding set, so keep ids ASCII here.
    std::fs::write(
        daily.join("2024-02-01.csv"),
        format!("{HEADER}{}", rows(0..10)),
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(daily.join("2024-02-02.csv.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(format!("{HEADER}{}", rows(10..25)).as_bytes())
        .unwrap();
    gz.finish().unwrap();
    let p = Pipeline::load(&write_pipeline(dir.path(), &daily, "")).unwrap();
    let reports = churnflow::ingest(&p).unwrap();
    assert_eq!(
        reports.iter().map(|r| r.rows_accepted).collect::<Vec<_>>(),
        [10, 15]
    );
    assert_eq!(Manifest::load(&p.warehouse_dir()).unwrap().total_rows(), 25);
    // Nothing is left in the staging folder; a second pass adds nothing.
    let staging = p.warehouse_dir().join(".staging");
    assert_eq!(
        std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0),
        0
    );
    assert!(
        churnflow::ingest(&p)
            .unwrap()
            .iter()
            .all(|r| r.already_ingested)
    );

    // A GBK customer master with Chinese names arrives as UTF-8.
    let master = dir.path().join("customers_gbk.csv");
    let text = "customer_id,name,owner\n00001,华信贸易有限公司,李伟\n";
    std::fs::write(&master, encoding_rs::GBK.encode(text).0).unwrap();
    let extra = format!(
        "[customers]\npath = \"{}\"\nencoding = \"gbk\"\n[customers.columns]\ncustomer_id = \"customer_id\"\nname = \"name\"\nowner = \"owner\"\n",
        master.display()
    );
    let p = Pipeline::load(&write_pipeline(dir.path(), &daily, &extra)).unwrap();
    churnflow::ingest_all(&p).unwrap();
    let info = churnflow::customer_master(&p.warehouse_dir()).unwrap();
    assert_eq!(info["00001"].name, "华信贸易有限公司");
    assert_eq!(info["00001"].owner, "李伟");
}

#[test]
fn amounts_with_separators_and_currency_symbols_parse_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export.csv");
    std::fs::write(
        &csv,
        "order_id;customer_id;order_date;amount;quantity\n1;A;2024-01-02;\"€ 1.234,50\";1\n2;A;2024-01-03;-12,00 €;1\n3;B;2024-01-04;7;1\n",
    )
    .unwrap();
    let extra = "";
    let path = write_pipeline(dir.path(), &csv, extra);
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "[source]\n",
        "[source]\ndelimiter = \";\"\nthousands_separator = \".\"\ndecimal_separator = \",\"\ncurrency_symbols = \"€\"\n",
    );
    std::fs::write(&path, text).unwrap();
    let p = Pipeline::load(&path).unwrap();
    let r = churnflow::ingest(&p).unwrap().remove(0);
    assert_eq!((r.rows_accepted, r.rows_rejected), (3, 0));
    let mut engine = churnflow::SqlBackend::open(&p.warehouse_dir()).unwrap();
    let df = engine
        .query("SELECT amount FROM transactions ORDER BY day")
        .unwrap();
    assert_eq!(
        churnflow::f64_values(&df, "amount").unwrap(),
        [Some(1234.5), Some(-12.0), Some(7.0)]
    );
}

mod fuzz {
    //! The nearest thing to `cargo fuzz` on this machine (it needs a nightly toolchain, which
    //! cannot be installed here): random CSV-like bytes through the real reader and validator.
    //! Ingest must either succeed with every row accounted for or fail with an error; never panic.
    use super::*;
    use proptest::prelude::*;

    fn csv_like() -> impl Strategy<Value = Vec<u8>> {
        let pieces = prop::sample::select(vec![
            "A",
            "007",
            ",",
            ",",
            ",",
            "\n",
            "\r\n",
            "\"",
            "2024-01-02",
            "2024-13-45",
            "10.5",
            "-3",
            "NaN",
            "1e308",
            "",
            " ",
            ";",
            "\t",
            "华",
            "\u{feff}",
            "x\"y",
            "1,5",
            "9999-99-99 99:99:99",
        ]);
        prop::collection::vec(pieces, 0..200).prop_map(|v| v.concat().into_bytes())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn random_exports_never_panic(body in csv_like(), raw in prop::collection::vec(any::<u8>(), 0..64)) {
            let dir = tempfile::tempdir().unwrap();
            let csv = dir.path().join("export.csv");
            let mut bytes = HEADER.as_bytes().to_vec();
            bytes.extend(body);
            bytes.extend(raw);
            std::fs::write(&csv, &bytes).unwrap();
            let mut p = Pipeline::load(&write_pipeline(dir.path(), &csv, "")).unwrap();
            p.source.max_rejected_share = 1.0;
            let result = churnflow::ingest(&p);
            if let Ok(reports) = result {
                let r = &reports[0];
                prop_assert_eq!(
                    r.rows_accepted + r.rows_rejected + r.rows_duplicate + r.rows_restated,
                    r.rows_read
                );
                let stored = Manifest::load(&p.warehouse_dir()).unwrap().total_rows();
                prop_assert_eq!(stored, r.rows_accepted + r.rows_restated);
            }
        }
    }
}

#[test]
fn malformed_records_are_quarantined_with_their_real_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export.csv");
    let mut bytes = b"order_id,customer_id,order_date,amount,quantity\n\
        1,A,2024-01-02,10.00,1\n\
        2,\"B, with\nnewline\",2024-01-03,11.00,1\n\
        3,C,2024-01-04,12.00,1,extra\n\
        4,D,2024-01-05,13.00,1\n"
        .to_vec();
    bytes.extend(b"5,\xff\xfe,2024-01-06,14.00,1\n6,E,2024-01-07,15.00\n");
    std::fs::write(&csv, bytes).unwrap();
    let mut p = Pipeline::load(&write_pipeline(dir.path(), &csv, "")).unwrap();
    p.source.max_rejected_share = 1.0;
    let r = churnflow::ingest(&p).unwrap().remove(0);
    assert_eq!((r.rows_read, r.rows_accepted, r.rows_rejected), (6, 4, 2));
    let (_, rows) = crate::util::read_csv(&p.warehouse_dir().join(r.quarantine.unwrap()));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[1].as_str(), r[3].as_str()))
        .collect();
    // The quoted newline makes record 2 span lines 3-4, so later records keep their real lines.
    // The short last record is padded (quantity is optional), as a direct read would.
    assert_eq!(
        got,
        [
            ("5", "expected 5 fields, found 6"),
            ("7", "not valid UTF-8 text (check source.encoding)"),
        ]
    );
    let mut engine = churnflow::SqlBackend::open(&p.warehouse_dir()).unwrap();
    let ids = engine
        .query("SELECT customer_id FROM transactions ORDER BY day")
        .unwrap();
    assert_eq!(
        churnflow::str_values(&ids, "customer_id").unwrap(),
        ["A", "B, with\nnewline", "D", "E"]
    );
}

/// An export exercising everything that crosses chunk boundaries: a quoted line break, a blank
/// line, a repeated row, a reused order id, a malformed record and a bad value, spread far apart.
fn tricky_export() -> String {
    let mut text = String::from("order_id,customer_id,order_date,amount,quantity,note\n");
    for i in 0..300 {
        let line = match i {
            50 => "SO50,00001,2024-02-10 10:00:00,60.50,1,\"two\nlines\"\n".to_string(),
            120 => "SO10,00003,2024-05-10 10:00:00,20.50,2,plain\n".to_string(),
            150 => "SO20,00006,2024-03-10 10:00:00,999.50,3,plain\n".to_string(),
            200 => "SO200,00004,2024-03-10 10:00:00,1.50,1,plain,extra,fields\n".to_string(),
            250 => "SO250,00005,2024-05-10 10:00:00,abc,1,plain\n".to_string(),
            _ => format!(
                "SO{i},{:05},2024-0{}-1{} 10:00:00,{}.50,{},plain\n",
                i % 7,
                1 + i % 6,
                i % 10,
                10 + i,
                1 + i % 3
            ),
        };
        text.push_str(&line);
        if i == 100 {
            text.push('\n');
        }
    }
    text
}

/// Ingests `text` with chunks of `chunk_bytes` (None = the default) through the binary; returns
/// the warehouse rows in a fixed order, the quarantine text and the batch's counts.
fn ingest_with_chunks(
    text: &str,
    chunk_bytes: Option<usize>,
) -> (polars::prelude::DataFrame, String, (u64, u64, u64, u64)) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export.csv");
    std::fs::write(&csv, text).unwrap();
    let pipeline = write_pipeline(dir.path(), &csv, "");
    let mut cmd = crate::util::churnflow();
    if let Some(n) = chunk_bytes {
        cmd.env("CHURNFLOW_INGEST_CHUNK_BYTES", n.to_string());
    }
    cmd.arg("ingest").arg(&pipeline).assert().success();
    let p = Pipeline::load(&pipeline).unwrap();
    let wh = p.warehouse_dir();
    let m = Manifest::load(&wh).unwrap();
    let b = &m.batches[0];
    let counts = (
        b.rows_read,
        b.rows_rejected,
        b.rows_duplicate,
        m.total_rows(),
    );
    let rows = churnflow::SqlBackend::open(&wh)
        .and_then(|mut e| {
            e.query(
                "SELECT customer_id, ts, amount, quantity, order_id FROM transactions \
                 ORDER BY ts, customer_id, order_id",
            )
        })
        .unwrap();
    let quarantine = std::fs::read_to_string(wh.join(b.quarantine.as_ref().unwrap()))
        .unwrap()
        .replace(&dir.path().display().to_string(), "DIR");
    (rows, quarantine, counts)
}

#[test]
fn chunk_size_changes_nothing_that_is_loaded_or_quarantined() {
    let text = tricky_export();
    let (whole, whole_q, whole_counts) = ingest_with_chunks(&text, None);
    // 300 records; rejected: the reused order id, the malformed record, the bad amount; the
    // repeated row is a duplicate.
    assert_eq!(whole_counts, (300, 3, 1, 296));
    let lines: Vec<&str> = whole_q
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    // Lines count the header, the quoted line break and the blank line.
    assert_eq!(lines, ["154", "204", "254"], "{whole_q}");
    for chunk in [40, 200, 1000] {
        let (rows, q, counts) = ingest_with_chunks(&text, Some(chunk));
        assert_eq!(counts, whole_counts, "chunks of {chunk} bytes");
        assert!(rows.equals_missing(&whole), "chunks of {chunk} bytes");
        assert_eq!(q, whole_q, "chunks of {chunk} bytes");
    }
}

#[test]
fn staging_left_by_a_killed_run_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = export_pipeline(dir.path(), format!("{HEADER}{}", rows(0..10)), "");
    let leftover = p
        .warehouse_dir()
        .join(".staging/bdeadbeef/202401-0.parquet");
    std::fs::create_dir_all(leftover.parent().unwrap()).unwrap();
    std::fs::write(&leftover, b"partial").unwrap();
    churnflow::ingest(&p).unwrap();
    let staging = p.warehouse_dir().join(".staging");
    let left: Vec<_> = walk(&staging);
    assert!(left.is_empty(), "{left:?}");
}

/// Every file below `dir` (none when it does not exist).
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}
