//! Feeds arbitrary bytes to the export reader (CSV in several dialects, and JSON lines); see
//! `fuzz/contract.rs` for what must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../contract.rs"]
mod contract;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("churnflow-fuzz-{}", std::process::id()));
    contract::check_arbitrary_input(data, &dir);
});
