//! Features on a tiny hand-written export equal values computed by hand (see the comments).

use churnflow::Backend;
use churnflow::EngineKind;
use churnflow::Pipeline;
use churnflow::parse_day;
use churnflow::spec;

const EXPORT: &str = "\
order_id,customer_id,order_date,amount,quantity
1,A,2023-12-01,100.00,1
2,A,2024-01-15 10:00:00,200.00,2
3,A,2024-02-20,50.00,1
3R,A,2024-02-25,-20.00,-1
4,A,2024-03-10,150.00,3
5,A,2024-04-05,999.00,9
6,B,2024-03-31 23:59:59,80.00,1
7,C,2023-01-10,500.00,5
8,C,2024-04-01 00:00:00,10.00,1
9,D,2024-04-02,70.00,1
";

#[test]
fn features_match_hand_computed_values() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("tx.csv");
    std::fs::write(&csv, EXPORT).unwrap();
    let pipeline = crate::util::write_pipeline(dir.path(), &csv, "");
    let p = Pipeline::load(&pipeline).unwrap();
    churnflow::ingest(&p).unwrap();
    // Both ways of computing them: the in-memory history (default) and the portable SQL.
    for kind in EngineKind::available_kinds() {
        let mut engine = churnflow::open_engine(
            &p.warehouse_dir(),
            &kind.into(),
            &p.engine_scratch_dir(),
            None,
        )
        .unwrap();
        check_hand_computed(engine.as_mut());
    }
}

fn check_hand_computed(engine: &mut dyn Backend) {
    let as_of = parse_day("2024-03-31").unwrap();
    let t = churnflow::compute(engine, &spec::default_specs(false, false), as_of, &[]).unwrap();

    // D's only row is after the as-of day: D is not known yet.
    let ids: Vec<&str> = t.customer_ids.iter().map(|s| &**s).collect();
    assert_eq!(ids, ["A", "B", "C"]);
    let get = |name: &str| t.column(name).unwrap().to_vec();
    // A: purchases 2023-12-01, 2024-01-15, 2024-02-20, 2024-03-10 (refund 2024-02-25 is not a
    // purchase; the 2024-04-05 order is after the as-of day).
    // recency = 2024-03-31 - 2024-03-10 = 21; tenure = 2024-03-31 - 2023-12-01 = 31+31+29+30 = 121.
    // B bought at 23:59:59 on the as-of day itself: recency 0. C: 2023-01-10 -> 446 days.
    assert_eq!(get("recency_days"), [Some(21.0), Some(0.0), Some(446.0)]);
    assert_eq!(get("tenure_days"), [Some(121.0), Some(0.0), Some(446.0)]);
    // Windows are as_of - w < day <= as_of: 30d starts after 2024-03-01, 90d after 2024-01-01,
    // 365d after 2023-04-01.
    assert_eq!(get("orders_count_30d"), [Some(1.0), Some(1.0), Some(0.0)]);
    assert_eq!(get("orders_count_90d"), [Some(3.0), Some(1.0), Some(0.0)]);
    assert_eq!(get("orders_count_365d"), [Some(4.0), Some(1.0), Some(0.0)]);
    // Net amounts include the refund: 200 + 50 - 20 + 150 = 380 over 90 days.
    assert_eq!(get("amount_sum_30d"), [Some(150.0), Some(80.0), Some(0.0)]);
    assert_eq!(get("amount_sum_90d"), [Some(380.0), Some(80.0), Some(0.0)]);
    assert_eq!(get("amount_sum_365d"), [Some(480.0), Some(80.0), Some(0.0)]);
    // Mean per purchase over 365 days: (100 + 200 + 50 + 150) / 4.
    assert_eq!(
        get("amount_mean_365d"),
        [Some(125.0), Some(80.0), Some(0.0)]
    );
    // Trend: (this 90 days + 1) / (the 90 days before + 1). A: 3 orders now, 1 (Dec 1) before.
    assert_eq!(get("orders_trend_90d"), [Some(2.0), Some(2.0), Some(1.0)]);
    let amount_trend = get("amount_trend_90d");
    assert!((amount_trend[0].unwrap() - 401.0 / 101.0).abs() < 1e-12);
    assert_eq!(amount_trend[1], Some(81.0));
    // Cycle: (2024-03-10 - 2023-12-01) / 3 = 100 / 3; undefined with one purchase day.
    let cycle = get("purchase_cycle_days");
    assert!((cycle[0].unwrap() - 100.0 / 3.0).abs() < 1e-12);
    assert_eq!(&cycle[1..], [None, None]);
    let overdue = get("overdue_ratio");
    assert!((overdue[0].unwrap() - 21.0 / (100.0 / 3.0)).abs() < 1e-12);
    assert_eq!(&overdue[1..], [None, None]);
}
