//! The action a listed account calls for: the quadrant sets the effort (call now, monitor,
//! low-cost retention), and the strongest reason says who acts and how. An overdue invoice is for
//! finance, a complaint for service recovery (a complaint is a gift: the customer told us what
//! went wrong), an overdue purchase cycle for a call about the next order.

use crate::segment::quadrant::Quadrant;
use crate::segment::reasons::{Language, Reason, ReasonKind};

/// The action for an account in `quadrant` with these reasons (strongest first).
pub fn action(lang: Language, quadrant: Quadrant, reasons: &[Reason]) -> String {
    let key = matches!(quadrant, Quadrant::ActNow | Quadrant::Monitor);
    let first = reasons.first().map(|r| r.kind);
    let text = match (lang, first) {
        (Language::En, Some(ReasonKind::Arrears)) => {
            "finance: follow up the overdue invoice before any sales call"
        }
        (Language::En, Some(ReasonKind::Complaint)) => {
            "service recovery: call about the complaint and put it right"
        }
        (Language::En, Some(ReasonKind::OverdueCycle)) if key => {
            "call now: the usual order is overdue; ask about the next one"
        }
        (Language::En, Some(ReasonKind::OverdueCycle)) => {
            "reminder: the usual order is overdue; send a low-cost nudge"
        }
        (Language::Zh, Some(ReasonKind::Arrears)) => "财务：先跟进逾期账款，再安排销售拜访",
        (Language::Zh, Some(ReasonKind::Complaint)) => "服务补救：就投诉致电客户并解决问题",
        (Language::Zh, Some(ReasonKind::OverdueCycle)) if key => {
            "立即致电：常规订单已逾期，询问下一笔订单"
        }
        (Language::Zh, Some(ReasonKind::OverdueCycle)) => "提醒：常规订单已逾期，发送低成本提醒",
        (Language::En, _) => quadrant.action(),
        (Language::Zh, _) => quadrant.action_zh(),
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(kind: ReasonKind) -> Reason {
        Reason {
            text: String::new(),
            kind,
        }
    }

    #[test]
    fn the_action_follows_the_strongest_reason() {
        let en = |q, k: &[ReasonKind]| {
            let r: Vec<Reason> = k.iter().map(|&k| reason(k)).collect();
            action(Language::En, q, &r)
        };
        use ReasonKind::*;
        assert!(en(Quadrant::ActNow, &[Arrears, OverdueCycle]).starts_with("finance"));
        assert!(en(Quadrant::ActNow, &[Complaint]).starts_with("service recovery"));
        assert!(en(Quadrant::ActNow, &[OverdueCycle, Arrears]).starts_with("call now"));
        assert!(en(Quadrant::LowCostRetention, &[OverdueCycle]).starts_with("reminder"));
        assert_eq!(en(Quadrant::ActNow, &[Other]), Quadrant::ActNow.action());
        assert_eq!(en(Quadrant::ActNow, &[Pattern]), Quadrant::ActNow.action());
        assert!(action(Language::Zh, Quadrant::ActNow, &[reason(Arrears)]).starts_with("财务"));
    }
}
