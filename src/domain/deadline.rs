//! 期限 — the statutory deadlines of Art. 19–21 as rows with a state, and how each act on
//! a referral meets, opens or cancels them.
//!
//! | kind | responsible | runs from | met by |
//! | --- | --- | --- | --- |
//! | send (移送) | sender | investigation end / discovery date | the submit itself |
//! | start (启动) | recipient | delivery | 启动程序 |
//! | feedback (反馈) | recipient | the conclusion date | 反馈 |
//! | urgent (紧急签收) | the procuratorate | delivery of an urgent clue | 签收 |
//! | visit (回访) | the member that granted aid | the conclusion, when aid was granted | 回访 |
//!
//! The urgent acknowledgement is a hub policy, not a statute: by default the clue must be
//! received by the end of the first working day after delivery. The follow-up visit is
//! the opinion's practice (Art. 25), not a statutory period: by default three months
//! after the conclusion, and listed apart from the others.

pub mod explain;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    calendar::{Calendar, Reckoned},
    date::local_date,
    history::EntryKind,
    referral::{Referral, ReferralKind},
    visit::VisitAfter,
    MemberCode,
};

/// The working days each deadline allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Art. 19–21: five working days.
    pub statutory_days: u32,
    /// Receipt of an urgent clue (Art. 20 ¶2, 立即告知); a hub policy.
    pub urgent_days: u32,
    /// The follow-up visit after aid was granted (Art. 25); a hub policy.
    pub visit_after: VisitAfter,
    /// 临期: an open deadline with at most this many working days left is near its end,
    /// and its member is reminded.
    pub warn_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self { statutory_days: 5, urgent_days: 1, visit_after: VisitAfter::default(), warn_days: 1 }
    }
}

/// Where an outstanding deadline stands on the office's ladder: 正常 → 临期 → 逾期 →
/// 已催办 → 已督办.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Normal,
    Near,
    Overdue,
    Chased,
    Supervised,
}

impl Level {
    pub fn code(self) -> &'static str {
        match self {
            Level::Normal => "normal",
            Level::Near => "near",
            Level::Overdue => "overdue",
            Level::Chased => "chased",
            Level::Supervised => "supervised",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Normal => "正常",
            Level::Near => "临期",
            Level::Overdue => "逾期",
            Level::Chased => "已催办",
            Level::Supervised => "已督办",
        }
    }
}

/// One step the office took on a deadline: how often, and the last time.
pub type Step = (u32, DateTime<Utc>);

/// How the office pressed one deadline: its 催办 and the 督办函 that listed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Chased {
    pub reminded: Option<Step>,
    pub supervised: Option<Step>,
}

impl Chased {
    /// The highest step the office took.
    pub fn level(&self) -> Level {
        if self.supervised.is_some() {
            Level::Supervised
        } else {
            Level::Chased
        }
    }

    /// 「已催办 2 次，最近 9月24日；已督办 1 次，最近 9月30日」.
    pub fn describe(&self) -> String {
        let said = |what: &str, step: Option<Step>| {
            step.map(|(times, last)| format!("{what} {times} 次，最近 {}", super::date::month_day(local_date(last))))
        };
        [said("已催办", self.reminded), said("已督办", self.supervised)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("；")
    }
}

impl Policy {
    /// The due date of a deadline of `kind` running from `trigger`.
    fn due(&self, kind: DeadlineKind, trigger: NaiveDate, calendar: &Calendar) -> Reckoned<NaiveDate> {
        match kind {
            DeadlineKind::Urgent => calendar.add_working_days(trigger, self.urgent_days),
            DeadlineKind::Visit => self.visit_after.due(trigger, calendar),
            DeadlineKind::Send | DeadlineKind::Start | DeadlineKind::Feedback => {
                calendar.add_working_days(trigger, self.statutory_days)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// 移送 — the referral or clue is sent within 5 working days (Art. 19, 20).
    Send = 1,
    /// 启动 — the recipient starts its procedure within 5 working days of receipt (Art. 21).
    Start = 2,
    /// 反馈 — feedback within 5 working days of the conclusion (Art. 21).
    Feedback = 3,
    /// 紧急签收 — an urgent clue is received at once (Art. 20 ¶2; hub policy).
    Urgent = 4,
    /// 回访 — the follow-up visit after aid was granted (Art. 25; hub policy).
    Visit = 5,
}

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 5] =
        [DeadlineKind::Send, DeadlineKind::Start, DeadlineKind::Feedback, DeadlineKind::Urgent, DeadlineKind::Visit];

    /// The periods of Art. 19–21 and the urgent acknowledgement: all but the visit,
    /// which is listed apart.
    pub const STATUTORY: [DeadlineKind; 4] =
        [DeadlineKind::Send, DeadlineKind::Start, DeadlineKind::Feedback, DeadlineKind::Urgent];

    /// Whether it is one of [`DeadlineKind::STATUTORY`].
    pub fn is_statutory(self) -> bool {
        self != DeadlineKind::Visit
    }

    pub fn code(self) -> &'static str {
        match self {
            DeadlineKind::Send => "send",
            DeadlineKind::Start => "start",
            DeadlineKind::Feedback => "feedback",
            DeadlineKind::Urgent => "urgent",
            DeadlineKind::Visit => "visit",
        }
    }

