//! The Parquet warehouse under `workdir/warehouse/`: the manifest (what is committed), the parts
//! (write, scan, verify, their footers and folder layout), the locks, the side tables, and
//! retracting, repairing and rebuilding. Ingest writes it; the engines read it. Nothing here
//! reads an export.

pub mod footer;
pub mod layout;
pub mod lock;
pub mod manifest;
pub mod parts;
pub mod rebuild;
pub mod repair;
pub mod side;
