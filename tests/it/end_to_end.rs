//! The real binary on generated data in a temporary folder.

use std::path::Path;

use predicates::prelude::*;

use crate::util::{churnflow, generate, read_csv, write_pipeline};

fn manifest_rows(work: &Path) -> u64 {
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(work.join("warehouse/_manifest.json")).unwrap(),
    )
    .unwrap();
    m["batches"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["parts"].as_array().unwrap().clone())
        .map(|p| p["rows"].as_u64().unwrap())
        .sum()
}

#[test]
fn run_writes_a_ranked_list_and_reingest_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 400, 7, 3);
    let pipeline = write_pipeline(
        dir.path(),
        &tx,
        "[scoring]\nlist_quadrants = [\"act_now\", \"monitor\"]\n",
    );

    churnflow()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("validation ROC AUC"))
        .stdout(predicate::str::contains("rank  customer"))
        .stderr(predicate::str::contains("3 rejected rows written"));

    let work = dir.path().join("work");
    let rows = manifest_rows(&work);
    // outputs/latest.json names the night's folder.
    let latest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("outputs/latest.json")).unwrap())
            .unwrap();
    let as_of_dir = work.join("outputs").join(latest["dir"].as_str().unwrap());
    let list = as_of_dir.join("at_risk_key_accounts.csv");
    assert!(
        std::fs::read(&list).unwrap().starts_with(b"\xEF\xBB\xBF"),
        "list must start with a BOM"
    );
    let (header, records) = read_csv(&list);
    assert_eq!(header, churnflow::LIST_COLUMNS);
    assert!(!records.is_empty(), "the list is empty");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut previous_evar = f64::INFINITY;
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r[col("rank")], (i + 1).to_string());
        let p: f64 = r[col("churn_probability")].parse().unwrap();
        assert!((0.0..=1.0).contains(&p), "probability {p}");
        let evar: f64 = r[col("expected_value_at_risk")].parse().unwrap();
        assert!(
            evar <= previous_evar + 1e-9,
            "list not ranked by value at risk"
        );
        previous_evar = evar;
        assert_eq!(r[col("key_account")], "true");
        assert!(["act_now", "monitor"].contains(&r[col("quadrant")].as_str()));
        if r[col("quadrant")] == "act_now" {
            assert!(
                !r[col("reason_1")].is_empty(),
                "an at-risk account must say why"
            );
        }
    }

    // Re-ingesting the same file adds nothing.
    churnflow()
        .arg("ingest")
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("already ingested"));
    assert_eq!(manifest_rows(&work), rows);

    // A second night with a model in place scores without retraining.
    churnflow()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("no current model").not());
}

#[test]
fn bad_rows_are_quarantined_with_reasons_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 60, 7, 6);
    let pipeline = write_pipeline(dir.path(), &tx, "");
    churnflow()
        .arg("ingest")
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("6 rejected"));
    let q = std::fs::read_dir(dir.path().join("work/warehouse/quarantine"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (header, records) = read_csv(&q);
    assert_eq!(&header[..4], ["source_file", "line", "column", "reason"]);
    assert_eq!(records.len(), 6);
    let reasons: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| *r == &("customer_id", "missing customer id"))
            .count(),
        2
    );
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.0 == "order_date" && r.1.starts_with("unparseable timestamp"))
            .count(),
        2
    );
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.0 == "amount" && r.1.starts_with("amount is not a number"))
            .count(),
        2
    );
    // The line number points at the bad record in the source file.
    let source = std::fs::read_to_string(&tx).unwrap();
    for r in &records {
        let line: usize = r[1].parse().unwrap();
        let text = source.lines().nth(line - 1).unwrap();
        assert!(
            text.starts_with(&r[4]),
            "line {line} is {text:?}, expected order {}",
            r[4]
        );
    }
}

#[test]
fn invalid_pipeline_lists_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = write_pipeline(
        dir.path(),
        Path::new("tx.csv"),
        "[label]\nhorizon_days = -3\n[scoring]\nkey_value_share = 2.0\n",
    );
    churnflow()
        .arg("train")
        .arg(&pipeline)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "label.horizon_days: expected 1..=1095, found -3",
        ))
        .stderr(predicate::str::contains("scoring.key_value_share"));
}

#[test]
fn missing_column_names_the_file_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let tx = dir.path().join("tx.csv");
    std::fs::write(
        &tx,
        "order_id;customer_id;order_date;amount;quantity\n1;A;2024-01-01;5;1\n",
    )
    .unwrap();
    let pipeline = write_pipeline(dir.path(), &tx, "");
    churnflow()
        .arg("ingest")
        .arg(&pipeline)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "tx.csv: missing column(s) \"customer_id\"",
        ))
        .stderr(predicate::str::contains("source.delimiter"));
    assert!(!dir.path().join("work/warehouse/_manifest.json").exists());
}

