//! The churn model: preprocessing, the linfa-logistic fit, metrics, artifact, registry, training.

pub mod artifact;
pub mod fit;
pub mod metrics;
pub mod preprocess;
pub mod registry;
pub mod train;
