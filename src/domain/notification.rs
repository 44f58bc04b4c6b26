//! 通知 — telling a member's people, away from the workbench, that something waits for
//! them: which events are worth telling, by which channels each member chose, and the
//! words. The words say what, by when and where to go; they never name the person, the
//! case or anything of its text (Art. 23): a message leaves the hub over networks it
//! does not control.

use chrono::NaiveDate;

pub use super::directory::notify::{Channel, Event, Notify, WebhookFormat};
use super::{
    date::month_day,
    deadline::DeadlineKind,
    lifecycle::NoticeKind,
    referral::{ReferralKind, State},
};

/// The event an inbox notice tells of, if it is worth telling.
pub fn told(kind: NoticeKind, state: State) -> Option<Event> {
    match kind {
        NoticeKind::NewReferral => Some(Event::NewReferral),
        NoticeKind::DueSoon => Some(Event::DueSoon),
        NoticeKind::DeadlineMissed => Some(Event::Missed),
        NoticeKind::Reminder => Some(Event::Chased),
        NoticeKind::Supervision => Some(Event::Supervised),
        NoticeKind::MaterialsAsked => Some(Event::MaterialsAsked),
        NoticeKind::ExtensionAsked => Some(Event::ExtensionAsked),
        NoticeKind::ExtensionDecided => Some(Event::ExtensionDecided),
        NoticeKind::Withdrawn => Some(Event::Withdrawn),
        NoticeKind::Feedback => Some(Event::FedBack),
        NoticeKind::StateChanged if state == State::Returned => Some(Event::Returned),
        _ => None,
    }
}

/// What a message says, from facts that hold no personal data.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub event: Event,
    pub referral_kind: ReferralKind,
    /// Who acted, by short name (the sender of a referral, the member that returned it).
    pub actor: &'a str,
    pub urgent: bool,
    /// The deadline told of, or for a new referral the soonest the member owes.
    pub deadline: Option<(DeadlineKind, NaiveDate)>,
    /// For the office: the member that owes the deadline, by short name.
    pub responsible: Option<&'a str>,
    /// The reminder on the morning of the day a deadline falls due.
    pub due_today: bool,
}

/// A message: its subject (for e-mail) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
}

