//! A catalogue of bad inputs: each names the exact error or quarantine reason, and checks that no
//! accepted row is lost or doubled (accepted = stored + duplicates).

use churnflow::IngestReport;
use churnflow::Manifest;
use churnflow::Pipeline;

const H: &str = "order_id,customer_id,order_date,amount,quantity\n";

/// Ingests `bytes` as the export (file name `name`) with extra `[source]` keys; returns the
/// report and the quarantine reasons, or the error text.
fn ingest_bytes(
    name: &str,
    bytes: &[u8],
    source_keys: &str,
) -> Result<(IngestReport, Vec<String>), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, bytes).unwrap();
    let path = crate::util::write_pipeline(dir.path(), &file, "");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "[source]\n",
        &format!("[source]\nmax_rejected_share = 1.0\n{source_keys}"),
    );
    std::fs::write(&path, text).unwrap();
    let p = Pipeline::load(&path).map_err(|e| e.to_string())?;
    let r = churnflow::ingest(&p).map_err(|e| e.to_string())?.remove(0);
    let stored = Manifest::load(&p.warehouse_dir()).unwrap().total_rows();
    assert_eq!(
        stored,
        r.rows_accepted + r.rows_restated,
        "{name}: stored rows lost or doubled"
    );
    assert_eq!(
        r.rows_accepted + r.rows_rejected + r.rows_duplicate + r.rows_restated,
        r.rows_read,
        "{name}: rows unaccounted for"
    );
    let reasons = match &r.quarantine {
        Some(q) => crate::util::read_csv(&p.warehouse_dir().join(q))
            .1
            .into_iter()
            .map(|row| row[3].clone())
            .collect(),
        None => vec![],
    };
    Ok((r, reasons))
}

