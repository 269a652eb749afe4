//! Integration tests, compiled into one test binary. Each test works in its own temporary folder.

mod bad_inputs;
mod cli_help;
mod crash;
mod decisions;
mod end_to_end;
mod faults;
mod features_fixture;
mod floors;
mod formats;
mod fuzz_regressions;
mod ingest;
mod lists;
mod model_lifecycle;
mod model_reference;
mod nights;
mod properties;
mod reconcile;
mod trust;
mod util;
