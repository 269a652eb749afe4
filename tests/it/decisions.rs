//! Nightly decisions a data team can defend: point-in-time training, retraining for real reasons
//! only, calibration judged out of sample, the population window, short histories.

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::util::{churnflow, generate, json, write_pipeline};

/// The current model's `model.json` under `work`.
fn current_model(work: &Path) -> serde_json::Value {
    let registry = json(&work.join("models/registry.json"));
    let id = registry["current"].as_str().unwrap();
    json(&work.join("models").join(id).join("model.json"))
}

/// The export's lines whose date is on or before `day` (YYYY-MM-DD), header kept.
fn until(text: &str, day: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let date = line.split(',').nth(2).unwrap_or("");
        if i == 0 || date.get(..10).is_some_and(|d| d <= day) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The lines of a run's stdout that state the retraining decision.
fn decision(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .find(|l| l.starts_with("retraining:") || l.starts_with("no retraining:"))
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_backfilled_night_trains_only_on_what_was_known_that_night() {
    let dir = tempfile::tempdir().unwrap();
    let full = generate(dir.path(), 300, 21, 0);
    let text = std::fs::read_to_string(&full).unwrap();
    let night = "2024-06-30";

    // A: the whole history in the warehouse, trained as of the night.
    let a = dir.path().join("a");
    std::fs::create_dir_all(&a).unwrap();
    let pa = write_pipeline(&a, &full, "[train]\nalphas = [0.1, 1.0]\n");
    churnflow().arg("ingest").arg(&pa).assert().success();
    churnflow()
        .args(["train", "--as-of", night])
        .arg(&pa)
        .assert()
        .success();
    // B: a warehouse that ends on the night.
    let b = dir.path().join("b");
    std::fs::create_dir_all(&b).unwrap();
    let truncated = b.join("export.csv");
    std::fs::write(&truncated, until(&text, night)).unwrap();
    let pb = write_pipeline(&b, &truncated, "[train]\nalphas = [0.1, 1.0]\n");
    churnflow().arg("ingest").arg(&pb).assert().success();
    churnflow().arg("train").arg(&pb).assert().success();

    let (ma, mb) = (
        current_model(&a.join("work")),
        current_model(&b.join("work")),
    );
    assert_eq!(ma["training"]["data_to"], night);
    assert_eq!(mb["training"]["data_to"], night);
    for key in [
        "model",
        "features",
        "alpha",
        "alpha_grid",
        "calibration",
        "drift_reference",
    ] {
        assert_eq!(
            ma[key], mb[key],
            "{key} differs from the truncated warehouse's"
        );
    }
    assert_eq!(
        ma["training"]["training_cutoffs"],
        mb["training"]["training_cutoffs"]
    );
    // Every label window ends by the night.
    let val = ma["training"]["validation_cutoff"].as_str().unwrap();
    assert!(
        val <= "2024-04-01",
        "validation cutoff {val} has labels after {night}"
    );

    // `run --as-of` does the same: the night's model has not seen the night's future.
    let c = dir.path().join("c");
    std::fs::create_dir_all(&c).unwrap();
    let pc = write_pipeline(&c, &full, "[train]\nalphas = [0.1, 1.0]\n");
    churnflow()
        .args(["run", "--as-of", night])
        .arg(&pc)
        .assert()
        .success();
    let mc = current_model(&c.join("work"));
    assert_eq!(mc["training"]["data_to"], night);
    assert_eq!(mc["model"], ma["model"]);
    // A night before the current model's data retrains: that model has seen its future.
    let earlier = churnflow()
        .args(["run", "--as-of", "2024-05-31"])
        .arg(&pc)
        .assert()
        .success();
    let d = decision(&earlier.get_output().stdout);
    assert!(d.contains("has seen this night's future"), "{d}");
    assert_eq!(
        current_model(&c.join("work"))["training"]["data_to"],
        "2024-05-31"
    );
    // `score` of an even earlier night keeps the model but says what it has seen.
    churnflow()
        .args(["score", "--as-of", "2024-04-30"])
        .arg(&pc)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "was trained on data to 2024-05-31, after this night (2024-04-30)",
        ));
}

/// An export where 40% of the accounts also bought on the first day: on a history that starts
/// on one date, their tenure is the same, largest value every night.
fn bunched_export(dir: &Path) -> PathBuf {
    let full = generate(dir, 300, 5, 0);
    let text = std::fs::read_to_string(&full).unwrap();
    let mut ids: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    ids.sort();
    ids.dedup();
    let mut out = text.clone();
    for (k, id) in ids.iter().enumerate().filter(|(k, _)| k % 5 < 2) {
        out.push_str(&format!(
            "F{k:06},{id},2023-01-01 09:00:00,10.00,1,Tape C\n"
        ));
    }
    let export = dir.join("bunched.csv");
    std::fs::write(&export, out).unwrap();
    export
}

