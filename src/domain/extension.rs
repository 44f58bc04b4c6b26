//! 延期 — a member asks the office, before its deadline falls due, to extend it by some
//! working days, giving a reason; the office grants it (by as many working days as it
//! judges) or refuses it, with an answer. Granted days move the due date, and on-time
//! is judged against the date granted.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    calendar::Calendar,
    deadline::{Deadline, DeadlineKind, DeadlineState, Policy},
    error::Violations,
    person::text,
    DomainError, MemberCode, Rule,
};

/// The most working days one request asks or the office grants.
pub const MAX_DAYS: u32 = 30;
/// The longest reason or answer.
pub const MAX_TEXT: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionState {
    Asked,
    Granted,
    Refused,
}

impl ExtensionState {
    pub const ALL: [ExtensionState; 3] = [ExtensionState::Asked, ExtensionState::Granted, ExtensionState::Refused];

    pub fn code(self) -> &'static str {
        match self {
            ExtensionState::Asked => "asked",
            ExtensionState::Granted => "granted",
            ExtensionState::Refused => "refused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExtensionState::Asked => "待批复",
            ExtensionState::Granted => "已同意",
            ExtensionState::Refused => "不同意",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// A request to extend a deadline, and the office's answer once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub id: Uuid,
    pub referral_id: Uuid,
    pub kind: DeadlineKind,
    pub member: MemberCode,
    pub asked_at: DateTime<Utc>,
    /// 经办人 who asked; empty for the unit's own system.
    pub asked_by: String,
    pub days: u32,
    pub reason: String,
    pub state: ExtensionState,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: String,
    pub granted_days: u32,
    pub answer: String,
    pub due_before: NaiveDate,
    pub due_after: Option<NaiveDate>,
}

fn days(field: &str, days: u32, v: &mut Violations) -> Option<u32> {
    if (1..=MAX_DAYS).contains(&days) {
        Some(days)
    } else {
        v.add(field, Rule::WorkingDays { max: MAX_DAYS });
        None
    }
}

/// Checks `member`'s request on `today` to extend `deadline` by `days` for `reason`;
/// `asked` is whether a request of it still waits for the office.
pub fn ask(
    deadline: &Deadline,
    member: &MemberCode,
    (days_asked, reason): (u32, &str),
    asked: bool,
    today: NaiveDate,
) -> Result<(u32, String), DomainError> {
    if &deadline.responsible != member {
        return Err(DomainError::Forbidden(format!(
            "only the member that owes the deadline ({}) may ask to extend it",
            deadline.responsible
        )));
    }
    if deadline.state != DeadlineState::Open || today > deadline.due {
        return Err(DomainError::WrongState { action: "ask for an extension", current: "not open or past its day" });
    }
    if asked {
        return Err(DomainError::WrongState {
            action: "ask for an extension",
            current: "already waiting for the office",
        });
    }
    let mut v = Violations::default();
    let days = days("days", days_asked, &mut v);
    let reason = v.check(text("reason", reason, 1, MAX_TEXT));
    v.finish(|| (days.unwrap_or_default(), reason.unwrap_or_default()))
}

/// The office's answer to `request` on `today`: granting `days` working days (none:
/// refusing), with `answer` (required when refusing). Gives the deadline as extended
/// when granted.
pub fn decide(
    request: &Extension,
    deadline: &Deadline,
    grant: Option<u32>,
    answer: &str,
    (calendar, policy, today): (&Calendar, &Policy, NaiveDate),
) -> Result<(String, Option<Deadline>), DomainError> {
    if request.state != ExtensionState::Asked {
        return Err(DomainError::WrongState { action: "decide on an extension", current: request.state.code() });
    }
    let mut v = Violations::default();
    let min = usize::from(grant.is_none());
    let answer = v.check(text("answer", answer, min, MAX_TEXT));
    let days = grant.and_then(|d| days("days", d, &mut v));
    let answer = v.finish(|| answer.unwrap_or_default())?;
    let extended = match days {
        Some(days) if deadline.is_outstanding() => {
            let mut d = deadline.clone();
            d.extend(days, calendar, policy, today);
            Some(d)
        }
        Some(_) => {
            return Err(DomainError::WrongState { action: "extend the deadline", current: deadline.state.code() });
        }
        None => None,
    };
    Ok((answer, extended))
}

/// `deadline` allowed one more pause: the start deadline, still open, that used those
/// it had.
pub fn allow_pause(deadline: &Deadline) -> Result<Deadline, DomainError> {
    if deadline.kind != DeadlineKind::Start || deadline.state != DeadlineState::Open {
        return Err(DomainError::WrongState { action: "allow another pause", current: deadline.state.code() });
    }
    Ok(Deadline { pauses_allowed: deadline.pauses_allowed + 1, ..deadline.clone() })
}
