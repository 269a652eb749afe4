//! The floors of `src/` (docs/ARCHITECTURE.md): a module imports only from floors below its own,
//! and no file imports itself round a circle. A file that names `crate::<module>` of its own or
//! a higher floor fails this test, comments and tests excepted.

use std::path::{Path, PathBuf};

/// Floors from the bottom, as docs/ARCHITECTURE.md draws them; a module not listed is above all
/// of them (only `lib.rs` and `main.rs`, which are not checked).
const FLOORS: &[&[&str]] = &[
    &["error"],
    &["util"],
    &["btyd"],
    &["synth"],
    &["domain"],
    &["config"],
    &["warehouse"],
    &["ingest"],
    &["engine"],
    &["features"],
    &["label"],
    &["segment"],
    &["model"],
    &["score"],
    &["report"],
    &["app"],
    &["cli"],
    &["cmd"],
];

fn floor_of(module: &str) -> usize {
    FLOORS
        .iter()
        .position(|f| f.contains(&module))
        .unwrap_or(FLOORS.len())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The paths a file names as `crate::a::b::...` outside comments and tests; a group
/// `crate::{a, b::c}` gives one path per member.
fn crate_paths(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = Vec::new();
    let path_char = |c: &char| c.is_ascii_alphanumeric() || *c == '_' || *c == ':';
    for line in code.lines() {
        let mut rest = line.split("//").next().unwrap_or("");
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inside = group.split('}').next().unwrap_or("");
                out.extend(
                    inside
                        .split(',')
                        .map(|m| m.trim().chars().take_while(path_char).collect::<String>())
                        .filter(|m| !m.is_empty()),
                );
            } else {
                let path: String = rest.chars().take_while(path_char).collect();
                if !path.is_empty() {
                    out.push(path.trim_end_matches(':').to_string());
                }
            }
        }
    }
    out
}

/// The top-level modules a file names as `crate::<module>` outside comments and tests.
fn imports(text: &str) -> Vec<String> {
    crate_paths(text)
        .iter()
        .map(|p| p.split("::").next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn every_module_imports_only_from_floors_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let floor = floor_of(&module);
        if floor == FLOORS.len() {
            continue;
        }
        checked += 1;
        for name in imports(&std::fs::read_to_string(f).unwrap()) {
            if name != module && floor_of(&name) >= floor {
                upward.push(format!("{} imports crate::{name}", rel.display()));
            }
        }
    }
    assert!(checked >= 90, "only {checked} files on the checked floors");
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn the_check_sees_an_upward_import() {
    let text = "//! crate::ingest in a comment is not an import\nuse crate::error::Result;\nuse crate::{util, ingest::zone};\nfn f() { crate::score::x(); }\n#[cfg(test)]\nuse crate::model;";
    assert_eq!(imports(text), ["error", "util", "ingest", "score"]);
}

/// Module paths (`ingest::manifest`) of the files under `src/` (lib.rs and main.rs left out),
/// with each file's text.
fn modules(src: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let name = parts.join("::");
            (name != "lib" && name != "main").then(|| (name, std::fs::read_to_string(f).unwrap()))
        })
        .collect()
}

/// A file's code without comments and tests.
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    code.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The paths of a `use` group's members (`{a, b::c, d::{e, f}}`, without the braces), each
/// prefixed with `base`.
fn group_members(base: &str, inside: &str, out: &mut Vec<String>) {
    let (mut depth, mut start) = (0, 0);
    let bytes: Vec<char> = inside.chars().collect();
    let mut members = Vec::new();
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                members.push(bytes[start..i].iter().collect::<String>());
                start = i + 1;
            }
            _ => {}
        }
    }
    members.push(bytes[start..].iter().collect::<String>());
    for m in members {
        let m = m.trim();
        let head: String = m.chars().take_while(|&c| is_path_char(c)).collect();
        let joined = match (base.is_empty(), head.trim_end_matches(':')) {
            (_, "") => continue,
            (true, h) => h.to_string(),
            (false, h) => format!("{base}::{h}"),
        };
        match m[head.len()..].trim_start().strip_prefix('{') {
            Some(rest) => {
                let inner = rest.rsplit_once('}').map_or(rest, |(i, _)| i);
                group_members(joined.trim_end_matches("::self"), inner, out);
            }
            None => out.push(joined),
        }
    }
}

