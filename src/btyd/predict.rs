//! What a fitted model says about one customer, given the summary at the cutoff: the
//! probability of being alive, of buying nothing in the next `h` time units, and the expected
//! number of purchases in them. The formulas are those of `lifetimes` 0.11
//! (`conditional_probability_alive`, `conditional_expected_number_of_purchases_up_to_time`),
//! which the tests check to 1e-6 on the CDNOW sample.

use super::params::{Kind, Params};
use super::special::hyp2f1;
use super::summary::Summary;

fn k(kind: Kind) -> f64 {
    match kind {
        Kind::BgNbd => 0.0,
        Kind::MbgNbd => 1.0,
    }
}

/// ln of the odds of "dropped out after the last purchase" against "alive", or `None` when
/// the model cannot have dropped the customer (a one-time buyer under BG/NBD).
fn log_dropout_odds(kind: Kind, p: &Params, s: &Summary) -> Option<f64> {
    if kind == Kind::BgNbd && s.x == 0.0 {
        return None;
    }
    let m = p.b + s.x + k(kind) - 1.0;
    Some((p.a / m).ln() + (p.r + s.x) * ((p.alpha + s.t) / (p.alpha + s.t_x)).ln())
}

/// P(alive at the cutoff | x, t_x, T). BG/NBD gives exactly 1 to a one-time buyer (it has no
/// chance to drop out before a repeat purchase); MBG/NBD does not.
pub fn p_alive(kind: Kind, p: &Params, s: &Summary) -> f64 {
    log_dropout_odds(kind, p, s).map_or(1.0, |l| 1.0 / (1.0 + l.exp()))
}

/// P(no purchase in the next `h` | x, t_x, T) and its complement, each computed without
/// cancellation: while alive, the rate is Gamma(r + x, α + T), so no purchase in `h` has
/// probability ((α+T)/(α+T+h))^(r+x); dead customers buy nothing.
pub fn p_no_purchase(kind: Kind, p: &Params, s: &Summary, h: f64) -> (f64, f64) {
    let alive = p_alive(kind, p, s);
    let quiet = ((p.alpha + s.t) / (p.alpha + s.t + h)).powf(p.r + s.x);
    let buys = alive * -(((p.r + s.x) * (-h / (p.alpha + s.t + h)).ln_1p()).exp_m1());
    ((1.0 - alive) + alive * quiet, buys)
}

/// E[purchases in the next `h` | x, t_x, T], or `None` when the hypergeometric series does
/// not converge (h far beyond every customer's age) or a = 1 exactly (the formula's pole).
pub fn expected_purchases(kind: Kind, p: &Params, s: &Summary, h: f64) -> Option<f64> {
    expected_purchases_given(kind, p, s, h, expectation_hyp2f1(kind, p, s.x, s.t, h)?)
}

/// The hypergeometric term of [`expected_purchases`], which depends on (x, T) only (not on
/// t_x): computed once per distinct (x, T) where many customers share them, and in SQL
/// joined as a table (`engine::sql::btyd`).
pub fn expectation_hyp2f1(kind: Kind, p: &Params, x: f64, t: f64, h: f64) -> Option<f64> {
    let k = k(kind);
    let z = h / (p.alpha + t + h);
    hyp2f1(p.r + x, p.b + x + k, p.a + p.b + x + k - 1.0, z)
}

/// [`expected_purchases`] given its hypergeometric term `f` ([`expectation_hyp2f1`]).
pub fn expected_purchases_given(
    kind: Kind,
    p: &Params,
    s: &Summary,
    h: f64,
    f: f64,
) -> Option<f64> {
    let k = k(kind);
    let (r, a, b) = (p.r, p.a, p.b);
    let x = s.x;
    if (a - 1.0).abs() < 1e-12 {
        return None;
    }
    let first = (a + b + x + k - 1.0) / (a - 1.0);
    let second = 1.0 - f * ((p.alpha + s.t) / (p.alpha + s.t + h)).powf(r + x);
    let e = first * second * p_alive(kind, p, s);
    e.is_finite().then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CDNOW: Params = Params {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };

    #[test]
    fn a_one_time_buyer_is_alive_under_bgnbd_but_not_mbgnbd() {
        let s = Summary {
            x: 0.0,
            t_x: 0.0,
            t: 30.0,
        };
        assert_eq!(p_alive(Kind::BgNbd, &CDNOW, &s), 1.0);
        let mbg = p_alive(Kind::MbgNbd, &CDNOW, &s);
        assert!(mbg > 0.0 && mbg < 1.0, "{mbg}");
    }

    #[test]
    fn the_two_no_purchase_probabilities_add_up_to_one() {
        for s in [
            Summary {
                x: 0.0,
                t_x: 0.0,
                t: 30.0,
            },
            Summary {
                x: 3.0,
                t_x: 20.0,
                t: 38.0,
            },
            Summary {
                x: 12.0,
                t_x: 37.9,
                t: 38.0,
            },
        ] {
            for kind in [Kind::BgNbd, Kind::MbgNbd] {
                let (none, some) = p_no_purchase(kind, &CDNOW, &s, 13.0);
                assert!((none + some - 1.0).abs() < 1e-14, "{s:?}");
                assert!(none > 0.0 && some > 0.0);
            }
        }
    }

    #[test]
    fn expected_purchases_of_a_new_customer_follow_the_unconditional_formula() {
        // At T = 0 with no history, E[X(h)] is the paper's eq. 7:
        // (a+b-1)/(a-1) [1 - (α/(α+h))^r 2F1(r, b; a+b-1; h/(α+h))].
        let h = 39.0;
        let s = Summary {
            x: 0.0,
            t_x: 0.0,
            t: 0.0,
        };
        let p = CDNOW;
        let f = hyp2f1(p.r, p.b, p.a + p.b - 1.0, h / (p.alpha + h)).unwrap();
        let want =
            (p.a + p.b - 1.0) / (p.a - 1.0) * (1.0 - (p.alpha / (p.alpha + h)).powf(p.r) * f);
        let got = expected_purchases(Kind::BgNbd, &p, &s, h).unwrap();
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        // It is positive and grows with the horizon.
        assert!(got > 0.0);
        assert!(expected_purchases(Kind::BgNbd, &p, &s, 78.0).unwrap() > got);
    }
}
