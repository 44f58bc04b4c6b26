//! 案件 — a case groups the referrals of one person made together (the "1+N" practice)
//! and those re-routed into it after a return. Its state follows from theirs.

use super::referral::State;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseState {
    /// 办理中 — some referral is still open (a re-routed one included).
    Open = 1,
    /// 已全部办结反馈 — every referral was concluded and fed back.
    FedBack = 2,
    /// 已结束 — every referral is closed, some returned or withdrawn without a result.
    Closed = 3,
}

impl CaseState {
    /// The state of a case whose referrals are in `states`.
    pub fn of(states: impl IntoIterator<Item = State>) -> Self {
        let mut all_fed_back = true;
        for state in states {
            if !state.is_closed() {
                return CaseState::Open;
            }
            all_fed_back &= state == State::FedBack;
        }
        if all_fed_back {
            CaseState::FedBack
        } else {
            CaseState::Closed
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseState::Open => "办理中",
            CaseState::FedBack => "已全部办结反馈",
            CaseState::Closed => "已结束（有退回或撤回）",
        }
    }

    pub fn from_number(number: i32) -> Option<Self> {
        [CaseState::Open, CaseState::FedBack, CaseState::Closed].into_iter().find(|s| *s as i32 == number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_is_open_while_any_referral_is_and_says_how_it_ended() {
        use State::*;
        assert_eq!(CaseState::of([FedBack, Started]), CaseState::Open);
        assert_eq!(CaseState::of([FedBack, FedBack]), CaseState::FedBack);
        assert_eq!(CaseState::of([Returned, Returned]), CaseState::Closed, "all returned is not 办结反馈");
        assert_eq!(CaseState::of([FedBack, Withdrawn]), CaseState::Closed);
        // Returned, then re-routed into the same case: open while the new one is.
        assert_eq!(CaseState::of([Returned, Submitted]), CaseState::Open);
    }
}