fn ok(name: &str, body: &str, keys: &str) -> (IngestReport, Vec<String>) {
    ingest_bytes(name, format!("{H}{body}").as_bytes(), keys)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn err(name: &str, bytes: &[u8], keys: &str) -> String {
    match ingest_bytes(name, bytes, keys) {
        Ok((r, _)) => panic!("{name}: expected an error, got {r:?}"),
        Err(e) => e,
    }
}

/// (rows that passed validation, rejected, duplicates) and the reasons, in line order.
fn expect(name: &str, body: &str, keys: &str, counts: (u64, u64, u64), reasons: &[&str]) {
    let (r, got) = ok(name, body, keys);
    assert_eq!(
        (
            r.rows_accepted + r.rows_duplicate + r.rows_restated,
            r.rows_rejected,
            r.rows_duplicate
        ),
        counts,
        "{name}: {got:?}"
    );
    assert_eq!(got.len(), reasons.len(), "{name}: {got:?}");
    for (g, want) in got.iter().zip(reasons) {
        assert!(
            g.starts_with(want),
            "{name}: reason {g:?}, expected {want:?}"
        );
    }
}

const GOOD: &str = "1,A,2024-01-02,10.00,1\n";

#[test]
fn catalogue() {
    let mut cases = 0;
    let mut case = || cases += 1;

    // Structure of the file.
    case();
    assert!(
        err(
            "wrong_delimiter.csv",
            b"order_id;customer_id;order_date;amount;quantity\n1;A;2024-01-02;1;1\n",
            ""
        )
        .contains("missing column(s) \"customer_id\"")
    );
    case();
    assert!(
        err(
            "missing_column.csv",
            b"order_id,customer_id,amount,quantity\n1,A,1,1\n",
            ""
        )
        .contains("missing column(s) \"order_date\" (source.columns.timestamp)")
    );
    case();
    assert!(err("empty.csv", b"", "").contains("the file is empty"));
    case();
    expect("header_only.csv", "", "", (0, 0, 0), &[]);
    case();
    let (r, _) = ingest_bytes(
        "extra_columns.csv",
        b"order_id,customer_id,note,order_date,amount,quantity,x\n1,A,hi,2024-01-02,10,1,y\n",
        "",
    )
    .unwrap();
    assert_eq!(r.rows_accepted, 1);
    case();
    let (r, _) = ingest_bytes("bom.csv", format!("\u{feff}{H}{GOOD}").as_bytes(), "").unwrap();
    assert_eq!(r.rows_accepted, 1);
    case();
    expect(
        "mixed_line_endings.csv",
        "1,A,2024-01-02,10,1\r\n2,B,2024-01-03,11,1\n3,C,2024-01-04,12,1\r\n",
        "",
        (3, 0, 0),
        &[],
    );
    case();
    expect(
        "quoted_newline.csv",
        "1,\"A\nB\",2024-01-02,10,1\n2,C,2024-01-03,11,1\n",
        "",
        (2, 0, 0),
        &[],
    );
    case();
    expect(
        "extra_field_in_a_row.csv",
        "1,A,2024-01-02,10,1,surprise\n2,B,2024-01-03,11,1\n",
        "",
        (1, 1, 0),
        &["expected 5 fields, found 6"],
    );
    case();
    expect(
        "extra_field_in_a_later_row.csv",
        "2,B,2024-01-03,11,1\n1,A,2024-01-02,10,1,surprise\n3,C,2024-01-03,11,1\n",
        "",
        (2, 1, 0),
        &["expected 5 fields, found 6"],
    );
    case();
    expect("short_row.csv", "1,A,2024-01-02,10\n", "", (1, 0, 0), &[]);
    case();
    expect(
        "short_row_missing_amount.csv",
        "1,A,2024-01-02\n",
        "",
        (0, 1, 0),
        &["missing amount"],
    );
    case();
    let tsv = b"order_id\tcustomer_id\torder_date\tamount\tquantity\n1\tA\t2024-01-02\t10\t1\n";
    assert_eq!(
        ingest_bytes("tabs.tsv", tsv, "delimiter = \"\\t\"\n")
            .unwrap()
            .0
            .rows_accepted,
        1
    );

    // Encodings and compression.
    case();
    let gbk = encoding_rs::GBK
        .encode(&format!("{H}1,华信,2024-01-02,10,1\n"))
        .0
        .into_owned();
    assert_eq!(
        ingest_bytes("gbk.csv", &gbk, "encoding = \"gbk\"\n")
            .unwrap()
            .0
            .rows_accepted,
        1
    );
    case();
    let (r, reasons) = ingest_bytes("gbk_as_utf8.csv", &gbk, "").unwrap();
    assert_eq!(
        (r.rows_rejected, reasons[0].as_str()),
        (1, "not valid UTF-8 text (check source.encoding)")
    );
    case();
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::default());
        e.write_all(format!("{H}{GOOD}").as_bytes()).unwrap();
        e.finish().unwrap();
    }
    assert_eq!(
        ingest_bytes("ok.csv.gz", &gz, "").unwrap().0.rows_accepted,
        1
    );
    case();
    assert!(err("truncated.csv.gz", &gz[..gz.len() / 2], "").contains("may be truncated"));

    // Identifiers.
    case();
    expect(
        "missing_id.csv",
        "1,,2024-01-02,10,1\n",
        "",
        (0, 1, 0),
        &["missing customer id"],
    );
    case();
    expect(
        "blank_id.csv",
        "1,   ,2024-01-02,10,1\n",
        "",
        (0, 1, 0),
        &["missing customer id"],
    );
    case();
    expect(
        "duplicate_order_other_values.csv",
        "1,A,2024-01-02,10,1\n1,B,2024-01-02,10,1\n",
        "",
        (1, 1, 0),
        &["duplicate order id"],
    );
    case();
    expect(
        "exact_duplicate_row.csv",
        "1,A,2024-01-02,10,1\n1,A,2024-01-02,10,1\n",
        "",
        (2, 0, 1),
        &[],
    );

    // Dates.
    case();
    expect(
        "unparseable_date.csv",
        "1,A,2024-13-45,10,1\n",
        "",
        (0, 1, 0),
        &["unparseable timestamp"],
    );
    case();
    expect(
        "date_1900.csv",
        "1,A,1900-01-01,10,1\n",
        "",
        (0, 1, 0),
        &["timestamp outside the plausible range"],
    );
    case();
    expect(
        "date_2100.csv",
        "1,A,2100-01-01,10,1\n",
        "",
        (0, 1, 0),
        &["timestamp outside the plausible range"],
    );
    case();
    expect(
        "slashed_date_default.csv",
        "1,A,02/01/2024,10,1\n",
        "",
        (0, 1, 0),
        &["unparseable timestamp; expected an ISO date"],
    );
    case();
    expect(
        "slashed_date_configured.csv",
        "1,A,02/01/2024,10,1\n",
        "timestamp_format = \"%d/%m/%Y\"\n",
        (1, 0, 0),
        &[],
    );
    case();
    expect(
        "iso_datetime_fraction.csv",
        "1,A,2024-01-02T10:11:12.345,10,1\n",
        "",
        (1, 0, 0),
        &[],
    );
    case();
    expect(
        "missing_date.csv",
        "1,A,,10,1\n",
        "",
        (0, 1, 0),
        &["missing timestamp"],
    );

    // Amounts and quantities.
    case();
    expect(
        "negative_amount_is_a_refund.csv",
        "1,A,2024-01-02,-10,1\n",
        "",
        (1, 0, 0),
        &[],
    );
    case();
    expect(
        "huge_amount.csv",
        "1,A,2024-01-02,1e12,1\n",
        "",
        (0, 1, 0),
        &["amount outside the plausible range"],
    );
    case();
    expect(
        "nan_amount.csv",
        "1,A,2024-01-02,NaN,1\n",
        "",
        (0, 1, 0),
        &["amount is not a number"],
    );
    case();
    expect(
        "inf_amount.csv",
        "1,A,2024-01-02,inf,1\n",
        "",
        (0, 1, 0),
        &["amount is not a number"],
    );
    case();
    expect(
        "currency_without_config.csv",
        "1,A,2024-01-02,$10,1\n",
        "",
        (0, 1, 0),
        &["amount is not a number"],
    );
    case();
    expect(
        "bad_quantity.csv",
        "1,A,2024-01-02,10,many\n",
        "",
        (0, 1, 0),
        &["quantity is not a number"],
    );
    case();
    expect(
        "empty_quantity_is_fine.csv",
        "1,A,2024-01-02,10,\n",
        "",
        (1, 0, 0),
        &[],
    );

    // Leading zeros are kept (checked end to end in ingest.rs); the catalogue stays honest.
    assert!(cases >= 30, "catalogue has {cases} cases");
}

