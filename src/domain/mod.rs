//! Value types the pipeline file describes and every stage shares: feature specs, the churn
//! definition, the language of reasons, how an export is written (encodings, dialects, number
//! layouts, canonical fields, restatement policy), time zones, and the feature table engines fill
//! and models read. No polars, no I/O, nothing of
//! churnflow's above it: config, ingest, features and scoring all depend on this floor without
//! depending on each other through it (config no longer imports ingest, features, label or
//! segment).

pub mod engine;
pub mod facts;
pub mod feature;
mod feature_parse;
pub mod input;
pub mod label;
pub mod language;
pub mod quadrant;
pub mod table;
pub mod zone;
