//! Issue 14: ingest never loses, inflates or double-counts a row. Each test here failed on the
//! code before the fix (the numbers in the comments are what that code did).

use churnflow::Manifest;
use churnflow::Pipeline;

use crate::formats::ingest_with;
use crate::util::{churnflow, read_csv};

const SOURCE: &str = r#"[source]
path = "{FILE}"
max_rejected_share = 1.0
[source.columns]
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
order_id = "order_id"
product_id = "product"
"#;

/// 1,000 rows, row 500 with an unclosed quote in its product name. With `quoted`, every other
/// row quotes its amount, so the stray quote finds a "closing" quote on the next line.
fn stray_quote_export_with(quoted: bool) -> String {
    let mut text = String::from("order_id,customer_id,ts,amount,product\n");
    for i in 1..=1000 {
        let product = if i == 500 {
            "\"Bolt 3/4 steel".to_string()
        } else {
            format!("P{i}")
        };
        let amount = if quoted && i % 2 == 1 {
            "\"10.00\""
        } else {
            "10.00"
        };
        text.push_str(&format!("{i},C{i},2024-01-02,{amount},{product}\n"));
    }
    text
}

fn stray_quote_export() -> String {
    stray_quote_export_with(false)
}

#[test]
fn a_stray_quote_quarantines_its_record_and_reading_resumes_on_the_next_line() {
    // Before: 500 rows read, 500 accepted, 0 rejected; the other 500 rows vanished into one field.
    let (r, quarantine, stored) =
        ingest_with("stray.csv", stray_quote_export().as_bytes(), SOURCE).unwrap();
    assert_eq!(
        (r.rows_read, r.rows_accepted, r.rows_rejected),
        (1000, 999, 1)
    );
    assert_eq!(stored.len(), 999);
    assert_eq!(quarantine.len(), 1);
    // Header is line 1, so row 500 is line 501.
    assert_eq!(quarantine[0][1], "501");
    assert!(
        quarantine[0][3].starts_with("unclosed quote"),
        "{quarantine:?}"
    );
    // Lines reconcile with the file: 1,001 lines = header + read.
    assert_eq!(stray_quote_export().lines().count() as u64, r.rows_read + 1);
    // The same when the next line's quote "closes" the stray one.
    let (r, quarantine, stored) = ingest_with(
        "stray2.csv",
        stray_quote_export_with(true).as_bytes(),
        SOURCE,
    )
    .unwrap();
    assert_eq!(
        (r.rows_read, r.rows_accepted, r.rows_rejected),
        (1000, 999, 1),
        "{quarantine:?}"
    );
    assert_eq!((stored.len(), quarantine[0][1].as_str()), (999, "501"));
}

#[test]
fn a_stray_quote_is_found_whatever_the_chunk_size_and_the_gate_fires() {
    for chunk in ["300", "5000", "100000"] {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("export.csv");
        std::fs::write(&csv, stray_quote_export()).unwrap();
        let p = dir.path().join("p.toml");
        std::fs::write(
            &p,
            format!(
                "name = \"t\"\nworkdir = \"work\"\n{}",
                SOURCE
                    .replace("{FILE}", &csv.display().to_string())
                    .replace("max_rejected_share = 1.0", "max_rejected_share = 0.0")
            ),
        )
        .unwrap();
        // One rejected row of 1,000 is above a share of 0: the gate now sees it (exit 4).
        churnflow()
            .env("CHURNFLOW_INGEST_CHUNK_BYTES", chunk)
            .arg("ingest")
            .arg(&p)
            .assert()
            .code(4)
            .stderr(predicates::str::contains("1 of 1000 rows rejected"));
    }
}

#[test]
fn a_stray_quote_in_a_file_read_whole_is_set_aside_too() {
    // Header-less CSV is read whole, not in chunks.
    let source = r#"[source]
path = "{FILE}"
has_header = false
max_rejected_share = 1.0
[source.columns]
customer_id = "1"
timestamp = "2"
amount = "3"
"#;
    let body = "A,2024-01-02,1\nB,2024-01-03,\"2\nC,2024-01-04,3\nD,2024-01-05,4\n";
    let (r, quarantine, stored) = ingest_with("whole.csv", body.as_bytes(), source).unwrap();
    assert_eq!((r.rows_read, r.rows_rejected), (4, 1));
    assert_eq!(quarantine[0][1], "2");
    let ids: Vec<&str> = stored.iter().map(|s| s[0].as_str()).collect();
    assert_eq!(ids, ["A", "C", "D"]);
}

