//! The BTYD features on a hand-made history: the summary columns against hand-computed values,
//! and P(alive), P(no purchase) as a logit and expected purchases against the model's own
//! formulas at a fit computed here from summaries counted independently of the engines; on the
//! in-memory history and on polars SQL.

use churnflow::{Backend, BtydKind, BtydSummary, FeatureTable, HistoryBackend, SqlBackend, spec};
use polars::prelude::*;

const AS_OF: i32 = 19_800;

/// (customer, day offset from AS_OF, amount)
type Row = (String, i32, f64);

/// Three hand-made customers and 400 seeded ones (enough for a fit to converge). Every seeded
/// customer drops out alike, so the fit runs out along the ridge a, b -> infinity with a / (a + b)
/// fixed (homogeneous dropout), which `btyd::fit` accepts.
fn rows() -> Vec<Row> {
    let mut rows: Vec<Row> = vec![
        // h1: purchase days -100 (twice), -40, -10: x = 2, t_x = 90, T = 100.
        ("h1".into(), -100, 50.0),
        ("h1".into(), -100, 20.0),
        ("h1".into(), -40, 10.0),
        ("h1".into(), -10, 5.0),
        ("h1".into(), 30, 99.0), // after the day: ignored
        // h2: one purchase day and a refund: x = 0, t_x = 0, T = 50; single purchase day.
        ("h2".into(), -50, 80.0),
        ("h2".into(), -20, -30.0),
        // h3: only a refund: no purchase, no summary.
        ("h3".into(), -60, -10.0),
    ];
    let mut rng = churnflow::Rng::new(7);
    for c in 0..400 {
        let n = 1 + (rng.next_u64() % 8) as i32;
        let start = -700 + (rng.next_u64() % 600) as i32;
        // A customer who stops: purchases in the first part of the period only for half of them.
        let span = if c % 2 == 0 { 700 } else { 150 };
        for _ in 0..n {
            let day = (start + (rng.next_u64() % span) as i32).min(0);
            rows.push((format!("s{c:03}"), day, 10.0 + (rng.next_u64() % 90) as f64));
        }
    }
    rows
}

fn frame(rows: &[Row]) -> LazyFrame {
    let ms: Vec<i64> = rows
        .iter()
        .map(|r| (AS_OF + r.1) as i64 * 86_400_000 + 43_200_000)
        .collect();
    df!(
        "customer_id" => rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        "ts" => ms,
        "amount" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "quantity" => rows.iter().map(|_| 1.0).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
    .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
}

/// Each customer's summary as of AS_OF, by hand from the rows.
fn summaries_by_hand(rows: &[Row]) -> Vec<(String, BtydSummary)> {
    let mut days: std::collections::BTreeMap<String, Vec<i32>> = Default::default();
    for (c, d, a) in rows {
        if *a > 0.0 && *d <= 0 {
            days.entry(c.clone()).or_default().push(AS_OF + d);
        }
    }
    days.into_iter()
        .map(|(c, mut d)| {
            d.sort_unstable();
            d.dedup();
            let s = BtydSummary {
                x: (d.len() - 1) as f64,
                t_x: f64::from(d[d.len() - 1] - d[0]),
                t: f64::from(AS_OF - d[0]),
            };
            (c, s)
        })
        .collect()
}

fn value(t: &FeatureTable, name: &str, customer: &str) -> Option<f64> {
    let i = t
        .customer_ids
        .iter()
        .position(|c| &**c == customer)
        .unwrap();
    t.column(name).unwrap().get(i)
}

fn check(engine: &mut dyn Backend, what: &str) {
    let rows = rows();
    let h = 90;
    let mut specs = spec::SUMMARY_SPECS.to_vec();
    specs.extend(spec::btyd_group(BtydKind::BgNbd, h));
    let t = churnflow::compute(engine, &specs, AS_OF, &[]).unwrap();
    let names: Vec<String> = specs.iter().map(|s| s.name()).collect();
    assert_eq!(t.names, names, "{what}");
    // By hand.
    assert_eq!(value(&t, "repeat_purchase_days", "h1"), Some(2.0), "{what}");
    assert_eq!(value(&t, "purchase_span_days", "h1"), Some(90.0), "{what}");
    assert_eq!(value(&t, "purchase_age_days", "h1"), Some(100.0), "{what}");
    assert_eq!(value(&t, "single_purchase_day", "h1"), Some(0.0), "{what}");
    assert_eq!(value(&t, "repeat_purchase_days", "h2"), Some(0.0), "{what}");
    assert_eq!(value(&t, "purchase_age_days", "h2"), Some(50.0), "{what}");
    assert_eq!(value(&t, "single_purchase_day", "h2"), Some(1.0), "{what}");
    for name in &names {
        assert_eq!(
            value(&t, name, "h3"),
            None,
            "{what}: {name} of a customer who never bought"
        );
    }
    // The fit on summaries counted here, and the formulas at it.
    let by_hand = summaries_by_hand(&rows);
    let fit = churnflow::fit_btyd(
        BtydKind::BgNbd,
        &churnflow::compress_summaries(by_hand.iter().map(|(_, s)| *s)),
    )
    .unwrap();
    assert_eq!(
        fit.customers, 402.0,
        "{what}: everyone with a purchase, h1 and h2 included"
    );
    let p = fit.params;
    for (c, s) in &by_hand {
        let alive = churnflow::p_alive(BtydKind::BgNbd, &p, s);
        let (none, some) = churnflow::p_no_purchase(BtydKind::BgNbd, &p, s, f64::from(h));
        let expected = churnflow::expected_purchases(BtydKind::BgNbd, &p, s, f64::from(h)).unwrap();
        for (name, want) in [
            ("bgnbd_p_alive", alive),
            ("bgnbd_no_purchase_logit_90d", (none / some).ln()),
            ("bgnbd_expected_purchases_90d", expected),
        ] {
            let got = value(&t, name, c).unwrap();
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{what}: {name} of {c}: {got} vs {want}"
            );
        }
    }
    // BG/NBD's one-time buyer is certainly alive; a repeat buyer quiet for long is not.
    assert_eq!(value(&t, "bgnbd_p_alive", "h2"), Some(1.0));
    assert!(value(&t, "bgnbd_p_alive", "h1").unwrap() < 1.0);
}

