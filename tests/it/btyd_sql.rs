//! The fitted BTYD models applied in SQL (`btyd_sql`) give the driver's BTYD features within
//! 1e-9 relative, on polars SQL, for both models and every output, on a population drawn from
//! the BG/NBD process itself (so the fit is a real interior optimum, not a ridge), and the
//! scores of a model over them equal the in-process scores. DataFusion and Ballista are
//! checked in `portability`.

use churnflow::{Backend, FeatureTable, LinearModel, SqlBackend, spec};
use polars::prelude::*;

pub const AS_OF: i32 = 19_800;

/// Purchases of `n` customers from the BG/NBD story: a purchase rate λ ~ Gamma(0.7, 1/30 per
/// day) and a dropout probability p ~ Beta(1, 3) after each purchase, starting on a day in the
/// 700 before AS_OF; some rows fall after AS_OF (they must not count).
pub fn bgnbd_rows(n: usize, seed: u64) -> Vec<(String, i32, f64)> {
    let mut rng = churnflow::Rng::new(seed);
    let mut rows = Vec::new();
    for c in 0..n {
        let rate = rng.gamma(0.7, 1.0 / 30.0);
        let (g1, g2) = (rng.gamma(1.0, 1.0), rng.gamma(3.0, 1.0));
        let p = g1 / (g1 + g2);
        let mut day = -(1 + (rng.next_u64() % 700) as i32) as f64;
        while day <= 60.0 {
            rows.push((
                format!("c{c:04}"),
                day.floor() as i32,
                5.0 + rng.range(0.0, 95.0),
            ));
            if rng.uniform() < p {
                break;
            }
            day += -(1.0 - rng.uniform()).ln() / rate.max(1e-6);
        }
    }
    rows
}

pub fn frame(rows: &[(String, i32, f64)]) -> LazyFrame {
    let ms: Vec<i64> = rows
        .iter()
        .map(|r| (AS_OF + r.1) as i64 * 86_400_000 + 43_200_000)
        .collect();
    df!(
        "customer_id" => rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        "ts" => ms,
        "amount" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "quantity" => rows.iter().map(|_| 1.0).collect::<Vec<_>>(),
        "order_id" => (0..rows.len()).map(|i| format!("o{i}")).collect::<Vec<_>>(),
        "product_id" => rows.iter().map(|_| None::<&str>).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
    .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
}

/// The default features and both BTYD groups (30- and 90-day horizons).
pub fn specs() -> Vec<spec::FeatureSpec> {
    let mut specs = spec::default_specs(false, false);
    for s in spec::btyd_group(spec::BtydKind::BgNbd, 90)
        .into_iter()
        .chain(spec::btyd_group(spec::BtydKind::MbgNbd, 30))
    {
        if !specs.contains(&s) {
            specs.push(s);
        }
    }
    specs
}

/// `engine` runs the BTYD SQL of `table` (the driver's features as of AS_OF) and gives its
/// columns within 1e-9 relative; a model's scores over that query equal the in-process ones.
pub fn assert_sql_applies_the_fits(
    engine: &mut dyn Backend,
    query: &mut dyn FnMut(&str) -> DataFrame,
    table: &FeatureTable,
    what: &str,
) {
    let specs = specs();
    assert_eq!(table.btyd.len(), 2, "both models fitted");
    let summaries = engine.purchase_summaries(AS_OF).unwrap();
    let features = churnflow::feature_sql(&specs, AS_OF, &[]);
    let sql = churnflow::btyd_sql(&specs, &table.btyd, &summaries, &features);
    let df = query(&sql);
    let ids = churnflow::str_values(&df, "customer_id").unwrap();
    let want: Vec<String> = table.customer_ids.iter().map(|c| c.to_string()).collect();
    assert_eq!(ids, want, "{what}: the same customers in the same order");
    for s in &specs {
        let name = s.name();
        let got = churnflow::f64_values(&df, &name).unwrap();
        let expected = table.require(&name).unwrap();
        for (i, g) in got.iter().enumerate() {
            match (expected.get(i), g.filter(|v| v.is_finite())) {
                (None, None) => {}
                (Some(e), Some(g)) => assert!(
                    (e - g).abs() <= 1e-9 * e.abs().max(1e-12),
                    "{what}: {name} of {}: driver {e}, SQL {g}",
                    ids[i]
                ),
                (e, g) => panic!("{what}: {name} of {}: driver {e:?}, SQL {g:?}", ids[i]),
            }
        }
    }

    // The model over the BTYD SQL scores as the process does.
    let rows: Vec<usize> = (0..table.len()).collect();
    let scaling = churnflow::fit_scaling(&specs, &[(table, &rows)]).unwrap();
    let model = LinearModel {
        intercept: -0.4,
        coefficients: (0..specs.len())
            .map(|j| ((j % 5) as f64 - 2.0) * 0.31)
            .collect(),
    };
    let expected = churnflow::predict_in_blocks(&model, &scaling, &[(table, &rows)]).unwrap();
    let df = query(&churnflow::render_scores(&scaling, &model, &sql));
    let got = churnflow::f64_values(&df, "p_churn").unwrap();
    for (i, (p, q)) in expected.iter().zip(&got).enumerate() {
        let q = q.unwrap();
        assert!(
            (p - q).abs() <= 1e-9 * p.abs().max(1e-12),
            "{what}: p_churn of {}: process {p}, SQL {q}",
            ids[i]
        );
    }
}

#[test]
fn polars_sql_applies_the_fitted_models_as_the_driver_does() {
    let rows = bgnbd_rows(1500, 11);
    let mut engine = SqlBackend::from_transactions(frame(&rows));
    let table = churnflow::compute(&mut engine, &specs(), AS_OF, &[]).unwrap();
    // A real optimum: finite parameters, dropout heterogeneous.
    for f in &table.btyd {
        let p = f.params;
        assert!(p.a < 1e3 && p.b < 1e3, "{:?}", f);
    }
    let mut sql = SqlBackend::from_transactions(frame(&rows));
    let mut query = |q: &str| sql.query(q).unwrap();
    assert_sql_applies_the_fits(&mut engine, &mut query, &table, "polars SQL");
}