#[test]
fn nights_of_a_backfill_retrain_only_for_a_real_shift() {
    let dir = tempfile::tempdir().unwrap();
    let export = bunched_export(dir.path());
    let pipeline = write_pipeline(
        dir.path(),
        &export,
        "[train]\nalphas = [1.0]\nretrain_every_days = 60\n",
    );
    let first = churnflow()
        .args(["run", "--as-of", "2024-10-31"])
        .arg(&pipeline)
        .assert()
        .success();
    assert!(decision(&first.get_output().stdout).starts_with("retraining: no current model"));
    // The next nights of the backfill: tenure moves a day, nothing else changes.
    for night in ["2024-11-01", "2024-11-02", "2024-11-15"] {
        let r = churnflow()
            .args(["run", "--as-of", night])
            .arg(&pipeline)
            .assert()
            .success();
        let d = decision(&r.get_output().stdout);
        assert!(
            d.starts_with("no retraining:") && d.contains("largest PSI"),
            "{night}: {d}"
        );
    }

    // A planted shift: from 2024-11-16 on, every second account spends fifty times as much.
    let text = std::fs::read_to_string(&export).unwrap();
    let mut shifted = String::new();
    for (i, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let late = cells.get(2).is_some_and(|d| *d >= "2024-11-16");
        let every_second = cells
            .get(1)
            .and_then(|c| c.trim_start_matches('C').parse::<u32>().ok())
            .is_some_and(|n| n % 2 == 0);
        if i > 0 && late && every_second {
            let amount: f64 = cells[3].parse().unwrap();
            let mut c: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
            c[3] = format!("{:.2}", amount * 50.0);
            shifted.push_str(&c.join(","));
        } else {
            shifted.push_str(line);
        }
        shifted.push('\n');
    }
    let export2 = dir.path().join("shifted.csv");
    std::fs::write(&export2, shifted).unwrap();
    let p2 = dir.path().join("shifted.toml");
    std::fs::write(
        &p2,
        std::fs::read_to_string(&pipeline)
            .unwrap()
            .replace("bunched.csv", "shifted.csv")
            .replace("workdir = \"work\"", "workdir = \"work2\""),
    )
    .unwrap();
    churnflow()
        .args(["run", "--as-of", "2024-10-31"])
        .arg(&p2)
        .assert()
        .success();
    let r = churnflow()
        .args(["run", "--as-of", "2024-12-15"])
        .arg(&p2)
        .assert()
        .success();
    let d = decision(&r.get_output().stdout);
    assert!(
        d.starts_with("retraining: feature") && d.contains("drifted"),
        "{d}"
    );
}

#[test]
fn a_changed_pipeline_section_retrains_and_overrides_are_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 250, 8, 0);
    let pipeline = write_pipeline(dir.path(), &tx, "[train]\nalphas = [1.0]\n");
    churnflow().arg("run").arg(&pipeline).assert().success();
    let text = std::fs::read_to_string(&pipeline).unwrap();

    // A scoring rule is not a model section: no retraining.
    std::fs::write(
        &pipeline,
        format!("{text}[scoring]\nrisk_threshold = 0.4\n"),
    )
    .unwrap();
    let r = churnflow().arg("run").arg(&pipeline).assert().success();
    let d = decision(&r.get_output().stdout);
    assert!(d.starts_with("no retraining:"), "{d}");

    // The label is: the old model answers another question.
    std::fs::write(
        &pipeline,
        format!("{text}[label]\nkind = \"fixed_horizon\"\nhorizon_days = 60\n"),
    )
    .unwrap();
    let r = churnflow().arg("run").arg(&pipeline).assert().success();
    let d = decision(&r.get_output().stdout);
    assert!(d.contains("the pipeline's label changed"), "{d}");
    let again = churnflow().arg("run").arg(&pipeline).assert().success();
    assert!(decision(&again.get_output().stdout).starts_with("no retraining:"));

    // A label no history can train: refused with exit 2, nothing scored with the old model.
    std::fs::write(
        &pipeline,
        format!("{text}[label]\nkind = \"fixed_horizon\"\nhorizon_days = 700\n"),
    )
    .unwrap();
    churnflow()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("label changed"))
        .stderr(predicate::str::contains("cannot be trained"));
    churnflow()
        .args(["run", "--no-retrain"])
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "no retraining: --no-retrain was given (the policy would retrain",
        ));

    // --retrain forces one; --dry-run says what would happen and writes nothing.
    std::fs::write(&pipeline, &text).unwrap();
    churnflow()
        .args(["run", "--retrain"])
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("retraining: --retrain was given"));
    let listing = |dir: &Path| -> Vec<(PathBuf, std::time::SystemTime)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p.clone());
                }
                let modified = std::fs::metadata(&p).unwrap().modified().unwrap();
                out.push((p, modified));
            }
        }
        out.sort();
        out
    };
    let work = dir.path().join("work");
    let before = listing(&work);
    // The pipeline now reads a folder holding the same export and one new file.
    let folder = dir.path().join("deliveries");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(&tx, folder.join("transactions.csv")).unwrap();
    std::fs::write(
        folder.join("more.csv"),
        "order_id,customer_id,order_date,amount,quantity,product_id\nX1,C00001,2024-12-31 10:00:00,12.00,1,Tape C\n",
    )
    .unwrap();
    std::fs::write(
        &pipeline,
        text.replace(&tx.display().to_string(), &folder.display().to_string()),
    )
    .unwrap();
    churnflow()
        .args(["run", "--dry-run"])
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("dry run: nothing is ingested"))
        .stdout(predicate::str::contains("would ingest source file"))
        .stdout(predicate::str::contains("more.csv"))
        .stdout(predicate::str::contains("1 file(s) already ingested"))
        .stdout(predicate::str::contains("would not retrain"));
    assert_eq!(listing(&work), before, "--dry-run wrote something");
}

