//! The fitted BTYD models applied in SQL (issue 19): P(alive), the no-purchase logit and the
//! expected purchases of every customer, computed by the engine from the summary columns of the
//! features query, so a distributed engine scores BTYD features where the data is and only the
//! fitted parameters travel to it.
//!
//! The rules kept: the same closed forms as `btyd::predict` (`lifetimes` 0.11), written with
//! the portable subset (`CASE WHEN`, arithmetic, `LN`, `EXP`) and the parameters as exact
//! literals, so the engine's values equal the driver's within 1e-9 relative. The one part
//! without a closed form, the Gauss hypergeometric 2F1 of the expected purchases, depends on
//! a customer's (x, T) only: it is computed in Rust once per distinct (x, T) of the fit's
//! summaries and joined as a `VALUES` table (thousands of rows where there are millions of
//! customers).

use crate::btyd::{Fit, Kind, Weighted, expectation_hyp2f1};
use crate::domain::feature::{BtydOutput, FeatureSpec, SUMMARY_SPECS};
use crate::engine::sql::literal::number;

/// A logit is kept inside ±this, as the driver's features are.
pub const LOGIT_BOUND: f64 = 35.0;

/// `features_sql` (a query with one row per customer and the summary columns, as
/// `features::render` gives for `engine_specs(specs)`), with every spec of `specs` as a column
/// in that order: the BTYD outputs computed from `fits` (one per model), the rest passed on.
/// `rows` are the summaries the fits were made on (every customer's summary is one of them).
pub fn render(
    specs: &[FeatureSpec],
    fits: &[Fit],
    rows: &[Weighted],
    features_sql: &str,
) -> String {
    let inner = crate::engine::sql::features::unordered(features_sql);
    let [x, t_x, t] = SUMMARY_SPECS.map(|s| format!("s.{}", s.name()));
    let mut ctes = vec![format!("s AS (\n{inner}\n)")];
    let mut joins = String::new();
    let mut select = String::from("SELECT s.customer_id");
    for spec in specs {
        let name = spec.name();
        let FeatureSpec::Btyd {
            model,
            output,
            horizon_days,
        } = *spec
        else {
            select.push_str(&format!(",\n  s.{name}"));
            continue;
        };
        let Some(fit) = fits.iter().find(|f| f.kind == model) else {
            // No fit for this model: nothing to apply (the driver refuses such a night).
            select.push_str(&format!(",\n  CAST(NULL AS DOUBLE) AS {name}"));
            continue;
        };
        let h = f64::from(horizon_days);
        let e = Exprs::new(fit, &x, &t_x, &t, h);
        let value = match output {
            BtydOutput::PAlive => e.alive.clone(),
            BtydOutput::NoPurchaseLogit => {
                let none = format!("(1.0 - {a}) + {a} * {q}", a = e.alive, q = e.quiet);
                let some = format!("{a} * (1.0 - {q})", a = e.alive, q = e.quiet);
                let logit = format!("(LN({none}) - LN({some}))");
                let bound = number(LOGIT_BOUND);
                format!(
                    "CASE WHEN {logit} > {bound} THEN {bound} WHEN {logit} < -{bound} THEN \
                     -{bound} ELSE {logit} END"
                )
            }
            BtydOutput::ExpectedPurchases => {
                let table = format!("f_{}", ctes.len());
                ctes.push(format!(
                    "{table} AS (\nSELECT * FROM (VALUES\n{}\n) AS v(x, t, f)\n)",
                    hypergeometric_rows(fit, rows, h)
                ));
                joins.push_str(&format!(
                    "\nLEFT JOIN {table} ON {x} = {table}.x AND {t} = {table}.t"
                ));
                let p = &fit.params;
                let k = k(fit.kind);
                let first = format!(
                    "({} + {x}) / {}",
                    number(p.a + p.b + k - 1.0),
                    number(p.a - 1.0)
                );
                format!(
                    "{first} * (1.0 - {table}.f * {q}) * {a}",
                    q = e.quiet,
                    a = e.alive
                )
            }
        };
        select.push_str(&format!(",\n  {value} AS {name}"));
    }
    format!(
        "WITH {}\n{select}\nFROM s{joins}\nORDER BY customer_id",
        ctes.join(",\n")
    )
}

fn k(kind: Kind) -> f64 {
    match kind {
        Kind::BgNbd => 0.0,
        Kind::MbgNbd => 1.0,
    }
}

/// The shared parts of the outputs as SQL over the summary columns `x`, `t_x`, `t`.
struct Exprs {
    /// P(alive | x, t_x, T).
    alive: String,
    /// ((α+T)/(α+T+h))^(r+x): no purchase in h while alive.
    quiet: String,
}

impl Exprs {
    fn new(fit: &Fit, x: &str, t_x: &str, t: &str, h: f64) -> Exprs {
        let p = &fit.params;
        let (r, alpha) = (number(p.r), number(p.alpha));
        // ln of the dropout odds: ln(a / (b + x + k - 1)) + (r + x) ln((α+T)/(α+t_x)).
        let odds = format!(
            "(LN({a} / ({bk} + {x})) + ({r} + {x}) * LN(({alpha} + {t}) / ({alpha} + {t_x})))",
            a = number(p.a),
            bk = number(p.b + k(fit.kind) - 1.0),
        );
        let logistic = format!("1.0 / (1.0 + EXP({odds}))");
        let alive = match fit.kind {
            // BG/NBD cannot have dropped a one-time buyer.
            Kind::BgNbd => {
                format!("(CASE WHEN {x} = 0.0 THEN 1.0 WHEN {x} > 0.0 THEN {logistic} END)")
            }
            Kind::MbgNbd => format!("({logistic})"),
        };
        let quiet = format!(
            "EXP(({r} + {x}) * LN(({alpha} + {t}) / ({alpha} + {t} + {h})))",
            h = number(h)
        );
        Exprs { alive, quiet }
    }
}

/// `(x, T, 2F1(r+x, b+x+k; a+b+x+k-1; h/(α+T+h)))` for every distinct (x, T) of `rows`, as
/// `VALUES` rows; a pair whose series does not converge is left out (its customers get NULL,
/// where the driver refuses the night).
fn hypergeometric_rows(fit: &Fit, rows: &[Weighted], h: f64) -> String {
    let mut pairs: Vec<(f64, f64)> = rows.iter().map(|w| (w.summary.x, w.summary.t)).collect();
    pairs.sort_by(|a, b| a.partial_cmp(b).expect("summaries are finite"));
    pairs.dedup();
    let mut values: Vec<String> = pairs
        .iter()
        .filter_map(|&(x, t)| {
            let f = expectation_hyp2f1(fit.kind, &fit.params, x, t, h)?;
            f.is_finite()
                .then(|| format!("({}, {}, {})", number(x), number(t), number(f)))
        })
        .collect();
    if values.is_empty() {
        // A VALUES list cannot be empty: one row no customer matches.
        values.push("((-1.0), (-1.0), 0.0)".into());
    }
    values.join(",\n")
}
