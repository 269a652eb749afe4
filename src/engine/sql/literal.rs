//! Numbers in the SQL text: every engine must read back the exact `f64` the driver holds, so a
//! model or a fitted distribution applied in SQL computes with the artifact's own values.

/// An `f64` as a SQL literal that parses back to the same value: plain decimal digits (polars
/// SQL reads no exponent), always with a point so it is a float everywhere, negative ones in
/// parentheses.
pub fn number(x: f64) -> String {
    debug_assert!(x.is_finite(), "model numbers are finite");
    // `{:e}` gives the shortest round-trip digits and an exponent: "1.2345e-7".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // The point goes after `exp + 1` of the digits.
    let point = exp + 1;
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    if x < 0.0 { format!("(-{text})") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_negative_ones_are_parenthesised() {
        for x in [
            0.1,
            1e-300,
            123456.789,
            2.0f64.sqrt(),
            3.0,
            1e22,
            0.0,
            5e-7,
            120.5,
        ] {
            let text = number(x);
            assert!(!text.contains('e') && text.contains('.'), "{text}");
            assert_eq!(text.parse::<f64>().unwrap(), x);
        }
        assert_eq!(number(-0.5), "(-0.5)");
        assert_eq!(number(3.0), "3.0");
    }
}
