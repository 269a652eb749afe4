//! Integration tests, compiled into one test binary. Each test works in its own temporary folder.

mod bad_inputs;
mod btyd_features;
mod btyd_sql;
mod cli_help;
#[cfg(feature = "distributed")]
mod cluster;
mod crash;
mod decisions;
mod end_to_end;
mod faults;
mod features_fixture;
mod floors;
mod formats;
mod fuzz_regressions;
mod history_state;
mod ingest;
mod lists;
mod model_lifecycle;
mod model_reference;
mod nights;
#[cfg(feature = "distributed")]
mod portability;
mod properties;
mod reconcile;
mod sampled_snapshots;
mod trust;
mod util;
