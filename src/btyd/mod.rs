//! Buy-till-you-die models (issue 19): BG/NBD and MBG/NBD fitted by maximum likelihood on
//! customers' repeat-purchase summaries, and what they predict per customer. Pure numbers: no
//! polars, no I/O; the features floor asks the engine for the summaries and applies these.

mod fit;
mod likelihood;
mod params;
mod predict;
mod special;
mod summary;

pub use fit::{Fit, FitError, fit};
pub use params::{Kind, Params};
pub use predict::{
    expectation_hyp2f1, expected_purchases, expected_purchases_given, p_alive, p_no_purchase,
};
pub use summary::{Summary, Weighted, compress, merge};
#[cfg(test)]
mod cdnow;
