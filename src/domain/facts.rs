//! What the engines report about customers' transactions besides features: the facts behind a
//! label at a cutoff, lapsed accounts, and what an account used to buy. Every `Backend`
//! (`engine/`) fills these the same way; labels and lists read them.

use std::collections::HashMap;

/// What happened around a cutoff for one customer: rows in
/// `(cutoff - value_horizon, cutoff + max(window, value_horizon)]` only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutcomeFacts {
    /// First purchase day after the cutoff, within the label and value windows.
    pub next_purchase_day: Option<i32>,
    /// Net amount in (c, c + value_horizon].
    pub next_value: f64,
    /// Net amount in (c - value_horizon, c].
    pub previous_value: f64,
}

impl OutcomeFacts {
    /// A customer without a row in the windows.
    pub const NONE: OutcomeFacts = OutcomeFacts {
        next_purchase_day: None,
        next_value: 0.0,
        previous_value: 0.0,
    };
}

/// A customer with rows up to the as-of day whose last purchase lies more than
/// `lost_after_days` before it.
#[derive(Debug, Clone, PartialEq)]
pub struct LapsedAccount {
    pub customer_id: String,
    pub last_day: i32,
    /// Net value of the 365 days up to the last purchase (through the as-of day).
    pub value: f64,
    /// Purchases (rows with a positive amount) in those days.
    pub orders: f64,
}

/// What one account bought in the year before its last purchase: units, and value per product
/// (rows without a product count in units only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Purchases {
    pub units: f64,
    pub value_by_product: HashMap<String, f64>,
}
