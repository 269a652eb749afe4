//! Day arithmetic. Everything in churnflow is day-granular: a day is an integer number of days
//! since 1970-01-01 (UTC), computed here in Rust so the SQL never needs date functions.

use chrono::{Datelike, NaiveDate};

/// Days since 1970-01-01 of a calendar date.
pub fn to_day(date: NaiveDate) -> i32 {
    (date - epoch()).num_days() as i32
}

/// Calendar date of a day number.
pub fn from_day(day: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(day as i64)
}

/// Parses `YYYY-MM-DD` into a day number.
pub fn parse_day(text: &str) -> Option<i32> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .map(to_day)
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_day(day: i32) -> String {
    from_day(day).format("%Y-%m-%d").to_string()
}

/// The last day of the month containing `day`.
pub fn month_end(day: i32) -> i32 {
    let d = from_day(day);
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    to_day(NaiveDate::from_ymd_opt(y, m, 1).expect("valid first of month")) - 1
}

/// Month-end days `e` with `first <= e <= last`, in increasing order.
pub fn month_ends_between(first: i32, last: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut e = month_end(first);
    while e <= last {
        out.push(e);
        e = month_end(e + 1);
    }
    out
}

/// A calendar day where one travels between stages and into files: a night's as-of day, the
/// day a folder or a list is named by. Inside the engines days stay `i32` day numbers (arrays of
/// them, and SQL integers); a `Day` is one of those with its calendar form attached, so a day and
/// its text can never disagree. Written and read as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i32);

impl Day {
    /// The day with this day number.
    pub const fn new(number: i32) -> Day {
        Day(number)
    }

    /// Its day number (days since 1970-01-01).
    pub const fn number(self) -> i32 {
        self.0
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Day> {
        parse_day(text).map(Day)
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", from_day(self.0).format("%Y-%m-%d"))
    }
}

impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        let text = String::deserialize(d)?;
        Day::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("expected a day as YYYY-MM-DD, found {text:?}"))
        })
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_roundtrip_and_known_values() {
        assert_eq!(parse_day("1970-01-02"), Some(1));
        assert_eq!(parse_day("2024-03-01"), Some(19783));
        assert_eq!(format_day(19783), "2024-03-01");
        assert_eq!(parse_day("2024-02-30"), None);
    }

    #[test]
    fn month_ends_handle_leap_years_and_december() {
        assert_eq!(
            format_day(month_end(parse_day("2024-02-10").unwrap())),
            "2024-02-29"
        );
        assert_eq!(
            format_day(month_end(parse_day("2023-12-31").unwrap())),
            "2023-12-31"
        );
        let ends = month_ends_between(
            parse_day("2023-11-15").unwrap(),
            parse_day("2024-02-29").unwrap(),
        );
        let text: Vec<String> = ends.into_iter().map(format_day).collect();
        assert_eq!(
            text,
            ["2023-11-30", "2023-12-31", "2024-01-31", "2024-02-29"]
        );
    }

    #[test]
    fn a_day_is_written_and_read_as_its_calendar_date() {
        let d = Day::parse("2024-02-29").unwrap();
        assert_eq!(d.number(), parse_day("2024-02-29").unwrap());
        assert_eq!(d.to_string(), "2024-02-29");
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2024-02-29\"");
        assert_eq!(serde_json::from_str::<Day>("\"2024-02-29\"").unwrap(), d);
        assert!(Day::new(d.number() + 1) > d);
        for bad in ["\"2023-02-29\"", "\"29.02.2024\"", "\"\"", "20240229"] {
            assert!(serde_json::from_str::<Day>(bad).is_err(), "{bad}");
        }
    }
}
