//! The evidence a pipeline with BTYD features owes its reader (issue 19): on the same
//! snapshot, the BTYD model's own forecast scored alone, and the pipeline's model refitted
//! without the BTYD features, next to the model with them and recency. Without it nobody can
//! tell whether the extra columns earn their place.

use crate::domain::feature::{BtydOutput, FeatureSpec};
use crate::error::Result;
use crate::model::fit::sigmoid;
use crate::model::metrics::Metrics;
use crate::model::snapshot::Snapshot;

/// Baseline names, as the model card and the report show them.
pub const ALONE: &str = "BG/NBD alone";
pub const WITHOUT: &str = "model without the BTYD features";

/// `specs` without the BTYD group (the BTYD outputs and the single-purchase flag that comes
/// with them); `None` when `specs` has no BTYD output, so there is nothing to compare.
pub fn without_btyd(specs: &[FeatureSpec]) -> Option<Vec<FeatureSpec>> {
    specs.iter().any(FeatureSpec::is_btyd).then(|| {
        specs
            .iter()
            .filter(|s| !s.is_btyd() && **s != FeatureSpec::SinglePurchaseDay)
            .cloned()
            .collect()
    })
}

/// The BTYD model alone on `s`'s rows, from the first BTYD output among `specs`: P(no purchase
/// in the horizon) is a churn probability and is measured as one (log loss included); P(alive)
/// and expected purchases only rank (lower = more likely gone). `None` without a BTYD output.
pub fn alone(specs: &[FeatureSpec], s: &Snapshot) -> Result<Option<Metrics>> {
    let preferred = specs
        .iter()
        .find(|f| {
            matches!(
                f,
                FeatureSpec::Btyd {
                    output: BtydOutput::NoPurchaseLogit,
                    ..
                }
            )
        })
        .or_else(|| specs.iter().find(|f| f.is_btyd()));
    let Some(spec @ FeatureSpec::Btyd { output, .. }) = preferred else {
        return Ok(None);
    };
    let col = s.table.require(&spec.name())?;
    // Every active customer has a purchase, so a summary; a missing value says nothing (0.5).
    let values = s.rows.iter().map(|&i| col.get(i));
    Ok(Some(match output {
        BtydOutput::NoPurchaseLogit => {
            let p: Vec<f64> = values.map(|z| sigmoid(z.unwrap_or(0.0))).collect();
            Metrics::compute(&p, &s.labels)
        }
        BtydOutput::PAlive | BtydOutput::ExpectedPurchases => {
            let score: Vec<f64> = values.map(|v| v.map_or(0.0, |v| -v)).collect();
            Metrics::ranking_only(&score, &s.labels)
        }
    }))
}

/// With BTYD features, the BTYD model alone and the pipeline's model fitted without them, on
/// the validation snapshot (`btyd_evidence`); nothing otherwise.
pub fn baselines(
    p: &crate::config::Pipeline,
    train: &[&Snapshot],
    val: &Snapshot,
) -> Result<Vec<crate::model::artifact::Baseline>> {
    let mut out = Vec::new();
    if let Some(m) = alone(&p.features, val)? {
        out.push(crate::model::artifact::Baseline {
            name: ALONE.into(),
            metrics: m,
        });
    }
    if let Some(specs) = without_btyd(&p.features) {
        // Only its validation probabilities are compared: no refit.
        let without = crate::model::procedure::choose(&p.train, &specs, train, val)?;
        out.push(crate::model::artifact::Baseline {
            name: WITHOUT.into(),
            metrics: Metrics::compute(&without.validation_probabilities, &val.labels),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btyd::Kind;
    use crate::domain::feature::btyd_group;
    use crate::domain::table::FeatureTable;

    fn snapshot(logits: Vec<f64>, labels: Vec<bool>) -> (Vec<FeatureSpec>, Snapshot) {
        let specs = btyd_group(Kind::BgNbd, 90);
        let n = logits.len();
        let names = specs.iter().map(FeatureSpec::name).collect();
        // The group's columns: single-purchase flag, P(alive), the logit, expected purchases.
        let values = vec![vec![0.0; n], vec![0.5; n], logits, vec![1.0; n]];
        let table = FeatureTable {
            as_of: 0,
            customer_ids: (0..n).map(|i| format!("c{i}").into()).collect(),
            names,
            values,
            btyd: Vec::new(),
        };
        let snap = Snapshot {
            cutoff: 0,
            population: n,
            churners: labels.iter().filter(|l| **l).count(),
            table,
            rows: (0..n).collect(),
            labels,
            lost_value: vec![0.0; n],
        };
        (specs, snap)
    }

    #[test]
    fn the_no_purchase_logit_is_scored_as_a_probability() {
        let (specs, s) = snapshot(vec![-2.0, 0.0, 3.0], vec![false, true, true]);
        let m = alone(&specs, &s).unwrap().unwrap();
        assert_eq!(m.roc_auc, 1.0);
        // Log loss by its formula: -mean(y ln p + (1 - y) ln(1 - p)).
        let p = [sigmoid(-2.0), sigmoid(0.0), sigmoid(3.0)];
        let want = -((1.0 - p[0]).ln() + p[1].ln() + p[2].ln()) / 3.0;
        assert!(
            (m.log_loss - want).abs() < 1e-12,
            "{} vs {want}",
            m.log_loss
        );
    }

    #[test]
    fn without_removes_the_whole_group_and_only_it() {
        let mut specs = vec![FeatureSpec::RecencyDays];
        assert_eq!(without_btyd(&specs), None);
        specs.extend(btyd_group(Kind::MbgNbd, 30));
        assert_eq!(without_btyd(&specs), Some(vec![FeatureSpec::RecencyDays]));
    }
}
