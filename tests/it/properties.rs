//! Invariants: features as of T ignore rows after T and do not depend on row order; labels
//! and probabilities stay in range.

use churnflow::{Backend, HistoryBackend, SqlBackend};
use churnflow::{FeatureTable, spec};
use polars::prelude::*;
use proptest::prelude::*;

pub(crate) const AS_OF: i32 = 19_800;

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
    let mut engine = HistoryBackend::from_transactions(frame(rows));
    churnflow::compute(&mut engine, &spec::default_specs(false, false), AS_OF, &[]).unwrap()
}

/// The default features and both BTYD groups (fitted as of AS_OF); the error text when a fit
/// fails, as it may on a few random customers.
fn btyd_features_of(rows: &[Tx]) -> Result<FeatureTable, String> {
    let mut engine = HistoryBackend::from_transactions(frame(rows));
    let mut specs = spec::default_specs(false, false);
    for s in spec::btyd_group(spec::BtydKind::BgNbd, 90)
        .into_iter()
        .chain(spec::btyd_group(spec::BtydKind::MbgNbd, 30))
    {
        if !specs.contains(&s) {
            specs.push(s);
        }
    }
    churnflow::compute(&mut engine, &specs, AS_OF, &[]).map_err(|e| e.to_string())
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
        let btyd_before = btyd_features_of(&base);
        let mut all = base.clone();
        all.extend(later);
        prop_assert_eq!(features_of(&all), before);
        // The BTYD fit as of the day and its outputs too (or the same refusal).
        prop_assert_eq!(btyd_features_of(&all), btyd_before);
    }

    #[test]
    fn row_order_does_not_matter(base in history(), seed in any::<u64>()) {
        let mut shuffled = base.clone();
        let mut rng = churnflow::Rng::new(seed);
        for i in (1..shuffled.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let (a, b) = (features_of(&base), features_of(&shuffled));
        prop_assert_eq!(&a.customer_ids, &b.customer_ids);
        for name in &a.names {
            let (x, y) = (a.column(name).unwrap(), b.column(name).unwrap());
            for (u, v) in x.iter().zip(y.iter()) {
                // Sums may differ in the last bits when added in another order.
                prop_assert!(close(u, v), "{}: {:?} vs {:?}", name, u, v);
            }
        }
    }
}

/// (customer, day offset from AS_OF, amount in cents, quantity or null)
pub(crate) type QTx = (u8, i32, i32, Option<i8>);

/// Random histories: a few customers, rows before, around and after `AS_OF`, refunds, missing
/// quantities.
pub(crate) fn random_rows() -> impl Strategy<Value = Vec<QTx>> {
    prop::collection::vec(
        (
            0u8..8,
            -400i32..=200,
            -5_000i32..50_000,
            prop::option::of(-4i8..40),
        ),
        1..60,
    )
}

pub(crate) fn frame_with_quantities(rows: &[QTx]) -> LazyFrame {
    df!(
        "customer_id" => rows.iter().map(|r| format!("c{}", r.0)).collect::<Vec<_>>(),
        "ts" => rows.iter().map(|r| (AS_OF + r.1) as i64 * 86_400_000 + 3_600_000).collect::<Vec<_>>(),
        "amount" => rows.iter().map(|r| r.2 as f64 / 100.0).collect::<Vec<_>>(),
        "quantity" => rows.iter().map(|r| r.3.map(|q| q as f64 / 4.0)).collect::<Vec<_>>(),
        "order_id" => (0..rows.len()).map(|i| format!("o{i}")).collect::<Vec<_>>(),
        // Three products, and rows without one (they count in units only).
        "product_id" => rows.iter().map(|r| (r.2.rem_euclid(4) != 0).then(|| format!("p{}", r.2.rem_euclid(3)))).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
    .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
}

/// Every transaction feature the pipeline file can ask for, in a few windows.
pub(crate) fn every_transaction_spec() -> Vec<spec::FeatureSpec> {
    use spec::{Agg::*, FeatureSpec, Measure::*};
    let mut specs = vec![
        FeatureSpec::RecencyDays,
        FeatureSpec::TenureDays,
        FeatureSpec::PurchaseCycleDays,
        FeatureSpec::OverdueRatio,
        FeatureSpec::RepeatPurchaseDays,
        FeatureSpec::PurchaseSpanDays,
        FeatureSpec::PurchaseAgeDays,
        FeatureSpec::SinglePurchaseDay,
    ];
    for w in [1, 7, 30, 90] {
        for (m, a) in [
            (Orders, Count),
            (Orders, Trend),
            (Amount, Sum),
            (Amount, Mean),
            (Amount, Max),
            (Amount, Trend),
            (Quantity, Sum),
            (Quantity, Trend),
        ] {
            specs.push(spec::window(m, a, w));
        }
    }
    specs
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        (a, b) => a == b,
    }
}

