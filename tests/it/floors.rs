//! The floors of `src/`: a module imports only from floors below its own. The lower floors are
//! checked here as they are laid (issue 16 lays the rest): the utilities, then `domain/` (value
//! types), then `config/`. A file on one of them that names `crate::<module>` of a higher floor
//! fails this test, comments excepted.

use std::path::{Path, PathBuf};

/// Floors from the bottom; every module not listed is above all of them.
const FLOORS: &[&[&str]] = &[
    &["error"],
    &["dates", "atomic_file", "frame", "memory", "progress"],
    &["domain"],
    &["config"],
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

/// The top-level modules a file names as `crate::<module>` outside comments and tests.
fn imports(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
        // `use crate::{a, b}` names several.
        if let Some(i) = line.find("crate::{") {
            let inside = line[i + "crate::{".len()..].split('}').next().unwrap_or("");
            for name in inside.split(',') {
                let name = name.trim().split("::").next().unwrap_or("").trim();
                if !name.is_empty() {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn lower_floors_import_only_from_below() {
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
    assert!(checked >= 10, "only {checked} files on the checked floors");
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn the_check_sees_an_upward_import() {
    let text = "//! crate::ingest in a comment is not an import\nuse crate::error::Result;\nuse crate::{dates, ingest::zone};\nfn f() { crate::score::x(); }\n#[cfg(test)]\nuse crate::model;";
    assert_eq!(imports(text), ["error", "dates", "ingest", "score"]);
}
