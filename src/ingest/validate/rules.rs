//! The rules a row must pass, in order, each with the column it names and a reason a person
//! can act on: the first one a row fails is its problem.

use polars::prelude::*;

use super::columns::{ambiguous_column, localised, non_empty, stripped, value_of};
use crate::domain::input::{Field, FieldKind};

/// What separates a reason from the value found, in quarantine files.
pub const FOUND: &str = "; found \"";

/// (failure test, column, reason) for every mapped field of `fields`, then `extra_rules`.
pub(super) fn rules(
    fields: &[Field],
    timestamp_format: Option<&str>,
    extra_rules: Vec<(Expr, String, String)>,
) -> Vec<(Expr, String, Expr)> {
    let ts_expected = timestamp_format
        .map(|f| format!("expected format {f}"))
        .unwrap_or_else(|| {
            "expected an ISO date (YYYY-MM-DD) or datetime (YYYY-MM-DD HH:MM[:SS[.fff]], \
             optionally with Z or an offset such as +08:00)"
                .into()
        });

    // (failure test, column, reason): the first failing rule names the row's problem.
    let mut rules: Vec<(Expr, String, Expr)> = Vec::new();
    for f in fields {
        let Some(c) = &f.column else { continue };
        let value = value_of(f, c);
        let present = non_empty(c);
        // The reason, then the value found (reasons are grouped by what comes before "; found").
        let found = |why: String| {
            concat_str(
                [lit(why), lit(FOUND), col(stripped(c)), lit("\"")],
                "",
                false,
            )
        };
        if f.required {
            rules.push((
                present.clone().not(),
                c.clone(),
                lit(format!("missing {}", f.label)),
            ));
        }
        let bad = match f.kind {
            FieldKind::Text => None,
            FieldKind::Timestamp => Some((
                value.clone().is_null(),
                format!("unparseable {}; {ts_expected}", f.label),
            )),
            FieldKind::Number => Some((
                value.clone().is_null().or(value.clone().is_finite().not()),
                format!("{} is not a number", f.label),
            )),
        };
        if let Some(format) = localised(f) {
            rules.push((
                present.clone().and(col(ambiguous_column(f))),
                c.clone(),
                found(format!(
                    "ambiguous number: the separators do not fit thousands separator {} and \
                     decimal separator {:?} (digits in groups of three after each thousands \
                     separator); not read, to avoid rescaling it",
                    format
                        .thousands
                        .as_ref()
                        .map_or("(none)".to_string(), |t| format!("{t:?}")),
                    format.decimal.as_deref().unwrap_or(".")
                )),
            ));
        }
        if let Some((fails, why)) = bad {
            rules.push((present.clone().and(fails), c.clone(), found(why)));
        }
        if let Some(b) = &f.bounds {
            let x = value.cast(DataType::Float64);
            let outside = x.clone().lt(lit(b.min)).or(x.gt(lit(b.max)));
            rules.push((present.and(outside), c.clone(), lit(b.message.clone())));
        }
    }
    rules.extend(
        extra_rules
            .into_iter()
            .map(|(fails, column, why)| (fails, column, lit(why))),
    );
    rules
}
