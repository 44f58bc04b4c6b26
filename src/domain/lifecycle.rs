//! The life cycle of a referral: which act is allowed from which state and by which
//! party, the history entry each act appends, and whom each entry notifies.
//!
//! ```text
//! submitted ──► received ──► started ──► concluded ──► fed back
//!     │             │            │
//!     └ withdrawn   └ returned   └ withdrawn (by the sender, until concluded)
//! ```

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rule::Rule;
use super::{
    audit::Checkpoint,
    date::local_date,
    deadline::{Deadline, DeadlineKind},
    history::{EntryKind, HistoryEntry},
    referral::{Conclusion, Referral, ReferralKind, State, Submission},
    visit::Visit,
    vocabulary::{Outcome, VisitEffect, VisitMethod},
    Caller, DomainError, FieldViolation, MemberCode,
};

/// What a party does to a referral after submitting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 签收.
    Receive,
    /// 启动程序.
    Start,
    /// 办结, optionally with the feedback (反馈) in the same step.
    Conclude { conclusion: Conclusion, feedback: Option<String> },
    /// 反馈.
    Feedback(String),
    /// 退回, with the reason.
    Return(String),
    /// 撤回, with the reason.
    Withdraw(String),
    /// 补充材料 — a comment by either party.
    Comment(String),
    /// 请求补充材料 — the recipient, before it starts, asks the sender for more
    /// materials; its start deadline pauses until the sender comments.
    AskMaterials(String),
    /// 回访 — a follow-up visit by the member that granted aid, with what it found.
    Visit { visit: Visit, findings: String },
}

impl Action {
    /// The act's name: `receive`, `conclude`…
    pub fn name(&self) -> &'static str {
        match self {
            Action::Receive => "receive",
            Action::Start => "start",
            Action::Conclude { .. } => "conclude",
            Action::Feedback(_) => "feedback",
            Action::Return(_) => "return",
            Action::Withdraw(_) => "withdraw",
            Action::Comment(_) => "comment",
            Action::AskMaterials(_) => "ask_materials",
            Action::Visit { .. } => "visit",
        }
    }
}

/// What an inbox event tells its member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    NewReferral = 1,
    StateChanged = 2,
    Feedback = 3,
    Comment = 4,
    Withdrawn = 5,
    /// A deadline has at most one working day left.
    DueSoon = 6,
    /// A deadline passed unmet.
    DeadlineMissed = 7,
    /// 催办 from the office.
    Reminder = 8,
    /// A loaded holiday schedule moved a due date.
    DeadlineMoved = 9,
    /// A signed checkpoint of the audit log; its JSON is the note.
    AuditCheckpoint = 10,
    /// The directory of members changed; the note says how.
    DirectoryChanged = 11,
    /// 回访 of a referral you sent: the other party visited the person.
    Visited = 12,
    /// 督办 from the office: a 督办函 listing the member's overdue deadlines; the note
    /// is its number and how many it lists.
    Supervision = 13,
    /// The recipient asks for more materials (its start deadline pauses).
    MaterialsAsked = 14,
    /// A member asks the office to extend a deadline (延期); to the office.
    ExtensionAsked = 15,
    /// The office granted or refused an extension; the note says which.
    ExtensionDecided = 16,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 16] = [
        NoticeKind::NewReferral,
        NoticeKind::StateChanged,
        NoticeKind::Feedback,
        NoticeKind::Comment,
        NoticeKind::Withdrawn,
        NoticeKind::DueSoon,
        NoticeKind::DeadlineMissed,
        NoticeKind::Reminder,
        NoticeKind::DeadlineMoved,
        NoticeKind::AuditCheckpoint,
        NoticeKind::DirectoryChanged,
        NoticeKind::Visited,
        NoticeKind::Supervision,
        NoticeKind::MaterialsAsked,
        NoticeKind::ExtensionAsked,
        NoticeKind::ExtensionDecided,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::NewReferral => "new_referral",
            NoticeKind::StateChanged => "state_changed",
            NoticeKind::Feedback => "feedback",
            NoticeKind::Comment => "comment",
            NoticeKind::Withdrawn => "withdrawn",
            NoticeKind::DueSoon => "due_soon",
            NoticeKind::DeadlineMissed => "deadline_missed",
            NoticeKind::Reminder => "reminder",
            NoticeKind::DeadlineMoved => "deadline_moved",
            NoticeKind::AuditCheckpoint => "audit_checkpoint",
            NoticeKind::DirectoryChanged => "directory_changed",
            NoticeKind::Visited => "visited",
            NoticeKind::Supervision => "supervision",
            NoticeKind::MaterialsAsked => "materials_asked",
            NoticeKind::ExtensionAsked => "extension_asked",
            NoticeKind::ExtensionDecided => "extension_decided",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// An event for one member's inbox, caused by a history entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub to: MemberCode,
    pub kind: NoticeKind,
    pub referral_id: Uuid,
    pub case_id: Uuid,
    pub referral_kind: ReferralKind,
    pub state: State,
    pub actor: MemberCode,
    pub at: DateTime<Utc>,
    pub note: String,
    pub urgent: bool,
    pub green_channel: bool,
    /// For deadline events: which deadline, and its due date.
    pub deadline: Option<(DeadlineKind, NaiveDate)>,
    /// 经办人: the clerk who made the act it tells of; empty for a unit's own system
    /// certificate and the hub's own work.
    pub clerk: String,
}

