//! Replays the fuzz target's seeds and every input the fuzzer ever crashed on
//! (`tests/fixtures/fuzz/`), so a fixed crash stays fixed without a nightly toolchain.

#[path = "../../fuzz/contract.rs"]
mod contract;

#[test]
fn every_saved_fuzz_input_is_read_without_breaking_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        contract::check_arbitrary_input(&std::fs::read(&path).unwrap(), dir.path());
        n += 1;
    }
    assert!(n >= 3, "only {n} inputs in {}", fixtures.display());
}