#[test]
fn parquet_exports_go_through_the_same_validation() {
    use polars::prelude::*;
    let write = |df: &mut DataFrame| -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.parquet");
        churnflow::write_parquet_file(&p, df).unwrap();
        std::fs::read(p).unwrap()
    };
    let mut good = df!(
        "order_id" => ["1", "2"],
        "customer_id" => ["007", "008"],
        "order_date" => [19_724i32, 19_725],
        "amount" => [10.5, -2.0],
        "quantity" => [1i64, 2],
    )
    .unwrap();
    good.apply("order_date", |c| c.cast(&DataType::Date).unwrap())
        .unwrap();
    let (r, _) = ingest_bytes("export.parquet", &write(&mut good), "").unwrap();
    assert_eq!((r.rows_accepted, r.rows_rejected), (2, 0));

    // A wrongly typed column: amounts as text, one of them not a number.
    let mut text_amounts = df!(
        "order_id" => ["1", "2"],
        "customer_id" => ["A", "B"],
        "order_date" => ["2024-01-02", "2024-01-03"],
        "amount" => ["10", "ten"],
        "quantity" => ["1", "1"],
    )
    .unwrap();
    let (r, reasons) =
        ingest_bytes("typed_as_text.parquet", &write(&mut text_amounts), "").unwrap();
    assert_eq!(
        (r.rows_accepted, reasons),
        (1, vec!["amount is not a number; found \"ten\"".to_string()])
    );

    // A column whose type cannot hold the field at all.
    let mut nested = df!(
        "order_id" => ["1"],
        "customer_id" => ["A"],
        "order_date" => ["2024-01-02"],
        "amount" => [1.0],
        "quantity" => [1.0],
    )
    .unwrap()
    .lazy()
    .with_column(
        concat_list([col("amount"), col("quantity")])
            .unwrap()
            .alias("amount"),
    )
    .collect()
    .unwrap();
    let e = err("nested.parquet", &write(&mut nested), "");
    assert!(e.contains("column \"amount\" has type list"), "{e}");
}