impl Notice {
    /// The notice an entry sends to the other party of `referral`, if any.
    pub fn for_entry(referral: &Referral, entry: &HistoryEntry) -> Notice {
        let (to, kind) = match entry.kind {
            EntryKind::Submitted => (&referral.recipient, NoticeKind::NewReferral),
            EntryKind::Withdrawn => (&referral.recipient, NoticeKind::Withdrawn),
            EntryKind::FedBack => (&referral.sender, NoticeKind::Feedback),
            EntryKind::Visited => (&referral.sender, NoticeKind::Visited),
            EntryKind::Commented if entry.actor == referral.sender => (&referral.recipient, NoticeKind::Comment),
            EntryKind::Commented => (&referral.sender, NoticeKind::Comment),
            EntryKind::MaterialsAsked => (&referral.sender, NoticeKind::MaterialsAsked),
            EntryKind::Received | EntryKind::Started | EntryKind::Concluded | EntryKind::Returned => {
                (&referral.sender, NoticeKind::StateChanged)
            }
        };
        Notice {
            to: to.clone(),
            kind,
            referral_id: referral.id,
            case_id: referral.case_id,
            referral_kind: referral.kind,
            state: entry.state,
            actor: entry.actor.clone(),
            at: entry.at,
            note: entry.note.clone(),
            urgent: referral.content.urgent,
            green_channel: referral.content.green_channel(),
            deadline: None,
            clerk: entry.clerk.clone(),
        }
    }

    /// A notice about no referral (nil ids), for `to`.
    fn about_the_hub(to: &MemberCode, kind: NoticeKind, actor: &MemberCode, at: DateTime<Utc>, note: String) -> Notice {
        Notice {
            to: to.clone(),
            kind,
            referral_id: Uuid::nil(),
            case_id: Uuid::nil(),
            referral_kind: ReferralKind::SocialAssistance,
            state: State::Submitted,
            actor: actor.clone(),
            at,
            note,
            urgent: false,
            green_channel: false,
            deadline: None,
            clerk: String::new(),
        }
    }

    /// A signed checkpoint of the audit log for `to`.
    pub fn for_checkpoint(to: &MemberCode, checkpoint: &Checkpoint) -> Notice {
        let note = serde_json::to_string(checkpoint).unwrap_or_default();
        Self::about_the_hub(to, NoticeKind::AuditCheckpoint, &MemberCode::hub(), checkpoint.at, note)
    }

    /// A change of the directory for `to`, by `actor`, told in `description`.
    pub fn for_directory(to: &MemberCode, actor: &MemberCode, at: DateTime<Utc>, description: &str) -> Notice {
        Self::about_the_hub(to, NoticeKind::DirectoryChanged, actor, at, description.to_owned())
    }

