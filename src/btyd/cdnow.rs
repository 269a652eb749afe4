//! The fit and the predictions against published and independent figures on the CDNOW 1/10
//! sample (2,357 customers, weeks 1-39; `tests/fixtures/btyd/`, written by `make_cdnow.py` from
//! `lifetimes` 0.11.3): Fader, Hardie & Lee (2005) report BG/NBD r, α, a, b = 0.243, 4.414,
//! 0.793, 2.426 and a log-likelihood of -9582.4.

use std::path::PathBuf;

use super::fit::fit;
use super::params::{Kind, Params};
use super::predict::{expected_purchases, p_alive, p_no_purchase};
use super::summary::{Summary, compress};

fn fixture(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/btyd", name]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rows of a fixture CSV after its header, as numbers.
fn rows(name: &str) -> Vec<Vec<f64>> {
    fixture(name)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

fn summaries() -> Vec<Summary> {
    rows("cdnow_summary.csv")
        .iter()
        .map(|r| Summary {
            x: r[1],
            t_x: r[2],
            t: r[3],
        })
        .collect()
}

fn lifetimes(kind: Kind) -> (Params, f64) {
    let json: serde_json::Value = serde_json::from_str(&fixture("cdnow_lifetimes.json")).unwrap();
    let m = &json[kind.name()];
    let v = |k: &str| m[k].as_f64().unwrap();
    (
        Params {
            r: v("r"),
            alpha: v("alpha"),
            a: v("a"),
            b: v("b"),
        },
        v("log_likelihood"),
    )
}

/// Every parameter of `got` within 1e-4 relative of `want`.
fn assert_params_close(got: &Params, want: &Params) {
    for (g, w) in [
        (got.r, want.r),
        (got.alpha, want.alpha),
        (got.a, want.a),
        (got.b, want.b),
    ] {
        assert!(
            (g - w).abs() / w.abs() < 1e-4,
            "{got:?} vs lifetimes {want:?}"
        );
    }
}

#[test]
fn bgnbd_on_cdnow_gives_the_published_parameters_and_likelihood() {
    let s = summaries();
    assert_eq!(s.len(), 2357);
    let rows = compress(s.iter().copied());
    assert!(rows.len() < s.len(), "identical summaries merge");
    let f = fit(Kind::BgNbd, &rows).unwrap();
    let p = f.params;
    // The paper's figures, to the digits it prints.
    for (got, published) in [(p.r, 0.243), (p.alpha, 4.414), (p.a, 0.793), (p.b, 2.426)] {
        assert!((got - published).abs() < 0.0005, "{p:?}");
    }
    assert!(
        (f.log_likelihood - -9582.4).abs() < 0.05,
        "{}",
        f.log_likelihood
    );
    assert_eq!(f.customers, 2357.0);
    // The same maximum as lifetimes' (different optimiser, same likelihood).
    let (theirs, ll) = lifetimes(Kind::BgNbd);
    assert_params_close(&p, &theirs);
    assert!(f.log_likelihood >= ll - 1e-6, "{} < {ll}", f.log_likelihood);
}

#[test]
fn mbgnbd_on_cdnow_reaches_lifetimes_maximum() {
    let rows = compress(summaries());
    let f = fit(Kind::MbgNbd, &rows).unwrap();
    let (theirs, ll) = lifetimes(Kind::MbgNbd);
    assert_params_close(&f.params, &theirs);
    assert!(f.log_likelihood >= ll - 1e-6, "{} < {ll}", f.log_likelihood);
}

#[test]
fn predictions_at_lifetimes_parameters_equal_lifetimes_own() {
    let s = summaries();
    let want = rows("cdnow_lifetimes.csv");
    let json: serde_json::Value = serde_json::from_str(&fixture("cdnow_lifetimes.json")).unwrap();
    let h = json["horizon"].as_f64().unwrap();
    for (kind, col) in [(Kind::BgNbd, 1), (Kind::MbgNbd, 4)] {
        let (p, _) = lifetimes(kind);
        for (s, row) in s.iter().zip(&want) {
            let alive = p_alive(kind, &p, s);
            let e = expected_purchases(kind, &p, s, h).unwrap();
            let (none, _) = p_no_purchase(kind, &p, s, h);
            for (what, got, w) in [
                ("P(alive)", alive, row[col]),
                ("expected purchases", e, row[col + 1]),
                ("P(no purchase)", none, row[col + 2]),
            ] {
                assert!(
                    (got - w).abs() <= 1e-6 * w.abs().max(1.0),
                    "{kind:?} {what} of customer {}: {got} vs lifetimes {w}",
                    row[0]
                );
            }
        }
    }
}

#[test]
fn data_without_repeat_buyers_is_refused_with_the_reason() {
    let rows = compress((0..50).map(|i| Summary {
        x: 0.0,
        t_x: 0.0,
        t: f64::from(i),
    }));
    let e = fit(Kind::BgNbd, &rows).unwrap_err();
    assert!(
        e.to_string()
            .contains("no customer bought on two different days"),
        "{e}"
    );
    let bad = compress([Summary {
        x: 1.0,
        t_x: 9.0,
        t: 3.0,
    }]);
    assert!(
        fit(Kind::BgNbd, &bad)
            .unwrap_err()
            .to_string()
            .contains("not a purchase history")
    );
    assert!(fit(Kind::MbgNbd, &[]).is_err());
}
