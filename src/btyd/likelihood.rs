//! The log-likelihood of one summary under BG/NBD or MBG/NBD, and its gradient in the
//! logarithms of the parameters (where they are fitted).
//!
//! Both models share one form (Fader, Hardie & Lee 2005, eq. 6; Batislam et al. 2007), with
//! k = 0 for BG/NBD and k = 1 for MBG/NBD:
//!
//! ln L = A1 + A2 + ln(e^A3 + δ e^A4), with δ = 1 when x > 0 or under MBG/NBD (else 0), and
//! A1 = ln Γ(r+x) - ln Γ(r) + r ln α,
//! A2 = ln Γ(a+b) + ln Γ(b+x+k) - ln Γ(b) - ln Γ(a+b+x+k),
//! A3 = -(r+x) ln(α+T),
//! A4 = ln a - ln(b+x+k-1) - (r+x) ln(α+t_x).

use rayon::prelude::*;

use super::params::{Kind, Params};
use super::special::{digamma, ln_gamma};
use super::summary::{Summary, Weighted};

fn k(kind: Kind) -> f64 {
    match kind {
        Kind::BgNbd => 0.0,
        Kind::MbgNbd => 1.0,
    }
}

/// The terms of ln L and its gradient that depend on the parameters and `x` only: computed
/// once per distinct `x` (rows come ordered by `x`).
struct XTerms {
    x: f64,
    a1: f64,
    a2: f64,
    d_r: f64,
    d_a: f64,
    d_b: f64,
    /// b + x + k - 1 and its logarithm (1 and 0 when there is no dropout term).
    m: f64,
    ln_m: f64,
}

impl XTerms {
    fn new(kind: Kind, p: &Params, x: f64) -> XTerms {
        let k = k(kind);
        let (r, a, b) = (p.r, p.a, p.b);
        let m = if kind == Kind::MbgNbd || x > 0.0 {
            b + x + k - 1.0
        } else {
            1.0
        };
        XTerms {
            x,
            a1: ln_gamma(r + x) - ln_gamma(r) + r * p.alpha.ln(),
            a2: ln_gamma(a + b) + ln_gamma(b + x + k) - ln_gamma(b) - ln_gamma(a + b + x + k),
            d_r: digamma(r + x) - digamma(r) + p.alpha.ln(),
            d_a: digamma(a + b) - digamma(a + b + x + k),
            d_b: digamma(a + b) + digamma(b + x + k) - digamma(b) - digamma(a + b + x + k),
            m,
            ln_m: m.ln(),
        }
    }
}

/// ln(α + d·unit) and 1 / (α + d·unit) for whole d below the table's length: summaries in days
/// share a few hundred values of T and t_x among a million rows, so the logarithms of a row
/// are looked up (computed once per evaluation) rather than taken.
struct DayLogs {
    /// The scale the fit multiplied the days by: a value is looked up only when it is exactly
    /// d·unit, so the table gives the very value the logarithm would.
    unit: f64,
    ln: Vec<f64>,
    inv: Vec<f64>,
}

impl DayLogs {
    /// Whole days up to this many get a table entry; longer or fractional ones are computed.
    const MAX_DAYS: usize = 1 << 16;

    fn new(alpha: f64, unit: f64, rows: &[Weighted]) -> DayLogs {
        let longest = (rows.iter().map(|w| w.summary.t).fold(0.0f64, f64::max) / unit)
            .round()
            .min(Self::MAX_DAYS as f64) as usize;
        let (ln, inv) = (0..=longest)
            .map(|d| {
                let v = alpha + d as f64 * unit;
                (v.ln(), 1.0 / v)
            })
            .unzip();
        DayLogs { unit, ln, inv }
    }

    /// (ln(α + v), 1 / (α + v)).
    fn get(&self, alpha: f64, v: f64) -> (f64, f64) {
        let d = (v / self.unit).round() as usize;
        if d < self.ln.len() && d as f64 * self.unit == v {
            (self.ln[d], self.inv[d])
        } else {
            ((alpha + v).ln(), 1.0 / (alpha + v))
        }
    }
}

