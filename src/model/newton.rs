//! Newton steps on the L2 logistic objective: the starting point handed to linfa-logistic.
//!
//! linfa's L-BFGS from zero needs on the order of a hundred passes over the rows; with ~20
//! features the Hessian is a 21 x 21 matrix, so a Newton step costs about as much as ten such
//! passes and converges quadratically: a handful of steps reaches the optimum to many digits.
//! linfa then starts there, checks its own gradient and stops (or goes on from there when the
//! steps fell short), so the model that is fitted and shipped stays linfa's.
//!
//! Rules kept:
//! - The objective is exactly linfa's: `sum of log-losses + alpha/2 * |w|^2`, intercept not
//!   penalised, labels as P(churn) (linfa's orientation is handled by the caller).
//! - Every step is damped (backtracking until the objective does not rise), so a step can never
//!   leave a worse start than the one given. A Hessian that is not positive definite (no
//!   penalty and separable rows) ends the steps; linfa goes on from the best point reached.
//! - Rows are visited in fixed blocks and summed in a fixed order: the same rows give the same
//!   start on every machine.

use ndarray::{Array1, Array2, ArrayView2, Axis, s};

/// Rows per block while accumulating the gradient and Hessian (a block's weighted copy is
/// `BLOCK x features` floats).
const BLOCK: usize = 8192;

/// Weights `[coefficients.., intercept]` after at most `max_steps` damped Newton steps from
/// `start` (zeros when `None`), stopping once the gradient's norm is below `tolerance` (on the
/// summed loss, as linfa measures it).
pub fn steps(
    x: ArrayView2<f64>,
    y: &[bool],
    alpha: f64,
    start: Option<&[f64]>,
    max_steps: usize,
    tolerance: f64,
) -> Vec<f64> {
    let d = x.ncols();
    let mut w = match start {
        Some(s) if s.len() == d + 1 => Array1::from_vec(s.to_vec()),
        _ => Array1::zeros(d + 1),
    };
    let mut f = objective(x, y, alpha, &w);
    for _ in 0..max_steps {
        let (g, h) = gradient_hessian(x, y, alpha, &w);
        if norm(&g) < tolerance {
            break;
        }
        let Some(step) = solve_cholesky(h, &g) else {
            break;
        };
        // Backtracking: halve until the objective does not rise (at most 30 halvings).
        let mut t = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let cand = &w - &(&step * t);
            let fc = objective(x, y, alpha, &cand);
            if fc.is_finite() && fc <= f {
                w = cand;
                f = fc;
                improved = true;
                break;
            }
            t *= 0.5;
        }
        if !improved {
            break;
        }
    }
    w.to_vec()
}

/// The logistic function, stable for large |t|.
pub fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// `sum of log-losses + alpha/2 * |coefficients|^2`.
fn objective(x: ArrayView2<f64>, y: &[bool], alpha: f64, w: &Array1<f64>) -> f64 {
    let d = x.ncols();
    let (coef, b) = (w.slice(s![..d]), w[d]);
    let z = x.dot(&coef);
    let loss: f64 = z
        .iter()
        .zip(y)
        .map(|(zi, &yi)| {
            // -log P(observed label) = log(1 + exp(-m)) with m = +/-(z + b).
            let m = if yi { zi + b } else { -(zi + b) };
            softplus(-m)
        })
        .sum();
    loss + 0.5 * alpha * coef.dot(&coef)
}

/// log(1 + exp(t)) without overflow.
fn softplus(t: f64) -> f64 {
    if t > 0.0 {
        t + (-t).exp().ln_1p()
    } else {
        t.exp().ln_1p()
    }
}

/// Gradient and Hessian of [`objective`] at `w`, in `[coefficients.., intercept]` order.
fn gradient_hessian(
    x: ArrayView2<f64>,
    y: &[bool],
    alpha: f64,
    w: &Array1<f64>,
) -> (Array1<f64>, Array2<f64>) {
    let d = x.ncols();
    let (coef, b) = (w.slice(s![..d]), w[d]);
    let mut g = Array1::<f64>::zeros(d + 1);
    let mut h = Array2::<f64>::zeros((d + 1, d + 1));
    for (i, xb) in x.axis_chunks_iter(Axis(0), BLOCK).enumerate() {
        let yb = &y[i * BLOCK..i * BLOCK + xb.nrows()];
        let z = xb.dot(&coef);
        let p: Vec<f64> = z.iter().map(|zi| sigmoid(zi + b)).collect();
        let r = Array1::from_iter(
            p.iter()
                .zip(yb)
                .map(|(pi, &yi)| pi - f64::from(u8::from(yi))),
        );
        let v = Array1::from_iter(p.iter().map(|pi| pi * (1.0 - pi)));
        // Gradient: X^T r and sum r.
        g.slice_mut(s![..d]).scaled_add(1.0, &xb.t().dot(&r));
        g[d] += r.sum();
        // Hessian: X^T diag(v) X, X^T v and sum v.
        let mut xv = xb.to_owned();
        xv.axis_iter_mut(Axis(0))
            .zip(&v)
            .for_each(|(mut row, vi)| row *= *vi);
        h.slice_mut(s![..d, ..d]).scaled_add(1.0, &xb.t().dot(&xv));
        let xtv = xb.t().dot(&v);
        h.slice_mut(s![..d, d]).scaled_add(1.0, &xtv);
        h.slice_mut(s![d, ..d]).scaled_add(1.0, &xtv);
        h[[d, d]] += v.sum();
    }
    g.slice_mut(s![..d]).scaled_add(alpha, &coef);
    for j in 0..d {
        h[[j, j]] += alpha;
    }
    (g, h)
}

