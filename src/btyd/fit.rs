//! Maximum likelihood for BG/NBD and MBG/NBD: L-BFGS (argmin) on the mean negative
//! log-likelihood of the weighted summaries, in the logarithms of the parameters, with times
//! rescaled so that the oldest customer is 10 units old (as `lifetimes` does: the parameters
//! then start near 1 whatever the time unit).
//!
//! The rule kept: a fit is accepted only when the gradient at its optimum is (near) zero and
//! every parameter is finite and positive; otherwise it is tried again from a second starting
//! point, then refused with a [`FitError`] that says what the data lacks. No silently
//! half-fitted parameters reach a feature. Parameters may run far out along a flat ridge of
//! the likelihood: a and b together when every customer drops out with the same probability
//! a / (a + b), r and alpha together when every customer buys at the same rate r / alpha.
//! There the likelihood and every prediction have converged to the limiting model's, so such
//! a fit is accepted (the tests fit one); [`LOG_BOUND`] only words the error of a fit that did
//! not converge.

use std::cell::RefCell;

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::Array1;

use super::likelihood;
use super::params::{Kind, Params};
use super::summary::{Summary, Weighted};

/// The oldest customer's age after rescaling.
const SCALED_AGE: f64 = 10.0;
/// A parameter beyond e^±this (about 3e-7 .. 3e6) in a fit that did not converge: the data
/// does not identify it.
pub const LOG_BOUND: f64 = 15.0;
/// The largest gradient component of the mean log-likelihood accepted at an optimum.
pub const GRADIENT_TOLERANCE: f64 = 1e-5;
const MAX_ITERATIONS: u64 = 1000;

/// A fitted model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fit {
    pub kind: Kind,
    /// In the summaries' own time unit.
    pub params: Params,
    /// Σ weight × ln L at `params`, in the summaries' time unit.
    pub log_likelihood: f64,
    /// Customers (the weights' sum) and distinct summaries fitted on.
    pub customers: f64,
    pub distinct: usize,
    pub iterations: u64,
}

/// Why no parameters were fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("no customers to fit {kind} on: expected at least one purchase history")]
    Empty { kind: &'static str },
    #[error(
        "summary {summary:?} is not a purchase history: expected whole x >= 0, \
         0 <= t_x <= T, and t_x = 0 when x = 0"
    )]
    Invalid { summary: Summary },
    #[error(
        "{kind} cannot be fitted: no customer bought on two different days, so there is \
         nothing to learn purchase rates or dropout from (expected at least one repeat buyer)"
    )]
    NoRepeatBuyers { kind: &'static str },
    #[error(
        "{kind} did not converge on {customers} customers: after {iterations} iterations the \
         largest gradient component is {gradient:.3e} (expected <= {tolerance:e}) and the \
         parameters are r={r:.4e}, alpha={alpha:.4e}, a={a:.4e}, b={b:.4e}{hint}"
    )]
    NotConverged {
        kind: &'static str,
        customers: f64,
        iterations: u64,
        gradient: f64,
        tolerance: f64,
        r: f64,
        alpha: f64,
        a: f64,
        b: f64,
        /// What the parameters suggest about the data.
        hint: String,
    },
}

/// What [`Problem`] remembers between argmin's calls.
#[derive(Default)]
struct Memo {
    /// The best point asked about (it survives a run that ends in an error).
    best: Option<(f64, [f64; 4])>,
    /// The last point evaluated: argmin asks for the cost and the gradient of the same point
    /// one after the other, and one pass over the rows gives both.
    last: Option<([f64; 4], f64, [f64; 4])>,
}

/// The optimisation problem argmin sees: the mean negative log-likelihood in ln θ.
struct Problem<'a> {
    kind: Kind,
    rows: &'a [Weighted],
    /// The scale the days were multiplied by (`likelihood::total_in`).
    unit: f64,
    total_weight: f64,
    memo: &'a RefCell<Memo>,
}

impl Problem<'_> {
    fn evaluate(&self, theta: &Array1<f64>) -> (f64, [f64; 4]) {
        let theta = to_array(theta);
        if let Some((t, cost, grad)) = self.memo.borrow().last
            && t == theta
        {
            return (cost, grad);
        }
        let params = Params::from_logs(&theta);
        // A line search's long step can leave the range where e^θ is a positive finite
        // number (θ below about -745 gives 0): no likelihood there, so the step is refused.
        if !params.is_usable() {
            return (f64::INFINITY, [0.0; 4]);
        }
        let (ll, grad) = likelihood::total_in(self.kind, &params, self.rows, self.unit);
        let cost = -ll / self.total_weight;
        let grad = grad.map(|g| -g / self.total_weight);
        self.memo.borrow_mut().last = Some((theta, cost, grad));
        (cost, grad)
    }
}

