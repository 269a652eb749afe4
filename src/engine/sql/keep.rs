//! Which customers a query over the transactions keeps (issue 17, "only the training sample ...
//! comes back to the driver"): everyone with a row on or before the day, only the active ones,
//! or only the ones a table names. The rule kept: the engine drops the other customers before
//! its result is written, so a training cutoff's sampled features, or the labels of its active
//! population, cross to the driver as those rows only, never as a table of everyone ever seen
//! that the driver then cuts down (at 10^8 rows that table was 7.8 million customers).

use polars::prelude::{DataFrame, df};

use crate::engine::sql::literal::number;
use crate::error::{EngineContext, Result};

/// The table of customer ids a [`Keep::named`] query keeps; its one column is [`WANTED_ID`]
/// (not `customer_id`, so that the transactions' own column stays unambiguous in the join).
pub(crate) const WANTED: &str = "wanted_customers";
/// The column of [`WANTED`].
pub(crate) const WANTED_ID: &str = "wanted_id";

/// The customers a query keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keep {
    /// Only customers whose recency is below this many days, as `domain::table::is_active`
    /// reads it (a customer without a purchase has no recency and is not active).
    pub active_within: Option<i32>,
    /// Only customers named in [`WANTED`] (registered by the backend before the query).
    pub named: bool,
}

impl Keep {
    /// Everyone with a row on or before the query's day.
    pub const EVERYONE: Keep = Keep {
        active_within: None,
        named: false,
    };

    /// Everyone, or only the active customers when `active_within` is given.
    pub fn active(active_within: Option<i32>) -> Keep {
        Keep {
            active_within,
            named: false,
        }
    }

    /// Only the customers named in [`WANTED`], and of them only the active ones when
    /// `active_within` is given.
    pub fn named(active_within: Option<i32>) -> Keep {
        Keep {
            active_within,
            named: true,
        }
    }

    /// The join after `FROM transactions` that keeps the named customers (empty otherwise). An
    /// inner join against distinct ids: each transaction row is kept once or not at all.
    pub(crate) fn join(&self) -> String {
        if self.named {
            format!("\nJOIN {WANTED} ON transactions.customer_id = {WANTED}.{WANTED_ID}")
        } else {
            String::new()
        }
    }

    /// The `HAVING` clause after a per-customer `GROUP BY` that keeps the active customers
    /// (empty otherwise); `recency` is the recency expression of that grouping. A null recency
    /// compares as unknown, which `HAVING` drops, as `is_active` drops a missing one.
    pub(crate) fn having(&self, recency: &str) -> String {
        match self.active_within {
            Some(days) => format!("\nHAVING {recency} < {}", number(f64::from(days))),
            None => String::new(),
        }
    }
}

/// The [`WANTED`] table of `ids`, each once: the join keeps a transaction once per matching
/// id, so an id asked for twice would count its customer's rows twice.
pub(crate) fn wanted_table<'a>(ids: impl Iterator<Item = &'a str>) -> Result<DataFrame> {
    let mut ids: Vec<&str> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    df!(WANTED_ID => ids).engine(|| "building the table of the customers asked for".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feature::FeatureSpec;
    use crate::engine::sql::{SqlBackend, facts, features};
    use polars::prelude::*;

    /// Customers a (last purchase 5 days before `AS_OF`), b (exactly 30), c (refunds only: no
    /// recency), d (60), e (a purchase after `AS_OF` only).
    const AS_OF: i64 = 19_800;

    fn engine() -> SqlBackend {
        let days = [AS_OF - 5, AS_OF - 30, AS_OF - 10, AS_OF - 60, AS_OF + 3];
        let lf = df!(
            "customer_id" => ["a", "b", "c", "d", "e"],
            "ts" => days.iter().map(|d| d * 86_400_000).collect::<Vec<_>>(),
            "amount" => [10.0, 20.0, -5.0, 7.0, 3.0],
            "quantity" => [Some(1.0), None, None, None, None],
            "order_id" => ["o1", "o2", "o3", "o4", "o5"],
            "product_id" => [None::<&str>, None, None, None, None],
        )
        .unwrap()
        .lazy()
        .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Milliseconds, None)));
        SqlBackend::from_transactions(lf)
    }

    fn ids_of(engine: &mut SqlBackend, sql: &str) -> Vec<String> {
        let df = engine.query(sql).unwrap();
        let mut ids = crate::util::frame::str_values(&df, "customer_id").unwrap();
        ids.sort();
        ids
    }

    /// The engine's own result holds the kept customers only: the driver's cut after it
    /// (`read_table`, `select_customers`) is a check, not where the rows are dropped.
    #[test]
    fn the_engine_returns_only_what_is_kept() {
        let mut e = engine();
        let specs = [FeatureSpec::RecencyDays];
        let as_of = AS_OF as i32;
        let render = |keep| features::render_keeping(&specs, as_of, &[], keep);
        assert_eq!(
            ids_of(&mut e, &render(Keep::EVERYONE)),
            ["a", "b", "c", "d"]
        );
        // b sits on the line: active within 31 days, not within 30 (`is_active` is strict).
        for (days, want) in [
            (31, vec!["a", "b"]),
            (30, vec!["a"]),
            (61, vec!["a", "b", "d"]),
        ] {
            let keep = Keep {
                active_within: Some(days),
                named: false,
            };
            assert_eq!(ids_of(&mut e, &render(keep)), want, "within {days}");
        }
        e.register(
            WANTED,
            wanted_table(["d", "b", "c", "x"].into_iter()).unwrap(),
        );
        let named = Keep {
            active_within: None,
            named: true,
        };
        assert_eq!(ids_of(&mut e, &render(named)), ["b", "c", "d"]);
        let active_named = Keep {
            active_within: Some(61),
            ..named
        };
        assert_eq!(ids_of(&mut e, &render(active_named)), ["b", "d"]);
        // The label facts look past the cutoff: e's purchase after it is counted.
        e.register(WANTED, wanted_table(["e", "a"].into_iter()).unwrap());
        let outcomes = facts::render_outcomes(as_of, 30, 30, named);
        assert_eq!(ids_of(&mut e, &outcomes), ["a", "e"]);
    }

    #[test]
    fn everyone_adds_nothing_to_the_text() {
        assert_eq!(Keep::EVERYONE.join(), "");
        assert_eq!(Keep::EVERYONE.having("r"), "");
        assert_eq!(Keep::default(), Keep::EVERYONE);
    }

    #[test]
    fn an_id_asked_for_twice_is_joined_once() {
        let t = wanted_table(["b", "a", "b"].into_iter()).unwrap();
        assert_eq!(t.height(), 2);
    }

    #[test]
    fn the_active_line_is_strict() {
        let keep = Keep {
            active_within: Some(90),
            named: false,
        };
        assert_eq!(keep.having("r"), "\nHAVING r < 90.0");
    }
}
