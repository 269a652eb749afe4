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
            assert_eq!(got.lost_value, want.lost_value, "{what}");
            assert_eq!(got.table.customer_ids, want.table.customer_ids, "{what}");
            assert_eq!(got.table.names, want.table.names, "{what}");
            for (name, (a, b)) in got
                .table
                .names
                .iter()
                .zip(got.table.values.iter().zip(&want.table.values))
            {
                let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(a), bits(b), "{what}: {name}");
            }
        }
    }
}
