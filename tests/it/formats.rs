//! Export layouts beyond plain CSV: JSON lines, CSV without a header or with another quote
//! character, and a source time zone. Each stores exactly the rows and instants expected.

use churnflow::IngestReport;
use churnflow::Pipeline;
use churnflow::SqlBackend;

/// The report, the quarantine rows and the stored (customer_id, ts, amount) rows.
pub type Ingested = (IngestReport, Vec<Vec<String>>, Vec<[String; 3]>);

/// Ingests `bytes` as `name` with the `[source]` section replaced by `source` (which must set
/// path = "{FILE}"); returns the report, the quarantine rows and the stored rows as text
/// (customer_id, ts, amount) ordered by ts.
pub fn ingest_with(name: &str, bytes: &[u8], source: &str) -> Result<Ingested, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, bytes).unwrap();
    let text = format!(
        "name = \"t\"\nworkdir = \"work\"\n{}",
        source.replace("{FILE}", &file.display().to_string())
    );
    let path = dir.path().join("pipeline.toml");
    std::fs::write(&path, text).unwrap();
    let p = Pipeline::load(&path).map_err(|e| e.to_string())?;
    let r = churnflow::ingest(&p).map_err(|e| e.to_string())?.remove(0);
    let quarantine = match &r.quarantine {
        Some(q) => crate::util::read_csv(&p.warehouse_dir().join(q)).1,
        None => vec![],
    };
    let mut engine = SqlBackend::open(&p.warehouse_dir()).unwrap();
    let df = engine
        .query(
            "SELECT customer_id, CAST(ts AS VARCHAR) AS ts, CAST(amount AS VARCHAR) AS amount \
             FROM transactions ORDER BY ts, customer_id",
        )
        .unwrap();
    let col = |n: &str| churnflow::str_values(&df, n).unwrap();
    let (ids, ts, amounts) = (col("customer_id"), col("ts"), col("amount"));
    let stored = (0..ids.len())
        .map(|i| [ids[i].clone(), ts[i].clone(), amounts[i].clone()])
        .collect();
    Ok((r, quarantine, stored))
}

fn row(id: &str, ts: &str, amount: &str) -> [String; 3] {
    [id.into(), ts.into(), amount.into()]
}

const JSONL_SOURCE: &str = r#"[source]
path = "{FILE}"
format = "jsonl"
max_rejected_share = 1.0
[source.columns]
customer_id = "customer"
timestamp = "at"
amount = "total"
order_id = "order"
"#;

#[test]
fn json_lines_are_read_with_every_bad_line_quarantined_at_its_line() {
    let body = concat!(
        "{\"order\": 1, \"customer\": \"007\", \"at\": \"2024-01-02\", \"total\": 10.5}\n",
        "\n",
        "{\"order\": 2, \"customer\": \"008\", \"at\": \"2024-01-03 10:00:00\", \"total\": \"7\", \"extra\": [1]}\n",
        "{\"order\": 3, \"customer\": \"009\", \"at\": \"2024-01-04\"\n",
        "[1, 2]\n",
        "{\"order\": 4, \"customer\": {\"id\": 1}, \"at\": \"2024-01-04\", \"total\": 1}\n",
        "{\"order\": 5, \"customer\": null, \"at\": \"2024-01-05\", \"total\": 1}\n",
        "{\"order\": 6, \"customer\": 42, \"at\": \"someday\", \"total\": 1}\n",
        "{\"order\": 7, \"customer\": 43, \"at\": \"2024-01-06\", \"total\": 2}\r\n",
    );
    let (r, q, stored) = ingest_with("export.jsonl", body.as_bytes(), JSONL_SOURCE).unwrap();
    assert_eq!((r.rows_read, r.rows_accepted, r.rows_rejected), (8, 3, 5));
    assert_eq!(
        stored,
        [
            row("007", "2024-01-02 00:00:00.000", "10.5"),
            row("008", "2024-01-03 10:00:00.000", "7.0"),
            row("43", "2024-01-06 00:00:00.000", "2.0"),
        ]
    );
    let got: Vec<(&str, &str)> = q.iter().map(|r| (r[1].as_str(), r[3].as_str())).collect();
    assert_eq!(got.len(), 5, "{q:?}");
    assert_eq!(got[0].0, "4");
    assert!(got[0].1.starts_with("not valid JSON: EOF"), "{got:?}");
    assert_eq!(got[1], ("5", "expected a JSON object, found an array"));
    assert_eq!(
        got[2],
        (
            "6",
            "key \"customer\" holds an object, expected text, a number or null"
        )
    );
    assert_eq!(got[3], ("7", "missing customer id"));
    assert!(got[4].1.starts_with("unparseable timestamp"), "{got:?}");
    // The unreadable line is kept verbatim under the first mapped column.
    assert_eq!(
        q[0][4],
        "{\"order\": 3, \"customer\": \"009\", \"at\": \"2024-01-04\""
    );
}

