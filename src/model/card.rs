//! `models/<id>/card.md`: the model explained for the people who must defend it: data window,
//! population, label, features and what each does to the churn odds, metrics against baselines,
//! calibration, and caveats.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::Result;
use crate::model::artifact::ModelArtifact;
use crate::model::metrics::Metrics;
use crate::util::atomic_file;

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "n/a".into()
    }
}

fn metric_row(name: &str, m: &Metrics) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} |\n",
        num(m.roc_auc),
        num(m.pr_auc),
        num(m.log_loss),
        num(m.brier),
        num(m.ece),
        num(m.lift_at_10),
        num(m.capture_at_20)
    )
}

/// `text` with a capital first letter.
fn sentence(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Renders the card as Markdown.
///
/// Long by design: one template, written top to bottom as the card reads.
pub fn render(a: &ModelArtifact) -> String {
    let t = &a.training;
    let m = &a.metrics;
    let mut s = String::new();
    let _ = writeln!(s, "# Churn model {}\n", a.model_id);
    let _ = writeln!(
        s,
        "Pipeline `{}` (file SHA-256 `{}`), churnflow {}, created {}.\n",
        a.pipeline_name,
        &a.pipeline_sha256.get(..12).unwrap_or(&a.pipeline_sha256),
        a.churnflow_version,
        a.created_at
    );
    let _ = writeln!(s, "## Data, population and label\n");
    let _ = writeln!(
        s,
        "- Transactions from {} to {} (warehouse fingerprint `{}`).",
        t.data_from,
        t.data_to,
        a.data_fingerprint.get(..12).unwrap_or(&a.data_fingerprint)
    );
    let _ = writeln!(
        s,
        "- Population at each cutoff: customers with a purchase in the {} days before it.",
        a.population.active_within_days
    );
    let _ = writeln!(s, "- Churned means: {}.", a.label.describe());
    let holdout = t.validation == "in_time_holdout";
    if t.min_history_relaxed {
        let _ = writeln!(
            s,
            "- **Short history**: no cutoff had train.min_history_days of data before it, so \
             cutoffs with {} days were used; features over longer windows see fewer days at \
             the early cutoffs.",
            t.min_history_days
        );
    }
    if holdout {
        let _ = writeln!(
            s,
            "- Cutoffs: {}. **The history is too short for an out-of-time validation**: a fifth \
             of the customers was held out of training at every cutoff and the figures below are \
             measured on them at {} (in time, so weaker evidence than out-of-time figures); the \
             shipped model is refitted on every customer.",
            t.training_cutoffs.join(", "),
            t.validation_cutoff
        );
    } else {
        let _ = writeln!(
            s,
            "- Cutoffs: {} (the last, {}, is the out-of-time validation snapshot; the shipped model is refitted on all of them).",
            t.training_cutoffs.join(", "),
            t.validation_cutoff
        );
    }
    let _ = writeln!(
        s,
        "- {} labelled rows, churn rate {:.1}%{}.\n",
        t.rows,
        t.churn_rate * 100.0,
        if t.sampled {
            format!("; fitted on a stratified sample of {} rows", t.fitted_rows)
        } else {
            String::new()
        }
    );
    let _ = writeln!(s, "## Regularisation\n");
    let _ = writeln!(
        s,
        "L2 strength chosen by validation log loss: alpha = {}.\n",
        a.alpha
    );
    let _ = writeln!(
        s,
        "| alpha | validation log loss | validation ROC AUC |\n|---|---|---|"
    );
    for g in &a.alpha_grid {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            g.alpha,
            num(g.validation_log_loss),
            num(g.validation_roc_auc)
        );
    }
    let _ = writeln!(s, "\n## Features\n");
    let _ = writeln!(
        s,
        "Inputs are imputed with the training median, transformed, and standardised. The effect is \
         what one standard deviation more (on the transformed scale) does to the odds of churn.\n"
    );
    let _ = writeln!(
        s,
        "| feature | transform | coefficient | +1 sd changes churn odds by |\n|---|---|---|---|"
    );
    let intercept = a.model.intercept;
    for (f, w) in a.features.iter().zip(&a.model.coefficients) {
        let factor = w.exp();
        let words = if factor >= 1.0 {
            format!("x{factor:.2} (up {:.0}%)", (factor - 1.0) * 100.0)
        } else {
            format!("x{factor:.2} (down {:.0}%)", (1.0 - factor) * 100.0)
        };
        let _ = writeln!(s, "| {} | {:?} | {w:.4} | {words} |", f.name, f.transform);
    }
    let _ = writeln!(s, "\nIntercept {intercept:.4}.\n");
    btyd_section(&mut s, &t.btyd_fits);
    let _ = writeln!(
        s,
        "## Validation ({}, cutoff {})\n",
        if holdout {
            "in-time holdout of a fifth of the customers"
        } else {
            "out of time"
        },
        t.validation_cutoff
    );
    let _ = writeln!(
        s,
        "| model | ROC AUC | PR AUC | log loss | Brier | ECE | lift@10% | capture@20% |\n|---|---|---|---|---|---|---|---|"
    );
    s.push_str(&metric_row("this model", &m.validation));
    for b in &m.baselines {
        s.push_str(&metric_row(&b.name, &b.metrics));
    }
    s.push_str(&metric_row(
        "this model, in-sample (all cutoffs; sampled rows when sampled)",
        &m.train,
    ));
    let _ = writeln!(
        s,
        "\nShare of next-period lost value in the top 10% / 20% of accounts by expected value at \
         risk: {} / {}.\n",
        num(m.lost_value_caught_at_10),
        num(m.lost_value_caught_at_20)
    );
    let _ = writeln!(
        s,
        "### Gains by decile\n\n| decile | rows | churners | churn rate | cumulative capture | cumulative lift |\n|---|---|---|---|---|---|"
    );
    for g in &m.gains {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {:.3} | {:.2} |",
            g.decile, g.rows, g.churners, g.churn_rate, g.cumulative_capture, g.cumulative_lift
        );
    }
    let c = &a.calibration;
    let _ = writeln!(s, "\n## Calibration\n");
    let _ = writeln!(s, "{}.\n", sentence(&c.decision));
    if let Some(p) = &c.correction {
        let _ = writeln!(
            s,
            "Correction folded into the coefficients: P = sigmoid({:.4} x log-odds {:+.4}). \
             Validation log loss {} uncorrected, {} with the correction fitted one step earlier; \
             ECE {} -> {} (out of sample: those rows were not used to fit that correction).\n",
            p.a,
            p.b,
            num(c.log_loss_before),
            num(c.log_loss_after),
            num(c.ece_before),
            num(c.ece_after)
        );
    }
    let _ = writeln!(
        s,
        "| decile | rows | mean predicted | observed churn rate |\n|---|---|---|---|"
    );
    for b in &c.table_after {
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {:.3} |",
            b.bin, b.rows, b.mean_predicted, b.observed_rate
        );
    }
    let _ = writeln!(s, "\n## Caveats\n");
    let _ = writeln!(
        s,
        "- Validation figures come from a model fitted on the earlier cutoffs only; the shipped model is refitted on all cutoffs with the same settings, so its own out-of-time performance is not measured until the next validation snapshot."
    );
    if c.correction.is_some() {
        let _ = writeln!(
            s,
            "- The calibration correction was fitted for the out-of-time model on the validation cutoff and applied unchanged to the refitted one, as the judged correction was one step earlier."
        );
    }
    if t.sampled {
        let _ = writeln!(
            s,
            "- Fitted on a stratified sample: coefficients carry sampling noise; the class mix is preserved, so probabilities are not shifted."
        );
    }
    let _ = writeln!(
        s,
        "- Coefficients describe association in this data, not cause; correlated features share their effect, so a single coefficient can have a surprising sign."
    );
    let _ = writeln!(
        s,
        "- linfa-logistic does not report convergence; the fit stops after {} iterations at most.",
        a.max_iterations
    );
    s
}

/// The BTYD models behind the BTYD features, one row per cutoff: each snapshot's columns come
/// from the fit on its own day's data only.
fn btyd_section(s: &mut String, fits: &[crate::model::artifact::BtydFit]) {
    if fits.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "### BTYD models\n\nFitted by maximum likelihood at each cutoff on every customer's \
         repeat-purchase summary up to it (days).\n\n| as of | model | r | alpha | a | b | \
         customers | distinct summaries | log-likelihood |\n|---|---|---|---|---|---|---|---|---|"
    );
    for f in fits {
        let (p, fit) = (&f.fit.params, &f.fit);
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {} | {} | {:.1} |",
            f.as_of,
            fit.kind.name(),
            p.r,
            p.alpha,
            p.a,
            p.b,
            fit.customers,
            fit.distinct,
            fit.log_likelihood
        );
    }
    s.push('\n');
}

/// Writes `models/<id>/card.md` atomically.
pub fn write(a: &ModelArtifact, models_dir: &Path) -> Result<()> {
    atomic_file::write_bytes(
        &models_dir.join(&a.model_id).join("card.md"),
        render(a).as_bytes(),
    )
}
