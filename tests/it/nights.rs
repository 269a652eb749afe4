//! Lists a team can work through and nights a scheduler can rely on: one account on one list,
//! a reason for every row, capacity, warnings naming the rule, the population window, failed
//! nights on record, freshness, `outputs/latest.json` and structured JSON logs.

use std::collections::HashSet;
use std::path::Path;

use predicates::prelude::*;

use crate::util::{churnflow, generate, json, read_csv, write_pipeline};

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

/// Every run manifest under `work/runs`, oldest first.
fn run_manifests(work: &Path) -> Vec<serde_json::Value> {
    let mut paths: Vec<_> = std::fs::read_dir(work.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths.iter().map(|p| json(p)).collect()
}

#[test]
fn every_listed_account_is_on_one_list_with_a_reason_and_the_list_has_a_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 600, 12, 0);
    // Everything at risk is listed (all quadrants with high risk), so the win-back list and the
    // at-risk list could overlap if lapsed accounts were listed.
    let pipeline = write_pipeline(
        dir.path(),
        &tx,
        "[train]\nalphas = [1.0]\n[scoring]\nrisk_threshold = 0.3\nlist_quadrants = [\"act_now\", \"low_cost_retention\"]\nmax_listed = 40\ncurrency = \"<EUR>\"\n[lifecycle]\nlost_after_days = 120\n",
    );
    let run = churnflow().arg("run").arg(&pipeline).assert().success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    let work = dir.path().join("work");
    let latest = json(&work.join("outputs/latest.json"));
    let out = work.join("outputs").join(latest["dir"].as_str().unwrap());
    let (header, rows) = read_csv(&out.join("at_risk_key_accounts.csv"));
    assert_eq!(rows.len(), 40, "the list holds max_listed rows");
    let id = column(&header, "customer_id");
    let listed: HashSet<&str> = rows.iter().map(|r| r[id].as_str()).collect();
    let (wh, winback) = read_csv(&out.join("winback.csv"));
    let wid = column(&wh, "customer_id");
    assert!(!winback.is_empty(), "no lapsed account to check against");
    for w in &winback {
        assert!(
            !listed.contains(w[wid].as_str()),
            "{} on both lists",
            w[wid]
        );
    }
    // No listed account is lost.
    let stage = column(&header, "lifecycle_stage");
    assert!(rows.iter().all(|r| r[stage] != "lost"));
    // Every row says why.
    let reason = column(&header, "reason_1");
    assert!(rows.iter().all(|r| !r[reason].is_empty()));
    // The accounts beyond the capacity are counted everywhere a person or a scheduler looks.
    let manifest = run_manifests(&work).pop().unwrap();
    let further = manifest["further_qualifying"].as_u64().unwrap();
    assert!(further > 0, "{manifest}");
    assert!(
        stdout.contains(&format!("{further} more accounts qualify")),
        "{stdout}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(&format!("{further} more qualify")));
    assert!(html.contains("15 more on the list"), "40 listed, 25 shown");
    assert!(html.contains("Win back: lapsed key accounts"));
    // Money carries the currency label, escaped like any text from the pipeline file.
    assert!(html.contains("&lt;EUR&gt; ") && !html.contains("<EUR>"));
    assert!(html.contains("Resolved since the previous night"));
    assert_eq!(latest["listed_accounts"], 40);

    // Per owner: without a customer master every account shares one owner ("").
    let text = std::fs::read_to_string(&pipeline).unwrap();
    std::fs::write(
        &pipeline,
        text.replace(
            "max_listed = 40",
            "max_listed = 40\nmax_listed_per_owner = 7",
        ),
    )
    .unwrap();
    churnflow().arg("score").arg(&pipeline).assert().success();
    let (_, rows) = read_csv(&out.join("at_risk_key_accounts.csv"));
    assert_eq!(rows.len(), 7);
    // The next night shows yesterday's probability and the change for accounts listed then.
    churnflow()
        .args(["score", "--as-of", "2025-01-01"])
        .arg(&pipeline)
        .assert()
        .success();
    let next = work.join("outputs/as_of=2025-01-01");
    let (header, rows) = read_csv(&next.join("at_risk_key_accounts.csv"));
    let status = column(&header, "status");
    let prev = column(&header, "previous_probability");
    let change = column(&header, "probability_change");
    for r in &rows {
        assert_eq!(r[status] == "new", r[prev].is_empty(), "{r:?}");
        assert_eq!(r[prev].is_empty(), r[change].is_empty());
    }
    assert!(
        rows.iter().any(|r| !r[prev].is_empty()),
        "no account listed both nights"
    );
}