#[test]
fn a_short_history_gets_an_in_time_holdout_model_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // Nine months of data and a 120-day label: no cutoff has train.min_history_days (180) of
    // history, and no out-of-time validation cutoff fits.
    churnflow()
        .args([
            "generate",
            "--customers",
            "400",
            "--seed",
            "4",
            "--days",
            "270",
        ])
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let tx = dir.path().join("transactions.csv");
    let pipeline = write_pipeline(
        dir.path(),
        &tx,
        "[label]\nkind = \"fixed_horizon\"\nhorizon_days = 120\n[train]\nalphas = [1.0]\n",
    );
    churnflow()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("short history: no cutoff has"))
        .stdout(predicate::str::contains("in-time holdout validation"))
        .stdout(predicate::str::contains("weaker evidence"));
    let work = dir.path().join("work");
    let m = current_model(&work);
    assert_eq!(m["training"]["validation"], "in_time_holdout");
    let id = m["model_id"].as_str().unwrap();
    let card = std::fs::read_to_string(work.join("models").join(id).join("card.md")).unwrap();
    assert!(
        card.contains("too short for an out-of-time validation"),
        "{card}"
    );
    assert!(card.contains("**Short history**"), "{card}");
    // Validation rows are the held-out fifth of the population.
    let rows = m["metrics"]["validation"]["rows"].as_u64().unwrap();
    let population = m["training"]["rows"].as_u64().unwrap()
        / m["training"]["training_cutoffs"].as_array().unwrap().len() as u64;
    assert!(
        rows * 3 < population,
        "{rows} validation rows of ~{population}"
    );

    // Less than one labelable cutoff: refused, saying why.
    let short = tempfile::tempdir().unwrap();
    churnflow()
        .args(["generate", "--customers", "100", "--days", "150"])
        .arg("--out")
        .arg(short.path())
        .assert()
        .success();
    let p = write_pipeline(
        short.path(),
        &short.path().join("transactions.csv"),
        "[label]\nkind = \"fixed_horizon\"\nhorizon_days = 180\n",
    );
    churnflow()
        .arg("run")
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not enough history to train:"));
}

#[test]
fn calibration_is_reported_out_of_sample() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 300, 17, 0);
    // A strict tolerance: a correction is always tried.
    let pipeline = write_pipeline(
        dir.path(),
        &tx,
        "[train]\nalphas = [1.0]\ncalibration_tolerance = 0.0001\n",
    );
    churnflow().arg("ingest").arg(&pipeline).assert().success();
    churnflow()
        .arg("train")
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("calibration: ECE"));
    let m = current_model(&dir.path().join("work"));
    let c = &m["calibration"];
    let before = c["log_loss_before"].as_f64().unwrap();
    let after = c["log_loss_after"].as_f64().unwrap();
    let decision = c["decision"].as_str().unwrap();
    if c["correction"].is_null() {
        // Refused: the reported figures are the uncorrected ones.
        assert_eq!(c["ece_after"], c["ece_before"], "{decision}");
        assert!(decision.contains("none is applied"), "{decision}");
    } else {
        // Kept only when it lowered the out-of-sample log loss, and the validation metrics are
        // those of the judged correction.
        assert!(after < before, "{decision}");
        let reported = m["metrics"]["validation"]["log_loss"].as_f64().unwrap();
        assert!((reported - after).abs() < 1e-12, "{reported} vs {after}");
    }
    assert!(decision.contains("tolerance 0.0001"), "{decision}");
}
