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
    /// All quadrants, in display order.
    pub const ALL: [Quadrant; 4] = [
        Quadrant::ActNow,
        Quadrant::Monitor,
        Quadrant::LowCostRetention,
        Quadrant::NoAction,
    ];

    /// Quadrant of an account.
    pub fn of(key_account: bool, high_risk: bool) -> Self {
        match (key_account, high_risk) {
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

    /// [`Quadrant::action`] in Chinese.
    pub fn action_zh(self) -> &'static str {
        match self {
            Quadrant::ActNow => "立即致电：高风险重点客户",
            Quadrant::Monitor => "关注：重点客户，目前风险较低",
            Quadrant::LowCostRetention => "低成本挽留：自动优惠或提醒",
            Quadrant::NoAction => "无需行动",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_by_risk() {
        assert_eq!(Quadrant::of(true, true), Quadrant::ActNow);
        assert_eq!(Quadrant::of(true, false), Quadrant::Monitor);
        assert_eq!(Quadrant::of(false, true), Quadrant::LowCostRetention);
        assert_eq!(Quadrant::of(false, false).name(), "no_action");
    }
}