#[test]
fn the_win_back_list_holds_its_capacity_most_valuable_first_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 600, 12, 0);
    let pipeline = write_pipeline(
        dir.path(),
        &tx,
        "[train]\nalphas = [1.0]\n[scoring]\nmax_winback = 0\n[lifecycle]\nlost_after_days = 120\n",
    );
    churnflow().arg("run").arg(&pipeline).assert().success();
    let work = dir.path().join("work");
    let latest = json(&work.join("outputs/latest.json"));
    let out = work.join("outputs").join(latest["dir"].as_str().unwrap());
    let (header, all) = read_csv(&out.join("winback.csv"));
    assert!(
        all.len() > 3,
        "{} lapsed key accounts: too few to cut",
        all.len()
    );
    assert_eq!(
        run_manifests(&work).pop().unwrap()["winback_beyond_capacity"],
        0
    );

    // The same night again with room for 3: the 3 most valuable, everything else counted where
    // a scheduler (run manifest), a reader (report) and the terminal look.
    let text = std::fs::read_to_string(&pipeline).unwrap();
    std::fs::write(
        &pipeline,
        text.replace("max_winback = 0", "max_winback = 3"),
    )
    .unwrap();
    let run = churnflow().arg("run").arg(&pipeline).assert().success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    let (header3, three) = read_csv(&out.join("winback.csv"));
    assert_eq!(header3, header);
    assert_eq!(three, all[..3].to_vec());
    let beyond = all.len() - 3;
    let manifest = run_manifests(&work).pop().unwrap();
    assert_eq!(
        manifest["winback_beyond_capacity"], beyond as u64,
        "{manifest}"
    );
    let sentence =
        format!("{beyond} more lapsed key accounts are beyond the win-back list's capacity");
    assert!(stdout.contains(&sentence), "{stdout}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(&sentence));
}

#[test]
fn an_empty_or_overlong_list_is_explained_by_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 250, 2, 0);
    let pipeline = write_pipeline(
        dir.path(),
        &tx,
        "[train]\nalphas = [1.0]\n[scoring]\nrisk_threshold = 0.999\n",
    );
    churnflow()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: the at-risk list is empty: ",
        ))
        .stderr(predicate::str::contains(
            "risk_rule = \"probability\", risk_threshold = 0.999",
        ));
    let text = std::fs::read_to_string(&pipeline).unwrap();
    std::fs::write(
        &pipeline,
        text.replace(
            "risk_threshold = 0.999",
            "risk_threshold = 0.01\nlist_quadrants = [\"act_now\", \"low_cost_retention\"]\nwarn_listed_share = 0.05",
        ),
    )
    .unwrap();
    let r = churnflow().arg("score").arg(&pipeline).assert().success();
    let stderr = String::from_utf8_lossy(&r.get_output().stderr).to_string();
    assert!(
        stderr.contains("qualify for the at-risk list")
            && stderr.contains("scoring.warn_listed_share = 0.05")
            && stderr.contains("risk_threshold = 0.01"),
        "{stderr}"
    );
    let work = dir.path().join("work");
    let latest = json(&work.join("outputs/latest.json"));
    let html = std::fs::read_to_string(
        work.join("outputs")
            .join(latest["dir"].as_str().unwrap())
            .join("report.html"),
    )
    .unwrap();
    assert!(html.contains("class=warn"));
}

#[test]
fn the_population_is_the_open_window_before_the_night() {
    // C1 bought exactly 365 days before the night: outside (as_of - 365, as_of]. C2 one day
    // later: inside.
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.csv");
    std::fs::write(
        &export,
        "order_id,customer_id,order_date,amount,quantity\n\
         1,C1,2024-01-01 10:00:00,10.00,1\n\
         2,C2,2024-01-02 10:00:00,10.00,1\n\
         3,C3,2024-12-31 10:00:00,10.00,1\n",
    )
    .unwrap();
    let pipeline = write_pipeline(dir.path(), &export, "");
    let p = churnflow::Pipeline::load(&pipeline).unwrap();
    churnflow().arg("ingest").arg(&pipeline).assert().success();
    let mut engine =
        churnflow::open_engine(&p.warehouse_dir(), &p.engine, &p.engine_scratch_dir(), None)
            .unwrap();
    let night = churnflow::parse_day("2024-12-31").unwrap();
    let t = churnflow::compute_active_for(&p, engine.as_mut(), night).unwrap();
    let ids: Vec<String> = t.customer_ids.iter().map(|c| c.to_string()).collect();
    assert_eq!(ids, ["C2", "C3"]);
    let all = churnflow::compute_for(&p, engine.as_mut(), night).unwrap();
    let rows: Vec<String> = all
        .active_rows(p.active_within_days)
        .unwrap()
        .iter()
        .map(|&i| all.customer_ids[i].to_string())
        .collect();
    assert_eq!(rows, ["C2", "C3"]);
}