    /// A 督办函 for `to`, issued by the office's `clerk`; `note` says which.
    pub fn for_supervision(to: &MemberCode, at: DateTime<Utc>, note: String, clerk: &str) -> Notice {
        Notice {
            clerk: clerk.to_owned(),
            ..Self::about_the_hub(to, NoticeKind::Supervision, &MemberCode::office(), at, note)
        }
    }

    /// The checkpoint an audit-checkpoint notice carries.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        (self.kind == NoticeKind::AuditCheckpoint).then(|| serde_json::from_str(&self.note).ok()).flatten()
    }

    /// A deadline event about `referral` for `to`, by `actor` (the hub, or the office).
    pub fn for_deadline(
        referral: &Referral,
        deadline: &Deadline,
        to: &MemberCode,
        kind: NoticeKind,
        actor: &MemberCode,
        at: DateTime<Utc>,
        note: String,
    ) -> Notice {
        Notice {
            to: to.clone(),
            kind,
            referral_id: referral.id,
            case_id: referral.case_id,
            referral_kind: referral.kind,
            state: referral.state,
            actor: actor.clone(),
            at,
            note,
            urgent: referral.content.urgent,
            green_channel: referral.content.green_channel(),
            deadline: Some((deadline.kind, deadline.due)),
            clerk: String::new(),
        }
    }
}

/// The outcome of an act: the referral after it, the entries it appends and the
/// notices they send.
#[derive(Debug, Clone)]
pub struct Transition {
    pub referral: Referral,
    pub entries: Vec<HistoryEntry>,
    pub notices: Vec<Notice>,
}

impl Transition {
    /// The same act, made by the clerk named `clerk` (经办人; empty for a unit's own
    /// system certificate): its entries and the notices they send name them.
    pub fn by_clerk(mut self, clerk: &str) -> Self {
        for entry in &mut self.entries {
            entry.clerk = clerk.to_owned();
        }
        for notice in &mut self.notices {
            notice.clerk = clerk.to_owned();
        }
        self
    }
}

/// The referral as it was after its history entry `version`: what the act that wrote
/// that entry answered, rebuilt from the referral as it is now and its history. The
/// content never changes after the submit, and each field an act sets is set once.
pub fn as_of(referral: &Referral, history: &[HistoryEntry], version: u32) -> Referral {
    let mut then = referral.clone();
    if version >= referral.version {
        return then;
    }
    let upto: Vec<&HistoryEntry> = history.iter().filter(|e| e.version <= version).collect();
    let entry = |kind: EntryKind| upto.iter().find(|e| e.kind == kind);
    if let Some(last) = upto.last() {
        then.state = last.state;
        then.updated_at = last.at;
    }
    then.version = version;
    then.started_at = entry(EntryKind::Started).map(|e| e.at);
    if entry(EntryKind::Concluded).is_none() {
        then.conclusion = None;
    }
    if entry(EntryKind::FedBack).is_none() {
        then.feedback = None;
    }
    if entry(EntryKind::Returned).or(entry(EntryKind::Withdrawn)).is_none() {
        then.closing_reason = None;
    }
    then
}

