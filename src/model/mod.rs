//! The churn model: preprocessing, the linfa-logistic fit, metrics, the fitting procedure,
//! artifact and card, registry, training and backtest.

pub mod artifact;
pub mod backtest;
pub mod btyd_evidence;
pub mod calibration;
pub mod card;
pub mod cutoffs;
pub mod drift;
pub mod fit;
pub mod gate;
pub mod labelled;
pub mod metrics;
pub mod newton;
pub mod policy;
pub mod preprocess;
pub mod procedure;
pub mod registry;
pub mod sections;
pub mod snapshot;
pub mod sql;
pub mod train;
