//! Writers for what people read: CSV lists and the terminal summary.

pub mod csv;
pub mod summary;
