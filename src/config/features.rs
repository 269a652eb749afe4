//! `features = [...]`: the model's features, each parsed once into a [`FeatureSpec`].

use super::raw::RawPipeline;
use crate::domain::feature::{self as spec, FeatureSpec};

/// The listed features (each once), or the defaults for the side tables present when none is
/// listed.
pub(super) fn check_features(raw: &RawPipeline, problems: &mut Vec<String>) -> Vec<FeatureSpec> {
    let mut features = Vec::new();
    for (i, f) in raw.features.iter().enumerate() {
        match FeatureSpec::parse(
            f.name.as_deref(),
            f.measure.as_deref(),
            f.agg.as_deref(),
            f.window_days,
        ) {
            Ok(s) if features.contains(&s) => {
                problems.push(format!("features[{i}]: {} is listed twice", s.name()))
            }
            Ok(s) => features.push(s),
            Err(e) => problems.push(format!("features[{i}]: {e}")),
        }
    }
    if raw.features.is_empty() {
        features = spec::default_specs(raw.arrears.is_some(), raw.events.is_some());
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
