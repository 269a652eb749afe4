//! The export reader's contract under arbitrary bytes, shared by the fuzz target
//! (`fuzz_targets/csv_reader.rs`) and its regression test (`tests/it/fuzz_regressions.rs`),
//! both of which include this file by path: it is test code, not part of the library.

use std::path::Path;

use churnflow::Mapped;
use churnflow::QuoteLimits;
use churnflow::{Dialect, Format, LINE, read_raw};

/// Reads arbitrary bytes as an export (the first byte picks CSV dialect or JSON lines) and
/// panics if the reader breaks its contract: it must not panic, and every record it returns must
/// carry a line number inside the file. Shared by the fuzz target and its regression test.
pub fn check_arbitrary_input(data: &[u8], dir: &Path) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let format = if selector & 0b1000 != 0 {
        Format::JsonLines
    } else {
        Format::Csv(Dialect {
            delimiter: [b',', b';', b'\t', b'|'][(selector & 0b11) as usize],
            quote: if selector & 0b100 != 0 { b'\'' } else { b'"' },
            has_header: selector & 0b1_0000 == 0,
            limits: QuoteLimits::default(),
        })
    };
    std::fs::create_dir_all(dir).expect("creating the scratch folder");
    let file = dir.join("input");
    std::fs::write(&file, body).expect("writing the input");
    let names: [String; 3] = if matches!(format, Format::Csv(d) if !d.has_header) {
        ["1".into(), "2".into(), "3".into()]
    } else {
        ["customer_id".into(), "ts".into(), "amount".into()]
    };
    let wanted = Mapped::new(vec![
        ("customer_id", &names[0]),
        ("timestamp", &names[1]),
        ("amount", &names[2]),
    ]);
    if let Ok(read) = read_raw(&file, format, "source", &wanted, dir) {
        let lines = body.iter().filter(|&&b| b == b'\n').count() as i64 + 1;
        let column = read.frame.column(LINE).expect("line column");
        let values = column.i64().expect("integer lines");
        for &line in values.downcast_iter().flat_map(|a| a.values_iter()) {
            assert!(
                (1..=lines).contains(&line),
                "line {line} outside 1..={lines}"
            );
        }
        for m in &read.malformed {
            assert!(
                (1..=lines as u64).contains(&m.line),
                "malformed line {} outside 1..={lines}",
                m.line
            );
        }
    }
}