#[test]
fn btyd_features_equal_the_formulas_on_both_engines() {
    check(
        &mut HistoryBackend::from_transactions(frame(&rows())),
        "history",
    );
    check(&mut SqlBackend::from_transactions(frame(&rows())), "polars");
}

/// A night whose BG/NBD fit cannot be made (no customer bought on two days) fails with exit 1,
/// says why and what to do, records the failure in its run manifest, and writes no model and no
/// list.
#[test]
fn a_night_whose_btyd_fit_fails_exits_1_and_writes_no_model_or_list() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("once.csv");
    let mut text = String::from("customer_id,order_date,amount\n");
    for c in 0..400 {
        // One purchase each, spread over two years.
        let day = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()
            + chrono::Days::new((c * 729 / 399) as u64);
        text.push_str(&format!("c{c:03},{day},{}.50\n", 10 + c % 90));
    }
    std::fs::write(&csv, text).unwrap();
    let pipeline = |extra: &str| {
        let p = dir.path().join("p.toml");
        std::fs::write(
            &p,
            format!(
                "name = \"once\"\nworkdir = \"work\"\n[source]\npath = \"{}\"\n[source.columns]\n\
                 customer_id = \"customer_id\"\ntimestamp = \"order_date\"\namount = \"amount\"\n\
                 [train]\nalphas = [1.0]\n{extra}",
                csv.display()
            ),
        )
        .unwrap();
        p
    };
    let p = pipeline("[[features]]\nbuiltin = \"defaults\"\n[[features]]\nbuiltin = \"bgnbd\"\n");
    crate::util::churnflow()
        .arg("run")
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "no customer bought on two different days",
        ))
        .stderr(predicates::str::contains(
            "take `builtin = \"bgnbd\"` out of [[features]]",
        ));
    let work = dir.path().join("work");
    assert!(!work.join("outputs/latest.json").exists());
    assert!(!work.join("models/registry.json").exists());
    let runs: Vec<_> = std::fs::read_dir(work.join("runs")).unwrap().collect();
    assert_eq!(runs.len(), 1);
    let manifest = crate::util::json(&runs[0].as_ref().unwrap().path());
    assert_eq!(manifest["exit_code"], 1, "{manifest}");
    assert!(
        manifest["error"]
            .as_str()
            .unwrap()
            .contains("cannot be fitted"),
        "{manifest}"
    );
}
