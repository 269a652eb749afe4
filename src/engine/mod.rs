//! The engine seam: one [`Backend`] trait with the questions the stages ask of the warehouse
//! (features at a cutoff, the facts behind labels, lapsed accounts, what an account bought), and
//! its implementations, chosen once from the pipeline's `[engine] kind`:
//!
//! * [`history::HistoryBackend`] (default): the warehouse read once into memory, every cutoff
//!   computed from there;
//! * [`sql::SqlBackend`]: the portable SQL text on polars for every question, the reference;
//! * `datafusion::DataFusionBackend` (`distributed` builds): the same text on DataFusion, in
//!   process or on a Ballista cluster.
//!
//! Stages never branch on which one runs; `tests/it/properties.rs` checks the two against each
//! other on random histories. See `docs/ARCHITECTURE.md`, "The engine seam".

mod backend;
#[cfg(feature = "distributed")]
pub mod cluster;
#[cfg(feature = "distributed")]
pub mod datafusion;
pub mod history;
pub mod sql;

use std::path::Path;

use crate::domain::engine::{EngineKind, EngineSettings};
use crate::error::Result;

pub use backend::Backend;
pub use history::HistoryBackend;
pub use sql::SqlBackend;

/// Opens the warehouse at `warehouse` with the engine `settings` name. DataFusion and Ballista
/// write query results under `scratch` (a folder every executor can reach, like the warehouse).
/// The history engine keeps its history between nights in `history_state` when given.
pub fn open(
    warehouse: &Path,
    settings: &EngineSettings,
    scratch: &Path,
    history_state: Option<&Path>,
) -> Result<Box<dyn Backend>> {
    Ok(match settings.kind {
        EngineKind::History => Box::new(match history_state {
            Some(dir) => HistoryBackend::open_with_state(warehouse, dir)?,
            None => HistoryBackend::open(warehouse)?,
        }),
        EngineKind::Polars => Box::new(SqlBackend::open(warehouse)?),
        #[cfg(feature = "distributed")]
        EngineKind::DataFusion | EngineKind::Ballista => Box::new(
            datafusion::DataFusionBackend::open(warehouse, settings, scratch)?,
        ),
        #[cfg(not(feature = "distributed"))]
        kind @ (EngineKind::DataFusion | EngineKind::Ballista) => {
            // `validate` refuses these in such a build; a pipeline built in code may not have.
            let _ = scratch;
            return Err(crate::error::Error::Usage(format!(
                "engine.kind = {:?} needs a churnflow built with the `distributed` feature",
                kind.name()
            )));
        }
    })
}

/// What `validate` says of `[engine]`: which engine, and for a Ballista endpoint whether its
/// scheduler accepts a connection now (within 5 s); `Err` says what to do when it does not.
pub fn describe(settings: &EngineSettings) -> std::result::Result<String, String> {
    let kind = settings.kind.name();
    let Some(endpoint) = &settings.endpoint else {
        return Ok(match settings.kind {
            EngineKind::DataFusion | EngineKind::Ballista => format!(
                "{kind} in this process, {} partitions per query",
                settings.target_partitions
            ),
            _ => kind.to_string(),
        });
    };
    use std::net::{TcpStream, ToSocketAddrs};
    let url = endpoint.url();
    let addrs: Vec<_> = (endpoint.host.as_str(), endpoint.port)
        .to_socket_addrs()
        .map_err(|e| format!("the Ballista scheduler {url}: the host does not resolve ({e})"))?
        .collect();
    let timeout = std::time::Duration::from_secs(5);
    let mut last = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(_) => {
                return Ok(format!(
                    "ballista at {url} (the scheduler accepts connections), {} partitions per query",
                    settings.target_partitions
                ));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(format!(
        "the Ballista scheduler {url} cannot be reached ({}); start `churnflow cluster scheduler` \
         there, or correct engine.endpoint",
        last.map_or("no address".to_string(), |e| e.to_string())
    ))
}

/// Days an as-of day may lie past the warehouse's last day of data (a quiet weekend, a late
/// export) before the night is refused: scoring further out would list every account as lapsed
/// and call yesterday's list "resolved".
pub const MAX_DAYS_PAST_DATA: i32 = 7;

/// The night's as-of day: `as_of`, or the warehouse's last day with data. A day before the first
/// day of data, or more than [`MAX_DAYS_PAST_DATA`] after the last, is a usage error (exit 2)
/// naming the data's range.
pub fn night(engine: &mut dyn Backend, as_of: Option<i32>) -> Result<i32> {
    let (first, last) = engine.day_range()?;
    let Some(day) = as_of else { return Ok(last) };
    let range = || {
        format!(
            "the warehouse holds data from {} to {}",
            crate::util::dates::format_day(first),
            crate::util::dates::format_day(last)
        )
    };
    if day < first {
        return Err(crate::error::Error::Usage(format!(
            "--as-of {} is before the first day of data: {}; choose a day in that range",
            crate::util::dates::format_day(day),
            range()
        )));
    }
    if day > last + MAX_DAYS_PAST_DATA {
        return Err(crate::error::Error::Usage(format!(
            "--as-of {} is {} days after the last day of data (at most {MAX_DAYS_PAST_DATA} \
             allowed): {}; ingest the missing exports first, or choose a day in that range",
            crate::util::dates::format_day(day),
            day - last,
            range()
        )));
    }
    Ok(day)
}

/// The freshness gate: refuses a night (exit 4, "stale data") whose newest row lies more than
/// `max_age_days` before `night` (today for a scheduled night, the `--as-of` day for a
/// backfill), so a night without new data is not silently scored on yesterday's.
pub fn check_fresh(engine: &mut dyn Backend, night: i32, max_age_days: Option<i32>) -> Result<()> {
    let Some(max_age) = max_age_days else {
        return Ok(());
    };
    let (_, last) = engine.day_range()?;
    let newest = last.min(night);
    let age = night - newest;
    if age > max_age {
        return Err(crate::error::Error::Gate(format!(
            "stale data: the newest row is from {} ({age} days before {}), more than \
             source.max_data_age_days = {max_age}; deliver tonight's export, or raise the limit",
            crate::util::dates::format_day(newest),
            crate::util::dates::format_day(night)
        )));
    }
    Ok(())
}
