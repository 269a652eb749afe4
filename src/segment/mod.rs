//! From scores to action: key accounts, the value x risk quadrant, and reasons in words.

pub mod key_accounts;
pub mod quadrant;
pub mod reasons;
