//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The churnflow binary.
pub fn churnflow() -> Command {
    Command::cargo_bin("churnflow").expect("binary built")
}

/// Reads a JSON file.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `churnflow generate` into `dir` and returns the transactions file.
pub fn generate(dir: &Path, customers: usize, seed: u64, bad_rows: usize) -> PathBuf {
    churnflow()
        .args(["generate", "--customers", &customers.to_string()])
        .args([
            "--seed",
            &seed.to_string(),
            "--bad-rows",
            &bad_rows.to_string(),
            "--out",
        ])
        .arg(dir)
        .assert()
        .success();
    dir.join("transactions.csv")
}

/// Writes a pipeline file for `transactions` (columns as `churnflow generate` writes them) with
/// everything else under `dir/work`; `extra` is appended verbatim.
pub fn write_pipeline(dir: &Path, transactions: &Path, extra: &str) -> PathBuf {
    let text = format!(
        r#"name = "test"
workdir = "work"

[source]
path = "{}"
[source.columns]
customer_id = "customer_id"
timestamp = "order_date"
amount = "amount"
order_id = "order_id"
quantity = "quantity"
{extra}"#,
        transactions.display()
    );
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes `export` to `dir/export.csv` and loads a pipeline for it ([`write_pipeline`]);
/// returns the pipeline and the export's path.
pub fn export_pipeline(
    dir: &Path,
    export: impl AsRef<[u8]>,
    extra: &str,
) -> (churnflow::Pipeline, PathBuf) {
    let csv = dir.join("export.csv");
    std::fs::write(&csv, export).unwrap();
    let p = churnflow::Pipeline::load(&write_pipeline(dir, &csv, extra)).unwrap();
    (p, csv)
}

/// Parses a CSV file (optionally with BOM) into header and rows; fields may be quoted.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut records = Vec::new();
    let (mut field, mut record, mut quoted) = (String::new(), Vec::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => record.push(std::mem::take(&mut field)),
            ('\n', false) => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    let header = records.remove(0);
    (header, records)
}