#[test]
fn locale_numbers_are_validated_not_stripped() {
    // Before: "12.50" and "1.5" were stored as 1250 and 15.
    let source = SOURCE.replace(
        "max_rejected_share = 1.0",
        "max_rejected_share = 1.0\nthousands_separator = \".\"\ndecimal_separator = \",\"\ncurrency_symbols = \"€\"",
    );
    let body = "order_id,customer_id,ts,amount,product\n\
                1,A,2024-01-02,\"1.234,50 €\",x\n\
                2,B,2024-01-03,\"12,50\",x\n\
                3,C,2024-01-04,12.50,x\n\
                4,D,2024-01-05,1.5,x\n\
                5,E,2024-01-06,\"1,234.50\",x\n\
                6,F,2024-01-07,1.234.567,x\n";
    let (r, quarantine, stored) = ingest_with("eu.csv", body.as_bytes(), &source).unwrap();
    assert_eq!((r.rows_read, r.rows_accepted, r.rows_rejected), (6, 3, 3));
    let amounts: Vec<(&str, &str)> = stored
        .iter()
        .map(|s| (s[0].as_str(), s[2].as_str()))
        .collect();
    assert_eq!(
        amounts,
        [("A", "1234.5"), ("B", "12.5"), ("F", "1234567.0")]
    );
    let lines: Vec<&str> = quarantine.iter().map(|q| q[1].as_str()).collect();
    assert_eq!(lines, ["4", "5", "6"]);
    for q in &quarantine {
        assert!(q[3].starts_with("ambiguous number"), "{q:?}");
    }
}

const ZONED: &str = r#"[source]
path = "{FILE}"
timezone = "Asia/Shanghai"
max_rejected_share = 1.0
[source.columns]
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
"#;

#[test]
fn an_explicit_offset_wins_and_the_zone_applies_to_naive_times_only() {
    // Before: a %z format with timezone = "Asia/Shanghai" stored the instant 8 hours off, and
    // ISO values with an offset or Z were quarantined by default.
    let with_format = ZONED.replace(
        "timezone",
        "timestamp_format = \"%Y-%m-%dT%H:%M:%S%z\"\ntimezone",
    );
    let body = "customer_id,ts,amount\nA,2024-01-02T10:00:00+08:00,1\n";
    let (_, _, stored) = ingest_with("z.csv", body.as_bytes(), &with_format).unwrap();
    assert_eq!(stored[0][1], "2024-01-02 02:00:00.000");

    let body = "customer_id,ts,amount\n\
                A,2024-01-02T10:00:00+08:00,1\n\
                B,2024-01-02T02:00:00Z,2\n\
                C,2024-01-02 10:00:00,3\n\
                D,2024-01-01T21:00:00-05:00,4\n\
                E,02/01/2024 10:00,5\n";
    let (r, quarantine, stored) = ingest_with("iso.csv", body.as_bytes(), ZONED).unwrap();
    assert_eq!(r.rows_accepted, 4);
    for s in &stored {
        assert_eq!(s[1], "2024-01-02 02:00:00.000", "{s:?}");
    }
    // What still fails says what was found.
    assert!(
        quarantine[0][3].contains("found \"02/01/2024 10:00\""),
        "{quarantine:?}"
    );
}

#[test]
fn validate_warns_when_the_zone_cannot_apply() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("e.csv");
    std::fs::write(
        &csv,
        "customer_id,ts,amount\nA,2024-01-02T10:00:00+08:00,1\n",
    )
    .unwrap();
    let p = dir.path().join("p.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"t\"\nworkdir = \"work\"\n{}",
            ZONED.replace("{FILE}", &csv.display().to_string()).replace(
                "timezone",
                "timestamp_format = \"%Y-%m-%dT%H:%M:%S%:z\"\ntimezone"
            )
        ),
    )
    .unwrap();
    churnflow()
        .arg("validate")
        .arg(&p)
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "source.timezone = \"Asia/Shanghai\" never applies",
        ));
}

