//! The bottom floor above `error`: day numbers, whole-file writes, dataframe column helpers,
//! handing freed memory back, progress bars, hashing and the seeded RNG. Nothing here knows
//! about pipelines, warehouses or models.

pub mod atomic_file;
pub mod dates;
pub mod frame;
pub mod hashing;
pub mod memory;
pub mod progress;
pub mod rng;