#[test]
fn score_without_a_model_says_to_train_first() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 30, 7, 0);
    let pipeline = write_pipeline(dir.path(), &tx, "");
    churnflow().arg("ingest").arg(&pipeline).assert().success();
    churnflow()
        .arg("score")
        .arg(&pipeline)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no current model"))
        .stderr(predicate::str::contains("churnflow train"));
}

#[test]
fn validate_reports_every_input_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 20, 7, 0);
    let ok = write_pipeline(dir.path(), &tx, "");
    churnflow()
        .arg("validate")
        .arg(&ok)
        .assert()
        .success()
        .stdout(predicate::str::contains("is valid"));
    let text = std::fs::read_to_string(&ok)
        .unwrap()
        .replace("timestamp = \"order_date\"", "timestamp = \"date\"")
        + "[events]\npath = \"no_such_events.csv\"\n[events.columns]\ncustomer_id = \"customer_id\"\nts = \"timestamp\"\nkind = \"kind\"\n";
    std::fs::write(&ok, text).unwrap();
    churnflow()
        .arg("validate")
        .arg(&ok)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "missing column(s) \"date\" (source.columns.timestamp)",
        ))
        .stderr(predicate::str::contains("[events]"))
        .stderr(predicate::str::contains("no_such_events.csv"));
}

#[test]
fn validate_checks_the_engine_and_says_what_this_build_can_run() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 20, 7, 0);
    let with_engine =
        |engine: &str| write_pipeline(dir.path(), &tx, &format!("[engine]\n{engine}\n"));
    churnflow()
        .arg("validate")
        .arg(with_engine("kind = \"polars\""))
        .assert()
        .success()
        .stdout(predicate::str::contains("ok: [engine] polars"));
    // A listening socket stands in for a scheduler; a port just closed has none.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let reachable = churnflow()
        .arg("validate")
        .arg(with_engine(&format!(
            "kind = \"ballista\"\nendpoint = \"df://127.0.0.1:{open}\"\ntarget_partitions = 4"
        )))
        .assert();
    let unreachable = churnflow()
        .arg("validate")
        .arg(with_engine(&format!(
            "kind = \"ballista\"\nendpoint = \"df://127.0.0.1:{closed}\""
        )))
        .assert()
        .code(2);
    if churnflow::EngineKind::Ballista.available() {
        reachable.success().stdout(predicate::str::contains(format!(
            "ok: [engine] ballista at df://127.0.0.1:{open} (the scheduler accepts connections), 4 partitions per query"
        )));
        unreachable.stderr(predicate::str::contains(format!(
            "[engine] the Ballista scheduler df://127.0.0.1:{closed} cannot be reached"
        )));
    } else {
        for a in [reachable.code(2), unreachable] {
            a.stderr(predicate::str::contains(
                "engine.kind: \"ballista\" needs a churnflow built with the `distributed` feature",
            ));
        }
    }
    // Mistakes in [engine] are listed together, whatever the build.
    churnflow()
        .arg("validate")
        .arg(with_engine(
            "kind = \"spark\"\nendpoint = \"df://x:1\"\ntarget_partitions = 0\nretries = 99",
        ))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "engine.kind: expected one of history, polars, datafusion, ballista, found \"spark\"",
        ))
        .stderr(predicate::str::contains(
            "engine.endpoint: only kind = \"ballista\"",
        ))
        .stderr(predicate::str::contains(
            "engine.target_partitions: expected 1..=4096, found 0",
        ))
        .stderr(predicate::str::contains(
            "engine.retries: expected 0..=10, found 99",
        ));
    drop(listener);
}

#[test]
fn a_mostly_broken_file_is_refused_whole_with_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let tx = dir.path().join("tx.csv");
    let mut text = String::from("order_id,customer_id,order_date,amount,quantity\n");
    for i in 0..10 {
        let amount = if i < 3 {
            "n/a".to_string()
        } else {
            format!("{i}.5")
        };
        text.push_str(&format!("{i},C{i},2024-01-0{},{amount},1\n", 1 + i % 9));
    }
    std::fs::write(&tx, text).unwrap();
    let pipeline = write_pipeline(dir.path(), &tx, "");
    churnflow()
        .arg("ingest")
        .arg(&pipeline)
        .assert()
        .code(4)
        .stderr(predicate::str::contains("3 of 10 rows rejected (30.0%)"))
        .stderr(predicate::str::contains("3 x amount is not a number"));
    assert!(!dir.path().join("work/warehouse/_manifest.json").exists());
    assert!(!dir.path().join("work/warehouse/transactions").exists());
}