#[test]
fn a_mostly_broken_side_table_is_refused_with_exit_4_and_nothing_written() {
    // Before: a 90%-broken arrears file was loaded and the model trained on it.
    let dir = tempfile::tempdir().unwrap();
    let tx = dir.path().join("tx.csv");
    std::fs::write(
        &tx,
        "order_id,customer_id,order_date,amount,quantity\n1,A,2024-01-02,10,1\n",
    )
    .unwrap();
    let arrears = dir.path().join("arrears.csv");
    let mut text = String::from("customer_id,as_of,outstanding,days_overdue\n");
    for i in 0..20 {
        let days = if i < 2 { "3" } else { "many" };
        text.push_str(&format!("C{i},2024-01-31,100,{days}\n"));
    }
    std::fs::write(&arrears, text).unwrap();
    let side = format!(
        "[arrears]\npath = \"{}\"\n[arrears.columns]\ncustomer_id = \"customer_id\"\n\
         as_of = \"as_of\"\noutstanding = \"outstanding\"\ndays_overdue = \"days_overdue\"\n",
        arrears.display()
    );
    let path = crate::util::write_pipeline(dir.path(), &tx, &side);
    churnflow()
        .arg("ingest")
        .arg(&path)
        .assert()
        .code(4)
        .stderr(predicates::str::contains(
            "18 of 20 rows rejected (90.0%), above arrears.max_rejected_share = 0.05",
        ));
    let p = Pipeline::load(&path).unwrap();
    let m = Manifest::load(&p.warehouse_dir()).unwrap();
    assert!(m.side_batches.is_empty(), "{:?}", m.side_batches);
    assert!(!p.warehouse_dir().join("arrears").exists());
    // The share is the table's own: raised, the same file loads.
    let lenient = crate::util::write_pipeline(
        dir.path(),
        &tx,
        &side.replace("[arrears]\n", "[arrears]\nmax_rejected_share = 0.95\n"),
    );
    let reports = churnflow::ingest_all(&Pipeline::load(&lenient).unwrap()).unwrap();
    assert_eq!(reports.last().unwrap().rows_rejected, 18);
}

#[test]
fn a_night_outside_the_data_exits_2_naming_its_range() {
    // Before: exit 0, an empty list, and yesterday's list "resolved".
    let dir = tempfile::tempdir().unwrap();
    let tx = crate::util::generate(dir.path(), 150, 3, 0);
    let path = crate::util::write_pipeline(dir.path(), &tx, "");
    churnflow().arg("ingest").arg(&path).assert().success();
    let (_, rows) = read_csv(&tx);
    let mut days: Vec<&str> = rows.iter().map(|r| &r[2][..10]).collect();
    days.sort();
    let (first, last) = (days[0], days[days.len() - 1]);
    let range = format!("the warehouse holds data from {first} to {last}");
    for (cmd, as_of) in [("features", "1999-01-01"), ("run", "2099-01-01")] {
        churnflow()
            .args([cmd, path.to_str().unwrap(), "--as-of", as_of])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(range.as_str()));
    }
    // Nothing was trained for the refused night.
    assert!(!dir.path().join("work/models/registry.json").exists());
}

