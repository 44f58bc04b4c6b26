//! What a notice tells its reader, in one sentence: who did what to whose referral
//! (「民政 签收了 李* 的社会救助移送」). The workbench and the command line say it alike.

use chrono::{Datelike, NaiveDate};

use super::{
    deadline::DeadlineKind,
    lifecycle::{Notice, NoticeKind},
    referral::{ReferralKind, State},
};

/// A notice as a sentence needs it.
pub struct Telling<'a> {
    pub kind: NoticeKind,
    /// The referral's state after the event.
    pub state: State,
    pub referral_kind: ReferralKind,
    /// Who acted, as the reader names them (a member's short name).
    pub actor: &'a str,
    /// The person, as a message may show them (masked), when the reader has it.
    pub person: Option<&'a str>,
    pub deadline: Option<(DeadlineKind, NaiveDate)>,
    pub urgent: bool,
    /// For a deadline told to the office: the member that owes it, as the reader names
    /// them.
    pub responsible: Option<&'a str>,
}

impl<'a> Telling<'a> {
    pub fn of(notice: &Notice, actor: &'a str, person: Option<&'a str>) -> Self {
        Self {
            kind: notice.kind,
            state: notice.state,
            referral_kind: notice.referral_kind,
            actor,
            person,
            deadline: notice.deadline,
            urgent: notice.urgent,
            responsible: None,
        }
    }

    /// Told to the office: naming `responsible`, the member that owes the deadline.
    pub fn owed_by(self, responsible: Option<&'a str>) -> Self {
        Self { responsible, ..self }
    }

    /// The sentence: who did what to whose referral, or what befell it.
    pub fn sentence(&self) -> String {
        let who = self.actor;
        // 李* 的社会救助移送, or 一件社会救助移送 when the person is not at hand.
        let what = match self.person {
            Some(person) if !person.is_empty() => format!("{person} 的{}", self.referral_kind.label()),
            _ => format!("一件{}", self.referral_kind.label()),
        };
        // 民政 办理的一件社会救助移送, when the office reads of a deadline.
        let what = match self.responsible {
            Some(member) => format!("{member} 办理的{what}"),
            None => what,
        };
        let deadline = |tail: &str| match self.deadline {
            Some((kind, due)) => format!("{what}的{}（{}月{}日）{tail}", kind.label(), due.month(), due.day()),
            None => format!("{what}的期限{tail}"),
        };
        match self.kind {
            NoticeKind::NewReferral if self.urgent => format!("{who} 发来 {what}（紧急）"),
            NoticeKind::NewReferral => format!("{who} 发来 {what}"),
            NoticeKind::StateChanged => match self.state {
                State::Received => format!("{who} 签收了 {what}"),
                State::Started => format!("{who} 启动了 {what}的办理程序"),
                State::Concluded => format!("{who} 办结了 {what}"),
                State::FedBack => format!("{who} 反馈了 {what}的办理结果"),
                State::Returned => format!("{who} 退回了 {what}"),
                State::Withdrawn => format!("{who} 撤回了 {what}"),
                State::Submitted => format!("{who} 发来 {what}"),
            },
            NoticeKind::Feedback => format!("{who} 反馈了 {what}的办理结果"),
            NoticeKind::Comment => format!("{who} 为 {what}补充了材料"),
            NoticeKind::Withdrawn => format!("{who} 撤回了 {what}"),
            NoticeKind::DueSoon => deadline("即将到期"),
            NoticeKind::DeadlineMissed => deadline("已逾期"),
            NoticeKind::Reminder => format!("{who} 催办 {what}"),
            NoticeKind::DeadlineMoved => match self.deadline {
                Some((kind, due)) => {
                    format!("{what}的{}因节假日安排调整为{}月{}日", kind.label(), due.month(), due.day())
                }
                None => format!("{what}的期限因节假日安排调整"),
            },
            NoticeKind::AuditCheckpoint => "审计日志签署了新的检查点".to_owned(),
            NoticeKind::DirectoryChanged => format!("{who} 更新了成员单位名录"),
            NoticeKind::Visited => format!("{who} 回访了 {what}的当事人"),
            NoticeKind::Supervision => format!("{who} 发出督办函"),
            NoticeKind::MaterialsAsked => format!("{who} 请求为 {what}补充材料"),
            NoticeKind::ExtensionAsked => format!("{who} 申请延长 {}", deadline("")),
            NoticeKind::ExtensionDecided => format!("{who} 答复了 {}的延期申请", deadline("")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn telling(kind: NoticeKind, state: State, person: Option<&str>) -> String {
        Telling {
            kind,
            state,
            referral_kind: ReferralKind::SocialAssistance,
            actor: "民政",
            person,
            deadline: Some((DeadlineKind::Start, NaiveDate::from_ymd_opt(2026, 12, 11).unwrap())),
            urgent: false,
            responsible: None,
        }
        .sentence()
    }

    #[test]
    fn a_notice_says_who_did_what_to_whose_referral() {
        assert_eq!(telling(NoticeKind::StateChanged, State::Received, Some("李*")), "民政 签收了 李* 的社会救助移送");
        assert_eq!(
            telling(NoticeKind::StateChanged, State::Started, Some("李*")),
            "民政 启动了 李* 的社会救助移送的办理程序"
        );
        assert_eq!(telling(NoticeKind::StateChanged, State::Concluded, None), "民政 办结了 一件社会救助移送");
        assert_eq!(telling(NoticeKind::StateChanged, State::Returned, Some("李*")), "民政 退回了 李* 的社会救助移送");
        assert_eq!(
            telling(NoticeKind::DeadlineMissed, State::Received, Some("李*")),
            "李* 的社会救助移送的启动期限（12月11日）已逾期"
        );
        // The office reads whose deadline it is, and of no person.
        let office = |kind| {
            Telling {
                kind,
                state: State::Received,
                referral_kind: ReferralKind::SocialAssistance,
                actor: "联席会议办公室",
                person: None,
                deadline: Some((DeadlineKind::Start, NaiveDate::from_ymd_opt(2026, 12, 11).unwrap())),
                urgent: false,
                responsible: None,
            }
            .owed_by(Some("民政"))
            .sentence()
        };
        assert_eq!(office(NoticeKind::DeadlineMissed), "民政 办理的一件社会救助移送的启动期限（12月11日）已逾期");
        assert_eq!(office(NoticeKind::Reminder), "联席会议办公室 催办 民政 办理的一件社会救助移送");
    }

    #[test]
    fn every_kind_of_notice_and_every_change_of_state_has_its_own_sentence() {
        use std::collections::HashSet;
        let kinds: HashSet<String> =
            NoticeKind::ALL.into_iter().map(|k| telling(k, State::Received, Some("李*"))).collect();
        assert_eq!(kinds.len(), NoticeKind::ALL.len());
        let states: HashSet<String> =
            State::ALL.into_iter().map(|s| telling(NoticeKind::StateChanged, s, Some("李*"))).collect();
        assert_eq!(states.len(), State::ALL.len());
    }
}