#[test]
fn json_lines_without_a_mapped_key_name_it() {
    let body = "{\"order\": 1, \"customer\": \"A\", \"at\": \"2024-01-02\", \"amount\": 1}\n";
    let e = ingest_with("x.jsonl", body.as_bytes(), JSONL_SOURCE).unwrap_err();
    assert!(
        e.contains("missing column(s) \"total\" (source.columns.amount)") && e.contains("x.jsonl"),
        "{e}"
    );
    let e = ingest_with("empty.jsonl", b"\n\n", JSONL_SOURCE).unwrap_err();
    assert!(e.contains("the file is empty"), "{e}");
}

#[test]
fn csv_without_header_maps_columns_by_position_and_honours_the_quote_character() {
    let source = r#"[source]
path = "{FILE}"
has_header = false
max_rejected_share = 1.0
quote = "'"
delimiter = ";"
[source.columns]
customer_id = "2"
timestamp = "3"
amount = "4"
"#;
    let body = "1;'A;1';2024-01-02;10\n2;B;2024-01-03;'2'\n3;C;not a date;1\n";
    let (r, q, stored) = ingest_with("noheader.csv", body.as_bytes(), source).unwrap();
    assert_eq!((r.rows_accepted, r.rows_rejected), (2, 1));
    assert_eq!(
        stored,
        [
            row("A;1", "2024-01-02 00:00:00.000", "10.0"),
            row("B", "2024-01-03 00:00:00.000", "2.0"),
        ]
    );
    // Without a header the first record is line 1.
    assert_eq!((q[0][1].as_str(), q[0][2].as_str()), ("3", "3"));

    // A record with a stray field goes through the record-level reader: lines stay exact.
    let body = "1;A;2024-01-02;10\n2;B;2024-01-03;2;extra\n3;C;2024-01-04;1\n";
    let (r, q, _) = ingest_with("noheader2.csv", body.as_bytes(), source).unwrap();
    assert_eq!((r.rows_accepted, r.rows_rejected), (2, 1));
    assert_eq!(
        (q[0][1].as_str(), q[0][3].as_str()),
        ("2", "expected 4 fields, found 5")
    );

    let e = ingest_with(
        "short.csv",
        b"1;A\n",
        &source.replace("amount = \"4\"", "amount = \"9\""),
    )
    .unwrap_err();
    assert!(
        e.contains("named by position \"1\"..\"2\" because source.has_header = false"),
        "{e}"
    );
}

#[test]
fn local_times_are_stored_as_utc() {
    let source = r#"[source]
path = "{FILE}"
timezone = "Asia/Shanghai"
[source.columns]
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
"#;
    let body = "customer_id,ts,amount\nA,2024-03-05 07:30:00,1\nB,2024-03-05 12:00:00,2\n";
    let (_, _, stored) = ingest_with("sh.csv", body.as_bytes(), source).unwrap();
    assert_eq!(
        stored,
        [
            row("A", "2024-03-04 23:30:00.000", "1.0"),
            row("B", "2024-03-05 04:00:00.000", "2.0"),
        ]
    );
    let (_, _, stored) = ingest_with(
        "ny.csv",
        body.as_bytes(),
        &source.replace("Asia/Shanghai", "-05:00"),
    )
    .unwrap();
    assert_eq!(stored[0], row("A", "2024-03-05 12:30:00.000", "1.0"));
}

#[test]
fn layout_mistakes_are_reported_with_their_keys() {
    let source = r#"[source]
path = "{FILE}"
format = "xml"
quote = "''"
timezone = "Mars/Olympus"
[source.columns]
customer_id = "c"
timestamp = "t"
amount = "a"
"#;
    let e = ingest_with("x.csv", b"c,t,a\n", source).unwrap_err();
    for want in [
        "source.format: expected \"csv\" or \"jsonl\"",
        "source.quote: expected one ASCII character",
        "source.timezone: expected an IANA zone name",
    ] {
        assert!(e.contains(want), "{want} not in {e}");
    }
    let e = ingest_with(
        "x.jsonl",
        b"{}\n",
        &source
            .replace("\"xml\"", "\"jsonl\"")
            .replace("quote = \"''\"\n", "delimiter = \";\"\n")
            .replace("Mars/Olympus", "UTC"),
    )
    .unwrap_err();
    assert!(
        e.contains("delimiter, quote and has_header apply to CSV only"),
        "{e}"
    );
}

#[test]
fn a_quoted_newline_does_not_shift_the_lines_of_later_rejected_rows() {
    let source = r#"[source]
path = "{FILE}"
max_rejected_share = 1.0
[source.columns]
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
"#;
    let body = "customer_id,ts,amount\n\"A\nB\",2024-01-02,1\nC,someday,2\n\nD,2024-01-03,x\n";
    let (r, q, stored) = ingest_with("nl.csv", body.as_bytes(), source).unwrap();
    assert_eq!((r.rows_accepted, r.rows_rejected), (1, 2));
    assert_eq!(stored[0][0], "A\nB");
    let lines: Vec<(&str, &str)> = q.iter().map(|r| (r[1].as_str(), r[2].as_str())).collect();
    assert_eq!(lines, [("4", "ts"), ("6", "amount")]);
}
