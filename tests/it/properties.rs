//! Invariants: features as of T ignore rows after T and do not depend on row order; labels
//! and probabilities stay in range.

use churnflow::engine::PolarsEngine;
use churnflow::features::{self, FeatureTable, spec};
use polars::prelude::*;
use proptest::prelude::*;

const AS_OF: i32 = 19_800;

/// (customer, day offset from AS_OF, amount in cents)
type Tx = (u8, i32, i32);

fn frame(rows: &[Tx]) -> LazyFrame {
    let ms: Vec<i64> = rows
        .iter()
        .map(|r| (AS_OF + r.1) as i64 * 86_400_000 + 43_200_000)
        .collect();
    df!(
        "customer_id" => rows.iter().map(|r| format!("c{}", r.0)).collect::<Vec<_>>(),
        "ts" => ms,
        "amount" => rows.iter().map(|r| r.2 as f64 / 100.0).collect::<Vec<_>>(),
        "quantity" => rows.iter().map(|_| 1.0).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
    .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
}

fn features_of(rows: &[Tx]) -> FeatureTable {
    let mut engine = PolarsEngine::from_transactions(frame(rows));
    features::compute(&mut engine, &spec::default_specs(false, false), AS_OF, &[]).unwrap()
}

fn history() -> impl Strategy<Value = Vec<Tx>> {
    prop::collection::vec((0u8..6, -500i32..=0, -5_000i32..50_000), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn rows_after_the_as_of_day_change_nothing(
        base in history(),
        later in prop::collection::vec((0u8..8, 1i32..400, -5_000i32..50_000), 1..20),
    ) {
        let before = features_of(&base);
        let mut all = base.clone();
        all.extend(later);
        prop_assert_eq!(features_of(&all), before);
    }

    #[test]
    fn row_order_does_not_matter(base in history(), seed in any::<u64>()) {
        let mut shuffled = base.clone();
        let mut rng = churnflow::synth::Rng::new(seed);
        for i in (1..shuffled.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let (a, b) = (features_of(&base), features_of(&shuffled));
        prop_assert_eq!(&a.customer_ids, &b.customer_ids);
        for (x, y) in a.values.iter().zip(&b.values) {
            for (u, v) in x.iter().zip(y) {
                // Sums may differ in the last bits when added in another order.
                match (u, v) {
                    (Some(u), Some(v)) => prop_assert!((u - v).abs() <= 1e-9 * u.abs().max(1.0)),
                    _ => prop_assert_eq!(u, v),
                }
            }
        }
    }
}
