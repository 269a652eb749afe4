//! Fast parsing of ISO dates and datetimes, the default timestamp layout. Profiling ingest showed
//! more than half its time in chrono's format-driven parsing tried against seven formats per
//! value; this parser reads the same layouts in one pass over the bytes.

use polars::prelude::*;
use rayon::prelude::*;

use crate::domain::zone::Zone;

/// Epoch milliseconds of a naive `YYYY-MM-DD`, optionally followed by `T` or a space and
/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f` (1 to 9 fraction digits, truncated to milliseconds), read
/// as UTC. Surrounding blanks are ignored; anything else (an offset too), or an impossible date
/// or time, is `None`.
/// How an export writes its times: a strftime format (ISO layouts when None) and the zone of
/// values that carry no offset of their own.
#[derive(Debug, Clone, Copy)]
pub struct Times<'a> {
    pub format: Option<&'a str>,
    pub zone: Zone,
}

impl Times<'_> {
    /// True when the format reads an offset, so every value carries its own and the zone is
    /// never applied.
    pub fn format_has_offset(&self) -> bool {
        self.format.is_some_and(format_has_offset)
    }
}

/// True when a strftime format reads a UTC offset (`%z`, `%:z`, `%::z`, `%#z`).
pub fn format_has_offset(format: &str) -> bool {
    ["%z", "%:z", "%::z", "%#z"]
        .iter()
        .any(|z| format.contains(z))
}

#[cfg(test)]
pub fn parse_iso_ms(text: &str) -> Option<i64> {
    match parse_iso(text)? {
        (ms, None) => Some(ms),
        (_, Some(_)) => None,
    }
}

/// An ISO date or datetime and its explicit offset in seconds east of UTC, if it has one: `Z`,
/// or `+HH:MM`, `+HHMM`, `+HH` (or `-`), directly or after one space, following a time. The
/// milliseconds are the wall-clock time as written.
pub fn parse_iso(text: &str) -> Option<(i64, Option<i32>)> {
    let b = text.trim().as_bytes();
    let (local, offset) = match split_offset(b) {
        Some((local, offset)) => (local, Some(offset)),
        None => (b, None),
    };
    let ms = parse_local(local)?;
    if offset.is_some() && local.len() <= 10 {
        // A date alone has no time for an offset to apply to.
        return None;
    }
    Some((ms, offset))
}

/// The UTC instant (epoch milliseconds) of an ISO value: an explicit offset wins; a naive value
/// is a wall-clock time in `zone`.
pub fn parse_iso_utc(text: &str, zone: Zone) -> Option<i64> {
    match parse_iso(text)? {
        (ms, Some(offset)) => Some(ms - offset as i64 * 1000),
        (ms, None) => Some(zone.local_to_utc_ms(ms)),
    }
}

