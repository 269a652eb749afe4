//! The history state (`state/history/history.bin`, issue 18): a night that reads the saved
//! history and adds the batches committed since gives the files of a night that rebuilds it from
//! every warehouse part, byte for byte; a restatement, a damaged file or a missing one means a
//! rebuild, never a wrong or failed night.

use std::path::{Path, PathBuf};

use crate::util::{churnflow, generate, write_pipeline};

/// The night's files compared between the two workdirs (as of the night's day).
const OUTPUTS: [&str; 5] = [
    "scores.parquet",
    "at_risk_key_accounts.csv",
    "winback.csv",
    "resolved.csv",
    "at_risk_key_accounts.parquet",
];

/// Two workdirs over the same source folder: `saved` keeps its history state between nights,
/// `rebuilt` has its state removed before every night.
struct Twins {
    saved: PathBuf,
    rebuilt: PathBuf,
}

impl Twins {
    fn new(root: &Path, source: &Path) -> Twins {
        let make = |name: &str| {
            let dir = root.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            write_pipeline(&dir, source, "[train]\nalphas = [1.0]\n")
        };
        Twins {
            saved: make("saved"),
            rebuilt: make("rebuilt"),
        }
    }

    fn state(pipeline: &Path) -> PathBuf {
        pipeline.with_file_name("work/state/history/history.bin")
    }

    /// Runs the night in both; returns the `saved` side's stderr (JSON log).
    fn night(&self, as_of: &str) -> String {
        let _ = std::fs::remove_file(Self::state(&self.rebuilt));
        let run = |p: &Path| {
            let out = churnflow()
                .args(["run", "--log-format", "json", "--as-of", as_of])
                .arg(p)
                .assert()
                .success();
            String::from_utf8_lossy(&out.get_output().stderr).to_string()
        };
        let log = run(&self.saved);
        let rebuilt_log = run(&self.rebuilt);
        assert!(rebuilt_log.contains("history: built from"), "{rebuilt_log}");
        assert!(Self::state(&self.saved).exists());
        for name in OUTPUTS {
            let file = |p: &Path| p.with_file_name(format!("work/outputs/as_of={as_of}/{name}"));
            assert_eq!(
                std::fs::read(file(&self.saved)).unwrap(),
                std::fs::read(file(&self.rebuilt)).unwrap(),
                "{name} as of {as_of}"
            );
        }
        let features = |p: &Path| {
            std::fs::read(p.with_file_name(format!("work/features/as_of={as_of}/features.parquet")))
                .unwrap()
        };
        assert_eq!(
            features(&self.saved),
            features(&self.rebuilt),
            "features as of {as_of}"
        );
        log
    }
}

/// Splits `csv` by day: rows before `first` into `to/history.csv`, the rest into one file per
/// boundary in `cuts` (`part1.csv` holds [cuts[0], cuts[1]), ...), returned but not placed.
fn split(csv: &Path, to: &Path, cuts: &[&str]) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let mut files = vec![String::new(); cuts.len() + 1];
    for line in lines {
        let day = &line.split(',').nth(2).unwrap()[..10];
        let k = cuts.iter().filter(|c| day >= **c).count();
        files[k].push_str(line);
        files[k].push('\n');
    }
    std::fs::create_dir_all(to).unwrap();
    std::fs::write(to.join("history.csv"), format!("{header}\n{}", files[0])).unwrap();
    files[1..]
        .iter()
        .enumerate()
        .map(|(i, body)| (format!("part{}.csv", i + 1), format!("{header}\n{body}")))
        .collect()
}

#[test]
fn nights_from_the_saved_history_equal_nights_rebuilt_from_the_parts() {
    let dir = tempfile::tempdir().unwrap();
    let csv = generate(dir.path(), 400, 5, 0);
    let source = dir.path().join("exports");
    let later = split(&csv, &source, &["2024-12-20", "2024-12-27"]);
    let twins = Twins::new(dir.path(), &source);

    // Night 1: no state yet, both build; the saved side writes its state.
    let log = twins.night("2024-12-19");
    assert!(log.contains("there is none yet"), "{log}");

    // Night 2: a new file; the saved side reads its state and adds the new batch.
    std::fs::write(source.join(&later[0].0), &later[0].1).unwrap();
    let log = twins.night("2024-12-26");
    assert!(log.contains("1 batch(es) added"), "{log}");

    // Night 3: a file that also restates an order of the history file (the first order, with
    // another amount): an earlier batch's parts change, so the state no longer matches.
    let history = std::fs::read_to_string(source.join("history.csv")).unwrap();
    let first = history.lines().nth(1).unwrap();
    let mut fields: Vec<&str> = first.split(',').collect();
    fields[3] = "1.25";
    let restated = fields.join(",");
    std::fs::write(
        source.join(&later[1].0),
        format!("{}{restated}\n", later[1].1),
    )
    .unwrap();
    let log = twins.night("2024-12-30");
    assert!(log.contains("an earlier batch changed"), "{log}");

    // Night 4 (the same day again): a damaged state is named, rebuilt, and changes nothing.
    let state = Twins::state(&twins.saved);
    let mut bytes = std::fs::read(&state).unwrap();
    bytes[100] ^= 0x40;
    std::fs::write(&state, bytes).unwrap();
    let log = twins.night("2024-12-30");
    assert!(log.contains("checksum mismatch"), "{log}");
    // And the one after it reads the state written then.
    let log = twins.night("2024-12-30");
    assert!(log.contains("(up to date)"), "{log}");
}

#[test]
fn a_state_that_cannot_be_written_is_a_warning_not_a_failed_night() {
    let dir = tempfile::tempdir().unwrap();
    let csv = generate(dir.path(), 150, 3, 0);
    let pipeline = write_pipeline(dir.path(), &csv, "[train]\nalphas = [1.0]\n");
    // A file where the state's folder should be: the folder cannot be created.
    let state_dir = dir.path().join("work/state/history");
    std::fs::create_dir_all(state_dir.parent().unwrap()).unwrap();
    std::fs::write(&state_dir, "not a folder").unwrap();
    churnflow()
        .arg("run")
        .arg(&pipeline)
        .assert()
        .success()
        .stderr(predicates::str::contains("the history state was not saved"));
}
