//! Crash safety: `run` is killed with SIGKILL at random moments (during ingest, training and
//! scoring); afterwards every file a reader can see must be a complete old or new state, and the
//! next run must finish the job.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use churnflow::Manifest;
use churnflow::ModelArtifact;
use churnflow::Registry;
use churnflow::parquet_row_count;

use crate::util::{generate, write_pipeline};

/// Everything a reader can see is complete.
fn assert_consistent(work: &Path) {
    let wh = work.join("warehouse");
    let manifest = Manifest::load(&wh).expect("manifest readable");
    for b in manifest.batches.iter().chain(&manifest.side_batches) {
        for part in &b.parts {
            let rows = parquet_row_count(&wh.join(&part.path)).expect("listed part readable");
            assert_eq!(rows, part.rows, "{}", part.path);
        }
    }
    let models = work.join("models");
    let registry = Registry::load(&models).expect("registry readable");
    if let Some(id) = &registry.current {
        ModelArtifact::load(&models, id).expect("current model loads");
    }
    let outputs = work.join("outputs");
    let Ok(nights) = std::fs::read_dir(&outputs) else {
        return;
    };
    // latest.json, when there, is whole and names a night whose list is in place.
    if let Ok(text) = std::fs::read_to_string(outputs.join("latest.json")) {
        let latest: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("latest.json: {e}"));
        let dir = outputs.join(latest["dir"].as_str().unwrap());
        assert!(dir.join("at_risk_key_accounts.csv").exists(), "{latest}");
    }
    for night in nights {
        let night = night.unwrap().path();
        if !night.is_dir() {
            // latest.json (or its temporary): checked below.
            continue;
        }
        for file in std::fs::read_dir(&night).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue; // a temporary file: never read
            }
            let bytes = std::fs::read(&path).unwrap();
            match path.extension().and_then(|e| e.to_str()) {
                Some("parquet") => {
                    parquet_row_count(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
                }
                Some("csv") => {
                    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{name} lacks its BOM");
                    assert!(bytes.ends_with(b"\n"), "{name} is cut short");
                }
                Some("html") => assert!(bytes.ends_with(b"</html>\n"), "{name} is cut short"),
                Some("xlsx") => {
                    use calamine::Reader;
                    let mut wb: calamine::Xlsx<_> =
                        calamine::open_workbook(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(wb.worksheet_range("Summary").is_ok());
                }
                _ => {}
            }
        }
    }
}

/// Kills tried; at least half must land while the run is still going.
const TRIALS: usize = 30;

#[test]
fn killed_runs_leave_complete_states_and_the_next_run_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let full = generate(dir.path(), 150, 9, 0);
    let full_text = std::fs::read_to_string(&full).unwrap();
    let lines: Vec<&str> = full_text.lines().collect();
    let export = dir.path().join("export.csv");
    let pipeline = write_pipeline(dir.path(), &export, "");
    let work = dir.path().join("work");
    let bin = assert_cmd::cargo::cargo_bin("churnflow");
    let run = || {
        let mut c = Command::new(&bin);
        c.arg("-q")
            .arg("run")
            .arg(&pipeline)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };

    // How long a whole night takes from nothing (ingest, train, score), to spread the kills.
    std::fs::write(&export, full_text.as_bytes()).unwrap();
    let t0 = Instant::now();
    assert!(run().status().unwrap().success());
    let whole = t0.elapsed();
    // A night with a model in place (no training) is shorter.
    let t1 = Instant::now();
    assert!(run().status().unwrap().success());
    let warm = t1.elapsed();
    let mut rng = churnflow::Rng::new(2024);
    // Generous: a debug-build night on a warehouse of many small batches takes 2-4 s on 2 cores.
    // A bound for a stuck run, not a speed test: on 2 cores shared with the cluster and
    // portability tests (their own processes), 50 trials took up to 7 minutes. 30 trials (six
    // from nothing) keep CI's cold run under 30 minutes; every stage still takes kills.
    let deadline = Instant::now() + Duration::from_secs(900);
    let (mut trials, mut killed) = (0, 0);
    while trials < TRIALS && Instant::now() < deadline {
        // Every fifth trial starts from nothing, so kills land in ingest and training too;
        // otherwise a grown export is delivered, so ingest has new rows to add.
        if trials % 5 == 0 {
            std::fs::remove_dir_all(&work).unwrap();
        }
        let keep = lines.len() * (60 + (trials % 5) * 10) / 100;
        std::fs::write(&export, lines[..keep].join("\n") + "\n").unwrap();
        let delay = if trials % 5 == 0 { whole } else { warm }.mul_f64(rng.uniform());
        let mut child = run().spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        assert_consistent(&work);
        // The next night completes, whatever state the kill left (a stale lock included).
        let out = run().stderr(Stdio::piped()).output().unwrap();
        assert!(
            out.status.success(),
            "re-run after trial {trials} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_consistent(&work);
        // And holds what a clean night on this export holds: every data line once (the
        // generated export has unique order ids and no bad rows).
        let stored = Manifest::load(&work.join("warehouse"))
            .unwrap()
            .total_rows();
        assert_eq!(
            stored,
            keep as u64 - 1,
            "rows after recovering trial {trials}"
        );
        trials += 1;
    }
    eprintln!(
        "crash trials: {trials}, killed mid-run: {killed}, nights {whole:?} from nothing, {warm:?} warm"
    );
    assert!(
        trials >= TRIALS,
        "only {trials} trials within the time bound"
    );
    assert!(killed >= TRIALS / 2, "only {killed} kills landed mid-run");
}
