//! A training cutoff's sample is drawn from labels computed first, and its features computed
//! only for the customers it keeps: the snapshot must be the one computing everyone's features
//! and sampling after would give, bit for bit, on every engine this build has.

use churnflow::{EngineKind, sampled_snapshot, snapshot};

use crate::util::{generate, write_pipeline};

#[test]
fn a_sampled_snapshot_equals_sampling_the_whole_one_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    let tx = generate(dir.path(), 3_000, 11, 0);
    // BG/NBD features (fitted on everyone) and a cycle-relative label (reads the usual cycle).
    let path = write_pipeline(
        dir.path(),
        &tx,
        "[[features]]\nbuiltin = \"defaults\"\n[[features]]\nbuiltin = \"bgnbd\"\n\
         [label]\nkind = \"cycle_relative\"\n",
    );
    let p = churnflow::Pipeline::load(&path).unwrap();
    churnflow::ingest(&p).unwrap();
    for kind in EngineKind::available_kinds() {
        let mut e = churnflow::open_engine(
            &p.warehouse_dir(),
            &kind.into(),
            &p.engine_scratch_dir(),
            None,
        )
        .unwrap();
        let (_, last) = e.day_range().unwrap();
        for (cutoff, keep, seed) in [(last - 200, 300, 7), (last - 400, 50, 8)] {
            let whole = snapshot(&p, e.as_mut(), cutoff, last).unwrap();
            assert!(whole.population > keep, "{kind:?}: a sample must be drawn");
            let want = whole.sample(keep, seed);
            let got = sampled_snapshot(&p, e.as_mut(), cutoff, last, keep, seed).unwrap();
            let what = format!("{kind:?} at {cutoff}");
            assert_eq!(got.population, want.population, "{what}");
            assert_eq!(got.churners, want.churners, "{what}");
            assert_eq!(got.rows, want.rows, "{what}");
            assert_eq!(got.labels, want.labels, "{what}");
            // DataFusion and Ballista sum in parallel in no fixed order: two runs of the same
            // query differ in the last bits, so they are held to the portability gate's 1e-9.
            let exact = matches!(kind, EngineKind::History | EngineKind::Polars);
            let same = |a: &[f64], b: &[f64]| {
                a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| {
                        x.to_bits() == y.to_bits()
                            || (!exact && (x - y).abs() <= 1e-9 * x.abs().max(y.abs()))
                    })
            };
            assert!(
                same(&got.lost_value, &want.lost_value),
                "{what}: lost value"
            );
            assert_eq!(got.table.customer_ids, want.table.customer_ids, "{what}");
            assert_eq!(got.table.names, want.table.names, "{what}");
            for (name, (a, b)) in got
                .table
                .names
                .iter()
                .zip(got.table.values.iter().zip(&want.table.values))
            {
                assert!(same(a, b), "{what}: {name}");
            }
        }
    }
}
