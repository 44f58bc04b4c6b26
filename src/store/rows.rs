//! Rows as the database holds them, and their conversion to and from the domain. Shared
//! by every backend: the columns are the same everywhere.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{InboxEvent, ListedDeadline, ScheduleRecord, StoreError};
use crate::domain::{
    deadline::{Deadline, DeadlineKind, DeadlineState},
    lifecycle::{EntryKind, HistoryEntry, Notice, NoticeKind},
    referral::{Referral, ReferralKind, State},
    MemberCode,
};

pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub fn from_micros(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("timestamp", micros))
}

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn uuid(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|_| corrupt("uuid", raw))
}

fn member(raw: &str) -> Result<MemberCode, StoreError> {
    MemberCode::parse(raw).map_err(|_| corrupt("member code", raw))
}

fn state(raw: &str) -> Result<State, StoreError> {
    State::from_code(raw).ok_or_else(|| corrupt("state", raw))
}

fn kind(raw: &str) -> Result<ReferralKind, StoreError> {
    ReferralKind::from_code(raw).ok_or_else(|| corrupt("referral kind", raw))
}

#[derive(sqlx::FromRow)]
pub struct ReferralRow {
    pub id: String,
    pub case_id: String,
    pub kind: String,
    pub state: String,
    pub sender: String,
    pub recipient: String,
    pub content: String,
    pub submitted_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub conclusion: Option<String>,
    pub feedback: Option<String>,
    pub closing_reason: Option<String>,
    pub version: i64,
}

impl TryFrom<ReferralRow> for Referral {
    type Error = StoreError;

    fn try_from(row: ReferralRow) -> Result<Self, StoreError> {
        Ok(Referral {
            id: uuid(&row.id)?,
            case_id: uuid(&row.case_id)?,
            kind: kind(&row.kind)?,
            state: state(&row.state)?,
            sender: member(&row.sender)?,
            recipient: member(&row.recipient)?,
            content: serde_json::from_str(&row.content).map_err(|e| corrupt("content", e))?,
            submitted_at: from_micros(row.submitted_at)?,
            updated_at: from_micros(row.updated_at)?,
            started_at: row.started_at.map(from_micros).transpose()?,
            conclusion: row
                .conclusion
                .map(|c| serde_json::from_str(&c).map_err(|e| corrupt("conclusion", e)))
                .transpose()?,
            feedback: row.feedback,
            closing_reason: row.closing_reason,
            version: u32::try_from(row.version).map_err(|_| corrupt("version", row.version))?,
        })
    }
}

/// The serialised content and conclusion of a referral, for writing.
pub fn documents(referral: &Referral) -> Result<(String, Option<String>), StoreError> {
    let content = serde_json::to_string(&referral.content).map_err(|e| corrupt("content", e))?;
    let conclusion = referral
        .conclusion
        .as_ref()
        .map(|c| serde_json::to_string(c).map_err(|e| corrupt("conclusion", e)))
        .transpose()?;
    Ok((content, conclusion))
}

#[derive(sqlx::FromRow)]
pub struct EntryRow {
    pub referral_id: String,
    pub version: i64,
    pub kind: String,
    pub actor: String,
    pub at: i64,
    pub state: String,
    pub note: String,
}

impl TryFrom<EntryRow> for HistoryEntry {
    type Error = StoreError;

