//! Which engine computes features, labels and lists (`[engine] kind`).

/// The engine a pipeline runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// Reads the warehouse once into memory, grouped by customer, and computes every cutoff
    /// from there (the default; side tables still go through SQL).
    #[default]
    History,
    /// Runs the portable SQL text on polars SQL for every cutoff: the reference the history
    /// is checked against.
    Polars,
}

impl EngineKind {
    /// Every accepted name, for messages.
    pub const NAMES: &'static str = "history, polars";

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<EngineKind> {
        match name {
            "history" => Some(EngineKind::History),
            "polars" => Some(EngineKind::Polars),
            _ => None,
        }
    }

    /// Its name in the pipeline file.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::History => "history",
            EngineKind::Polars => "polars",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in [EngineKind::History, EngineKind::Polars] {
            assert_eq!(EngineKind::parse(k.name()), Some(k));
            assert!(EngineKind::NAMES.contains(k.name()));
        }
        assert_eq!(EngineKind::parse("ballista"), None);
    }
}