    /// Whether the sender owes it (移送); the recipient owes every other.
    pub fn owed_by_sender(self) -> bool {
        self == DeadlineKind::Send
    }

    pub fn label(self) -> &'static str {
        match self {
            DeadlineKind::Send => "移送期限",
            DeadlineKind::Start => "启动期限",
            DeadlineKind::Feedback => "反馈期限",
            DeadlineKind::Urgent => "紧急签收期限",
            DeadlineKind::Visit => "回访期限",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn from_number(number: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|k| *k as i32 == number)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Not yet met, not yet passed.
    Open = 1,
    /// Met on or before the due date.
    Met = 2,
    /// Met after the due date.
    MetLate = 3,
    /// Passed unmet (it becomes met late when the act follows).
    Missed = 4,
    /// The referral was withdrawn or returned before the deadline was met.
    Cancelled = 5,
}

impl DeadlineState {
    pub const ALL: [DeadlineState; 5] = [
        DeadlineState::Open,
        DeadlineState::Met,
        DeadlineState::MetLate,
        DeadlineState::Missed,
        DeadlineState::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DeadlineState::Open => "open",
            DeadlineState::Met => "met",
            DeadlineState::MetLate => "met_late",
            DeadlineState::Missed => "missed",
            DeadlineState::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DeadlineState::Open => "未到期",
            DeadlineState::Met => "按期",
            DeadlineState::MetLate => "逾期办理",
            DeadlineState::Missed => "已逾期",
            DeadlineState::Cancelled => "已取消",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Still waiting for its act: open, or passed but not yet met.
    pub fn is_pending(self) -> bool {
        matches!(self, DeadlineState::Open | DeadlineState::Missed)
    }
}

/// One deadline of one referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub referral_id: Uuid,
    pub case_id: Uuid,
    pub kind: DeadlineKind,
    pub responsible: MemberCode,
    /// The day the period runs from (not counted).
    pub trigger: NaiveDate,
    /// The last day of the period; the deadline ends at 24:00 China time that day.
    pub due: NaiveDate,
    /// The count ran through a year with no official schedule.
    pub provisional: bool,
    pub state: DeadlineState,
    pub met_on: Option<NaiveDate>,
    /// The due-soon reminder was sent.
    pub reminded: bool,
    /// The day its referral was returned or withdrawn while it was missed: it stays
    /// missed in the record, but no longer waits for an act.
    pub closed_on: Option<NaiveDate>,
    /// Working days the office granted beyond the period (延期).
    pub extended: u32,
    /// Working days its count stood still while the sender supplied the materials the
    /// recipient asked for (补充材料), over the pauses ended.
    pub paused: u32,
    /// While the count stands still: the day the pause began.
    pub paused_on: Option<NaiveDate>,
    /// Pauses begun, and how many it may have: one, and more as the office allows.
    pub pauses: u32,
    pub pauses_allowed: u32,
}

impl Deadline {
    fn open(
        referral: &Referral,
        kind: DeadlineKind,
        responsible: &MemberCode,
        trigger: NaiveDate,
        policy: &Policy,
        calendar: &Calendar,
    ) -> Self {
        let due = policy.due(kind, trigger, calendar);
        Deadline {
            extended: 0,
            paused: 0,
            paused_on: None,
            pauses: 0,
            pauses_allowed: 1,
            referral_id: referral.id,
            case_id: referral.case_id,
            kind,
            responsible: responsible.clone(),
            trigger,
            due: due.value,
            provisional: due.provisional,
            state: DeadlineState::Open,
            met_on: None,
            reminded: false,
            closed_on: None,
        }
    }

    /// Its due date on `calendar`: the period from its trigger, then the working days
    /// paused and granted.
    fn reckoned(&self, calendar: &Calendar, policy: &Policy) -> Reckoned<NaiveDate> {
        let base = policy.due(self.kind, self.trigger, calendar);
        match self.extended + self.paused {
            0 => base,
            more => {
                let due = calendar.add_working_days(base.value, more);
                Reckoned { value: due.value, provisional: base.provisional || due.provisional }
            }
        }
    }

