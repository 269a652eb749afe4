//! From scores to action: key accounts, the value x risk quadrant, and reasons in words.

pub mod action;
pub mod key_accounts;
pub mod lifecycle;
pub mod list_state;
pub mod quadrant;
pub mod reasons;
pub mod sentences;
pub mod winback;