/// Splits a trailing `Z` or numeric offset off a datetime (only after `HH:MM`, position 16 on).
fn split_offset(b: &[u8]) -> Option<(&[u8], i32)> {
    if b.len() > 16 && matches!(b[b.len() - 1], b'Z' | b'z') {
        let local = &b[..b.len() - 1];
        return Some((local.strip_suffix(b" ").unwrap_or(local), 0));
    }
    let sign_at = (16..b.len()).rev().find(|&i| matches!(b[i], b'+' | b'-'))?;
    let tail = &b[sign_at + 1..];
    let (h, m) = match tail.len() {
        2 => (digits(tail)?, 0),
        4 => (digits(&tail[..2])?, digits(&tail[2..])?),
        5 if tail[2] == b':' => (digits(&tail[..2])?, digits(&tail[3..])?),
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    let secs = (h * 3600 + m * 60) as i32;
    let local = &b[..sign_at];
    let local = local.strip_suffix(b" ").unwrap_or(local);
    Some((local, if b[sign_at] == b'-' { -secs } else { secs }))
}

/// Epoch milliseconds of the naive layouts of `parse_iso_ms` (an ISO date or datetime without offset), from trimmed bytes.
fn parse_local(b: &[u8]) -> Option<i64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    if b.len() == 10 {
        return Some(ms);
    }
    let t = &b[11..];
    if !(b[10] == b'T' || b[10] == b' ') || t.len() < 5 || t[2] != b':' {
        return None;
    }
    let (hour, minute) = (digits(&t[0..2])?, digits(&t[3..5])?);
    if hour > 23 || minute > 59 {
        return None;
    }
    ms += (hour as i64 * 3600 + minute as i64 * 60) * 1000;
    let rest = &t[5..];
    if rest.is_empty() {
        return Some(ms);
    }
    if rest.len() < 3 || rest[0] != b':' {
        return None;
    }
    let second = digits(&rest[1..3])?;
    if second > 59 {
        return None;
    }
    ms += second as i64 * 1000;
    let frac = &rest[3..];
    if frac.is_empty() {
        return Some(ms);
    }
    if frac[0] != b'.' || !(2..=10).contains(&frac.len()) {
        return None;
    }
    let f = &frac[1..];
    digits(f)?;
    let millis = f
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(3)
        .fold(0i64, |acc, d| acc * 10 + (d - b'0') as i64);
    Some(ms + millis)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + (d - b'0') as u32)
    })
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a text column of ISO values into UTC Datetime(ms) in parallel (naive values are
/// wall-clock times in `zone`; an explicit offset wins); unparseable or missing values are null.
pub fn parse_column(column: &Column, zone: Zone) -> PolarsResult<Column> {
    let ca = column.str()?;
    let chunks: Vec<Int64Chunked> = ca
        .downcast_iter()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|arr| {
            arr.iter()
                .map(|v| v.and_then(|t| parse_iso_utc(t, zone)))
                .collect::<Int64Chunked>()
        })
        .collect();
    let mut out = Int64Chunked::from_chunk_iter(
        column.name().clone(),
        chunks.into_iter().flat_map(|c| c.downcast_into_iter()),
    );
    out.rename(column.name().clone());
    out.into_series()
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .map(Column::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;
    use proptest::prelude::*;

    /// The layouts the parser stands in for, as chrono formats.
    const FORMATS: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];

    fn chrono_ms(text: &str) -> Option<i64> {
        let t = text.trim();
        FORMATS
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .map(|d| d.and_utc().timestamp_millis())
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .ok()
                    .map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis())
            })
    }

    #[test]
    fn reads_every_iso_layout_and_rejects_impossible_values() {
        let cases = [
            ("2024-02-29", chrono_ms("2024-02-29")),
            ("1970-01-01", Some(0)),
            ("1969-12-31 23:59", Some(-60_000)),
            ("2024-03-05T07:30", chrono_ms("2024-03-05 07:30")),
            ("2024-03-05 07:30:15", chrono_ms("2024-03-05 07:30:15")),
            (
                "2024-03-05 07:30:15.1",
                chrono_ms("2024-03-05 07:30:15.100"),
            ),
            (
                "2024-03-05 07:30:15.123456",
                chrono_ms("2024-03-05 07:30:15.123"),
            ),
            (" 2024-03-05 ", chrono_ms("2024-03-05")),
        ];
        for (text, want) in cases {
            assert!(want.is_some());
            assert_eq!(parse_iso_ms(text), want, "{text}");
        }
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-03-05 24:00",
            "2024-03-05 07:60",
            "2024-03-05 07:30:61",
            "2024-03-05 07",
            "2024-03-05x07:30",
            "2024-03-05 07:30:15.",
            "2024-03-05 07:30:15,5",
            "05.03.2024",
            "2024-3-5",
            "",
            "someday",
        ] {
            assert_eq!(parse_iso_ms(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_chrono_on_valid_datetimes(
            secs in -2_000_000_000i64..4_000_000_000i64,
            millis in 0i64..1000,
            layout in 0usize..7,
        ) {
            let d = chrono::DateTime::from_timestamp_millis(secs * 1000 + millis).unwrap().naive_utc();
            let text = match layout {
                6 => d.format("%Y-%m-%d").to_string(),
                i => d.format(FORMATS[i].replace("%.f", "%.3f").as_str()).to_string(),
            };
            prop_assert_eq!(parse_iso_ms(&text), chrono_ms(&text), "{}", text);
        }

        #[test]
        fn whatever_it_accepts_chrono_reads_the_same(text in "[0-9T :.-]{8,26}") {
            if let Some(ms) = parse_iso_ms(&text) {
                prop_assert_eq!(Some(ms), chrono_ms(&text), "{}", text);
            }
        }
    }

    #[test]
    fn an_explicit_offset_wins_over_the_configured_zone() {
        let shanghai = Zone::parse("Asia/Shanghai").unwrap();
        let utc = chrono_ms("2024-01-02 02:00").unwrap();
        for text in [
            "2024-01-02T10:00:00+08:00",
            "2024-01-02T10:00:00+0800",
            "2024-01-02 10:00:00 +08",
            "2024-01-02T02:00:00Z",
            "2024-01-02T02:00Z",
            "2024-01-01T21:00:00-05:00",
        ] {
            assert_eq!(parse_iso_utc(text, shanghai), Some(utc), "{text}");
            assert_eq!(parse_iso_utc(text, Zone::Utc), Some(utc), "{text}");
            assert_eq!(parse_iso_ms(text), None, "{text}: naive only");
        }
        // A naive value is a Shanghai wall-clock time, converted once.
        assert_eq!(parse_iso_utc("2024-01-02 10:00", shanghai), Some(utc));
        for bad in [
            "2024-01-02+08:00",
            "2024-01-02T10:00+25:00",
            "2024-01-02T10:00+8",
        ] {
            assert_eq!(parse_iso_utc(bad, shanghai), None, "{bad}");
        }
    }
}