/// The three label rules: what `assert_engines_agree` labels and asks the facts of.
fn label_rules() -> [churnflow::LabelRule; 3] {
    use churnflow::LabelRule;
    [
        LabelRule::FixedHorizon { horizon_days: 30 },
        LabelRule::CycleRelative {
            cycle_multiple: 1.5,
            min_days: 10,
            max_days: 120,
        },
        LabelRule::ValueDrop {
            horizon_days: 60,
            drop_fraction: 0.5,
        },
    ]
}

/// The labels of the population active within `days` (`active`, `other`'s features of it) under
/// every rule: the same customers and labels from both engines, and `other`'s labels exactly
/// the rule applied to `other`'s own facts (an SQL engine renders the rule; the reference labels
/// in Rust).
fn assert_labels_agree(
    reference: &mut dyn Backend,
    other: &mut dyn Backend,
    engine: &str,
    active: &FeatureTable,
    days: i32,
) -> Result<(), TestCaseError> {
    let rows: Vec<usize> = (0..active.len()).collect();
    for rule in label_rules() {
        let x = reference.active_labels(&rule, active.as_of, days).unwrap();
        let y = other.active_labels(&rule, active.as_of, days).unwrap();
        prop_assert_eq!(&x.customer_ids, &y.customer_ids, "{} {:?}", engine, rule);
        prop_assert_eq!(&y.customer_ids, &active.customer_ids);
        prop_assert_eq!(
            &x.outcomes.churned,
            &y.outcomes.churned,
            "{} {:?}",
            engine,
            rule
        );
        let facts = other
            .outcome_facts(active, &rows, rule.max_window(), rule.value_horizon())
            .unwrap();
        let own = churnflow::label_outcomes(&rule, active, &rows, &facts);
        prop_assert_eq!(
            &own.churned,
            &y.outcomes.churned,
            "{} {:?}: its facts",
            engine,
            rule
        );
        for (u, v) in x.outcomes.lost_value.iter().zip(&y.outcomes.lost_value) {
            prop_assert!(
                close(Some(*u), Some(*v)),
                "lost value: {} {} {:?}",
                u,
                v,
                engine
            );
        }
    }
    Ok(())
}