#[test]
fn parallel_ingests_against_a_left_lock_file_load_the_export_exactly_once() {
    // Before: a lock left by a run on another host name (or empty, or garbled) blocked every
    // later night with exit 3.
    let dir = tempfile::tempdir().unwrap();
    let tx = crate::util::generate(dir.path(), 200, 5, 0);
    let path = crate::util::write_pipeline(dir.path(), &tx, "");
    std::fs::create_dir_all(dir.path().join("work")).unwrap();
    std::fs::write(
        dir.path().join("work/.churnflow.lock"),
        "pid=1\nhost=restarted-container-7f3a\n",
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("churnflow");
    let children: Vec<_> = (0..8)
        .map(|_| {
            std::process::Command::new(&bin)
                .arg("ingest")
                .arg(&path)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut codes = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let code = out.status.code().unwrap();
        if code == 3 {
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("is locked by a running"),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        codes.push(code);
    }
    assert!(codes.iter().all(|&c| c == 0 || c == 3), "{codes:?}");
    assert!(codes.contains(&0), "{codes:?}");
    let p = Pipeline::load(&path).unwrap();
    let m = Manifest::load(&p.warehouse_dir()).unwrap();
    assert_eq!(m.batches.len(), 1, "the export was committed once");
    let (_, rows) = read_csv(&tx);
    assert_eq!(m.batches[0].rows_read, rows.len() as u64);
}

#[test]
fn two_pipelines_sharing_a_models_folder_lose_no_registry_decision() {
    let dir = tempfile::tempdir().unwrap();
    let tx = crate::util::generate(dir.path(), 300, 9, 0);
    let models = dir.path().join("shared-models");
    let bin = assert_cmd::cargo::cargo_bin("churnflow");
    let pipelines: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            let sub = dir.path().join(name);
            std::fs::create_dir_all(&sub).unwrap();
            let p = crate::util::write_pipeline(&sub, &tx, "");
            let text = std::fs::read_to_string(&p).unwrap().replace(
                "workdir = \"work\"\n",
                &format!(
                    "workdir = \"work\"\nmodels_dir = \"{}\"\n",
                    models.display()
                ),
            );
            std::fs::write(&p, text).unwrap();
            churnflow().arg("ingest").arg(&p).assert().success();
            p
        })
        .collect();
    let children: Vec<_> = pipelines
        .iter()
        .map(|p| {
            std::process::Command::new(&bin)
                .arg("train")
                .arg(p)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        assert!(c.wait_with_output().unwrap().status.success());
    }
    let reg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models.join("registry.json")).unwrap())
            .unwrap();
    assert_eq!(reg["history"].as_array().unwrap().len(), 3, "{reg}");
}

/// A folder of deliveries and its pipeline (order ids mapped; `extra` appended to `[source]`).
fn deliveries(dir: &std::path::Path, extra: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let folder = dir.join("exports");
    std::fs::create_dir_all(&folder).unwrap();
    let path = crate::util::write_pipeline(dir, &folder, "");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[source]\n", &format!("[source]\n{extra}"));
    std::fs::write(&path, text).unwrap();
    (folder, path)
}

const TX: &str = "order_id,customer_id,order_date,amount,quantity\n";
const TWO_ORDERS: &str = "1,A,2024-01-31,100.00,1\n2,B,2024-02-05,20.00,1\n";
const THREE_ORDERS: &str =
    "1,A,2024-01-31,100.00,1\n2,B,2024-01-05,20.00,1\n3,C,2024-02-03,30.00,1\n";

/// Writes a delivery (header + `rows`) into the export folder.
fn deliver(folder: &std::path::Path, name: &str, rows: &str) {
    std::fs::write(folder.join(name), format!("{TX}{rows}")).unwrap();
}

/// (rows, revenue) in the warehouse.
fn stored(p: &Pipeline) -> (u64, f64) {
    use churnflow::SqlBackend;
    let mut e = SqlBackend::open(&p.warehouse_dir()).unwrap();
    let df = e
        .query("SELECT COUNT(*) AS n, SUM(amount) AS revenue FROM transactions")
        .unwrap();
    let n = churnflow::f64_values(&df, "n").unwrap()[0].unwrap();
    let r = churnflow::f64_values(&df, "revenue").unwrap()[0].unwrap();
    (n as u64, r)
}

fn ingest_cmd(path: &std::path::Path) -> assert_cmd::assert::Assert {
    churnflow().arg("ingest").arg(path).assert()
}