    fn try_from(row: EntryRow) -> Result<Self, StoreError> {
        Ok(HistoryEntry {
            referral_id: uuid(&row.referral_id)?,
            version: u32::try_from(row.version).map_err(|_| corrupt("version", row.version))?,
            kind: EntryKind::from_code(&row.kind).ok_or_else(|| corrupt("entry kind", &row.kind))?,
            actor: member(&row.actor)?,
            at: from_micros(row.at)?,
            state: state(&row.state)?,
            note: row.note,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct InboxRow {
    pub member: String,
    pub seq: i64,
    pub event_id: String,
    pub kind: String,
    pub referral_id: String,
    pub case_id: String,
    pub referral_kind: String,
    pub state: String,
    pub actor: String,
    pub at: i64,
    pub note: String,
    pub urgent: bool,
    pub green_channel: bool,
    pub deadline_kind: Option<String>,
    pub due_on: Option<String>,
}

impl TryFrom<InboxRow> for InboxEvent {
    type Error = StoreError;

    fn try_from(row: InboxRow) -> Result<Self, StoreError> {
        Ok(InboxEvent {
            seq: u64::try_from(row.seq).map_err(|_| corrupt("seq", row.seq))?,
            event_id: uuid(&row.event_id)?,
            notice: Notice {
                to: member(&row.member)?,
                kind: NoticeKind::from_code(&row.kind).ok_or_else(|| corrupt("notice kind", &row.kind))?,
                referral_id: uuid(&row.referral_id)?,
                case_id: uuid(&row.case_id)?,
                referral_kind: kind(&row.referral_kind)?,
                state: state(&row.state)?,
                actor: member(&row.actor)?,
                at: from_micros(row.at)?,
                note: row.note,
                urgent: row.urgent,
                green_channel: row.green_channel,
                deadline: match (row.deadline_kind, row.due_on) {
                    (Some(kind), Some(due)) => Some((deadline_kind(&kind)?, date(&due)?)),
                    _ => None,
                },
            },
        })
    }
}

fn date(raw: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| corrupt("date", raw))
}

fn deadline_kind(raw: &str) -> Result<DeadlineKind, StoreError> {
    DeadlineKind::from_code(raw).ok_or_else(|| corrupt("deadline kind", raw))
}

#[derive(sqlx::FromRow)]
pub struct DeadlineRow {
    pub referral_id: String,
    pub kind: String,
    pub case_id: String,
    pub responsible: String,
    pub runs_from: String,
    pub due_on: String,
    pub provisional: bool,
    pub state: String,
    pub met_on: Option<String>,
    pub reminded: bool,
}

pub const DEADLINE_COLUMNS: &str =
    "referral_id, kind, case_id, responsible, runs_from, due_on, provisional, state, met_on, reminded";

impl TryFrom<DeadlineRow> for Deadline {
    type Error = StoreError;

    fn try_from(row: DeadlineRow) -> Result<Self, StoreError> {
        Ok(Deadline {
            referral_id: uuid(&row.referral_id)?,
            case_id: uuid(&row.case_id)?,
            kind: deadline_kind(&row.kind)?,
            responsible: member(&row.responsible)?,
            trigger: date(&row.runs_from)?,
            due: date(&row.due_on)?,
            provisional: row.provisional,
            state: DeadlineState::from_code(&row.state).ok_or_else(|| corrupt("deadline state", &row.state))?,
            met_on: row.met_on.as_deref().map(date).transpose()?,
            reminded: row.reminded,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ListedRow {
    #[sqlx(flatten)]
    pub deadline: DeadlineRow,
    pub referral_kind: String,
    pub urgent: bool,
    pub green_channel: bool,
}

impl TryFrom<ListedRow> for ListedDeadline {
    type Error = StoreError;

    fn try_from(row: ListedRow) -> Result<Self, StoreError> {
        Ok(ListedDeadline {
            deadline: Deadline::try_from(row.deadline)?,
            referral_kind: kind(&row.referral_kind)?,
            urgent: row.urgent,
            green_channel: row.green_channel,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ScheduleRow {
    pub year: i64,
    pub version: i64,
    pub schedule: String,
    pub source: String,
    pub loaded_by: String,
    pub loaded_at: i64,
}

impl TryFrom<ScheduleRow> for ScheduleRecord {
    type Error = StoreError;

    fn try_from(row: ScheduleRow) -> Result<Self, StoreError> {
        Ok(ScheduleRecord {
            year: i32::try_from(row.year).map_err(|_| corrupt("year", row.year))?,
            version: u32::try_from(row.version).map_err(|_| corrupt("version", row.version))?,
            schedule: row.schedule,
            source: row.source,
            loaded_by: member(&row.loaded_by)?,
            loaded_at: from_micros(row.loaded_at)?,
        })
    }
}