    /// Counted again after its pauses or extension changed, on `today`: a missed one
    /// whose new due date is still ahead is open again.
    fn recount(&mut self, calendar: &Calendar, policy: &Policy, today: NaiveDate) {
        let due = self.reckoned(calendar, policy);
        // A new date is reminded of again as it nears.
        self.reminded &= due.value == self.due;
        (self.due, self.provisional) = (due.value, due.provisional);
        if self.state.is_pending() {
            self.state = if today > self.due { DeadlineState::Missed } else { DeadlineState::Open };
        }
    }

    /// Whether its count stands still (补充材料 asked for, not yet supplied).
    pub fn is_paused(&self) -> bool {
        self.paused_on.is_some()
    }

    /// Whether the recipient's asking for materials on `today` pauses it: the start
    /// deadline, open, running and with a pause left.
    pub fn may_pause(&self, today: NaiveDate) -> bool {
        self.kind == DeadlineKind::Start
            && self.state == DeadlineState::Open
            && !self.is_paused()
            && today <= self.due
            && self.pauses < self.pauses_allowed
    }

    /// Extended by `days` working days on `today` (延期 granted).
    pub fn extend(&mut self, days: u32, calendar: &Calendar, policy: &Policy, today: NaiveDate) {
        self.extended += days;
        self.recount(calendar, policy, today);
    }

    /// Still waiting for its act: open, or missed on a referral still open. What the
    /// office's overdue list and 催办 are about.
    pub fn is_outstanding(&self) -> bool {
        self.state.is_pending() && self.closed_on.is_none()
    }

    /// Records the act on `day`: met, or met late.
    fn meet(&mut self, day: NaiveDate) {
        self.state = if day <= self.due { DeadlineState::Met } else { DeadlineState::MetLate };
        self.met_on = Some(day);
    }

    /// Working days after the due date up to `today`; 0 when not late.
    pub fn working_days_late(&self, today: NaiveDate, calendar: &Calendar) -> i64 {
        if self.is_paused() {
            return 0;
        }
        let until = match (self.state, self.met_on, self.closed_on) {
            (DeadlineState::MetLate, Some(day), _) => day,
            (DeadlineState::Missed, _, Some(closed)) => closed,
            (DeadlineState::Open | DeadlineState::Missed, _, _) => today,
            _ => return 0,
        };
        calendar.working_days_between(self.due, until).value.max(0)
    }

    /// 临期 on `today`: open, with at most `policy.warn_days` working days left.
    pub fn near(&self, today: NaiveDate, calendar: &Calendar, policy: &Policy) -> bool {
        self.state == DeadlineState::Open
            && !self.is_paused()
            && today <= self.due
            && calendar.working_days_between(today, self.due).value <= i64::from(policy.warn_days)
    }

    /// Whether the due-soon reminder is due on `today`: near its end, not yet reminded.
    pub fn reminder_due(&self, today: NaiveDate, calendar: &Calendar, policy: &Policy) -> bool {
        !self.reminded && self.near(today, calendar, policy)
    }

    /// Its step on the office's ladder on `today`, as far as the office `chased` it; none
    /// once it no longer waits for an act.
    pub fn level(
        &self,
        today: NaiveDate,
        calendar: &Calendar,
        policy: &Policy,
        chased: Option<&Chased>,
    ) -> Option<Level> {
        if !self.is_outstanding() {
            return None;
        }
        Some(if let Some(chased) = chased {
            chased.level()
        } else if self.is_paused() {
            Level::Normal
        } else if today > self.due {
            Level::Overdue
        } else if self.near(today, calendar, policy) {
            Level::Near
        } else {
            Level::Normal
        })
    }

    /// Whether the deadline has passed unmet on `today` (never while paused).
    pub fn passed(&self, today: NaiveDate) -> bool {
        self.state == DeadlineState::Open && !self.is_paused() && today > self.due
    }

