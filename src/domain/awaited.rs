//! What a referral awaits of a member (待办): the act its state asks of that party, or
//! a reply to the other party's comment (补充材料).

use super::{
    referral::{Referral, State},
    MemberCode,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaited {
    Receipt,
    Start,
    Conclusion,
    Feedback,
    Visit,
    /// Returned: the sender re-routes it (or lets it rest).
    Reroute,
    /// The other party's comment is the latest entry: materials or an answer.
    Reply,
}

impl Awaited {
    /// What `referral` awaits of `member`; `reply` when the other party's comment is its
    /// latest entry. The act of the member's side comes first.
    pub fn of<P>(referral: &Referral<P>, member: &MemberCode, reply: bool) -> Option<Awaited> {
        let recipient = &referral.recipient == member;
        let by_state = match referral.state {
            State::Submitted if recipient => Some(Awaited::Receipt),
            State::Received if recipient => Some(Awaited::Start),
            State::Started if recipient => Some(Awaited::Conclusion),
            State::Concluded if recipient => Some(Awaited::Feedback),
            State::FedBack if recipient => Some(Awaited::Visit),
            State::Returned if &referral.sender == member => Some(Awaited::Reroute),
            _ => None,
        };
        by_state.or(reply.then_some(Awaited::Reply))
    }

    /// Whether the other party's comment (`reply`) waits beside this act, to be said
    /// apart from it.
    pub fn with_reply(self, reply: bool) -> bool {
        reply && self != Awaited::Reply
    }

    pub fn code(self) -> &'static str {
        match self {
            Awaited::Receipt => "receive",
            Awaited::Start => "start",
            Awaited::Conclusion => "conclude",
            Awaited::Feedback => "feedback",
            Awaited::Visit => "visit",
            Awaited::Reroute => "reroute",
            Awaited::Reply => "reply",
        }
    }

    pub fn from_code(code: &str) -> Option<Awaited> {
        [
            Awaited::Receipt,
            Awaited::Start,
            Awaited::Conclusion,
            Awaited::Feedback,
            Awaited::Visit,
            Awaited::Reroute,
            Awaited::Reply,
        ]
        .into_iter()
        .find(|a| a.code() == code)
    }

    /// 待签收, 待启动 …
    pub fn label(self) -> &'static str {
        match self {
            Awaited::Receipt => "待签收",
            Awaited::Start => "待启动",
            Awaited::Conclusion => "待办结",
            Awaited::Feedback => "待反馈",
            Awaited::Visit => "待回访",
            Awaited::Reroute => "已退回，待改送",
            Awaited::Reply => "待补充材料",
        }
    }
}
