//! Numbers written with a locale's separators ("1.234,50 €", "$1,234.50"), parsed exactly or not
//! at all. Stripping separators instead of checking them rescales values silently: with
//! thousands "." and decimal ",", "12.50" would become 1250. So the separators must form the
//! layout the pipeline declares (digits in groups of three after each thousands separator, one
//! decimal separator followed by digits); anything else made of digits and separators is an
//! "ambiguous number", quarantined, never guessed.

use polars::prelude::*;

pub use crate::domain::input::NumberFormat;

/// Why a value is not a number of the declared layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Digits and separators that do not fit the declared layout (or mix two conventions).
    Ambiguous,
    /// Not a number at all.
    NotANumber,
}

/// True when `f` declares separators, so values take the strict parser (without any, values are
/// plain numbers and polars' cast reads them).
pub fn is_localised(f: &NumberFormat) -> bool {
    f.thousands.is_some() || f.decimal.is_some()
}

/// Parses `text` in layout `f`: optional currency symbols and blanks at either end, an optional
/// sign, digits with `f.thousands` between groups of three, then optionally `f.decimal` (default
/// ".") and digits.
pub fn parse(text: &str, f: &NumberFormat) -> Result<f64, Problem> {
    let currency =
        |c: char| c.is_whitespace() || f.currency.as_deref().is_some_and(|s| s.contains(c));
    let mut s = text.trim_matches(currency);
    let negative = match s.chars().next() {
        Some('-') => true,
        Some('+') => false,
        _ => return body(s, f),
    };
    s = s[1..].trim_start_matches(currency);
    body(s, f).map(|v| if negative { -v } else { v })
}

fn body(s: &str, f: &NumberFormat) -> Result<f64, Problem> {
    let separators_only = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '\'' | ' ' | '\u{a0}'))
    };
    let problem = if !s.is_empty() && separators_only(s) && s.chars().any(|c| c.is_ascii_digit()) {
        Problem::Ambiguous
    } else {
        Problem::NotANumber
    };
    let decimal = f.decimal.as_deref().unwrap_or(".");
    let (int, frac) = match s.split_once(decimal) {
        Some((i, fr)) => (i, Some(fr)),
        None => (s, None),
    };
    if let Some(fr) = frac
        && (fr.is_empty() || !fr.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(problem);
    }
    let mut digits = String::with_capacity(s.len() + 1);
    match f.thousands.as_deref().filter(|t| int.contains(*t)) {
        Some(t) => {
            for (k, group) in int.split(t).enumerate() {
                let ok = group.bytes().all(|b| b.is_ascii_digit())
                    && if k == 0 {
                        (1..=3).contains(&group.len())
                    } else {
                        group.len() == 3
                    };
                if !ok {
                    return Err(problem);
                }
                digits.push_str(group);
            }
        }
        None => {
            if !int.bytes().all(|b| b.is_ascii_digit()) || (int.is_empty() && frac.is_none()) {
                return Err(problem);
            }
            digits.push_str(int);
        }
    }
    if digits.is_empty() {
        digits.push('0');
    }
    if let Some(fr) = frac {
        digits.push('.');
        digits.push_str(fr);
    }
    // Only ASCII digits and one point remain: Rust's parser rounds that decimal correctly.
    digits.parse::<f64>().map_err(|_| problem)
}

/// Parses a text column in layout `f`: the values (null where not a number of that layout) and,
/// per row, whether the problem was an ambiguous number.
pub fn parse_column(values: &StringChunked, f: &NumberFormat) -> (Float64Chunked, BooleanChunked) {
    let mut ambiguous = Vec::with_capacity(values.len());
    let parsed: Float64Chunked = values
        .iter()
        .map(|v| {
            let r = v.map(|t| parse(t, f));
            ambiguous.push(matches!(r, Some(Err(Problem::Ambiguous))));
            r.and_then(|r| r.ok())
        })
        .collect();
    (
        parsed.with_name(values.name().clone()),
        BooleanChunked::from_slice(values.name().clone(), &ambiguous),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fmt(t: Option<&str>, d: Option<&str>) -> NumberFormat {
        NumberFormat {
            thousands: t.map(str::to_string),
            decimal: d.map(str::to_string),
            currency: Some("$€¥£".into()),
        }
    }

    #[test]
    fn european_layout_reads_its_numbers_and_refuses_others() {
        let eu = fmt(Some("."), Some(","));
        for (text, want) in [
            ("1.234,50", 1234.5),
            ("12,50", 12.5),
            ("1.234.567", 1_234_567.0),
            ("-1.234,5 €", -1234.5),
            ("€ 7", 7.0),
            ("0,5", 0.5),
            ("100", 100.0),
        ] {
            assert_eq!(parse(text, &eu), Ok(want), "{text}");
        }
        // The cases: these were stored as 1250 and 15.
        for text in [
            "12.50", "1.5", "1,234.50", "1.23,4", "12.3456", "1,2,3", "1.234,",
        ] {
            assert_eq!(parse(text, &eu), Err(Problem::Ambiguous), "{text}");
        }
        for text in ["abc", "", "1e5", "12x", "--1"] {
            assert_eq!(parse(text, &eu), Err(Problem::NotANumber), "{text}");
        }
    }

    #[test]
    fn us_layout_and_decimal_comma_without_thousands() {
        let us = fmt(Some(","), None);
        assert_eq!(parse("$1,234.50", &us), Ok(1234.5));
        assert_eq!(parse("1234.5", &us), Ok(1234.5));
        assert_eq!(parse("12,50", &us), Err(Problem::Ambiguous));
        assert_eq!(parse("1.234,50", &us), Err(Problem::Ambiguous));
        let comma = fmt(None, Some(","));
        assert_eq!(parse("1234,5", &comma), Ok(1234.5));
        assert_eq!(parse("1.234", &comma), Err(Problem::Ambiguous));
        let swiss = fmt(Some("'"), None);
        assert_eq!(parse("1'234.50", &swiss), Ok(1234.5));
        assert_eq!(parse("12'34", &swiss), Err(Problem::Ambiguous));
    }

    proptest! {
        /// Whatever is written in the layout reads back as the number a strict parser of the
        /// plain digits gives; a misplaced separator is never read as another number.
        #[test]
        fn written_numbers_read_back_exactly(cents in 0u64..10_000_000_000u64, neg: bool) {
            let eu = fmt(Some("."), Some(","));
            let int = (cents / 100).to_string();
            let mut grouped = String::new();
            for (i, c) in int.chars().enumerate() {
                if i > 0 && (int.len() - i).is_multiple_of(3) {
                    grouped.push('.');
                }
                grouped.push(c);
            }
            let text = format!("{}{grouped},{:02}", if neg { "-" } else { "" }, cents % 100);
            let plain = format!("{}{}.{:02}", if neg { "-" } else { "" }, cents / 100, cents % 100);
            prop_assert_eq!(parse(&text, &eu), Ok(plain.parse::<f64>().unwrap()));
            // The same value in the other convention ends in a group of two digits after "." :
            // refused, never read as a hundred times the value.
            prop_assert_eq!(parse(&plain, &eu), Err(Problem::Ambiguous));
        }
    }
}
