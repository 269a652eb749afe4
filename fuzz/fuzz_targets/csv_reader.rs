//! Feeds arbitrary bytes to the export reader (CSV in several dialects, and JSON lines); see
//! `churnflow::ingest::reader::check_arbitrary_input` for what must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("churnflow-fuzz-{}", std::process::id()));
    churnflow::ingest::reader::check_arbitrary_input(data, &dir);
});