/// The reference engine (the in-memory history) and `other` give the same answers: every
/// transaction feature at `as_of`, the active population at boundary recencies, the facts behind
/// all three label rules, lapsed accounts at four thresholds (one on a boundary), the day range.
pub(crate) fn assert_engines_agree(
    reference: &mut dyn Backend,
    other: &mut dyn Backend,
    engine: &str,
    as_of: i32,
) -> Result<(), TestCaseError> {
    let specs = every_transaction_spec();
    let a = reference.features(&specs, as_of, &[], None).unwrap();
    let b = other.features(&specs, as_of, &[], None).unwrap();
    prop_assert_eq!(&a.customer_ids, &b.customer_ids);
    prop_assert_eq!(&a.names, &b.names);
    for name in &a.names {
        let (x, y) = (a.column(name).unwrap(), b.column(name).unwrap());
        for (i, (u, v)) in x.iter().zip(y.iter()).enumerate() {
            prop_assert!(
                close(u, v),
                "{} of {}: reference {:?}, {} {:?}",
                name,
                a.customer_ids[i],
                u,
                engine,
                v
            );
        }
    }
    // The active population computed directly from the history is the SQL's table
    // restricted to its active rows (with a customer exactly on the boundary each time).
    let mut boundaries: Vec<i32> = b
        .column("recency_days")
        .unwrap()
        .iter()
        .flatten()
        .map(|r| r as i32)
        .collect();
    boundaries.sort_unstable();
    boundaries.dedup();
    for days in boundaries.into_iter().take(4) {
        let x = reference.features(&specs, as_of, &[], Some(days)).unwrap();
        let y = other.features(&specs, as_of, &[], Some(days)).unwrap();
        prop_assert_eq!(&x.customer_ids, &y.customer_ids);
        // Within 1e-9, not bit for bit: DataFusion merges partial sums in whatever order its
        // partitions finish, so two runs of one query can differ in the last bits.
        let z = b.select_rows(&b.active_rows(days).unwrap());
        prop_assert_eq!(&y.customer_ids, &z.customer_ids);
        for name in &y.names {
            let (u, v) = (y.column(name).unwrap(), z.column(name).unwrap());
            prop_assert!(
                u.iter().zip(v.iter()).all(|(p, q)| close(p, q)),
                "{} active within {}: {}",
                name,
                days,
                engine
            );
        }
        prop_assert_eq!(x.values.len(), y.values.len());
        assert_labels_agree(reference, other, engine, &y, days)?;
        // A training sample's customers (every other active one, the first and last among
        // them): the SQL engines keep them in the query, the history looks them up.
        let ids: Vec<&str> = x.customer_ids.iter().step_by(2).map(|c| &**c).collect();
        let u = reference
            .features_of(&specs, as_of, &[], Some(days), &ids)
            .unwrap();
        let v = other
            .features_of(&specs, as_of, &[], Some(days), &ids)
            .unwrap();
        prop_assert_eq!(&u.customer_ids, &v.customer_ids);
        prop_assert_eq!(u.len(), ids.len());
        for name in &u.names {
            let (p, q) = (u.column(name).unwrap(), v.column(name).unwrap());
            prop_assert!(
                p.iter().zip(q.iter()).all(|(p, q)| close(p, q)),
                "{} of the sampled customers active within {}: {}",
                name,
                days,
                engine
            );
        }
    }
    let all: Vec<usize> = (0..a.len()).collect();
    // Some rows only, out of order: the facts come back for exactly those, in their order.
    let some: Vec<usize> = (0..a.len()).rev().step_by(3).collect();
    for rule in label_rules() {
        let (w, h) = (rule.max_window(), rule.value_horizon());
        let x = reference.outcome_facts(&a, &all, w, h).unwrap();
        let y = other.outcome_facts(&b, &all, w, h).unwrap();
        prop_assert_eq!(x.len(), y.len());
        let x_some = reference.outcome_facts(&a, &some, w, h).unwrap();
        let y_some = other.outcome_facts(&b, &some, w, h).unwrap();
        prop_assert_eq!(y_some.len(), some.len());
        let picked: Vec<_> = some.iter().map(|&r| x[r]).collect();
        prop_assert_eq!(&x_some, &picked, "the reference's facts of some rows");
        for (u, v) in x.iter().zip(&y).chain(x_some.iter().zip(&y_some)) {
            prop_assert_eq!(u.next_purchase_day, v.next_purchase_day);
            prop_assert!(
                close(Some(u.next_value), Some(v.next_value)),
                "next value: reference {:?}, {} {:?}",
                u,
                engine,
                v
            );
            prop_assert!(
                close(Some(u.previous_value), Some(v.previous_value)),
                "previous value: reference {:?}, {} {:?}",
                u,
                engine,
                v
            );
        }
    }
    // Lapsed accounts, with a customer exactly on the boundary among the thresholds.
    for lost_after in [0.0, 30.0, 90.5, 200.0] {
        let x = reference.lapsed(as_of, lost_after).unwrap();
        let y = other.lapsed(as_of, lost_after).unwrap();
        prop_assert_eq!(x.len(), y.len(), "{} lapsed after {}", engine, lost_after);
        for (u, v) in x.iter().zip(&y) {
            prop_assert_eq!((&u.customer_id, u.last_day), (&v.customer_id, v.last_day));
            prop_assert!(
                close(Some(u.value), Some(v.value)) && u.orders == v.orders,
                "lapsed: reference {:?}, {} {:?}",
                u,
                engine,
                v
            );
        }
        // What the lapsed accounts bought (the win-back list's units and products).
        let accounts: Vec<(&str, i32)> = x
            .iter()
            .map(|a| (a.customer_id.as_str(), a.last_day))
            .collect();
        let (p, q) = (
            reference.purchases(&accounts, as_of).unwrap(),
            other.purchases(&accounts, as_of).unwrap(),
        );
        prop_assert_eq!(p.len(), q.len(), "purchases after {}", lost_after);
        for (id, u) in &p {
            let v = &q[id];
            prop_assert!(
                close(Some(u.units), Some(v.units)),
                "units of {}: reference {:?}, {} {:?}",
                id,
                u,
                engine,
                v
            );
            prop_assert_eq!(u.value_by_product.len(), v.value_by_product.len());
            for (product, value) in &u.value_by_product {
                prop_assert!(
                    close(Some(*value), v.value_by_product.get(product).copied()),
                    "{} of {}: {} {:?}",
                    product,
                    id,
                    engine,
                    v
                );
            }
        }
    }
    prop_assert_eq!(reference.day_range().unwrap(), other.day_range().unwrap());
    // What a BTYD fit reads: the same counted summaries, exactly (whole days and counts).
    let summaries = reference.purchase_summaries(as_of).unwrap();
    prop_assert_eq!(
        &summaries,
        &other.purchase_summaries(as_of).unwrap(),
        "{}",
        engine
    );
    let customers: f64 = summaries.iter().map(|w| w.weight).sum();
    let buyers = a
        .column("repeat_purchase_days")
        .unwrap()
        .iter()
        .flatten()
        .count();
    prop_assert_eq!(customers, buyers as f64, "every buyer is counted once");
    // The BTYD outputs are one function of these summaries and of the summary columns above
    // (`features::btyd`, whatever the engine), so equal inputs are what the gate checks;
    // `btyd_features` compares the outputs themselves on the in-process engines.
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// The in-memory history computes what the portable SQL computes on polars.
    #[test]
    fn in_memory_history_agrees_with_the_sql(
        rows in random_rows(),
        as_of_shift in prop::sample::select(vec![-450, -200, -1, 0, 60]),
    ) {
        let mut reference = HistoryBackend::from_transactions(frame_with_quantities(&rows));
        let mut sql = SqlBackend::from_transactions(frame_with_quantities(&rows));
        assert_engines_agree(&mut reference, &mut sql, "polars", AS_OF + as_of_shift)?;
    }
}