/// Creates the referrals of a submission, one per recipient, in `case_id`.
pub fn submit(
    submission: &Submission,
    sender: &Caller,
    case_id: Uuid,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Vec<Transition> {
    submission
        .recipients
        .iter()
        .zip(ids)
        .map(|(recipient, id)| {
            let referral = Referral {
                id: *id,
                case_id,
                kind: submission.kind,
                state: State::Submitted,
                sender: sender.code.clone(),
                recipient: recipient.clone(),
                content: submission.content.clone(),
                submitted_at: now,
                updated_at: now,
                started_at: None,
                conclusion: None,
                feedback: None,
                closing_reason: None,
                version: 1,
            };
            let entry = HistoryEntry {
                referral_id: *id,
                version: 1,
                kind: EntryKind::Submitted,
                actor: sender.code.clone(),
                at: now,
                state: State::Submitted,
                note: submission.note.clone(),
                clerk: String::new(),
            };
            let notices = vec![Notice::for_entry(&referral, &entry)];
            Transition { referral, entries: vec![entry], notices }
        })
        .collect()
}

/// Whether `caller` may apply `action` to `referral` as it stands: its part in the
/// referral, and the state.
fn permitted<P>(referral: &Referral<P>, caller: &Caller, action: &Action) -> Result<(), DomainError> {
    let is_sender = caller.code == referral.sender;
    let is_recipient = caller.code == referral.recipient;
    let by_recipient = matches!(
        action,
        Action::Receive
            | Action::Start
            | Action::Conclude { .. }
            | Action::Feedback(_)
            | Action::Return(_)
            | Action::Visit { .. }
    );
    if by_recipient && !is_recipient {
        return Err(DomainError::Forbidden(format!(
            "only the recipient ({}) may {}",
            referral.recipient,
            action.name()
        )));
    }
    if matches!(action, Action::Withdraw(_)) && !is_sender {
        return Err(DomainError::Forbidden(format!("only the sender ({}) may withdraw", referral.sender)));
    }
    if !is_sender && !is_recipient {
        return Err(DomainError::Forbidden("not a party to this referral".into()));
    }

    let from = referral.state;
    let allowed = match action {
        Action::Receive => from == State::Submitted,
        Action::Start => from == State::Received,
        Action::Conclude { .. } => from == State::Started,
        Action::Feedback(_) => from == State::Concluded,
        Action::Return(_) => matches!(from, State::Submitted | State::Received),
        Action::Withdraw(_) => matches!(from, State::Submitted | State::Received | State::Started),
        Action::Comment(_) => !from.is_closed(),
        Action::AskMaterials(_) => is_recipient && matches!(from, State::Submitted | State::Received),
        Action::Visit { .. } => matches!(from, State::Concluded | State::FedBack),
    };
    if !allowed {
        return Err(DomainError::WrongState { action: action.name(), current: from.code() });
    }
    let granted = referral.conclusion.as_ref().is_some_and(|c| c.outcome.granted());
    if matches!(action, Action::Visit { .. }) && !granted {
        return Err(DomainError::WrongState { action: action.name(), current: "concluded without aid" });
    }
    Ok(())
}

/// The acts `caller` may apply to `referral` as it stands, by [`Action::name`].
pub fn allowed<P>(referral: &Referral<P>, caller: &Caller) -> Vec<&'static str> {
    let conclusion = Conclusion {
        outcome: Outcome::Granted,
        concluded_on: NaiveDate::MIN,
        summary: String::new(),
        refusal_grounds: Vec::new(),
        aids: Vec::new(),
    };
    [
        Action::Receive,
        Action::Start,
        Action::Conclude { conclusion, feedback: None },
        Action::Feedback(String::new()),
        Action::Return(String::new()),
        Action::Withdraw(String::new()),
        Action::Comment(String::new()),
        Action::AskMaterials(String::new()),
        Action::Visit {
            visit: Visit {
                visited_on: NaiveDate::MIN,
                method: VisitMethod::Phone,
                visitor: String::new(),
                aid_in_place: true,
                effect: VisitEffect::Marked,
                another_referral: false,
            },
            findings: String::new(),
        },
    ]
    .into_iter()
    .filter(|action| permitted(referral, caller, action).is_ok())
    .map(|action| action.name())
    .collect()
}