fn norm(v: &Array1<f64>) -> f64 {
    v.dot(v).sqrt()
}

/// Solves `h * s = g` for a symmetric positive definite `h` (Cholesky); `None` when `h` is not
/// positive definite.
fn solve_cholesky(mut h: Array2<f64>, g: &Array1<f64>) -> Option<Array1<f64>> {
    let n = g.len();
    // In place: the lower triangle becomes L with h = L L^T.
    for j in 0..n {
        let mut diag = h[[j, j]];
        for k in 0..j {
            diag -= h[[j, k]] * h[[j, k]];
        }
        if diag.is_nan() || diag <= 0.0 || diag.is_infinite() {
            return None;
        }
        let l = diag.sqrt();
        h[[j, j]] = l;
        for i in j + 1..n {
            let mut v = h[[i, j]];
            for k in 0..j {
                v -= h[[i, k]] * h[[j, k]];
            }
            h[[i, j]] = v / l;
        }
    }
    // L u = g, then L^T s = u.
    let mut u = g.clone();
    for i in 0..n {
        for k in 0..i {
            u[i] -= h[[i, k]] * u[k];
        }
        u[i] /= h[[i, i]];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            u[i] -= h[[k, i]] * u[k];
        }
        u[i] /= h[[i, i]];
    }
    Some(u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cholesky_solves_a_small_system_exactly() {
        let h = array![[4.0, 2.0, 0.4], [2.0, 3.0, 0.5], [0.4, 0.5, 2.0]];
        let x = array![1.0, -2.0, 0.5];
        let g = h.dot(&x);
        let s = solve_cholesky(h, &g).unwrap();
        for (a, b) in s.iter().zip(&x) {
            assert!((a - b).abs() < 1e-12, "{s} vs {x}");
        }
        assert!(solve_cholesky(array![[1.0, 2.0], [2.0, 1.0]], &array![1.0, 1.0]).is_none());
    }

    /// A textbook case worked by hand: one binary feature, no penalty. The optimum reproduces
    /// each group's observed churn rate: intercept = logit(1/4), intercept + coefficient =
    /// logit(3/4).
    #[test]
    fn reaches_the_closed_form_optimum_of_two_groups() {
        let x = array![[0.0], [0.0], [0.0], [0.0], [1.0], [1.0], [1.0], [1.0]];
        let y = [true, false, false, false, true, true, true, false];
        let w = steps(x.view(), &y, 0.0, None, 50, 1e-12);
        let logit = |p: f64| (p / (1.0 - p)).ln();
        assert!((w[1] - logit(0.25)).abs() < 1e-9, "{w:?}");
        assert!((w[0] + w[1] - logit(0.75)).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn the_gradient_at_the_result_vanishes_with_a_penalty() {
        let n = 500;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| {
            (((i * 7919 + j * 104_729) % 1000) as f64 / 500.0) - 1.0
        });
        let y: Vec<bool> = (0..n)
            .map(|i| 1.5 * x[[i, 0]] - x[[i, 2]] + ((i * 31) % 17) as f64 / 8.0 - 1.5 > 0.0)
            .collect();
        let w = steps(x.view(), &y, 2.0, None, 50, 1e-10);
        let (g, _) = gradient_hessian(x.view(), &y, 2.0, &Array1::from_vec(w.clone()));
        assert!(norm(&g) < 1e-8, "{g}");
        // Any nearby point is worse: it is a minimum, not a saddle.
        let f = objective(x.view(), &y, 2.0, &Array1::from_vec(w.clone()));
        for j in 0..4 {
            let mut v = w.clone();
            v[j] += 1e-3;
            assert!(objective(x.view(), &y, 2.0, &Array1::from_vec(v)) > f);
        }
    }

    #[test]
    fn separable_rows_without_a_penalty_stop_without_a_non_finite_start() {
        let x = array![[-1.0], [-0.5], [0.5], [1.0]];
        let y = [false, false, true, true];
        let w = steps(x.view(), &y, 0.0, None, 100, 1e-12);
        assert!(w.iter().all(|v| v.is_finite()), "{w:?}");
        assert!(w[0] > 0.0);
    }
}