impl CostFunction for Problem<'_> {
    type Param = Array1<f64>;
    type Output = f64;
    fn cost(&self, theta: &Array1<f64>) -> Result<f64, argmin::core::Error> {
        let (cost, _) = self.evaluate(theta);
        let mut memo = self.memo.borrow_mut();
        if cost.is_finite() && memo.best.is_none_or(|(c, _)| cost < c) {
            memo.best = Some((cost, to_array(theta)));
        }
        // A step far outside the bounds can overflow; tell the line search it went too far.
        Ok(if cost.is_finite() { cost } else { f64::MAX })
    }
}

impl Gradient for Problem<'_> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;
    fn gradient(&self, theta: &Array1<f64>) -> Result<Array1<f64>, argmin::core::Error> {
        let (_, grad) = self.evaluate(theta);
        Ok(Array1::from_iter(
            grad.map(|g| if g.is_finite() { g } else { 0.0 }),
        ))
    }
}

/// Fits `kind` to `rows` (see [`super::summary::compress`]).
pub fn fit(kind: Kind, rows: &[Weighted]) -> Result<Fit, FitError> {
    let name = kind.name();
    if let Some(bad) = rows.iter().find(|w| !w.summary.is_valid()) {
        return Err(FitError::Invalid {
            summary: bad.summary,
        });
    }
    let rows: Vec<Weighted> = rows.iter().copied().filter(|w| w.weight > 0.0).collect();
    let total_weight: f64 = rows.iter().map(|w| w.weight).sum();
    if rows.is_empty() {
        return Err(FitError::Empty { kind: name });
    }
    if rows.iter().all(|w| w.summary.x == 0.0) {
        return Err(FitError::NoRepeatBuyers { kind: name });
    }
    let oldest = rows.iter().map(|w| w.summary.t).fold(0.0, f64::max);
    let scale = if oldest > 0.0 {
        SCALED_AGE / oldest
    } else {
        1.0
    };
    let scaled: Vec<Weighted> = rows
        .iter()
        .map(|w| Weighted {
            summary: Summary {
                x: w.summary.x,
                t_x: w.summary.t_x * scale,
                t: w.summary.t * scale,
            },
            weight: w.weight,
        })
        .collect();
    let memo = RefCell::new(Memo::default());
    let problem = Problem {
        kind,
        rows: &scaled,
        unit: scale,
        total_weight,
        memo: &memo,
    };
    // `lifetimes` starts at 1 for every parameter; the second start is the published CDNOW
    // solution's neighbourhood, a typical retail shape (few repeat purchases, some dropout).
    let starts = [[0.0; 4], [-1.0, 0.5, -0.5, 1.0]];
    let mut last = None;
    for start in starts {
        memo.borrow_mut().best = None;
        let iterations = minimise(&problem, start);
        let theta = memo.borrow().best.map_or(start, |(_, t)| t);
        let (_, grad) = problem.evaluate(&Array1::from_iter(theta));
        let worst = grad.iter().fold(0.0_f64, |m, g| m.max(g.abs()));
        let mut params = Params::from_logs(&theta);
        params.alpha /= scale;
        if worst <= GRADIENT_TOLERANCE && params.is_usable() {
            let log_likelihood = likelihood::total(kind, &params, &rows).0;
            return Ok(Fit {
                kind,
                params,
                log_likelihood,
                customers: total_weight,
                distinct: rows.len(),
                iterations,
            });
        }
        last = Some((params, theta, worst, iterations));
    }
    let (p, theta, worst, iterations) = last.expect("two starts were tried");
    let hint = if theta.iter().any(|t| !t.is_finite() || t.abs() > LOG_BOUND) {
        "; a parameter ran off to 0 or infinity: the data does not identify the model \
         (too few repeat buyers, or no sign of dropout in the period)"
    } else {
        ""
    };
    Err(FitError::NotConverged {
        kind: name,
        customers: total_weight,
        iterations,
        gradient: worst,
        tolerance: GRADIENT_TOLERANCE,
        r: p.r,
        alpha: p.alpha,
        a: p.a,
        b: p.b,
        hint: hint.to_string(),
    })
}

/// L-BFGS from `start`; the iterations taken (the best point is in `problem.memo`). A run that
/// stops with an error (a line search that finds no descent, at an optimum or near a bound)
/// still leaves its best point, which [`fit`] then judges by its gradient.
fn minimise(problem: &Problem<'_>, start: [f64; 4]) -> u64 {
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-10)
        .and_then(|s| s.with_tolerance_cost(1e-15))
        .expect("positive tolerances");
    let init = Array1::from_iter(start);
    let run = Executor::new(problem_ref(problem), solver)
        .configure(|state| state.param(init.clone()).max_iters(MAX_ITERATIONS))
        .run();
    run.map_or(MAX_ITERATIONS, |result| result.state().get_iter())
}

/// A borrowed problem argmin can own.
fn problem_ref<'a>(p: &'a Problem<'a>) -> Problem<'a> {
    Problem {
        kind: p.kind,
        rows: p.rows,
        unit: p.unit,
        total_weight: p.total_weight,
        memo: p.memo,
    }
}

fn to_array(theta: &Array1<f64>) -> [f64; 4] {
    [theta[0], theta[1], theta[2], theta[3]]
}