#[test]
fn a_second_run_on_the_same_workdir_is_refused_while_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 2500, 7, 0);
    let pipeline = write_pipeline(dir.path(), &tx, "");
    let bin = assert_cmd::cargo::cargo_bin("churnflow");
    let mut first = std::process::Command::new(&bin)
        .arg("run")
        .arg(&pipeline)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = dir.path().join("work/.churnflow.lock");
    let start = std::time::Instant::now();
    // The holder writes its pid into the lock file once it holds the lock.
    let held = || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&format!("pid={}\n", first.id())))
    };
    while !held() {
        assert!(
            start.elapsed().as_secs() < 60,
            "the first run never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    churnflow()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "is locked by a running churnflow process",
        ))
        .stderr(predicate::str::contains(".churnflow.lock"));
    assert!(
        first.wait().unwrap().success(),
        "the first run must finish normally"
    );
    // The refused night is on record too, with its exit code and nothing committed.
    let runs: Vec<serde_json::Value> = std::fs::read_dir(dir.path().join("work/runs"))
        .unwrap()
        .map(|e| crate::util::json(&e.unwrap().path()))
        .collect();
    let refused: Vec<&serde_json::Value> = runs.iter().filter(|m| m["exit_code"] == 3).collect();
    assert_eq!(refused.len(), 1, "{runs:?}");
    assert_eq!(refused[0]["status"], "failed");
    assert!(
        refused[0]["committed"]["batches"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(runs.iter().any(|m| m["status"] == "succeeded"));
    // The lock ended with its process: the next night takes it.
    churnflow().arg("ingest").arg(&pipeline).assert().success();
}

#[test]
fn json_logs_are_one_object_per_line_on_stderr_for_schedulers() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 60, 7, 2);
    let pipeline = write_pipeline(dir.path(), &tx, "");
    let events = |args: &[&str]| -> (i32, String, Vec<serde_json::Value>) {
        let o = churnflow().args(args).arg(&pipeline).output().unwrap();
        let stderr = String::from_utf8(o.stderr).unwrap();
        let events = stderr
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
            .collect();
        let stdout = String::from_utf8(o.stdout).unwrap();
        (o.status.code().unwrap(), stdout, events)
    };
    let (code, stdout, ev) = events(&["--log-format", "json", "ingest"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    let level_of = |e: &serde_json::Value| e["level"].as_str().unwrap().to_string();
    let message = |e: &serde_json::Value| e["fields"]["message"].as_str().unwrap().to_string();
    assert!(ev.iter().any(|e| level_of(e) == "INFO"
        && message(e).starts_with("ingest: ")
        && message(e).contains("2 rejected")));
    assert!(
        ev.iter()
            .any(|e| level_of(e) == "WARN" && message(e).starts_with("2 rejected rows written"))
    );
    assert!(ev.iter().all(|e| e["timestamp"].is_string()));

    // --quiet keeps warnings only.
    std::fs::remove_dir_all(dir.path().join("work")).unwrap();
    let (_, _, ev) = events(&["--log-format", "json", "--quiet", "ingest"]);
    assert!(!ev.is_empty() && ev.iter().all(|e| level_of(e) == "WARN"));

    // The error that ends a command carries its exit code.
    let (code, _, ev) = events(&["--log-format", "json", "score"]);
    assert_eq!(code, 1);
    let last = ev.last().unwrap();
    assert_eq!(level_of(last), "ERROR");
    assert_eq!(last["fields"]["exit_code"], 1);
    assert!(message(last).contains("train"), "{last}");
}

/// `[engine] kind` picks how features, labels and lists are computed, never what they are:
/// the same night on the in-memory history and on the SQL text gives the same files.
#[test]
fn the_sql_backend_gives_the_nights_files_of_the_history_backend() {
    let mut outputs = Vec::new();
    for kind in churnflow::EngineKind::available_kinds() {
        let kind = kind.name();
        let dir = tempfile::tempdir().unwrap();
        let tx = generate(dir.path(), 300, 11, 0);
        let pipeline = write_pipeline(dir.path(), &tx, &format!("[engine]\nkind = \"{kind}\"\n"));
        churnflow().arg("run").arg(&pipeline).assert().success();
        let work = dir.path().join("work");
        let latest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(work.join("outputs/latest.json")).unwrap(),
        )
        .unwrap();
        let night = work.join("outputs").join(latest["dir"].as_str().unwrap());
        // The model id names the pipeline file's hash, which the [engine] line changes.
        let model_id = serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(work.join("models/registry.json")).unwrap(),
        )
        .unwrap()["current"]
            .as_str()
            .unwrap()
            .to_string();
        let mut files: Vec<(String, String)> = std::fs::read_dir(&night)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(&p).unwrap();
                (name, text.replace(&model_id, "MODEL"))
            })
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{files:?}");
        assert!(files.iter().any(|(_, t)| t.contains("MODEL")), "{files:?}");
        outputs.push(files);
    }
    assert_eq!(outputs[0], outputs[1]);
}
