#!/bin/sh
# Bounded fuzzing of the export reader: `fuzz/run.sh [seconds]` (default 120). Needs a nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`). The seed corpus is copied so the
# repository keeps only the seeds; a crash leaves its input in fuzz/artifacts/csv_reader/: copy
# it to tests/fixtures/fuzz/ and the regression test (tests/it/fuzz_regressions.rs) replays it.
set -eu
cd "$(dirname "$0")"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp corpus/csv_reader/* "$corpus"/
cargo +nightly fuzz run --dev csv_reader "$corpus" -- \
    -max_total_time="${1:-120}" -rss_limit_mb=4096 -max_len=4096