/// ln L of one summary, and d ln L / d ln θ for θ = (r, α, a, b).
fn row(kind: Kind, p: &Params, xt: &XTerms, days: &DayLogs, s: &Summary) -> (f64, [f64; 4]) {
    let x = xt.x;
    let (ln_t, inv_t) = days.get(p.alpha, s.t);
    let a3 = -(p.r + x) * ln_t;
    let dropout = kind == Kind::MbgNbd || x > 0.0;
    // w4: the share of the likelihood from "dropped out after the last purchase";
    // ln(e^A3 + e^A4) = max + ln(1 + e^(min - max)), one exp and one ln_1p.
    let (mix, w4, ln_tx, inv_tx) = if dropout {
        let (ln_tx, inv_tx) = days.get(p.alpha, s.t_x);
        let a4 = p.a.ln() - xt.ln_m - (p.r + x) * ln_tx;
        let e = (-(a3 - a4).abs()).exp();
        let w4 = if a4 >= a3 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        (a3.max(a4) + e.ln_1p(), w4, ln_tx, inv_tx)
    } else {
        (a3, 0.0, 0.0, 0.0)
    };
    let w3 = 1.0 - w4;
    let ll = xt.a1 + xt.a2 + mix;
    let d_r = xt.d_r - w3 * ln_t - w4 * ln_tx;
    let d_alpha = p.r / p.alpha - (p.r + x) * (w3 * inv_t + w4 * inv_tx);
    let d_a = xt.d_a + w4 / p.a;
    let d_b = xt.d_b - if dropout { w4 / xt.m } else { 0.0 };
    (ll, [d_r * p.r, d_alpha * p.alpha, d_a * p.a, d_b * p.b])
}

/// ln L of one summary (the tests' check against the paper's formula).
#[cfg(test)]
fn log_likelihood(kind: Kind, p: &Params, s: &Summary) -> f64 {
    let days = DayLogs::new(p.alpha, 1.0, &[]);
    row(kind, p, &XTerms::new(kind, p, s.x), &days, s).0
}

/// Rows per parallel task: large enough that the per-task x-terms are amortised.
const CHUNK: usize = 8192;

/// The weighted sum of ln L over `rows`, and its gradient in ln θ; chunks of rows in parallel,
/// summed in chunk order (the same sums on any number of threads).
pub fn total(kind: Kind, p: &Params, rows: &[Weighted]) -> (f64, [f64; 4]) {
    total_in(kind, p, rows, 1.0)
}

/// [`total`] of rows whose ages are mostly whole multiples of `unit` (days times the fit's
/// scale).
pub fn total_in(kind: Kind, p: &Params, rows: &[Weighted], unit: f64) -> (f64, [f64; 4]) {
    let days = DayLogs::new(p.alpha, unit, rows);
    let parts: Vec<(f64, [f64; 4])> = rows
        .par_chunks(CHUNK)
        .map(|chunk| chunk_total(kind, p, &days, chunk))
        .collect();
    parts
        .into_iter()
        .fold((0.0, [0.0; 4]), |(ll, mut grad), (l, g)| {
            for (acc, gi) in grad.iter_mut().zip(g) {
                *acc += gi;
            }
            (ll + l, grad)
        })
}

