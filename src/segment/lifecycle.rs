//! Lifecycle stage of an account from its tenure, spend trend and recency relative to its own
//! purchase cycle. Checked in this order: lost, dormant, new, growing, declining, else mature.

use crate::config::LifecycleRules;

/// Where an account is in its life with us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LifecycleStage {
    New,
    Growing,
    Mature,
    Declining,
    Dormant,
    Lost,
}

impl LifecycleStage {
    /// All stages, in display order.
    pub const ALL: [LifecycleStage; 6] = [
        LifecycleStage::New,
        LifecycleStage::Growing,
        LifecycleStage::Mature,
        LifecycleStage::Declining,
        LifecycleStage::Dormant,
        LifecycleStage::Lost,
    ];

    /// Name used in files.
    pub fn name(self) -> &'static str {
        match self {
            LifecycleStage::New => "new",
            LifecycleStage::Growing => "growing",
            LifecycleStage::Mature => "mature",
            LifecycleStage::Declining => "declining",
            LifecycleStage::Dormant => "dormant",
            LifecycleStage::Lost => "lost",
        }
    }

    /// The stage of one account.
    pub fn of(
        rules: &LifecycleRules,
        tenure_days: f64,
        recency_days: f64,
        cycle_days: Option<f64>,
        spend_trend: f64,
    ) -> Self {
        let dormant_after = cycle_days.map_or(rules.dormant_days, |c| rules.dormant_cycles * c);
        if recency_days > rules.lost_after_days {
            LifecycleStage::Lost
        } else if recency_days > dormant_after {
            LifecycleStage::Dormant
        } else if tenure_days <= rules.new_days {
            LifecycleStage::New
        } else if spend_trend >= rules.growing_trend {
            LifecycleStage::Growing
        } else if spend_trend <= rules.declining_trend {
            LifecycleStage::Declining
        } else {
            LifecycleStage::Mature
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: LifecycleRules = LifecycleRules {
        new_days: 90.0,
        dormant_cycles: 2.0,
        dormant_days: 90.0,
        lost_after_days: 180.0,
        growing_trend: 1.25,
        declining_trend: 0.75,
    };

    #[test]
    fn stages_follow_the_documented_order() {
        use LifecycleStage::*;
        let of = |t, r, c, s| LifecycleStage::of(&RULES, t, r, c, s);
        assert_eq!(of(400.0, 181.0, Some(30.0), 1.0), Lost);
        assert_eq!(of(400.0, 61.0, Some(30.0), 1.0), Dormant); // 61 > 2 x 30
        assert_eq!(of(400.0, 60.0, Some(30.0), 1.0), Mature);
        assert_eq!(of(400.0, 80.0, None, 1.0), Mature); // no cycle: dormant after 90 days
        assert_eq!(of(60.0, 10.0, Some(20.0), 3.0), New);
        assert_eq!(of(400.0, 10.0, Some(20.0), 1.25), Growing);
        assert_eq!(of(400.0, 10.0, Some(20.0), 0.75), Declining);
    }
}
