//! Training evidence, the promotion gate, determinism and the backtest, through the binary.

use std::path::Path;

use predicates::prelude::*;

use crate::util::{churnflow, generate, read_csv, write_pipeline};

fn registry(work: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(work.join("models/registry.json")).unwrap())
        .unwrap()
}

#[test]
fn a_worse_model_is_rejected_and_the_registry_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 400, 11, 0);
    let pipeline = write_pipeline(dir.path(), &tx, "");
    churnflow().arg("ingest").arg(&pipeline).assert().success();
    churnflow()
        .arg("train")
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("promoted: no current model"));
    let first = registry(&dir.path().join("work"))["current"]
        .as_str()
        .unwrap()
        .to_string();

    // Tenure alone knows nothing about recent behaviour: on this data it must lose.
    let worse = write_pipeline(dir.path(), &tx, "[[features]]\nname = \"tenure_days\"\n");
    churnflow()
        .arg("train")
        .arg(&worse)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "rejected: worse than current model",
        ));
    let reg = registry(&dir.path().join("work"));
    assert_eq!(
        reg["current"].as_str().unwrap(),
        first,
        "the better model stays current"
    );
    let last = reg["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["decision"], "rejected");
    assert!(
        last["reason"].as_str().unwrap().contains("ROC AUC"),
        "{last}"
    );

    // The list shows both, the current one marked; show prints the card.
    churnflow()
        .args(["models"])
        .arg(&worse)
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("* {first}")))
        .stdout(predicate::str::contains("rejected"));
    churnflow()
        .args(["models"])
        .arg(&worse)
        .arg("show")
        .assert()
        .success()
        .stdout(predicate::str::contains("## Calibration"))
        .stdout(predicate::str::contains("recency alone"));

    // Scoring with the current model refuses a pipeline that no longer produces its features.
    churnflow()
        .arg("score")
        .arg(&worse)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "that the pipeline no longer produces",
        ));
}

#[test]
fn same_inputs_give_the_same_model_json_apart_from_the_creation_time() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 300, 5, 0);
    let mut models = Vec::new();
    for name in ["a", "b"] {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let pipeline = write_pipeline(&sub, &tx, "");
        churnflow().arg("ingest").arg(&pipeline).assert().success();
        churnflow().arg("train").arg(&pipeline).assert().success();
        let work = sub.join("work");
        let id = registry(&work)["current"].as_str().unwrap().to_string();
        let text =
            std::fs::read_to_string(work.join("models").join(&id).join("model.json")).unwrap();
        let without_time: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("\"created_at\""))
            .collect();
        models.push(without_time.join("\n"));
    }
    assert_eq!(models[0], models[1]);
}

#[test]
fn backtest_beats_recency_and_labels_agree_with_the_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 600, 21, 0);
    let pipeline = write_pipeline(dir.path(), &tx, "[train]\ncutoffs = 4\nalphas = [1.0]\n");
    churnflow().arg("ingest").arg(&pipeline).assert().success();
    churnflow()
        .arg("backtest")
        .arg(&pipeline)
        .assert()
        .success()
        .stdout(predicate::str::contains("model beats recency alone"));
    let (header, rows) = read_csv(&dir.path().join("work/backtest/backtest.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert!(
        rows.len() >= 10,
        "expected a row per labelable cutoff, got {}",
        rows.len()
    );
    let (mut model, mut recency) = (0.0, 0.0);
    for r in &rows {
        let auc: f64 = r[col("roc_auc")].parse().unwrap();
        assert!(auc > 0.8, "cutoff {}: ROC AUC {auc}", r[col("cutoff")]);
        model += auc;
        recency += r[col("recency_roc_auc")].parse::<f64>().unwrap();
        assert!(!r[col("ece")].is_empty());
    }
    assert!(
        model > recency,
        "model {model} vs recency {recency} summed over cutoffs"
    );

    // Ground truth: an account whose true churn day is on or before the cutoff never buys
    // again, so the label at that cutoff must say churned.
    use churnflow::Pipeline;
    use churnflow::parse_day;
    let p = Pipeline::load(&pipeline).unwrap();
    let mut engine =
        churnflow::open_engine(&p.warehouse_dir(), &p.engine, &p.engine_scratch_dir(), None)
            .unwrap();
    let (_, last) = engine.day_range().unwrap();
    let cutoff = parse_day("2024-03-31").unwrap();
    let s = churnflow::snapshot(&p, engine.as_mut(), cutoff, last).unwrap();
    let (_, truth) = read_csv(&dir.path().join("truth.csv"));
    let churn_day: std::collections::HashMap<String, i32> = truth
        .into_iter()
        .filter(|t| !t[1].is_empty())
        .map(|t| (t[0].clone(), parse_day(&t[1]).unwrap()))
        .collect();
    let mut checked = 0;
    for (k, &i) in s.rows.iter().enumerate() {
        if churn_day
            .get(&*s.table.customer_ids[i])
            .is_some_and(|&d| d <= cutoff)
        {
            assert!(
                s.labels[k],
                "{} churned before the cutoff",
                s.table.customer_ids[i]
            );
            checked += 1;
        }
    }
    assert!(
        checked > 10,
        "only {checked} truly churned accounts in the population"
    );
}