/// The paths that follow `prefix` (`crate::` or `super::`) in `code`, each group expanded.
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = code[at..].find(prefix) {
        let start = at + i;
        at = start + prefix.len();
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at..];
        let head: String = rest.chars().take_while(|&c| is_path_char(c)).collect();
        let base = head.trim_end_matches(':');
        match rest[head.len()..].strip_prefix('{') {
            Some(group) => {
                let mut depth = 1;
                let end = group
                    .char_indices()
                    .find(|&(_, c)| {
                        depth += match c {
                            '{' => 1,
                            '}' => -1,
                            _ => 0,
                        };
                        depth == 0
                    })
                    .map_or(group.len(), |(i, _)| i);
                group_members(base, &group[..end], &mut out);
            }
            None if !base.is_empty() => out.push(base.to_string()),
            None => {}
        }
    }
    out
}

/// The modules a file of module `name` names, each path resolved to the longest module of
/// `known` it starts with: `crate::` paths, `super::` paths (from `name`'s parent), and, in a
/// folder's `mod.rs`, paths through its own child modules (`history::HistoryBackend`).
fn file_imports(text: &str, name: &str, known: &[&str]) -> Vec<String> {
    let code = code_of(text);
    let mut paths = paths_after(&code, "crate::");
    let parent = name.rsplit_once("::").map_or("", |(p, _)| p);
    for p in paths_after(&code, "super::") {
        paths.push(if parent.is_empty() {
            p
        } else {
            format!("{parent}::{p}")
        });
    }
    let mut children = Vec::new();
    for (i, _) in code.match_indices("::") {
        let head: String = code[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let before = code[..i - head.len()].chars().next_back();
        if head.is_empty() || before.is_some_and(|c| c == ':' || c.is_ascii_alphanumeric()) {
            continue;
        }
        let child = format!("{name}::{head}");
        if known.contains(&child.as_str()) {
            children.push(child);
        }
    }
    paths.extend(children);
    paths
        .iter()
        .filter_map(|path| {
            let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
            (1..=parts.len())
                .rev()
                .map(|k| parts[..k].join("::"))
                .find(|m| known.contains(&m.as_str()))
        })
        .filter(|m| m != name)
        .collect()
}

#[test]
fn no_file_of_src_imports_itself_round_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    let names: Vec<&str> = mods.iter().map(|(n, _)| n.as_str()).collect();
    // A parent and its children count like any two files: a child that imports from its
    // parent's `mod.rs` while the parent names the child is a circle too.
    let edges: Vec<Vec<usize>> = mods
        .iter()
        .map(|(name, text)| {
            let mut to: Vec<usize> = file_imports(text, name, &names)
                .iter()
                .map(|m| names.iter().position(|n| n == m).unwrap())
                .collect();
            to.sort_unstable();
            to.dedup();
            to
        })
        .collect();
    // Depth-first search with colours: reaching a module still on the stack closes a circle.
    fn visit(
        v: usize,
        edges: &[Vec<usize>],
        colour: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        colour[v] = 1;
        stack.push(v);
        for &w in &edges[v] {
            if colour[w] == 1 {
                let from = stack.iter().position(|&s| s == w).unwrap();
                return Some(stack[from..].to_vec());
            }
            if colour[w] == 0
                && let Some(c) = visit(w, edges, colour, stack)
            {
                return Some(c);
            }
        }
        stack.pop();
        colour[v] = 2;
        None
    }
    let mut colour = vec![0u8; names.len()];
    for v in 0..names.len() {
        if colour[v] == 0
            && let Some(circle) = visit(v, &edges, &mut colour, &mut Vec::new())
        {
            let path: Vec<&str> = circle.iter().map(|&i| names[i]).collect();
            panic!("import circle: {} -> {}", path.join(" -> "), path[0]);
        }
    }
    assert!(names.len() > 50, "only {} modules found", names.len());
}

#[test]
fn the_circle_check_resolves_paths_to_their_modules() {
    let known = [
        "ingest",
        "warehouse::manifest",
        "score",
        "domain::feature",
        "engine",
        "engine::sql",
        "engine::sql::facts",
        "engine::history",
    ];
    let text = "use crate::warehouse::manifest::Manifest;\n// crate::score\nuse crate::domain::{\n    feature::{self as spec},\n    table,\n};\nfn f() { crate::ingest::ingest_all(); }";
    assert_eq!(
        file_imports(text, "x", &known),
        ["warehouse::manifest", "domain::feature", "ingest"]
    );
    // From a child: its parent through `super::`; from a parent: its children by name.
    let child = "use super::SqlBackend;\nuse crate::engine::Backend;";
    assert_eq!(
        file_imports(child, "engine::sql::facts", &known),
        ["engine", "engine::sql"]
    );
    let parent = "pub use history::HistoryBackend;\nlet x = sql::render();\nfoo::sql::bar();";
    assert_eq!(
        file_imports(parent, "engine", &known),
        ["engine::history", "engine::sql"]
    );
}
