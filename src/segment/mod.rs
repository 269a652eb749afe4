//! From scores to action: key accounts, the value x risk quadrant, and reasons in words.

pub mod action;
pub mod key_accounts;
pub mod lifecycle;
pub mod list_state;
/// The value x risk matrix lives on the domain floor; `segment::quadrant` keeps naming it.
pub use crate::domain::quadrant;
pub mod reasons;
pub mod sentences;
pub mod winback;
