//! The churn model: preprocessing, the linfa-logistic fit, metrics, the fitting procedure,
//! artifact and card, registry, training and backtest.

pub mod artifact;
pub mod backtest;
pub mod card;
pub mod drift;
pub mod fit;
pub mod metrics;
pub mod policy;
pub mod preprocess;
pub mod procedure;
pub mod registry;
pub mod train;
