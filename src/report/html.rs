//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network) with the
//! night's headline numbers, the value x risk picture, counts by quadrant and lifecycle stage,
//! the current model's gains and calibration on its validation snapshot, and the top accounts.

use crate::report::svg::{self, escape};
use crate::score::ScoreOutcome;
use crate::segment::lifecycle::LifecycleStage;
use crate::segment::quadrant::Quadrant;
use crate::segment::reasons::thousands;

fn colour(q: Quadrant) -> &'static str {
    match q {
        Quadrant::ActNow => "#c0392b",
        Quadrant::Monitor => "#2e86c1",
        Quadrant::LowCostRetention => "#e67e22",
        Quadrant::NoAction => "#95a5a6",
    }
}

/// Renders the report.
pub fn render(o: &ScoreOutcome) -> String {
    let key = o.key_accounts();
    let at_risk = o.listed_value_at_risk();
    let v = &o.model.metrics.validation;

    // Value on a log scale (heavy-tailed); at most ~3000 points, every listed account included.
    let max_log = o
        .scored
        .iter()
        .map(|a| a.value_12m.ln_1p())
        .fold(1.0, f64::max);
    let stride = (o.scored.len() / 3000).max(1);
    let points: Vec<(f64, f64, &str)> = o
        .scored
        .iter()
        .enumerate()
        .filter(|(i, a)| i % stride == 0 || a.quadrant == Quadrant::ActNow)
        .map(|(_, a)| {
            (
                a.value_12m.ln_1p() / max_log,
                a.churn_probability,
                colour(a.quadrant),
            )
        })
        .collect();
    let legend: Vec<(&str, &str)> = Quadrant::ALL
        .iter()
        .map(|q| (q.name(), colour(*q)))
        .collect();
    let scatter = svg::scatter(
        "Value x risk",
        "12-month value (log scale)",
        "churn probability",
        &points,
        &legend,
    );
    let quadrants = svg::bars(
        "Accounts by quadrant",
        &Quadrant::ALL
            .iter()
            .map(|q| {
                (
                    q.name().to_string(),
                    o.scored.iter().filter(|a| a.quadrant == *q).count() as f64,
                )
            })
            .collect::<Vec<_>>(),
    );
    let stages = svg::bars(
        "Accounts by lifecycle stage",
        &LifecycleStage::ALL
            .iter()
            .map(|s| {
                (
                    s.name().to_string(),
                    o.scored.iter().filter(|a| a.lifecycle == *s).count() as f64,
                )
            })
            .collect::<Vec<_>>(),
    );
    let gains: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(
            o.model
                .metrics
                .gains
                .iter()
                .map(|g| (g.decile as f64 / 10.0, g.cumulative_capture)),
        )
        .collect();
    let gains = svg::lines(
        "Gains (validation)",
        "share of accounts, riskiest first",
        "share of churners found",
        &[("model", "#c0392b", gains)],
        true,
    );
    let calibration: Vec<(f64, f64)> = o
        .model
        .calibration
        .table_after
        .iter()
        .map(|b| (b.mean_predicted, b.observed_rate))
        .collect();
    let calibration = svg::lines(
        "Calibration (validation)",
        "predicted churn probability",
        "observed churn rate",
        &[("model, by decile", "#2e86c1", calibration)],
        true,
    );

    let mut rows = String::new();
    for r in 0..o.listed.len().min(25) {
        let a = o.listed_account(r);
        let e = o.listed[r];
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=n>{:.0}%</td><td class=n>{}</td><td class=n>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            r + 1,
            escape(&a.customer_id),
            escape(&a.name),
            escape(&a.owner),
            a.churn_probability * 100.0,
            thousands(a.value_12m),
            thousands(a.expected_value_at_risk),
            escape(a.quadrant.action()),
            a.lifecycle.name(),
            escape(&a.reasons.join("; ")),
            e.status.name()
        ));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>churnflow report {as_of}</title>
<style>
body {{ font-family: "DejaVu Sans", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 24px; color: #222; }}
.cards {{ display: flex; gap: 16px; flex-wrap: wrap; }}
.card {{ border: 1px solid #ccc; border-radius: 6px; padding: 12px 16px; min-width: 150px; }}
.card b {{ display: block; font-size: 22px; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 16px; margin: 16px 0; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }}
th {{ background: #ddebf7; }} td.n {{ text-align: right; }}
</style></head><body>
<h1>Churn risk as of {as_of}</h1>
<p>Model {model} (validated out of time on {vcut}: ROC AUC {auc:.3}, recency alone {rauc:.3}).</p>
<div class="cards">
<div class="card">active accounts scored<b>{scored}</b></div>
<div class="card">key accounts<b>{key}</b></div>
<div class="card">on the at-risk list<b>{listed}</b></div>
<div class="card">expected value at risk on the list<b>{at_risk}</b></div>
<div class="card">win-back candidates<b>{winback}</b></div>
</div>
<div class="charts">{scatter}{quadrants}{stages}{gains}{calibration}</div>
<h2>Top accounts to act on</h2>
<table><tr><th>rank</th><th>customer</th><th>name</th><th>owner</th><th>p(churn)</th><th>value 12m</th><th>value at risk</th><th>action</th><th>stage</th><th>why</th><th>status</th></tr>
{rows}</table>
</body></html>
"#,
        as_of = escape(&o.as_of),
        model = escape(&o.model.model_id),
        vcut = escape(&o.model.training.validation_cutoff),
        auc = v.roc_auc,
        rauc = o
            .model
            .metrics
            .baselines
            .first()
            .map_or(f64::NAN, |b| b.metrics.roc_auc),
        scored = o.scored.len(),
        listed = o.listed.len(),
        at_risk = thousands(at_risk),
        winback = o.winback.len(),
    )
}
