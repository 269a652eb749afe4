//! The checks every section shares, so each section's module states only its own rules.

/// Pushes a problem when `value` lies outside `lo..=hi`.
pub(super) fn in_range(problems: &mut Vec<String>, key: &str, value: i64, lo: i64, hi: i64) {
    if !(lo..=hi).contains(&value) {
        problems.push(format!("{key}: expected {lo}..={hi}, found {value}"));
    }
}
