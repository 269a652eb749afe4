//! The value x risk matrix: which quadrant an account is in and what to do about it.

/// One cell of the value x risk matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quadrant {
    /// Key account, high risk.
    ActNow,
    /// Key account, low risk.
    Monitor,
    /// Not key, high risk.
    LowCostRetention,
    /// Not key, low risk.
    NoAction,
}

impl Quadrant {
    /// Quadrant of an account.
    pub fn of(key_account: bool, probability: f64, risk_threshold: f64) -> Self {
        match (key_account, probability >= risk_threshold) {
            (true, true) => Quadrant::ActNow,
            (true, false) => Quadrant::Monitor,
            (false, true) => Quadrant::LowCostRetention,
            (false, false) => Quadrant::NoAction,
        }
    }

    /// Machine name used in files and the pipeline file.
    pub fn name(self) -> &'static str {
        match self {
            Quadrant::ActNow => "act_now",
            Quadrant::Monitor => "monitor",
            Quadrant::LowCostRetention => "low_cost_retention",
            Quadrant::NoAction => "no_action",
        }
    }

    /// What retention staff should do.
    pub fn action(self) -> &'static str {
        match self {
            Quadrant::ActNow => "call now: key account at high risk",
            Quadrant::Monitor => "monitor: key account, risk low for now",
            Quadrant::LowCostRetention => "low-cost retention: automated offer or reminder",
            Quadrant::NoAction => "no action",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_inclusive() {
        assert_eq!(Quadrant::of(true, 0.5, 0.5), Quadrant::ActNow);
        assert_eq!(Quadrant::of(true, 0.49, 0.5), Quadrant::Monitor);
        assert_eq!(Quadrant::of(false, 0.9, 0.5), Quadrant::LowCostRetention);
        assert_eq!(Quadrant::of(false, 0.1, 0.5).name(), "no_action");
    }
}