#[test]
fn a_restated_order_replaces_the_earlier_delivery_and_a_retract_puts_it_back() {
    // Before: order 1 corrected from 100.00 to 10.00 kept both rows (revenue counted twice).
    let dir = tempfile::tempdir().unwrap();
    let (folder, path) = deliveries(dir.path(), "");
    deliver(&folder, "day1.csv", THREE_ORDERS);
    ingest_cmd(&path).success();
    let p = Pipeline::load(&path).unwrap();
    assert_eq!(stored(&p), (3, 150.0));
    // Day 2 restates order 1 (amount, and a date in the next month), repeats order 2 with
    // spaces around its values, and adds order 4.
    std::fs::write(
        folder.join("day2.csv"),
        format!(
            "{TX}1,A,2024-02-01,10.00,1\n 2 , B ,2024-01-05, 20.00 ,1\n4,D,2024-02-04,40.00,1\n"
        ),
    )
    .unwrap();
    ingest_cmd(&path)
        .success()
        .stdout(predicates::str::contains("3 rows read from"))
        .stdout(predicates::str::contains(
            "1 accepted, 0 rejected, 1 duplicates dropped, 1 restating 1 earlier orders",
        ));
    assert_eq!(stored(&p), (4, 100.0));
    let m = Manifest::load(&p.warehouse_dir()).unwrap();
    let day2 = m.batches.last().unwrap();
    assert_eq!((day2.orders_replaced, day2.rows_restated), (1, 1));
    assert_eq!(day2.superseded.len(), 1);

    // The day-2 delivery was wrong: retract it. Order 1 is 100.00 again, order 4 is gone, and
    // the same file is not ingested again.
    churnflow()
        .args(["retract", path.to_str().unwrap(), &day2.batch_id])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "1 rows of earlier deliveries put back",
        ));
    assert_eq!(stored(&p), (3, 150.0));
    ingest_cmd(&path)
        .success()
        .stderr(predicates::str::contains("retracted"));
    assert_eq!(stored(&p), (3, 150.0));
    // An unknown batch is a usage error naming the known ones.
    churnflow()
        .args(["retract", path.to_str().unwrap(), "b0000"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no batch \"b0000\""));
}

#[test]
fn restatements_can_keep_the_first_delivery_or_be_quarantined() {
    for (policy, revenue, rejected) in [("keep_first", 150.0, 0), ("quarantine", 150.0, 1)] {
        let dir = tempfile::tempdir().unwrap();
        let keys = format!("restatements = \"{policy}\"\nmax_rejected_share = 1.0\n");
        let (folder, path) = deliveries(dir.path(), &keys);
        std::fs::write(
            folder.join("day1.csv"),
            format!(
                "{TX}1,A,2024-01-31,100.00,1\n2,B,2024-01-05,20.00,1\n3,C,2024-02-03,30.00,1\n"
            ),
        )
        .unwrap();
        ingest_cmd(&path).success();
        std::fs::write(
            folder.join("day2.csv"),
            format!("{TX}1,A,2024-01-31,10.00,1\n"),
        )
        .unwrap();
        let p = Pipeline::load(&path).unwrap();
        let r = churnflow::ingest(&p).unwrap();
        let r = r.iter().find(|r| !r.already_ingested).unwrap();
        assert_eq!(stored(&p), (3, revenue), "{policy}");
        assert_eq!(r.rows_rejected, rejected, "{policy}");
        assert_eq!(
            r.rows_accepted + r.rows_rejected + r.rows_duplicate + r.rows_restated,
            r.rows_read
        );
        if rejected > 0 {
            let (_, q) = read_csv(&p.warehouse_dir().join(r.quarantine.as_ref().unwrap()));
            assert_eq!(q[0][1], "2");
            assert!(q[0][3].starts_with("restated order"), "{q:?}");
        }
    }
}