fn chunk_total(kind: Kind, p: &Params, days: &DayLogs, rows: &[Weighted]) -> (f64, [f64; 4]) {
    let mut ll = 0.0;
    let mut grad = [0.0; 4];
    let mut xt: Option<XTerms> = None;
    for w in rows {
        if xt.as_ref().is_none_or(|t| t.x != w.summary.x) {
            xt = Some(XTerms::new(kind, p, w.summary.x));
        }
        let (l, g) = row(kind, p, xt.as_ref().expect("set above"), days, &w.summary);
        ll += w.weight * l;
        for (acc, gi) in grad.iter_mut().zip(g) {
            *acc += w.weight * gi;
        }
    }
    (ll, grad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Weighted> {
        let s = |x: f64, t_x: f64, t: f64, weight: f64| Weighted {
            summary: Summary { x, t_x, t },
            weight,
        };
        vec![
            s(0.0, 0.0, 30.0, 5.0),
            s(0.0, 0.0, 38.5, 2.0),
            s(1.0, 12.0, 30.0, 3.0),
            s(4.0, 25.5, 27.0, 1.0),
            s(4.0, 3.0, 39.0, 2.0),
        ]
    }

    #[test]
    fn looked_up_day_logarithms_give_the_computed_likelihood() {
        // Whole days go through the table, the rest are computed; `log_likelihood` computes all.
        let p = Params {
            r: 0.83,
            alpha: 22.0,
            a: 1.2,
            b: 7.9,
        };
        let mut rows = rows();
        rows.push(Weighted {
            summary: Summary {
                x: 7.0,
                t_x: 400.0,
                t: 700.0,
            },
            weight: 3.0,
        });
        for kind in [Kind::BgNbd, Kind::MbgNbd] {
            let want: f64 = rows
                .iter()
                .map(|w| w.weight * log_likelihood(kind, &p, &w.summary))
                .sum();
            let got = total(kind, &p, &rows).0;
            assert!(
                (got - want).abs() <= 1e-12 * want.abs(),
                "{kind:?}: {got} vs {want}"
            );
            // Days scaled as the fit scales them are looked up too, to the same value.
            let unit = 0.137;
            let scaled: Vec<Weighted> = rows
                .iter()
                .map(|w| Weighted {
                    summary: Summary {
                        x: w.summary.x,
                        t_x: w.summary.t_x * unit,
                        t: w.summary.t * unit,
                    },
                    weight: w.weight,
                })
                .collect();
            let direct: f64 = scaled
                .iter()
                .map(|w| w.weight * log_likelihood(kind, &p, &w.summary))
                .sum();
            let got = total_in(kind, &p, &scaled, unit).0;
            assert!(
                (got - direct).abs() <= 1e-12 * direct.abs(),
                "{kind:?}: {got} vs {direct}"
            );
        }
    }

    #[test]
    fn the_gradient_is_the_derivative_of_the_likelihood() {
        for kind in [Kind::BgNbd, Kind::MbgNbd] {
            let theta = [0.243f64.ln(), 4.414f64.ln(), 0.793f64.ln(), 2.426f64.ln()];
            let (_, grad) = total(kind, &Params::from_logs(&theta), &rows());
            for i in 0..4 {
                let e = 1e-6;
                let (mut up, mut down) = (theta, theta);
                up[i] += e;
                down[i] -= e;
                let numeric = (total(kind, &Params::from_logs(&up), &rows()).0
                    - total(kind, &Params::from_logs(&down), &rows()).0)
                    / (2.0 * e);
                assert!(
                    (grad[i] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                    "{kind:?} parameter {i}: {} vs {numeric}",
                    grad[i]
                );
            }
        }
    }

    #[test]
    fn one_summary_by_the_paper_formula() {
        // Eq. 6 of Fader, Hardie & Lee (2005) written out with Γ and B directly.
        let p = Params {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let (x, t_x, t) = (2.0_f64, 30.43, 38.86);
        let beta = |u: f64, v: f64| (ln_gamma(u) + ln_gamma(v) - ln_gamma(u + v)).exp();
        let g = |u: f64| ln_gamma(u).exp();
        let common = g(p.r + x) * p.alpha.powf(p.r) / g(p.r);
        let l = beta(p.a, p.b + x) / beta(p.a, p.b) * common / (p.alpha + t).powf(p.r + x)
            + beta(p.a + 1.0, p.b + x - 1.0) / beta(p.a, p.b) * common
                / (p.alpha + t_x).powf(p.r + x);
        let s = Summary { x, t_x, t };
        assert!((log_likelihood(Kind::BgNbd, &p, &s) - l.ln()).abs() < 1e-12);
        // A one-time buyer under BG/NBD: only the "alive" term.
        let s0 = Summary {
            x: 0.0,
            t_x: 0.0,
            t,
        };
        let l0 = (p.alpha / (p.alpha + t)).powf(p.r);
        assert!((log_likelihood(Kind::BgNbd, &p, &s0) - l0.ln()).abs() < 1e-12);
    }
}
