//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network) with the
//! night's headline numbers, the value x risk picture, counts by quadrant and lifecycle stage,
//! the current model's gains and calibration on its validation snapshot, and the top accounts.

use crate::report::sections;
use crate::report::svg::{self, escape};
use crate::score::ScoreOutcome;
use crate::segment::lifecycle::LifecycleStage;
use crate::segment::quadrant::Quadrant;
use crate::segment::reasons::{percent, thousands};

/// Rows of each table in the report; the CSV and workbook hold every row.
const TABLE_ROWS: usize = 25;
/// Points on the value x risk chart, and how many of them are the top of the list.
const POINTS: usize = 3000;
const TOP_POINTS: usize = 500;

/// Money with the pipeline's currency label: "EUR 1,234", or "1,234" without one.
pub fn money(currency: &str, x: f64) -> String {
    if currency.is_empty() {
        thousands(x)
    } else {
        format!("{currency} {}", thousands(x))
    }
}

fn currency_note(currency: &str) -> String {
    if currency.is_empty() {
        String::new()
    } else {
        format!(", {currency}")
    }
}

/// 1000 -> "1k", 1e6 -> "1M": axis labels.
fn short_money(v: f64) -> String {
    match v {
        v if v >= 1e6 => format!("{:.0}M", v / 1e6),
        v if v >= 1e3 => format!("{:.0}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

fn colour(q: Quadrant) -> &'static str {
    match q {
        Quadrant::ActNow => "#c0392b",
        Quadrant::Monitor => "#2e86c1",
        Quadrant::LowCostRetention => "#e67e22",
        Quadrant::NoAction => "#95a5a6",
    }
}

/// Renders the report.
///
/// Long by design: one template, written top to bottom as the page reads.
pub fn render(o: &ScoreOutcome) -> String {
    let key = o.key_accounts();
    let at_risk = o.listed_value_at_risk();
    let v = &o.model.metrics.validation;

    // Value on a log scale (heavy-tailed). The chart is a sample whatever the night's size:
    // the top of the list, then every k-th account up to POINTS in all, so the page stays a
    // few hundred kilobytes however many accounts the night scores.
    let max_log = o
        .scored
        .iter()
        .map(|a| a.value_12m.ln_1p())
        .fold(1.0, f64::max);
    let top: Vec<usize> = o.listed.iter().take(TOP_POINTS).map(|e| e.index).collect();
    let stride = o.scored.len().div_ceil(POINTS - top.len()).max(1);
    let points: Vec<(f64, f64, &str)> = top
        .iter()
        .copied()
        .chain((0..o.scored.len()).step_by(stride))
        .map(|i| {
            let a = &o.scored[i];
            (
                a.value_12m.ln_1p() / max_log,
                a.churn_probability,
                colour(a.quadrant),
            )
        })
        .collect();
    let value_ticks: Vec<svg::Tick> = [0.0f64, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8]
        .iter()
        .filter(|v| v.ln_1p() <= max_log + 1e-9)
        .map(|&v| (v.ln_1p() / max_log, short_money(v)))
        .collect();
    let legend: Vec<(&str, &str)> = Quadrant::ALL
        .iter()
        .map(|q| (q.name(), colour(*q)))
        .collect();
    let sampled = if points.len() < o.scored.len() {
        format!(" ({} of {} accounts shown)", points.len(), o.scored.len())
    } else {
        String::new()
    };
    let scatter = svg::scatter(
        &format!("Value x risk{sampled}"),
        &format!("12-month value{} (log scale)", currency_note(&o.currency)),
        "churn probability",
        &points,
        &legend,
        &value_ticks,
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

    // The label comes from the pipeline file: escaped like any other text.
    let money = |x: f64| escape(&money(&o.currency, x));
    let mut rows = String::new();
    for r in 0..o.listed.len().min(TABLE_ROWS) {
        let a = o.listed_account(r);
        let e = o.listed[r];
        let status = match a.previous_probability() {
            Some(p) => format!(
                "{} (was {}, {:+.1} pts)",
                e.status.name(),
                percent(p),
                (a.churn_probability - p) * 100.0
            ),
            None => e.status.name().to_string(),
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            r + 1,
            escape(&a.customer_id),
            escape(a.name()),
            escape(a.owner()),
            percent(a.churn_probability),
            money(a.value_12m),
            money(a.expected_value_at_risk),
            escape(a.action()),
            a.lifecycle.name(),
            escape(&a.reasons().join("; ")),
            escape(&status)
        ));
    }
    let more_listed = o.listed.len().saturating_sub(TABLE_ROWS);
    let mut more = Vec::new();
    if more_listed > 0 {
        more.push(format!(
            "{more_listed} more on the list (at_risk_key_accounts.csv and .xlsx hold them all)"
        ));
    }
    if o.further_qualifying > 0 {
        more.push(format!(
            "{} more qualify but are beyond the list's capacity (scoring.max_listed, \
             max_listed_per_owner)",
            o.further_qualifying
        ));
    }
    let more = more
        .iter()
        .map(|m| format!("<p>{}</p>", escape(m)))
        .collect::<String>();
    let warnings = o
        .warnings
        .iter()
        .map(|w| format!("<p class=warn>warning: {}</p>", escape(w)))
        .collect::<String>();
    let winback_section = sections::winback(o, TABLE_ROWS, &money);
    let resolved = sections::resolved(o, TABLE_ROWS);
    let validated = match o.model.training.validation.as_str() {
        "in_time_holdout" => {
            "validated on an in-time holdout of a fifth of the customers (too little history for out-of-time validation)"
        }
        _ => "validated out of time",
    };
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
.warn {{ color: #a04000; font-weight: bold; }}
</style></head><body>
<h1>Churn risk as of {as_of}</h1>
<p>Model {model} ({validated} on {vcut}: ROC AUC {auc:.3}, recency alone {rauc:.3}).</p>
{warnings}
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
{more}{winback_section}{resolved}
</body></html>
"#,
        as_of = o.as_of,
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
        at_risk = money(at_risk),
        winback = o.winback.len(),
    )
}
