//! The ingest contract as a property: for random exports with random corruption (stray quotes,
//! misgrouped locale numbers, blank lines) delivered twice with some orders restated, every row
//! read is accounted for (read = accepted + rejected + duplicates + restated), and the warehouse
//! holds exactly the latest well-formed value of every order, as a strict reading of the file
//! gives it: no value is ever rescaled, lost or counted twice.

use std::collections::BTreeMap;

use churnflow::Pipeline;
use churnflow::SqlBackend;
use proptest::prelude::*;

/// One order as delivered: (order, customer, day of January, cents, how it is written).
type Row = (u16, u8, u8, u32, Corruption);

#[derive(Debug, Clone, Copy)]
enum Corruption {
    None,
    /// An unclosed quote in the product name.
    StrayQuote,
    /// The amount written with "," as thousands separator and "." as decimal (the other
    /// convention): ambiguous under "." thousands / "," decimal.
    OtherConvention,
    /// A blank line before the row.
    BlankBefore,
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        6 => Just(Corruption::None),
        1 => Just(Corruption::StrayQuote),
        1 => Just(Corruption::OtherConvention),
        1 => Just(Corruption::BlankBefore),
    ]
}

/// "1.234,56" for 123456 cents.
fn european(cents: u32) -> String {
    let int = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{grouped},{:02}", cents % 100)
}

/// The export text, and the orders a strict reading accepts with their cents.
fn render(rows: &[Row]) -> (String, BTreeMap<u16, u32>) {
    let mut text = String::from("order_id,customer_id,order_date,amount,product\n");
    let mut good = BTreeMap::new();
    for &(order, customer, day, cents, c) in rows {
        let date = format!("2024-01-{:02}", day % 28 + 1);
        let (amount, product) = match c {
            Corruption::OtherConvention => {
                (format!("{}.{:02}", cents / 100, cents % 100), "p".into())
            }
            Corruption::StrayQuote => {
                (format!("\"{}\"", european(cents)), "\"Bolt 3/4".to_string())
            }
            _ => (format!("\"{}\"", european(cents)), "p".to_string()),
        };
        if let Corruption::BlankBefore = c {
            text.push('\n');
        }
        text.push_str(&format!("{order},C{customer},{date},{amount},{product}\n"));
        // "12.50" or "1.50" under "." thousands: a group of two digits, never a number.
        let ambiguous = matches!(c, Corruption::OtherConvention);
        if !matches!(c, Corruption::StrayQuote) && !ambiguous {
            good.insert(order, cents);
        }
    }
    (text, good)
}

fn deliveries() -> impl Strategy<Value = (Vec<Row>, Vec<Row>)> {
    let row = || (0u16..40, 0u8..8, 0u8..28, 100u32..10_000_000, corruption());
    (
        prop::collection::btree_map(0u16..40, row(), 1..30),
        prop::collection::btree_map(0u16..40, row(), 1..30),
    )
        .prop_map(|(a, b)| {
            // Order ids are unique within a delivery (the map key).
            let fix = |m: BTreeMap<u16, Row>| {
                m.into_iter()
                    .map(|(k, r)| (k, r.1, r.2, r.3, r.4))
                    .collect::<Vec<_>>()
            };
            (fix(a), fix(b))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn every_row_is_accounted_for_and_every_value_is_the_latest_strict_one(
        (first, second) in deliveries()
    ) {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("exports");
        std::fs::create_dir_all(&folder).unwrap();
        let (text1, good1) = render(&first);
        let (text2, good2) = render(&second);
        std::fs::write(folder.join("day1.csv"), &text1).unwrap();
        std::fs::write(folder.join("day2.csv"), &text2).unwrap();
        let pipeline = dir.path().join("p.toml");
        std::fs::write(
            &pipeline,
            format!(
                "name = \"t\"\nworkdir = \"work\"\n[source]\npath = \"{}\"\n\
                 max_rejected_share = 1.0\nthousands_separator = \".\"\ndecimal_separator = \",\"\n\
                 [source.columns]\ncustomer_id = \"customer_id\"\ntimestamp = \"order_date\"\n\
                 amount = \"amount\"\norder_id = \"order_id\"\nproduct_id = \"product\"\n",
                folder.display()
            ),
        )
        .unwrap();
        let p = Pipeline::load(&pipeline).unwrap();
        let reports = churnflow::ingest(&p).unwrap();
        for (r, text) in reports.iter().zip([&text1, &text2]) {
            prop_assert_eq!(
                r.rows_accepted + r.rows_rejected + r.rows_duplicate + r.rows_restated,
                r.rows_read,
                "{:?}", r
            );
            // Every non-blank line after the header is a row read.
            let lines = text.lines().skip(1).filter(|l| !l.is_empty()).count() as u64;
            prop_assert_eq!(r.rows_read, lines, "{}", text);
        }
        // The latest well-formed delivery of each order, exactly.
        let mut want = good1;
        want.extend(good2);
        let mut e = SqlBackend::open(&p.warehouse_dir()).unwrap();
        let df = e
            .query("SELECT order_id, amount FROM transactions ORDER BY order_id")
            .unwrap();
        let ids = churnflow::str_values(&df, "order_id").unwrap();
        let amounts = churnflow::f64_values(&df, "amount").unwrap();
        let got: BTreeMap<u16, u32> = ids
            .iter()
            .zip(amounts)
            .map(|(i, a)| (i.parse().unwrap(), (a.unwrap() * 100.0).round() as u32))
            .collect();
        prop_assert_eq!(got.len(), ids.len(), "an order is stored twice");
        prop_assert_eq!(got, want);
    }
}
