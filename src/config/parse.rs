//! Reading the pipeline file's text: every syntax, type and unknown-key problem at once, and
//! paths as the user would write them.

use std::path::{Path, PathBuf};

use super::raw::RawPipeline;

/// Removes `.` and `name/..` lexically, so messages show `out/demo`, not `pipelines/../out/demo`.
pub(super) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// Parses a pipeline file, reporting every syntax, type and unknown-key problem rather than the
/// first: after each problem the offending line is set aside (commented out, so line numbers
/// stay) and parsing resumes. A key set aside falls back to its default, so the file's other
/// checks still run; a missing required key, or a problem on a line that cannot be set aside,
/// ends the search. Returns the parsed file when the rest parses, and the problems found.
pub(super) fn parse_all(text: &str) -> (Option<RawPipeline>, Vec<String>) {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut problems = Vec::new();
    for _ in 0..100 {
        let current = lines.join("\n");
        let e = match toml::from_str::<RawPipeline>(&current) {
            Ok(raw) => return (Some(raw), problems),
            Err(e) => e,
        };
        problems.push(e.to_string().trim_end().to_string());
        let Some(span) = e.span() else {
            break;
        };
        let line = current[..span.start.min(current.len())]
            .matches('\n')
            .count();
        let Some(l) = lines.get_mut(line) else { break };
        let t = l.trim_start();
        if e.message().starts_with("missing field")
            || t.is_empty()
            || t.starts_with('[')
            || t.starts_with('#')
        {
            break;
        }
        *l = format!("# {l}");
    }
    (None, problems)
}

pub(super) fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
