//! The time zone an export's times are written in. The warehouse stores UTC, so local times are
//! converted once, at ingest.

use chrono::{LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A source time zone: UTC, a fixed offset, or a named zone with daylight saving rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Utc,
    /// Seconds east of UTC.
    Fixed(i32),
    Named(Tz),
}

impl std::fmt::Display for Zone {
    /// As the pipeline file writes it: "UTC", "+08:00", "Asia/Shanghai".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Zone::Utc => write!(f, "UTC"),
            Zone::Fixed(secs) => {
                let sign = if *secs < 0 { '-' } else { '+' };
                let a = secs.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
            }
            Zone::Named(tz) => write!(f, "{}", tz.name()),
        }
    }
}

impl Zone {
    /// Parses "UTC", "+08:00" / "-05:30", or an IANA name such as "Asia/Shanghai".
    pub fn parse(text: &str) -> Option<Zone> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Some(Zone::Utc);
        }
        if let Some(rest) = t.strip_prefix(['+', '-']) {
            let sign = if t.starts_with('-') { -1 } else { 1 };
            let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
            let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
            if !(0..=14).contains(&h) || !(0..60).contains(&m) {
                return None;
            }
            return Some(Zone::Fixed(sign * (h * 3600 + m * 60)));
        }
        t.parse::<Tz>().ok().map(Zone::Named)
    }

    /// The UTC instant (epoch milliseconds) of a local wall-clock time (epoch milliseconds as if
    /// it were UTC). A time that occurs twice when clocks go back is read as the first; a time
    /// skipped when clocks go forward is read as if the clock had not yet changed.
    pub fn local_to_utc_ms(self, local_ms: i64) -> i64 {
        match self {
            Zone::Utc => local_ms,
            Zone::Fixed(secs) => local_ms - secs as i64 * 1000,
            Zone::Named(tz) => {
                let Some(naive) =
                    chrono::DateTime::from_timestamp_millis(local_ms).map(|d| d.naive_utc())
                else {
                    return local_ms;
                };
                let offset_ms = |n: NaiveDateTime| match tz.from_local_datetime(&n) {
                    LocalResult::Single(d) | LocalResult::Ambiguous(d, _) => {
                        Some(d.naive_utc() - n)
                    }
                    LocalResult::None => None,
                };
                let delta = offset_ms(naive)
                    // In a gap, use the offset in force just before it.
                    .or_else(|| offset_ms(naive - chrono::Duration::hours(3)))
                    .unwrap_or_default();
                local_ms + delta.num_milliseconds()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    #[test]
    fn parses_names_offsets_and_utc() {
        assert_eq!(Zone::parse("UTC"), Some(Zone::Utc));
        assert_eq!(Zone::parse("+08:00"), Some(Zone::Fixed(8 * 3600)));
        assert_eq!(Zone::parse("-05:30"), Some(Zone::Fixed(-(5 * 3600 + 1800))));
        assert_eq!(
            Zone::parse("Asia/Shanghai"),
            Some(Zone::Named(Tz::Asia__Shanghai))
        );
        assert_eq!(Zone::parse("Mars/Olympus"), None);
        assert_eq!(Zone::parse("+25:00"), None);
    }

    #[test]
    fn converts_local_times_to_utc_across_daylight_saving() {
        let shanghai = Zone::parse("Asia/Shanghai").unwrap();
        assert_eq!(
            shanghai.local_to_utc_ms(ms("2024-03-05 07:30")),
            ms("2024-03-04 23:30")
        );
        assert_eq!(
            Zone::Fixed(-3600).local_to_utc_ms(ms("2024-03-05 23:30")),
            ms("2024-03-06 00:30")
        );
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        // Winter UTC+1, summer UTC+2.
        assert_eq!(
            berlin.local_to_utc_ms(ms("2024-01-10 12:00")),
            ms("2024-01-10 11:00")
        );
        assert_eq!(
            berlin.local_to_utc_ms(ms("2024-07-10 12:00")),
            ms("2024-07-10 10:00")
        );
        // 02:30 on 2024-03-31 does not exist in Berlin: read with the winter offset.
        assert_eq!(
            berlin.local_to_utc_ms(ms("2024-03-31 02:30")),
            ms("2024-03-31 01:30")
        );
        // 02:30 on 2024-10-27 happens twice: the first (summer time) is taken.
        assert_eq!(
            berlin.local_to_utc_ms(ms("2024-10-27 02:30")),
            ms("2024-10-27 00:30")
        );
    }
}
