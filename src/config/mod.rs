//! The pipeline file: one TOML file describes one nightly job. [`Pipeline::load`] parses it
//! (unknown keys are an error), then checks every value and reports all problems at once.

pub mod raw;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::features::spec::{self, FeatureSpec};
use crate::label::LabelRule;
use raw::{RawLabel, RawPipeline};

/// Supported export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Csv,
}

/// Canonical field -> export column name.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    pub customer_id: String,
    pub timestamp: String,
    pub amount: String,
    pub order_id: Option<String>,
    pub quantity: Option<String>,
    pub product_id: Option<String>,
}

impl ColumnMap {
    /// (canonical field, export column) for every mapped field, required ones first.
    pub fn mapped(&self) -> Vec<(&'static str, &String)> {
        [
            ("customer_id", Some(&self.customer_id)),
            ("timestamp", Some(&self.timestamp)),
            ("amount", Some(&self.amount)),
            ("order_id", self.order_id.as_ref()),
            ("quantity", self.quantity.as_ref()),
            ("product_id", self.product_id.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

/// The export to ingest.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub format: SourceFormat,
    pub delimiter: u8,
    pub timestamp_format: Option<String>,
    pub columns: ColumnMap,
}

/// Quadrants a listed account can fall in.
pub const QUADRANTS: [&str; 4] = ["act_now", "monitor", "low_cost_retention", "no_action"];

/// Checked `[train]` settings.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    pub cutoffs: usize,
    /// None = month ends.
    pub cadence_days: Option<i32>,
    pub min_history_days: i32,
    pub alphas: Vec<f64>,
    pub max_iterations: u64,
    pub max_train_rows: usize,
    pub seed: u64,
    pub max_auc_drop: f64,
    pub max_log_loss_increase: f64,
    pub calibration_tolerance: f64,
}

/// A checked pipeline: every path resolved relative to the pipeline file.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Where the pipeline file is.
    pub file: PathBuf,
    /// SHA-256 of the pipeline file's bytes.
    pub file_hash: String,
    pub name: String,
    pub workdir: PathBuf,
    pub models_dir: PathBuf,
    pub source: Source,
    /// Features the model uses, in order.
    pub features: Vec<FeatureSpec>,
    /// The churn definition.
    pub label: LabelRule,
    pub active_within_days: i32,
    pub train: TrainSettings,
    pub risk_threshold: f64,
    pub key_value_share: f64,
    pub list_quadrants: Vec<String>,
    pub summary_rows: usize,
}

impl Pipeline {
    /// Reads, parses and validates a pipeline file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading pipeline file", path, e))?;
        let text = String::from_utf8(bytes.clone()).map_err(|_| Error::Config {
            path: path.to_path_buf(),
            problems: "  - the file is not valid UTF-8".into(),
        })?;
        let raw: RawPipeline = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            problems: indent(&e.to_string()),
        })?;
        let hash = hex(&Sha256::digest(&bytes));
        Self::from_raw(raw, path, hash)
    }

    /// Validates a parsed pipeline; `file` anchors relative paths.
    pub fn from_raw(raw: RawPipeline, file: &Path, file_hash: String) -> Result<Self> {
        let mut problems = Vec::new();
        let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let resolve = |p: &str| -> PathBuf {
            let p = Path::new(p);
            normalize(&if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            })
        };

        if raw.name.trim().is_empty() {
            problems.push("name: must not be empty".to_string());
        }
        if raw.workdir.trim().is_empty() {
            problems.push("workdir: must not be empty".to_string());
        }
        let format = match raw.source.format.as_str() {
            "csv" => SourceFormat::Csv,
            other => {
                problems.push(format!("source.format: expected \"csv\", found {other:?}"));
                SourceFormat::Csv
            }
        };
        let delimiter = match raw.source.delimiter.as_deref() {
            None => b',',
            Some("\\t") | Some("\t") => b'\t',
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some(d) => {
                problems.push(format!(
                    "source.delimiter: expected one ASCII character (or \"\\t\"), found {d:?}"
                ));
                b','
            }
        };
        let c = &raw.source.columns;
        let columns = ColumnMap {
            customer_id: c.customer_id.clone(),
            timestamp: c.timestamp.clone(),
            amount: c.amount.clone(),
            order_id: c.order_id.clone(),
            quantity: c.quantity.clone(),
            product_id: c.product_id.clone(),
        };
        for (key, value) in columns.mapped() {
            if value.trim().is_empty() {
                problems.push(format!(
                    "source.columns.{key}: must name a column, found \"\""
                ));
            }
        }

        let mut features = Vec::new();
        for (i, f) in raw.features.iter().enumerate() {
            match FeatureSpec::from_raw(f) {
                Ok(s) if features.contains(&s) => {
                    problems.push(format!("features[{i}]: {} is listed twice", s.name()))
                }
                Ok(s) => features.push(s),
                Err(e) => problems.push(format!("features[{i}]: {e}")),
            }
        }
        if raw.features.is_empty() {
            features = spec::default_specs();
        }

        let label = check_label(&raw.label, &mut problems);
        in_range(
            &mut problems,
            "population.active_within_days",
            raw.population.active_within_days,
            1,
            3660,
        );
        let t = &raw.train;
        in_range(&mut problems, "train.cutoffs", t.cutoffs, 1, 120);
        in_range(
            &mut problems,
            "train.min_history_days",
            t.min_history_days,
            0,
            3660,
        );
        if let Some(c) = t.cadence_days {
            in_range(&mut problems, "train.cadence_days", c, 1, 365);
        }
        if t.alphas.is_empty() || t.alphas.iter().any(|a| !(a.is_finite() && *a > 0.0)) {
            problems.push(format!(
                "train.alphas: expected a non-empty list of positive numbers, found {:?}",
                t.alphas
            ));
        }
        in_range(
            &mut problems,
            "train.max_iterations",
            t.max_iterations,
            1,
            100_000,
        );
        in_range(
            &mut problems,
            "train.max_train_rows",
            t.max_train_rows,
            100,
            1_000_000_000,
        );
        for (key, value) in [
            ("train.max_auc_drop", t.max_auc_drop),
            ("train.max_log_loss_increase", t.max_log_loss_increase),
            ("train.calibration_tolerance", t.calibration_tolerance),
        ] {
            if !(0.0..=1.0).contains(&value) {
                problems.push(format!("{key}: expected a number in 0..=1, found {value}"));
            }
        }
        let s = &raw.scoring;
        if !(s.risk_threshold > 0.0 && s.risk_threshold < 1.0) {
            problems.push(format!(
                "scoring.risk_threshold: expected a probability strictly between 0 and 1, found {}",
                s.risk_threshold
            ));
        }
        if !(s.key_value_share > 0.0 && s.key_value_share <= 1.0) {
            problems.push(format!(
                "scoring.key_value_share: expected a share in (0, 1], found {}",
                s.key_value_share
            ));
        }
        for q in &s.list_quadrants {
            if !QUADRANTS.contains(&q.as_str()) {
                problems.push(format!(
                    "scoring.list_quadrants: unknown quadrant {q:?}; expected one of {}",
                    QUADRANTS.join(", ")
                ));
            }
        }
        if s.list_quadrants.is_empty() {
            problems.push("scoring.list_quadrants: must name at least one quadrant".into());
        }
        if !(0..=10_000).contains(&s.summary_rows) {
            problems.push(format!(
                "scoring.summary_rows: expected 0..=10000, found {}",
                s.summary_rows
            ));
        }

        if !problems.is_empty() {
            return Err(Error::Config {
                path: file.to_path_buf(),
                problems: problems
                    .iter()
                    .map(|p| format!("  - {p}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
        }

        let workdir = resolve(&raw.workdir);
        let models_dir = raw
            .models_dir
            .as_deref()
            .map(resolve)
            .unwrap_or_else(|| workdir.join("models"));
        Ok(Pipeline {
            file: file.to_path_buf(),
            file_hash,
            name: raw.name,
            source: Source {
                path: resolve(&raw.source.path),
                format,
                delimiter,
                timestamp_format: raw.source.timestamp_format,
                columns,
            },
            workdir,
            models_dir,
            features,
            label,
            active_within_days: raw.population.active_within_days as i32,
            train: TrainSettings {
                cutoffs: t.cutoffs as usize,
                cadence_days: t.cadence_days.map(|c| c as i32),
                min_history_days: t.min_history_days as i32,
                alphas: t.alphas.clone(),
                max_iterations: t.max_iterations as u64,
                max_train_rows: t.max_train_rows as usize,
                seed: t.seed,
                max_auc_drop: t.max_auc_drop,
                max_log_loss_increase: t.max_log_loss_increase,
                calibration_tolerance: t.calibration_tolerance,
            },
            risk_threshold: s.risk_threshold,
            key_value_share: s.key_value_share,
            list_quadrants: s.list_quadrants.clone(),
            summary_rows: s.summary_rows as usize,
        })
    }

    /// The Parquet warehouse root.
    pub fn warehouse_dir(&self) -> PathBuf {
        self.workdir.join("warehouse")
    }

    /// Where features as of `as_of` (YYYY-MM-DD) are written.
    pub fn features_file(&self, as_of: &str) -> PathBuf {
        self.workdir
            .join("features")
            .join(format!("as_of={as_of}"))
            .join("features.parquet")
    }

    /// Where lists as of `as_of` (YYYY-MM-DD) are written.
    pub fn outputs_dir(&self, as_of: &str) -> PathBuf {
        self.workdir.join("outputs").join(format!("as_of={as_of}"))
    }

    /// Where run manifests are written.
    pub fn runs_dir(&self) -> PathBuf {
        self.workdir.join("runs")
    }
}

fn in_range(problems: &mut Vec<String>, key: &str, value: i64, lo: i64, hi: i64) {
    if !(lo..=hi).contains(&value) {
        problems.push(format!("{key}: expected {lo}..={hi}, found {value}"));
    }
}

/// Checks `[label]`: the keys that belong to the chosen kind, with their defaults.
fn check_label(raw: &RawLabel, problems: &mut Vec<String>) -> LabelRule {
    let horizon = raw.horizon_days.unwrap_or(90);
    let allowed: &[&str] = match raw.kind.as_str() {
        "fixed_horizon" => &["horizon_days"],
        "cycle_relative" => &["cycle_multiple", "min_days", "max_days"],
        "value_drop" => &["horizon_days", "drop_fraction"],
        other => {
            problems.push(format!(
                "label.kind: expected fixed_horizon, cycle_relative or value_drop, found {other:?}"
            ));
            return LabelRule::FixedHorizon { horizon_days: 90 };
        }
    };
    for (key, set) in [
        ("horizon_days", raw.horizon_days.is_some()),
        ("cycle_multiple", raw.cycle_multiple.is_some()),
        ("min_days", raw.min_days.is_some()),
        ("max_days", raw.max_days.is_some()),
        ("drop_fraction", raw.drop_fraction.is_some()),
    ] {
        if set && !allowed.contains(&key) {
            problems.push(format!(
                "label.{key}: does not apply to kind = {:?} (its keys: {})",
                raw.kind,
                allowed.join(", ")
            ));
        }
    }
    in_range(problems, "label.horizon_days", horizon, 1, 1095);
    match raw.kind.as_str() {
        "cycle_relative" => {
            let multiple = raw.cycle_multiple.unwrap_or(3.0);
            let (min, max) = (raw.min_days.unwrap_or(30), raw.max_days.unwrap_or(180));
            if !(multiple.is_finite() && multiple > 0.0) {
                problems.push(format!(
                    "label.cycle_multiple: expected a positive number, found {multiple}"
                ));
            }
            in_range(problems, "label.min_days", min, 1, 1095);
            in_range(problems, "label.max_days", max, min.max(1), 1095);
            LabelRule::CycleRelative {
                cycle_multiple: multiple,
                min_days: min as i32,
                max_days: max as i32,
            }
        }
        "value_drop" => {
            let fraction = raw.drop_fraction.unwrap_or(0.5);
            if !(fraction > 0.0 && fraction <= 1.0) {
                problems.push(format!(
                    "label.drop_fraction: expected a share in (0, 1], found {fraction}"
                ));
            }
            LabelRule::ValueDrop {
                horizon_days: horizon as i32,
                drop_fraction: fraction,
            }
        }
        _ => LabelRule::FixedHorizon {
            horizon_days: horizon as i32,
        },
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes `.` and `name/..` lexically, so messages show `out/demo`, not `pipelines/../out/demo`.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
workdir = "out"
[source]
path = "tx.csv"
[source.columns]
customer_id = "cid"
timestamp = "date"
amount = "amt"
"#;

    fn parse(text: &str) -> Result<Pipeline> {
        let raw: RawPipeline = toml::from_str(text).map_err(|e| Error::Config {
            path: "p.toml".into(),
            problems: e.to_string(),
        })?;
        Pipeline::from_raw(raw, Path::new("/x/pipelines/p.toml"), String::new())
    }

    #[test]
    fn minimal_file_gets_documented_defaults_and_resolved_paths() {
        let p = parse(MINIMAL).unwrap();
        assert_eq!(p.source.path, Path::new("/x/pipelines/tx.csv"));
        assert_eq!(p.models_dir, Path::new("/x/pipelines/out/models"));
        assert_eq!(
            normalize(Path::new("pipelines/../out/./demo")),
            Path::new("out/demo")
        );
        assert_eq!(normalize(Path::new("../data")), Path::new("../data"));
        assert_eq!(p.label, LabelRule::FixedHorizon { horizon_days: 90 });
        assert_eq!(p.features, spec::default_specs());
        assert_eq!(p.list_quadrants, ["act_now"]);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = parse(&MINIMAL.replace("name = \"t\"", "name = \"t\"\nhorizon = 3")).unwrap_err();
        assert!(err.to_string().contains("unknown field `horizon`"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = format!(
            "{MINIMAL}\n[label]\nhorizon_days = 0\ndrop_fraction = 0.5\n[train]\nalphas = [1.0, -1.0]\n[scoring]\nrisk_threshold = 1.5\nlist_quadrants = [\"panic\"]\n"
        );
        let err = parse(&text).unwrap_err().to_string();
        for needle in [
            "label.horizon_days: expected 1..=1095, found 0",
            "train.alphas: expected a non-empty list of positive numbers, found [1.0, -1.0]",
            "label.drop_fraction: does not apply to kind = \"fixed_horizon\"",
            "scoring.risk_threshold",
            "unknown quadrant \"panic\"",
        ] {
            assert!(err.contains(needle), "missing {needle:?} in\n{err}");
        }
    }
}