#[test]
fn run_retrains_when_the_model_is_old_and_never_twice_on_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let full = generate(dir.path(), 300, 13, 0);
    let text = std::fs::read_to_string(&full).unwrap();
    // The first delivery stops at the end of October 2024; the second adds two months.
    let october: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains(",2024-11-") && !l.contains(",2024-12-"))
        .collect();
    let export = dir.path().join("export.csv");
    std::fs::write(&export, october.join("\n") + "\n").unwrap();
    let pipeline = write_pipeline(
        dir.path(),
        &export,
        "[train]\nretrain_every_days = 30\nalphas = [1.0]\n",
    );
    let decision = |stdout: &[u8]| -> String {
        String::from_utf8_lossy(stdout)
            .lines()
            .find(|l| l.contains("retraining"))
            .unwrap_or("")
            .to_string()
    };
    let first = churnflow().arg("run").arg(&pipeline).assert().success();
    assert!(decision(&first.get_output().stdout).starts_with("retraining: no current model"));
    let again = churnflow().arg("run").arg(&pipeline).assert().success();
    assert!(
        decision(&again.get_output().stdout).contains("no retraining: current model"),
        "same data must not retrain"
    );
    assert!(decision(&again.get_output().stdout).contains("exactly this warehouse content"));

    // One more day of data: the population barely moved since the model's first night, so the
    // drift check passes (features that grow with time, like tenure, must not force a retrain).
    let next_day: Vec<&str> = text
        .lines()
        .filter(|l| {
            let later = l.contains(",2024-12-") || l.contains(",2024-11-");
            !later || l.contains(",2024-11-01")
        })
        .collect();
    assert!(next_day.len() > october.len());
    std::fs::write(&export, next_day.join("\n") + "\n").unwrap();
    let nightly = churnflow().arg("run").arg(&pipeline).assert().success();
    let d = decision(&nightly.get_output().stdout);
    assert!(
        d.starts_with("no retraining:") && d.contains("largest PSI"),
        "{d}"
    );
    // That run scored with the drift check's features; scoring afresh gives the same list.
    let newest = std::fs::read_dir(dir.path().join("work/outputs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .max()
        .unwrap();
    let list = newest.join("at_risk_key_accounts.csv");
    let reused = std::fs::read(&list).unwrap();
    assert!(
        reused.iter().filter(|&&b| b == b'\n').count() > 2,
        "list too short to compare"
    );
    churnflow().arg("score").arg(&pipeline).assert().success();
    assert_eq!(std::fs::read(&list).unwrap(), reused);

    std::fs::write(&export, &text).unwrap();
    let later = churnflow().arg("run").arg(&pipeline).assert().success();
    let d = decision(&later.get_output().stdout);
    assert!(
        d.starts_with("retraining:") && d.contains("retrain_every_days = 30"),
        "{d}"
    );
    // The run manifest records the decision.
    let runs = std::fs::read_dir(dir.path().join("work/runs")).unwrap();
    let manifests: Vec<serde_json::Value> = runs
        .map(|e| {
            serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(
        manifests
            .iter()
            .filter(|m| m["retrain"]["retrain"] == true)
            .count(),
        2
    );
    assert!(
        manifests
            .iter()
            .any(|m| m["trained_model"]["promoted"].is_boolean())
    );
}