/// The message for `facts`, ending with where to go: `link`, the workbench.
pub fn compose(facts: &Facts<'_>, link: &str) -> Message {
    let what = facts.referral_kind.label();
    let urgent = if facts.urgent { "（紧急）" } else { "" };
    let whose = match facts.responsible {
        Some(member) => format!("{member}办理的1件{what}"),
        None => format!("您单位办理的1件{what}"),
    };
    let deadline = |tail: &str| match facts.deadline {
        Some((kind, due)) => format!("{whose}的{}（{}）{tail}", kind.label(), month_day(due)),
        None => format!("{whose}的期限{tail}"),
    };
    let (subject, body) = match facts.event {
        Event::NewReferral => {
            let by = facts.deadline.map(|(_, due)| format!("，期限{}", month_day(due))).unwrap_or_default();
            (
                format!("待签收：{what}{urgent}"),
                format!("您单位有1件{}发来的{what}{urgent}待签收{by}，请登录衔接工作台处理", facts.actor),
            )
        }
        Event::DueSoon if facts.due_today => ("期限今日届满".to_owned(), deadline("今日届满，请登录衔接工作台处理")),
        Event::DueSoon => ("期限将至".to_owned(), deadline("即将届满，请登录衔接工作台处理")),
        Event::Missed if facts.responsible.is_some() => {
            ("期限逾期".to_owned(), deadline("已逾期，请登录衔接工作台查看"))
        }
        Event::Missed => ("期限逾期".to_owned(), deadline("已逾期，请尽快登录衔接工作台处理")),
        Event::Chased => {
            ("催办".to_owned(), format!("联席会议办公室催办{}", deadline("已逾期，请尽快登录衔接工作台处理")))
        }
        Event::Supervised => (
            "督办函".to_owned(),
            "联席会议办公室向您单位发出督办函，督促办理已逾期的衔接事项，请尽快登录衔接工作台查看".to_owned(),
        ),
        Event::MaterialsAsked => (
            format!("请补充材料：{what}"),
            format!("{}请求为您单位移送的1件{what}补充材料，请登录衔接工作台补充", facts.actor),
        ),
        Event::ExtensionAsked => ("延期申请".to_owned(), deadline("申请延期，请登录衔接工作台批复")),
        Event::ExtensionDecided => (
            "延期申请已答复".to_owned(),
            format!("联席会议办公室已答复您单位的延期申请：{}", deadline("，请登录衔接工作台查看")),
        ),
        Event::Returned => (
            format!("移送被退回：{what}"),
            format!("{}退回了您单位移送的1件{what}，请登录衔接工作台改送或处理", facts.actor),
        ),
        Event::Withdrawn => (
            format!("移送被撤回：{what}"),
            format!("{}撤回了向您单位移送的1件{what}，无需继续办理，请登录衔接工作台查看", facts.actor),
        ),
        Event::FedBack => (
            format!("办理结果反馈：{what}"),
            format!("{}反馈了您单位移送的1件{what}的办理结果，请登录衔接工作台查看", facts.actor),
        ),
    };
    Message { subject: format!("【衔接】{subject}"), text: format!("{body}：{link}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(event: Event) -> Facts<'static> {
        Facts {
            event,
            referral_kind: ReferralKind::SocialAssistance,
            actor: "检察院",
            urgent: false,
            deadline: Some((DeadlineKind::Start, NaiveDate::from_ymd_opt(2026, 12, 11).unwrap())),
            responsible: None,
            due_today: false,
        }
    }

    #[test]
    fn a_new_referral_says_what_by_when_and_where() {
        let m = compose(&facts(Event::NewReferral), "https://hub.example/");
        assert_eq!(
            m.text,
            "您单位有1件检察院发来的社会救助移送待签收，期限12月11日，请登录衔接工作台处理：https://hub.example/"
        );
        assert_eq!(m.subject, "【衔接】待签收：社会救助移送");
        let urgent = compose(&Facts { urgent: true, ..facts(Event::NewReferral) }, "x");
        assert!(urgent.subject.contains("（紧急）") && urgent.text.contains("（紧急）"));
    }

    #[test]
    fn the_office_reads_who_owes_a_missed_deadline() {
        let m = compose(&Facts { responsible: Some("民政"), ..facts(Event::Missed) }, "x");
        assert_eq!(m.text, "民政办理的1件社会救助移送的启动期限（12月11日）已逾期，请登录衔接工作台查看：x");
        let own = compose(&facts(Event::Missed), "x");
        assert!(own.text.starts_with("您单位办理的1件"), "{}", own.text);
        let today = compose(&Facts { due_today: true, ..facts(Event::DueSoon) }, "x");
        assert!(today.text.contains("今日届满"), "{}", today.text);
    }

    #[test]
    fn every_event_has_its_own_words() {
        let every: Vec<Event> = Event::ALL.into_iter().chain([Event::Supervised, Event::ExtensionAsked]).collect();
        let texts: std::collections::HashSet<String> = every.iter().map(|e| compose(&facts(*e), "x").text).collect();
        assert_eq!(texts.len(), every.len());
        for e in every {
            assert_eq!(Event::from_code(e.code()), Some(e), "{} is read back from the queue", e.code());
        }
    }

    #[test]
    fn a_supervision_goes_as_the_member_chose_for_chasing() {
        let chased_only = Notify { events: vec![Event::Chased], ..Notify::default() };
        assert!(chased_only.tells(Event::Supervised, Channel::Email));
        let silent = Notify { events: vec![Event::NewReferral], ..Notify::default() };
        assert!(!silent.tells(Event::Supervised, Channel::Email));
        let office = compose(&Facts { responsible: Some("民政"), actor: "民政", ..facts(Event::ExtensionAsked) }, "x");
        assert_eq!(office.text, "民政办理的1件社会救助移送的启动期限（12月11日）申请延期，请登录衔接工作台批复：x");
    }
}