/// Applies `action` by `caller` to `referral` at `now`. The caller must be a party to
/// the referral; the hub answers NOT_FOUND to anyone else before calling this.
pub fn apply(
    referral: &Referral,
    caller: &Caller,
    action: Action,
    now: DateTime<Utc>,
) -> Result<Transition, DomainError> {
    permitted(referral, caller, &action)?;
    let from = referral.state;

    let mut next = referral.clone();
    next.updated_at = now;
    let mut steps: Vec<(EntryKind, State, String)> = Vec::new();
    match action {
        Action::Receive => steps.push((EntryKind::Received, State::Received, String::new())),
        Action::Start => {
            next.started_at = Some(now);
            steps.push((EntryKind::Started, State::Started, String::new()));
        }
        Action::Conclude { conclusion, feedback } => {
            check_conclusion(referral, &conclusion, now)?;
            steps.push((EntryKind::Concluded, State::Concluded, conclusion.summary.clone()));
            next.conclusion = Some(conclusion);
            if let Some(feedback) = feedback {
                next.feedback = Some(feedback.clone());
                steps.push((EntryKind::FedBack, State::FedBack, feedback));
            }
        }
        Action::Feedback(text) => {
            next.feedback = Some(text.clone());
            steps.push((EntryKind::FedBack, State::FedBack, text));
        }
        Action::Return(reason) => {
            next.closing_reason = Some(reason.clone());
            steps.push((EntryKind::Returned, State::Returned, reason));
        }
        Action::Withdraw(reason) => {
            next.closing_reason = Some(reason.clone());
            steps.push((EntryKind::Withdrawn, State::Withdrawn, reason));
        }
        Action::Comment(text) => steps.push((EntryKind::Commented, from, text)),
        Action::AskMaterials(text) => steps.push((EntryKind::MaterialsAsked, from, text)),
        Action::Visit { visit, findings } => {
            check_visit(referral, &visit, now)?;
            steps.push((EntryKind::Visited, from, findings));
        }
    }

    let mut entries = Vec::with_capacity(steps.len());
    for (kind, state, note) in steps {
        next.version += 1;
        next.state = state;
        entries.push(HistoryEntry {
            referral_id: referral.id,
            version: next.version,
            kind,
            actor: caller.code.clone(),
            at: now,
            state,
            note,
            clerk: String::new(),
        });
    }
    let notices = entries.iter().map(|entry| Notice::for_entry(&next, entry)).collect();
    Ok(Transition { referral: next, entries, notices })
}

/// A visit falls between the conclusion and today.
fn check_visit(referral: &Referral, visit: &Visit, now: DateTime<Utc>) -> Result<(), DomainError> {
    let today = local_date(now);
    if visit.visited_on > today {
        return Err(FieldViolation::new("visit.visited_on", Rule::InTheFuture { today }).into());
    }
    if let Some(concluded) = referral.conclusion.as_ref().map(|c| c.concluded_on) {
        if visit.visited_on < concluded {
            let rule = Rule::BeforeConclusion { concluded };
            return Err(FieldViolation::new("visit.visited_on", rule).into());
        }
    }
    Ok(())
}

/// A conclusion must fall between the start and today, and carry refusal grounds
/// exactly when a clue is refused.
fn check_conclusion(referral: &Referral, conclusion: &Conclusion, now: DateTime<Utc>) -> Result<(), DomainError> {
    let mut violations = Vec::new();
    let mut add = |field: &str, rule: Rule| violations.push(FieldViolation::new(field, rule));
    let today = local_date(now);
    if conclusion.concluded_on > today {
        add("conclusion.concluded_on", Rule::InTheFuture { today });
    }
    if let Some(started) = referral.started_at.map(local_date) {
        if conclusion.concluded_on < started {
            add("conclusion.concluded_on", Rule::BeforeStart { day: conclusion.concluded_on, started });
        }
    }
    let refused_clue = referral.kind == ReferralKind::JudicialClue && conclusion.outcome == Outcome::NotGranted;
    if refused_clue && conclusion.refusal_grounds.is_empty() {
        add("conclusion.refusal_grounds", Rule::GroundsRequired);
    }
    if !refused_clue && !conclusion.refusal_grounds.is_empty() {
        add("conclusion.refusal_grounds", Rule::GroundsOnlyRefusedClue);
    }
    match (conclusion.outcome, conclusion.aids.is_empty()) {
        (Outcome::NotGranted, false) => add("conclusion.aids", Rule::AidOnlyWhenGranted),
        (Outcome::Granted | Outcome::PartiallyGranted, true) => add("conclusion.aids", Rule::AidRequired),
        _ => {}
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Invalid(violations))
    }
}

#[cfg(test)]
mod tests;
