//! Row identities for de-duplication: a 128-bit hash (XXH3) of a row's identity columns, and the
//! order that puts equal rows next to each other. Hashing the typed values once per row and
//! sorting fixed-size keys is far cheaper than polars' multi-column `unique` and sort, which
//! encode every row's strings twice (about a third of ingest at 10^8 rows).
//!
//! Two different rows share a hash with probability about n^2 / 2^129: about 10^-23 for the
//! 10^8 rows of a large month.

use polars::prelude::*;
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

use crate::error::{EngineContext, Error, Result};

type Array<T> = <T as PolarsDataType>::Array;

/// One column's values (its single chunk), read without copying.
enum Values<'a> {
    Text(Vec<&'a Array<StringType>>),
    Int(Vec<&'a Array<Int64Type>>),
    Float(Vec<&'a Array<Float64Type>>),
}

/// The identity hash of every row of `df` over `columns` (text, 64-bit integer or datetime, and
/// float columns; nulls are distinguished from every value, and -0.0 equals 0.0).
pub fn hashes(df: &DataFrame, columns: &[&str]) -> Result<Vec<u128>> {
    let df = df
        .select(columns.iter().copied())
        .engine(|| "selecting the identity columns".into())?;
    // Physical values (a datetime is its i64), each in one chunk.
    let physical: Vec<Series> = df
        .columns()
        .iter()
        .map(|c| c.as_materialized_series().to_physical_repr().rechunk())
        .collect();
    let values: Vec<Values> = physical
        .iter()
        .map(|s| {
            Ok(match s.dtype() {
                DataType::String => {
                    Values::Text(s.str().expect("string").downcast_iter().collect())
                }
                DataType::Int64 => Values::Int(s.i64().expect("i64").downcast_iter().collect()),
                DataType::Float64 => Values::Float(s.f64().expect("f64").downcast_iter().collect()),
                other => {
                    return Err(Error::Data(format!(
                        "column {} has type {other}; identity hashing expects text, integer, \
                         datetime or float",
                        s.name()
                    )));
                }
            })
        })
        .collect::<Result<_>>()?;
    Ok((0..df.height())
        .into_par_iter()
        .map_init(Vec::new, |buf: &mut Vec<u8>, i| {
            buf.clear();
            for v in &values {
                match v {
                    Values::Text(a) => match a[0].get(i) {
                        Some(s) => {
                            buf.push(1);
                            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
                            buf.extend_from_slice(s.as_bytes());
                        }
                        None => buf.push(0),
                    },
                    Values::Int(a) => match a[0].get(i) {
                        Some(x) => {
                            buf.push(1);
                            buf.extend_from_slice(&x.to_le_bytes());
                        }
                        None => buf.push(0),
                    },
                    Values::Float(a) => match a[0].get(i) {
                        Some(x) => {
                            buf.push(1);
                            let x: f64 = if x == 0.0 { 0.0 } else { x };
                            buf.extend_from_slice(&x.to_bits().to_le_bytes());
                        }
                        None => buf.push(0),
                    },
                }
            }
            xxh3_128(buf)
        })
        .collect())
}

/// Indices of the rows to keep, in output order: rows ordered by `(ts, identity)` and, of rows
/// equal in both, only the first one (the lowest index). `ts` and `ids` are parallel.
pub fn first_of_each_in_time_order(ts: &[i64], ids: &[u128]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..ts.len() as u32).collect();
    order.par_sort_unstable_by_key(|&i| (ts[i as usize], ids[i as usize], i));
    let mut keep = Vec::with_capacity(order.len());
    let mut last: Option<(i64, u128)> = None;
    for i in order {
        let key = (ts[i as usize], ids[i as usize]);
        if last != Some(key) {
            keep.push(i);
            last = Some(key);
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_rows_hash_equal_and_nulls_differ_from_values() {
        let df = df!(
            "c" => [Some("a"), Some("a"), Some("a"), None, Some("")],
            "x" => [Some(1.0), Some(1.0), Some(-0.0), Some(0.0), Some(0.0)],
            "q" => [None, None, Some(0.0), Some(0.0), Some(0.0)],
        )
        .unwrap();
        let h = hashes(&df, &["c", "x", "q"]).unwrap();
        assert_eq!(h[0], h[1]);
        assert_ne!(h[0], h[2]);
        // -0.0 is the same amount as 0.0; a null id is not the empty id.
        let zero = df!("c" => ["a"], "x" => [0.0], "q" => [0.0]).unwrap();
        assert_eq!(h[2], hashes(&zero, &["c", "x", "q"]).unwrap()[0]);
        assert_ne!(h[3], h[4]);
    }

    #[test]
    fn text_boundaries_are_part_of_the_identity() {
        let df = df!("a" => ["ab", "a"], "b" => ["c", "bc"]).unwrap();
        let h = hashes(&df, &["a", "b"]).unwrap();
        assert_ne!(h[0], h[1]);
    }

    #[test]
    fn the_first_of_equal_rows_is_kept_in_time_order() {
        let ts = [5, 3, 5, 3, 1];
        let ids = [7, 9, 7, 8, 9];
        // Row 2 repeats row 0; row 1 and row 3 share a time but not an identity.
        let keep = first_of_each_in_time_order(&ts, &ids);
        assert_eq!(keep, [4, 3, 1, 0]);
    }
}
