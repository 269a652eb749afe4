//! What reading an export gives: its mapped columns as text with each record's line, and the
//! records that could not be split into fields.

use polars::prelude::DataFrame;

/// Name of the column holding each record's line number in the source file (header = line 1).
pub const LINE: &str = "__line";

/// A record that could not even be split into the header's fields.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub line: u64,
    pub reason: String,
    /// The record's fields as far as they could be read (lossy UTF-8).
    pub fields: Vec<String>,
}

/// An export read as text.
pub struct RawRead {
    /// Mapped columns as text plus [`LINE`].
    pub frame: DataFrame,
    /// Records rejected before parsing (wrong field count, invalid UTF-8).
    pub malformed: Vec<Malformed>,
    /// The header, for placing malformed fields under their columns.
    pub header: Vec<String>,
}