    /// The deadline counted again on `calendar` on `today`, when its due date moved: a
    /// missed one whose new due date is still ahead is open again, one met is met or
    /// met late by the new date. Cancelled and closed deadlines are settled as they are.
    pub fn recounted(&self, calendar: &Calendar, policy: &Policy, today: NaiveDate) -> Option<Deadline> {
        if self.state == DeadlineState::Cancelled || self.closed_on.is_some() {
            return None;
        }
        let due = self.reckoned(calendar, policy);
        if due.value == self.due && due.provisional == self.provisional {
            return None;
        }
        let mut next = Deadline { due: due.value, provisional: due.provisional, ..self.clone() };
        match (self.state, self.met_on) {
            (DeadlineState::Met | DeadlineState::MetLate, Some(day)) => next.meet(day),
            (DeadlineState::Open | DeadlineState::Missed, _) => {
                next.state = if today > next.due { DeadlineState::Missed } else { DeadlineState::Open };
            }
            _ => {}
        }
        Some(next)
    }
}

/// The deadlines a new referral opens (and the send deadline it meets).
pub fn on_submit(referral: &Referral, calendar: &Calendar, policy: &Policy) -> Vec<Deadline> {
    let delivered = local_date(referral.submitted_at);
    let content = &referral.content;
    let mut deadlines = Vec::new();
    if let Some(trigger) = content.investigation_ended_on.or(content.discovered_on) {
        let mut send = Deadline::open(referral, DeadlineKind::Send, &referral.sender, trigger, policy, calendar);
        send.meet(delivered);
        deadlines.push(send);
    }
    deadlines.push(Deadline::open(referral, DeadlineKind::Start, &referral.recipient, delivered, policy, calendar));
    if referral.kind == ReferralKind::JudicialClue && content.urgent {
        deadlines.push(Deadline::open(
            referral,
            DeadlineKind::Urgent,
            &referral.recipient,
            delivered,
            policy,
            calendar,
        ));
    }
    deadlines
}

/// The deadlines an act changes or opens: `referral` is the referral after the act,
/// `entries` what the act appended, `existing` its deadlines before.
pub fn on_act(
    referral: &Referral,
    entries: &[EntryKind],
    by: &MemberCode,
    existing: &[Deadline],
    calendar: &Calendar,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<Deadline> {
    let today = local_date(now);
    let mut changed: Vec<Deadline> = Vec::new();
    // Deadlines paused or running on again.
    let mut moved: Vec<Deadline> = Vec::new();
    let mut settle = |kind: DeadlineKind, act: &dyn Fn(&mut Deadline)| {
        if let Some(d) = existing.iter().find(|d| d.kind == kind && d.is_outstanding()) {
            let mut d = d.clone();
            act(&mut d);
            changed.push(d);
        }
    };
    for entry in entries {
        match entry {
            EntryKind::Received => settle(DeadlineKind::Urgent, &|d| d.meet(today)),
            EntryKind::Started => settle(DeadlineKind::Start, &|d| d.meet(today)),
            EntryKind::FedBack => settle(DeadlineKind::Feedback, &|d| d.meet(today)),
            EntryKind::Visited => settle(DeadlineKind::Visit, &|d| d.meet(today)),
            EntryKind::Returned | EntryKind::Withdrawn => {
                // Nothing waits for an act any more: an open deadline is cancelled, a
                // missed one stays missed in the record, closed on this day.
                for kind in DeadlineKind::ALL {
                    settle(kind, &|d| match d.state {
                        DeadlineState::Open => d.state = DeadlineState::Cancelled,
                        _ => d.closed_on = Some(today),
                    });
                }
            }
            // 补充材料 asked for: the start deadline stands still, while it has a pause left.
            EntryKind::MaterialsAsked => {
                if let Some(d) = existing.iter().find(|d| d.may_pause(today)) {
                    moved.push(Deadline { paused_on: Some(today), pauses: d.pauses + 1, ..d.clone() });
                }
            }
            // The sender comments: the materials asked for came, and the count runs on,
            // later by the working days it stood still.
            EntryKind::Commented if *by == referral.sender => {
                if let Some(d) = existing.iter().find(|d| d.is_paused() && d.state == DeadlineState::Open) {
                    let mut d = d.clone();
                    let since = d.paused_on.take().unwrap_or(today);
                    d.paused += u32::try_from(calendar.working_days_between(since, today).value.max(0)).unwrap_or(0);
                    d.recount(calendar, policy, today);
                    moved.push(d);
                }
            }
            EntryKind::Submitted | EntryKind::Concluded | EntryKind::Commented => {}
        }
    }
    changed.extend(moved);
    if entries.contains(&EntryKind::Concluded) {
        if let Some(conclusion) = &referral.conclusion {
            let mut feedback = Deadline::open(
                referral,
                DeadlineKind::Feedback,
                &referral.recipient,
                conclusion.concluded_on,
                policy,
                calendar,
            );
            if entries.contains(&EntryKind::FedBack) {
                feedback.meet(today);
            }
            changed.push(feedback);
            if conclusion.outcome.granted() {
                let (by, on) = (&referral.recipient, conclusion.concluded_on);
                changed.push(Deadline::open(referral, DeadlineKind::Visit, by, on, policy, calendar));
            }
        }
    }
    changed.retain(|d| !existing.contains(d));
    changed
}

#[cfg(test)]
mod tests;
