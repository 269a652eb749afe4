//! The model as SQL (issue 17): imputation, transform, standardisation, the dot product and the
//! logistic, rendered over the features query, so an engine that runs the features' SQL (polars,
//! DataFusion, Ballista) scores every customer where the data is, and only the scores travel.
//! The text keeps to the portable subset of `engine::sql::features` (`CASE WHEN`, arithmetic,
//! `LN`, `EXP`); numbers are written with Rust's shortest round-trip form, so the
//! engine computes with the artifact's exact coefficients.

use crate::domain::feature::Transform;
use crate::engine::sql::literal::number;
use crate::model::fit::LinearModel;
use crate::model::preprocess::FeatureScaling;

/// `transform` applied to the SQL expression `x`, as `Transform::apply` does.
fn transformed(transform: Transform, x: &str) -> String {
    match transform {
        // ln(1 + max(x, 0)); SQL has no LOG1P everywhere, and features are counts, days or money,
        // where LN(1 + x) and ln_1p agree far inside 1e-9.
        Transform::Log1p => format!("LN(1.0 + CASE WHEN {x} > 0.0 THEN {x} ELSE 0.0 END)"),
        Transform::Ln => format!("LN(CASE WHEN {x} > 0.000001 THEN {x} ELSE 0.000001 END)"),
        Transform::Identity => x.to_string(),
    }
}

/// Scores per customer (`customer_id`, `p_churn`, in customer-id order) from `features_sql`, a
/// query with one row per customer and a column per feature of `scaling` (the features query
/// rendered for the model's specs).
pub fn render_scores(
    scaling: &[FeatureScaling],
    model: &LinearModel,
    features_sql: &str,
) -> String {
    let features = crate::engine::sql::features::unordered(features_sql);
    let mut z = String::from("SELECT customer_id");
    for (j, s) in scaling.iter().enumerate() {
        // Missing is null or not finite (a trend over an empty window divides by zero), as
        // `Values::get` reads the feature table: `x - x = 0` holds for finite x only.
        let raw = format!(
            "CASE WHEN {n} - {n} = 0.0 THEN {n} ELSE {} END",
            number(s.impute),
            n = s.name
        );
        z.push_str(&format!(
            ",\n  ({} - {}) / {} AS z{j}",
            transformed(s.transform, &raw),
            number(s.mean),
            number(s.std)
        ));
    }
    z.push_str("\nFROM features");
    let mut log_odds = number(model.intercept);
    for (j, c) in model.coefficients.iter().enumerate() {
        log_odds.push_str(&format!(" + {} * z{j}", number(*c)));
    }
    // The logistic, stable for large |t|, as `fit::sigmoid`.
    format!(
        "WITH features AS (\n{}\n),\nz AS (\n{z}\n),\nlog_odds AS (\nSELECT customer_id, {log_odds} AS t\nFROM z\n)\n\
         SELECT customer_id, CASE WHEN t >= 0.0 THEN 1.0 / (1.0 + EXP(-t)) ELSE EXP(t) / (1.0 + EXP(t)) END AS p_churn\n\
         FROM log_odds\nORDER BY customer_id",
        features.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feature::FeatureSpec;
    use crate::engine::Backend;
    use crate::engine::sql::{SqlBackend, features};
    use crate::model::preprocess;
    use polars::prelude::*;

    fn warehouse() -> SqlBackend {
        let days = [
            19_700i64, 19_710, 19_790, 19_795, 19_640, 19_799, 19_500, 19_798, 19_760,
        ];
        let lf = df!(
            "customer_id" => ["a", "a", "a", "b", "b", "c", "d", "d", "d"],
            "ts" => days.iter().map(|d| d * 86_400_000 + 3_600_000).collect::<Vec<_>>(),
            "amount" => [10.0, 25.5, -5.0, 300.0, 12.25, 0.99, 40.0, 41.0, 39.5],
            "quantity" => [Some(1.0), None, Some(2.0), Some(3.0), Some(1.0), None, Some(4.0), Some(4.0), Some(4.0)],
            "order_id" => ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9"],
            "product_id" => [Some("p"), None, Some("q"), Some("p"), Some("p"), None, Some("r"), Some("r"), Some("q")],
        )
        .unwrap()
        .lazy()
        .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Milliseconds, None)));
        SqlBackend::from_transactions(lf)
    }

    #[test]
    fn the_sql_scores_are_the_models_scores() {
        let specs = crate::domain::feature::default_specs(false, false);
        let as_of = 19_800;
        let mut engine = warehouse();
        let table = engine.features(&specs, as_of, &[], None).unwrap();
        let rows: Vec<usize> = (0..table.len()).collect();
        let scaling = preprocess::fit(&specs, &[(&table, &rows)]).unwrap();
        // Coefficients of both signs and sizes, so every feature moves the score.
        let model = LinearModel {
            intercept: -0.37,
            coefficients: (0..specs.len()).map(|j| (j as f64 - 3.5) * 0.61).collect(),
        };
        let expected = preprocess::predict_in_blocks(&model, &scaling, &[(&table, &rows)]).unwrap();
        let sql = render_scores(&scaling, &model, &features::render(&specs, as_of, &[]));
        let df = engine.query(&sql).unwrap();
        let ids = crate::util::frame::str_values(&df, "customer_id").unwrap();
        let got = crate::util::frame::f64_values(&df, "p_churn").unwrap();
        assert_eq!(
            ids,
            table
                .customer_ids
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
        );
        for (i, (p, q)) in expected.iter().zip(&got).enumerate() {
            let q = q.unwrap();
            assert!(
                (p - q).abs() <= 1e-9 * p.abs().max(1e-12),
                "{}: model {p}, sql {q}",
                ids[i]
            );
        }
        assert!(expected.iter().any(|p| *p < 0.5) && expected.iter().any(|p| *p > 0.5));
    }

    #[test]
    fn the_scores_query_has_one_order_by() {
        let s = render_scores(
            &[],
            &LinearModel {
                intercept: 1.0,
                coefficients: vec![],
            },
            "SELECT customer_id FROM transactions GROUP BY customer_id\nORDER BY customer_id",
        );
        assert_eq!(s.matches("ORDER BY").count(), 1, "{s}");
        let _ = FeatureSpec::RecencyDays;
    }
}
