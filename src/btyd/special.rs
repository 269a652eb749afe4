//! The special functions the BTYD models need, to double precision: ln Γ, the digamma function ψ
//! and the Gauss hypergeometric series ₂F₁ on [0, 1). No crate in the build graph has them; each
//! is checked below against values from tables (Abramowitz & Stegun) and closed forms.

use std::f64::consts::PI;

/// Below this the argument is shifted up by recurrence before the asymptotic series is used; at
/// 10 the series' first omitted term is under 1e-16 relative.
const ASYMPTOTIC_FROM: f64 = 10.0;

/// ln Γ(x) for x > 0: recurrence up to x ≥ 10, then Stirling's series.
pub fn ln_gamma(x: f64) -> f64 {
    debug_assert!(x > 0.0, "ln_gamma of {x}");
    let (mut x, mut shift) = (x, 0.0);
    // ln Γ(x) = ln Γ(x + n) - ln(x (x+1) ... (x+n-1)); the product is taken in one piece.
    let mut product = 1.0;
    while x < ASYMPTOTIC_FROM {
        product *= x;
        x += 1.0;
    }
    if product != 1.0 {
        shift = product.ln();
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Bernoulli terms B_2k / (2k (2k-1) x^(2k-1)).
    let series = inv
        * (1.0 / 12.0
            - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 * (1.0 / 1680.0 - inv2 / 1188.0))));
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * PI).ln() + series - shift
}

/// ψ(x) = d ln Γ(x) / dx for x > 0: recurrence up to x ≥ 10, then the asymptotic series.
pub fn digamma(x: f64) -> f64 {
    debug_assert!(x > 0.0, "digamma of {x}");
    let (mut x, mut shift) = (x, 0.0);
    while x < ASYMPTOTIC_FROM {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let inv2 = 1.0 / (x * x);
    // B_2k / (2k x^2k).
    let series = inv2
        * (1.0 / 12.0
            - inv2 * (1.0 / 120.0 - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0 - inv2 / 132.0))));
    x.ln() - 0.5 / x - series + shift
}

/// Terms the ₂F₁ series may take before it is declared too slow (z within about 1e-5 of 1).
const MAX_TERMS: usize = 4_000_000;

/// ₂F₁(a, b; c; z) for a, b > 0, c not zero or a negative integer, and 0 ≤ z < 1, by its power
/// series, summed until a term falls below 1e-17 of the sum once the terms shrink for good
/// (past n = -c every ratio is positive and tends to z); `None` if that takes more than
/// [`MAX_TERMS`] terms (z too close to 1 for the series) or `c` is a pole.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    debug_assert!(a > 0.0 && b > 0.0, "hyp2f1({a}, {b}; {c}; {z})");
    if !(0.0..1.0).contains(&z) || (c <= 0.0 && c.fract() == 0.0) {
        return None;
    }
    let (mut term, mut sum) = (1.0_f64, 1.0_f64);
    for n in 0..MAX_TERMS {
        let n = n as f64;
        let ratio = (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        term *= ratio;
        sum += term;
        if c + n > 0.0 && ratio < 1.0 && term.abs() <= 1e-17 * sum.abs() {
            return Some(sum);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        // Γ(n) = (n-1)!, Γ(1/2) = √π, Γ(1/3) (A&S table 6.1), a large argument (the exact
        // value ln 170! = ln Γ(171)); within 1e-13 (the shift to x >= 10 costs a few ulps of
        // ln Γ(10) when the result is near 0).
        assert!(close(ln_gamma(1.0), 0.0, 1e-13), "{}", ln_gamma(1.0));
        assert!(close(ln_gamma(2.0), 0.0, 1e-13), "{}", ln_gamma(2.0));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-13));
        assert!(close(ln_gamma(0.5), PI.sqrt().ln(), 1e-13));
        assert!(close(
            ln_gamma(1.0 / 3.0),
            2.678_938_534_707_747_6_f64.ln(),
            1e-14
        ));
        let ln_170_factorial: f64 = (1..=170).map(|k| (k as f64).ln()).sum();
        assert!(close(ln_gamma(171.0), ln_170_factorial, 1e-14));
        // Small arguments, as BTYD shape parameters can be: Γ(x) ≈ 1/x - γ for tiny x.
        let x = 1e-8;
        assert!(close(
            ln_gamma(x),
            (1.0 / x - 0.577_215_664_901_532_9).ln(),
            1e-12
        ));
    }

    #[test]
    fn digamma_matches_known_values() {
        let euler = 0.577_215_664_901_532_9;
        assert!(
            close(digamma(1.0), -euler, 1e-13),
            "{}",
            digamma(1.0) + euler
        );
        assert!(close(digamma(0.5), -euler - 2.0 * 2f64.ln(), 1e-13));
        // ψ(n) = H_{n-1} - γ.
        let h: f64 = (1..30).map(|k| 1.0 / k as f64).sum();
        assert!(close(digamma(30.0), h - euler, 1e-14));
        // The derivative of ln_gamma, by central differences.
        for x in [0.243, 1.7, 12.5, 340.0] {
            let e = 1e-5 * x;
            let numeric = (ln_gamma(x + e) - ln_gamma(x - e)) / (2.0 * e);
            assert!(close(digamma(x), numeric, 1e-7), "{x}");
        }
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = -ln(1-z)/z; ₂F₁(a, b; b; z) = (1-z)^-a.
        for z in [0.0_f64, 0.1, 0.5, 0.9, 0.99] {
            let want = if z == 0.0 { 1.0 } else { -(1.0 - z).ln() / z };
            assert!(close(hyp2f1(1.0, 1.0, 2.0, z).unwrap(), want, 1e-14), "{z}");
            let want = (1.0 - z).powf(-2.5);
            assert!(close(hyp2f1(2.5, 0.7, 0.7, z).unwrap(), want, 1e-13), "{z}");
        }
        // ₂F₁(1/2, 1; 3/2; z²) = atanh(z)/z.
        let z: f64 = 0.8;
        let want = z.atanh() / z;
        assert!(close(hyp2f1(0.5, 1.0, 1.5, z * z).unwrap(), want, 1e-14));
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        assert_eq!(hyp2f1(1.0, 1.0, -2.0, 0.5), None);
        // A negative c (BG/NBD's a + b + x - 1 when a + b < 1): the first terms alternate in
        // sign and must not stop the sum; against 200 terms summed without a stopping rule.
        let (a, b, c, z) = (0.5, 0.25, -0.4, 0.3_f64);
        let mut want = 0.0;
        let mut t = 1.0;
        for n in 0..200 {
            want += t;
            let n = n as f64;
            t *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        }
        assert!(close(hyp2f1(a, b, c, z).unwrap(), want, 1e-14));
    }
}