#[test]
fn a_lost_manifest_never_deletes_data_and_repair_rebuilds_it() {
    // Before: with _manifest.json gone, the next ingest deleted every part and exited 0.
    let dir = tempfile::tempdir().unwrap();
    let (folder, path) = deliveries(dir.path(), "");
    deliver(&folder, "day1.csv", TWO_ORDERS);
    std::fs::write(
        folder.join("day2.csv"),
        format!("{TX}1,A,2024-01-31,10.00,1\n"),
    )
    .unwrap();
    ingest_cmd(&path).success();
    let p = Pipeline::load(&path).unwrap();
    let before = stored(&p);
    assert_eq!(before, (2, 30.0));
    let wh = p.warehouse_dir();
    let parts = churnflow::part_files(&wh).unwrap();
    for broken in [None, Some("{ not json")] {
        match broken {
            None => std::fs::remove_file(wh.join("_manifest.json")).unwrap(),
            Some(text) => std::fs::write(wh.join("_manifest.json"), text).unwrap(),
        }
        for cmd in ["ingest", "run"] {
            churnflow()
                .args([cmd, path.to_str().unwrap()])
                .assert()
                .code(3)
                .stderr(predicates::str::contains("_manifest.json"))
                .stderr(predicates::str::contains("churnflow repair"));
        }
        assert_eq!(
            churnflow::part_files(&wh).unwrap(),
            parts,
            "no part was touched"
        );
        churnflow()
            .args(["repair", path.to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicates::str::contains(
                "manifest rebuilt from the parts: 2 batches",
            ));
        // Both deliveries are known again (not re-ingested), with the same rows.
        ingest_cmd(&path)
            .success()
            .stdout(predicates::str::contains("2 files already ingested"));
        assert_eq!(stored(&p), before);
    }
}

#[test]
fn a_damaged_part_is_named_and_repair_sets_its_batch_aside_for_reingest() {
    let dir = tempfile::tempdir().unwrap();
    let (folder, path) = deliveries(dir.path(), "");
    deliver(&folder, "day1.csv", TWO_ORDERS);
    ingest_cmd(&path).success();
    let p = Pipeline::load(&path).unwrap();
    let before = stored(&p);
    let m = Manifest::load(&p.warehouse_dir()).unwrap();
    let part = p.warehouse_dir().join(&m.batches[0].parts[0].path);
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    let batch = m.batches[0].batch_id.clone();
    for cmd in ["ingest", "run"] {
        churnflow()
            .args([cmd, path.to_str().unwrap()])
            .assert()
            .code(3)
            .stderr(predicates::str::contains(part.to_str().unwrap()))
            .stderr(predicates::str::contains(format!("batch {batch}")));
    }
    churnflow()
        .args(["repair", path.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicates::str::contains(format!(
            "batch {batch} had a damaged part"
        )));
    // The damaged file is kept aside, and the next ingest reads the source again.
    assert!(p.warehouse_dir().join("_damaged").join(&batch).exists());
    ingest_cmd(&path)
        .success()
        .stdout(predicates::str::contains("2 accepted"));
    assert_eq!(stored(&p), before);
}

#[test]
fn every_config_problem_is_reported_at_once_type_errors_included() {
    // Before: only the first wrong type was reported.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("e.csv");
    std::fs::write(&csv, TX).unwrap();
    let path = crate::util::write_pipeline(
        dir.path(),
        &csv,
        "[train]\ncutoffs = \"six\"\nmax_iterations = 1.5\n[scoring]\nrisk_threshold = \"high\"\n\
         shoe_size = 3\n[label]\nhorizon_days = 0\n[engine]\nkind = \"spark\"\n",
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[source]\n", "[source]\nmax_rejected_share = \"lots\"\n");
    std::fs::write(&path, text).unwrap();
    let assert = churnflow().arg("validate").arg(&path).assert().code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    for want in [
        "max_rejected_share",
        "cutoffs",
        "max_iterations",
        "risk_threshold",
        "unknown field `shoe_size`",
        "label.horizon_days",
        "engine.kind: expected one of history, polars, datafusion, ballista, found \"spark\"",
    ] {
        assert!(err.contains(want), "{want} not reported:\n{err}");
    }
}

#[test]
fn errors_name_the_users_file_never_a_staging_copy() {
    // Before: "reading work/warehouse/.staging/<pid>-chunk-2.csv as CSV: a record has more
    // fields than the header" for a header that names a column twice.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export.csv");
    std::fs::write(
        &csv,
        "order_id,customer_id,order_date,amount,amount\n1,A,2024-01-02,10,11\n",
    )
    .unwrap();
    let path = crate::util::write_pipeline(dir.path(), &csv, "");
    let assert = churnflow().arg("ingest").arg(&path).assert().code(1);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        err.contains("export.csv: the header names column \"amount\" 2 times"),
        "{err}"
    );
    assert!(!err.contains(".staging"), "{err}");
}
