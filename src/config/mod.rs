//! The pipeline file: one TOML file describes one nightly job. [`Pipeline::load`] parses it
//! (unknown keys are an error), then checks every value and reports all problems at once.

mod check;
mod engine;
mod features;
mod parse;
pub mod raw;
mod scoring;
mod source;
mod train;
mod workdir;

pub use scoring::{KeyRule, LifecycleRules, RiskRule, Scoring};
pub use source::{SideTable, Source};
pub use train::TrainSettings;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::domain::engine::EngineSettings;
use crate::domain::feature::FeatureSpec;
pub use crate::domain::input::SideKind;
use crate::domain::label::LabelRule;
use crate::error::{Error, Result};
use crate::util::hashing::hex;
use check::in_range;
use parse::{indent, normalize, parse_all};
use raw::RawPipeline;

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
    /// The engine features, labels and lists are computed with.
    pub engine: EngineSettings,
    pub train: TrainSettings,
    /// Key accounts, risk, lists and reasons.
    pub scoring: Scoring,
    pub customers: Option<SideTable>,
    pub arrears: Option<SideTable>,
    pub events: Option<SideTable>,
    /// Event kinds counted as complaints.
    pub complaint_kinds: Vec<String>,
}

impl Pipeline {
    /// Reads, parses and validates a pipeline file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading pipeline file", path, e))?;
        let text = String::from_utf8(bytes.clone()).map_err(|_| Error::Config {
            path: path.to_path_buf(),
            problems: "  - the file is not valid UTF-8".into(),
        })?;
        let hash = hex(&Sha256::digest(&bytes));
        let (raw, syntax) = parse_all(&text);
        let checked = raw.map(|raw| Self::from_raw(raw, path, hash));
        if syntax.is_empty() {
            return checked.expect("parsed when no problem was found");
        }
        // Type and syntax problems first, then whatever the checks found in the rest.
        let mut problems: Vec<String> = syntax.iter().map(|p| indent(p)).collect();
        if let Some(Err(Error::Config { problems: more, .. })) = checked {
            problems.push(more);
        }
        Err(Error::Config {
            path: path.to_path_buf(),
            problems: problems.join("\n"),
        })
    }

    /// Validates a parsed pipeline; `file` anchors relative paths.
    ///
    /// Long by design: one check per section, in the file's order, so the problems read in that
    /// order; the checks themselves live in the section modules.
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
        let source = source::check_source(&raw.source, &resolve, &mut problems);
        // The label first: the BTYD features look as far ahead as it does.
        let label = train::check_label(&raw.label, &mut problems);
        let features = features::check_features(&raw, label.max_window(), &mut problems);
        let default_share = raw.source.max_rejected_share;
        let side = |kind: SideKind, raw: &Option<raw::RawSideTable>, problems: &mut Vec<String>| {
            raw.as_ref()
                .map(|t| source::check_side(kind, t, &resolve, default_share, problems))
        };
        let customers = side(SideKind::Customers, &raw.customers, &mut problems);
        let arrears = side(SideKind::Arrears, &raw.arrears, &mut problems);
        let events = side(SideKind::Events, &raw.events, &mut problems);
        let complaint_kinds = raw
            .events
            .as_ref()
            .and_then(|e| e.complaint_kinds.clone())
            .unwrap_or_else(|| vec!["complaint".into()]);
        for (section, t) in [("customers", &raw.customers), ("arrears", &raw.arrears)] {
            if t.as_ref().is_some_and(|t| t.complaint_kinds.is_some()) {
                problems.push(format!(
                    "{section}.complaint_kinds: only [events] has complaint_kinds"
                ));
            }
        }
        features::check_tables(
            &features,
            arrears.is_some(),
            events.is_some(),
            &mut problems,
        );
        in_range(
            &mut problems,
            "population.active_within_days",
            raw.population.active_within_days,
            1,
            3660,
        );
        let train = train::check_train(&raw.train, &mut problems);
        let scoring = scoring::check_scoring(&raw.scoring, &raw.lifecycle, &mut problems);
        let engine = engine::check_engine(&raw.engine, &mut problems);

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
            source,
            workdir,
            models_dir,
            features,
            label,
            active_within_days: raw.population.active_within_days as i32,
            engine,
            train,
            scoring,
            customers,
            arrears,
            events,
            complaint_kinds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::quadrant::Quadrant;

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
        assert_eq!(
            p.features,
            crate::domain::feature::default_specs(false, false)
        );
        assert_eq!(p.scoring.list_quadrants, [Quadrant::ActNow]);
        assert_eq!(p.scoring.key, KeyRule::Pareto(0.8));
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

    #[test]
    fn a_btyd_builtin_expands_to_its_features_over_the_label_window() {
        use crate::domain::feature::{BtydKind, BtydOutput, FeatureSpec};
        let text = format!(
            "{MINIMAL}\n[[features]]\nname = \"recency_days\"\n[[features]]\nbuiltin = \"bgnbd\"\n\
             [label]\nhorizon_days = 60\n"
        );
        let p = parse(&text).unwrap();
        let names: Vec<String> = p.features.iter().map(FeatureSpec::name).collect();
        assert_eq!(
            names,
            [
                "recency_days",
                "single_purchase_day",
                "bgnbd_p_alive",
                "bgnbd_no_purchase_logit_60d",
                "bgnbd_expected_purchases_60d"
            ]
        );
        assert!(p.features.contains(&FeatureSpec::Btyd {
            model: BtydKind::BgNbd,
            output: BtydOutput::ExpectedPurchases,
            horizon_days: 60
        }));
        // A builtin stands alone; an unknown one names the known ones; twice is a duplicate.
        let text = format!(
            "{MINIMAL}\n[[features]]\nbuiltin = \"bgnbd\"\nwindow_days = 3\n[[features]]\n\
             builtin = \"pareto\"\n[[features]]\nbuiltin = \"mbgnbd\"\n[[features]]\n\
             builtin = \"mbgnbd\"\n"
        );
        let err = parse(&text).unwrap_err().to_string();
        for needle in [
            "features[0]: `builtin` stands alone",
            "features[1]: unknown builtin \"pareto\"; expected \"defaults\" (the default set), \
             \"bgnbd\" (BG/NBD) or \"mbgnbd\"",
            "features[3]: single_purchase_day is listed twice",
        ] {
            assert!(err.contains(needle), "missing {needle:?} in\n{err}");
        }
    }

    #[test]
    fn the_defaults_builtin_is_the_default_set_and_adds_to_it() {
        use crate::domain::feature::{self as spec, BtydKind};
        let alone = parse(&format!(
            "{MINIMAL}\n[[features]]\nbuiltin = \"defaults\"\n"
        ))
        .unwrap();
        assert_eq!(alone.features, parse(MINIMAL).unwrap().features);
        let text = format!(
            "{MINIMAL}\n[[features]]\nbuiltin = \"defaults\"\n[[features]]\nbuiltin = \"bgnbd\"\n"
        );
        let mut want = spec::default_specs(false, false);
        want.extend(spec::btyd_group(BtydKind::BgNbd, 90));
        assert_eq!(parse(&text).unwrap().features, want);
    }
}
