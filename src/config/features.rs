//! `features = [...]`: the model's features, each parsed once into a [`FeatureSpec`].

use super::raw::{RawFeature, RawPipeline};
use crate::domain::feature::{self as spec, BtydKind, FeatureSpec};

/// The specs of one `[[features]]` entry; `horizon_days` is the label's window (the BTYD
/// features look as far ahead as the label does), `defaults` what `builtin = "defaults"` gives
/// (the default set for the side tables present).
fn parse(
    f: &RawFeature,
    horizon_days: i32,
    defaults: &[FeatureSpec],
) -> Result<Vec<FeatureSpec>, String> {
    match (&f.builtin, &f.name, &f.measure, &f.agg, f.window_days) {
        (Some(group), None, None, None, None) => match group.as_str() {
            "defaults" => Ok(defaults.to_vec()),
            "bgnbd" => Ok(spec::btyd_group(BtydKind::BgNbd, horizon_days)),
            "mbgnbd" => Ok(spec::btyd_group(BtydKind::MbgNbd, horizon_days)),
            other => Err(format!(
                "unknown builtin {other:?}; expected \"defaults\" (the default set), \
                 \"bgnbd\" (BG/NBD) or \"mbgnbd\" (MBG/NBD)"
            )),
        },
        (Some(_), ..) => Err("`builtin` stands alone: expected no name, measure, agg or \
                              window_days beside it"
            .into()),
        (None, ..) => FeatureSpec::parse(
            f.name.as_deref(),
            f.measure.as_deref(),
            f.agg.as_deref(),
            f.window_days,
        )
        .map(|s| vec![s]),
    }
}

/// The listed features (each once), or the defaults for the side tables present when none is
/// listed.
pub(super) fn check_features(
    raw: &RawPipeline,
    horizon_days: i32,
    problems: &mut Vec<String>,
) -> Vec<FeatureSpec> {
    let defaults = spec::default_specs(raw.arrears.is_some(), raw.events.is_some());
    if raw.features.is_empty() {
        return defaults;
    }
    let mut features = Vec::new();
    for (i, f) in raw.features.iter().enumerate() {
        match parse(f, horizon_days, &defaults) {
            Ok(specs) => {
                for s in specs {
                    if features.contains(&s) {
                        problems.push(format!("features[{i}]: {} is listed twice", s.name()));
                    } else {
                        features.push(s);
                    }
                }
            }
            Err(e) => problems.push(format!("features[{i}]: {e}")),
        }
    }
    features
}

/// A feature of a side table needs that table's section.
pub(super) fn check_tables(
    features: &[FeatureSpec],
    arrears: bool,
    events: bool,
    problems: &mut Vec<String>,
) {
    for f in features {
        let needs = match f {
            FeatureSpec::ArrearsOutstanding | FeatureSpec::ArrearsDaysOverdue => {
                Some(("arrears", arrears))
            }
            FeatureSpec::Complaints { .. } => Some(("events", events)),
            _ => None,
        };
        if let Some((section, present)) = needs
            && !present
        {
            problems.push(format!("features: {} needs an [{section}] table", f.name()));
        }
    }
}