#[test]
fn a_failed_night_leaves_its_record_and_stale_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 150, 6, 0);
    // The generated data ends on 2024-12-30, long before today.
    let pipeline = write_pipeline(dir.path(), &tx, "[train]\nalphas = [1.0]\n");
    let text = std::fs::read_to_string(&pipeline).unwrap();
    std::fs::write(
        &pipeline,
        text.replace("[source]\n", "[source]\nmax_data_age_days = 3\n"),
    )
    .unwrap();
    churnflow()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "stale data: the newest row is from 2024-12-30",
        ))
        .stderr(predicate::str::contains("source.max_data_age_days = 3"));
    let work = dir.path().join("work");
    let m = run_manifests(&work).pop().unwrap();
    assert_eq!(m["status"], "failed");
    assert_eq!(m["exit_code"], 4);
    assert!(m["error"].as_str().unwrap().contains("stale data"));
    // The ingest before the gate was committed, and the record says so.
    assert_eq!(m["committed"]["batches"].as_array().unwrap().len(), 1);
    assert!(m["committed"]["model_id"].is_null());
    assert!(!work.join("outputs/latest.json").exists());

    // A backfilled night has its data: not stale.
    churnflow()
        .args(["run", "--as-of", "2024-12-29"])
        .arg(&pipeline)
        .assert()
        .success();
    let m = run_manifests(&work).pop().unwrap();
    assert_eq!(
        (m["status"].as_str(), m["exit_code"].as_i64()),
        (Some("succeeded"), Some(0))
    );
    assert_eq!(m["already_ingested"], 1);
    assert_eq!(
        json(&work.join("outputs/latest.json"))["as_of"],
        "2024-12-29"
    );
    // An older backfill does not move latest.json back.
    churnflow()
        .args(["run", "--as-of", "2024-12-20"])
        .arg(&pipeline)
        .assert()
        .success();
    assert_eq!(
        json(&work.join("outputs/latest.json"))["as_of"],
        "2024-12-29"
    );
}

#[test]
fn json_logs_carry_the_nights_figures_as_fields() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 150, 9, 3);
    let pipeline = write_pipeline(dir.path(), &tx, "[train]\nalphas = [1.0]\n");
    let o = churnflow()
        .args(["--log-format", "json", "run"])
        .arg(&pipeline)
        .output()
        .unwrap();
    assert!(o.status.success());
    let events: Vec<serde_json::Value> = String::from_utf8(o.stderr)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ingest = events
        .iter()
        .find(|e| e["fields"]["stage"] == "ingest" && e["fields"]["rows_read"].is_u64())
        .expect("an ingest event with its counts");
    let f = &ingest["fields"];
    assert_eq!(f["rows_rejected"], 3);
    assert_eq!(
        f["rows_read"].as_u64().unwrap(),
        f["rows_accepted"].as_u64().unwrap()
            + f["rows_rejected"].as_u64().unwrap()
            + f["rows_duplicate"].as_u64().unwrap()
            + f["rows_restated"].as_u64().unwrap()
    );
    assert!(f["file"].as_str().unwrap().ends_with("transactions.csv"));
    let score = events
        .iter()
        .find(|e| e["fields"]["stage"] == "score")
        .expect("a score event");
    assert!(score["fields"]["model_id"].as_str().unwrap().len() > 10);
    assert!(score["fields"]["listed"].is_u64() && score["fields"]["seconds"].is_f64());
    assert!(events.iter().any(|e| e["fields"]["stage"] == "train"));

    // The next night: the already-ingested file is one line, not one per file.
    let again = churnflow().arg("run").arg(&pipeline).assert().success();
    let stdout = String::from_utf8_lossy(&again.get_output().stdout).to_string();
    assert_eq!(stdout.matches("already ingested").count(), 1, "{stdout}");
}

#[test]
fn a_closed_stdout_does_not_cut_the_night_short() {
    // `churnflow run ... | head -1`: the reader leaves after the first line. The night still
    // finishes: its outputs, run manifest and exit code are those of a night with a reader.
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 150, 4, 0);
    let pipeline = write_pipeline(dir.path(), &tx, "[train]\nalphas = [1.0]\n");
    let bin = assert_cmd::cargo::cargo_bin("churnflow");
    let mut child = std::process::Command::new(&bin)
        .arg("run")
        .arg(&pipeline)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut first = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        assert!(first.starts_with("ingest: "), "{first}");
        // The reader goes away here.
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let work = dir.path().join("work");
    let m = run_manifests(&work).pop().unwrap();
    assert_eq!(m["status"], "succeeded");
    assert!(json(&work.join("outputs/latest.json"))["listed_accounts"].is_u64());
    // The lock went with the process: the next night runs.
    churnflow().arg("run").arg(&pipeline).assert().success();
}
