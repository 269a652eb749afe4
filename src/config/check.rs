//! The checks every section shares, so each section's module states only its own rules.

/// Pushes a problem when `value` lies outside `lo..=hi`.
pub(super) fn in_range(problems: &mut Vec<String>, key: &str, value: i64, lo: i64, hi: i64) {
    if !(lo..=hi).contains(&value) {
        problems.push(format!("{key}: expected {lo}..={hi}, found {value}"));
    }
}

/// Pushes a problem when the share `value` lies outside `0..=1`.
pub(super) fn share_in_0_to_1(problems: &mut Vec<String>, key: &str, value: f64) {
    if !(0.0..=1.0).contains(&value) {
        problems.push(format!("{key}: expected a share in 0..=1, found {value}"));
    }
}
