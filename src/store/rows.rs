//! Rows as the database holds them, and their conversion to and from the domain. Shared
//! by every backend: the columns are the same everywhere.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    sealed::{entry_note, field_name, inbox_note, open_conclusion, open_text, whole, ADVANCE_REASON, SEALED_FIELDS},
    sql::query::Cells,
    InboxEvent, ListedDeadline, Opening, ScheduleRecord, StoreError,
};
use crate::domain::{
    audit::{parse_hex, AuditEntry, AuditRecord},
    deadline::{Deadline, DeadlineKind, DeadlineState},
    history::{EntryKind, HistoryEntry},
    lifecycle::{Notice, NoticeKind},
    referral::{Referral, ReferralKind, State},
    MemberCode,
};
use crate::keys::Keys;

pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub fn from_micros(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("timestamp", micros))
}

pub(super) fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(super) fn uuid(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|_| corrupt("uuid", raw))
}

pub(super) fn member(raw: &str) -> Result<MemberCode, StoreError> {
    MemberCode::parse(raw).map_err(|_| corrupt("member code", raw))
}

pub(super) fn state(raw: &str) -> Result<State, StoreError> {
    State::from_code(raw).ok_or_else(|| corrupt("state", raw))
}

pub(super) fn kind(raw: &str) -> Result<ReferralKind, StoreError> {
    ReferralKind::from_code(raw).ok_or_else(|| corrupt("referral kind", raw))
}

/// The columns of a [`ReferralRow`].
pub const REFERRAL_COLUMNS: &str = "id, case_id, kind, state, sender, recipient, content, person_name, \
     person_id_number, person_phone, person_address, person_household, narrative, sealed_key, submitted_at, \
     updated_at, started_at, conclusion, feedback, closing_reason, version";

pub struct ReferralRow {
    pub id: String,
    pub case_id: String,
    pub kind: String,
    pub state: String,
    pub sender: String,
    pub recipient: String,
    pub content: String,
    pub person_name: Option<String>,
    pub person_id_number: Option<String>,
    pub person_phone: Option<String>,
    pub person_address: Option<String>,
    pub person_household: Option<String>,
    pub narrative: Option<String>,
    pub sealed_key: Option<String>,
    pub submitted_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub conclusion: Option<String>,
    pub feedback: Option<String>,
    pub closing_reason: Option<String>,
    pub version: i64,
}

impl ReferralRow {
    /// The row from its columns, each read by the name of its field.
    pub fn from_cells(c: &mut Cells) -> Result<Self, StoreError> {
        Ok(Self {
            id: c.text("id")?,
            case_id: c.text("case_id")?,
            kind: c.text("kind")?,
            state: c.text("state")?,
            sender: c.text("sender")?,
            recipient: c.text("recipient")?,
            content: c.text("content")?,
            person_name: c.opt_text("person_name")?,
            person_id_number: c.opt_text("person_id_number")?,
            person_phone: c.opt_text("person_phone")?,
            person_address: c.opt_text("person_address")?,
            person_household: c.opt_text("person_household")?,
            narrative: c.opt_text("narrative")?,
            sealed_key: c.opt_text("sealed_key")?,
            submitted_at: c.int("submitted_at")?,
            updated_at: c.int("updated_at")?,
            started_at: c.opt_int("started_at")?,
            conclusion: c.opt_text("conclusion")?,
            feedback: c.opt_text("feedback")?,
            closing_reason: c.opt_text("closing_reason")?,
            version: c.int("version")?,
        })
    }
}

impl ReferralRow {
    /// The referral, its person's data opened with `keys`. A row written before
    /// sealing (no key) still holds the person in its content.
    pub fn open(self, keys: &Keys, opening: Opening) -> Result<Referral, StoreError> {
        let mut content: serde_json::Value = serde_json::from_str(&self.content).map_err(|e| corrupt("content", e))?;
        if self.sealed_key.is_some() {
            let sealed = [
                &self.person_name,
                &self.person_id_number,
                &self.person_phone,
                &self.person_address,
                &self.person_household,
                &self.narrative,
            ];
            let object = content.as_object_mut().ok_or_else(|| corrupt("content", "not an object"))?;
            let mut person = serde_json::Map::new();
            for ((column, parent, key), value) in SEALED_FIELDS.into_iter().zip(sealed) {
                let value = value.as_deref().ok_or_else(|| corrupt(column, "missing"))?;
                let plain = if opening == Opening::Whole || LISTED.contains(&column) {
                    keys.open(&field_name(parent, key), &self.id, value)
                        .map_err(|e| StoreError::Corrupt(format!("referral {} {column}: {e}", self.id)))?
                } else {
                    String::new()
                };
                match parent {
                    Some(_) => person.insert(key.to_owned(), plain.into()),
                    None => object.insert(key.to_owned(), plain.into()),
                };
            }
            object.insert("person".to_owned(), person.into());
        }
        if let Some(serde_json::Value::String(reason)) = content.get_mut(ADVANCE_REASON) {
            *reason = whole(opening, || open_text(keys, ADVANCE_REASON, &self.id, reason))?;
        }
        Ok(Referral {
            id: uuid(&self.id)?,
            case_id: uuid(&self.case_id)?,
            kind: kind(&self.kind)?,
            state: state(&self.state)?,
            sender: member(&self.sender)?,
            recipient: member(&self.recipient)?,
            content: serde_json::from_value(content).map_err(|e| corrupt("content", e))?,
            submitted_at: from_micros(self.submitted_at)?,
            updated_at: from_micros(self.updated_at)?,
            started_at: self.started_at.map(from_micros).transpose()?,
            conclusion: self.conclusion.as_deref().map(|c| open_conclusion(keys, &self.id, c, opening)).transpose()?,
            feedback: self
                .feedback
                .as_deref()
                .map(|f| whole(opening, || open_text(keys, "feedback", &self.id, f)))
                .transpose()?,
            closing_reason: self
                .closing_reason
                .as_deref()
                .map(|r| whole(opening, || open_text(keys, "closing_reason", &self.id, r)))
                .transpose()?,
            version: u32::try_from(self.version).map_err(|_| corrupt("version", self.version))?,
        })
    }
}

/// The columns of the person a list opens ([`Opening::Listed`]).
const LISTED: [&str; 3] = ["person_name", "person_id_number", "person_phone"];

pub struct EntryRow {
    pub referral_id: String,
    pub version: i64,
    pub kind: String,
    pub actor: String,
    pub at: i64,
    pub state: String,
    pub note: String,
    pub clerk: String,
}

impl EntryRow {
    /// The row from its columns, each read by the name of its field.
    pub fn from_cells(c: &mut Cells) -> Result<Self, StoreError> {
        Ok(Self {
            referral_id: c.text("referral_id")?,
            version: c.int("version")?,
            kind: c.text("kind")?,
            actor: c.text("actor")?,
            at: c.int("at")?,
            state: c.text("state")?,
            note: c.text("note")?,
            clerk: c.text("clerk")?,
        })
    }
}

impl EntryRow {
    pub fn open(self, keys: &Keys, opening: Opening) -> Result<HistoryEntry, StoreError> {
        let (field, sealed_as) = entry_note(&self.referral_id, self.version);
        let note = whole(opening, || open_text(keys, field, &sealed_as, &self.note))?;
        let row = self;
        Ok(HistoryEntry {
            referral_id: uuid(&row.referral_id)?,
            version: u32::try_from(row.version).map_err(|_| corrupt("version", row.version))?,
            kind: EntryKind::from_code(&row.kind).ok_or_else(|| corrupt("entry kind", &row.kind))?,
            actor: member(&row.actor)?,
            at: from_micros(row.at)?,
            state: state(&row.state)?,
            note,
            clerk: row.clerk,
        })
    }
}

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
    pub clerk: String,
}

impl InboxRow {
    /// The row from its columns, each read by the name of its field.
    pub fn from_cells(c: &mut Cells) -> Result<Self, StoreError> {
        Ok(Self {
            member: c.text("member")?,
            seq: c.int("seq")?,
            event_id: c.text("event_id")?,
            kind: c.text("kind")?,
            referral_id: c.text("referral_id")?,
            case_id: c.text("case_id")?,
            referral_kind: c.text("referral_kind")?,
            state: c.text("state")?,
            actor: c.text("actor")?,
            at: c.int("at")?,
            note: c.text("note")?,
            urgent: c.bool("urgent")?,
            green_channel: c.bool("green_channel")?,
            deadline_kind: c.opt_text("deadline_kind")?,
            due_on: c.opt_text("due_on")?,
            clerk: c.text("clerk")?,
        })
    }
}

impl InboxRow {
    pub fn open(self, keys: &Keys) -> Result<InboxEvent, StoreError> {
        let (field, sealed_as) = inbox_note(&self.event_id);
        let note = open_text(keys, field, &sealed_as, &self.note)?;
        let row = self;
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
                note,
                urgent: row.urgent,
                green_channel: row.green_channel,
                deadline: match (row.deadline_kind, row.due_on) {
                    (Some(kind), Some(due)) => Some((deadline_kind(&kind)?, date(&due)?)),
                    _ => None,
                },
                clerk: row.clerk,
            },
        })
    }
}

pub(super) fn date(raw: &str) -> Result<NaiveDate, StoreError> {
    // ISO 8601 (YYYY-MM-DD), which `FromStr` reads without interpreting a format.
    raw.parse::<NaiveDate>().map_err(|_| corrupt("date", raw))
}

pub(super) fn deadline_kind(raw: &str) -> Result<DeadlineKind, StoreError> {
    DeadlineKind::from_code(raw).ok_or_else(|| corrupt("deadline kind", raw))
}

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
    pub closed_on: Option<String>,
    pub extended: i64,
    pub paused: i64,
    pub paused_on: Option<String>,
    pub pauses: i64,
    pub pauses_allowed: i64,
}

impl DeadlineRow {
    /// The row from its columns, each read by the name of its field.
    pub fn from_cells(c: &mut Cells) -> Result<Self, StoreError> {
        Ok(Self {
            referral_id: c.text("referral_id")?,
            kind: c.text("kind")?,
            case_id: c.text("case_id")?,
            responsible: c.text("responsible")?,
            runs_from: c.text("runs_from")?,
            due_on: c.text("due_on")?,
            provisional: c.bool("provisional")?,
            state: c.text("state")?,
            met_on: c.opt_text("met_on")?,
            reminded: c.bool("reminded")?,
            closed_on: c.opt_text("closed_on")?,
            extended: c.int("extended")?,
            paused: c.int("paused")?,
            paused_on: c.opt_text("paused_on")?,
            pauses: c.int("pauses")?,
            pauses_allowed: c.int("pauses_allowed")?,
        })
    }
}

pub const DEADLINE_COLUMNS: &str = "referral_id, kind, case_id, responsible, runs_from, due_on, provisional, state, \
     met_on, reminded, closed_on, extended, paused, paused_on, pauses, pauses_allowed";

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
            closed_on: row.closed_on.as_deref().map(date).transpose()?,
            extended: days(row.extended)?,
            paused: days(row.paused)?,
            paused_on: row.paused_on.as_deref().map(date).transpose()?,
            pauses: days(row.pauses)?,
            pauses_allowed: days(row.pauses_allowed)?,
        })
    }
}

/// A count of days or times as stored.
fn days(raw: i64) -> Result<u32, StoreError> {
    u32::try_from(raw).map_err(|_| corrupt("a deadline's count", "out of range"))
}

pub struct ListedRow {
    pub deadline: DeadlineRow,
    pub referral_kind: String,
    pub urgent: bool,
    pub green_channel: bool,
}

impl ListedRow {
    /// The row from its columns, each read by the name of its field.
    pub fn from_cells(c: &mut Cells) -> Result<Self, StoreError> {
        Ok(Self {
            deadline: DeadlineRow::from_cells(c)?,
            referral_kind: c.text("referral_kind")?,
            urgent: c.bool("urgent")?,
            green_channel: c.bool("green_channel")?,
        })
    }
}

impl TryFrom<ListedRow> for ListedDeadline {
    type Error = StoreError;

    fn try_from(row: ListedRow) -> Result<Self, StoreError> {
        Ok(ListedDeadline {
            deadline: Deadline::try_from(row.deadline)?,
            referral_kind: kind(&row.referral_kind)?,
            urgent: row.urgent,
            green_channel: row.green_channel,
            chased: None,
        })
    }
}

pub struct ScheduleRow {
    pub year: i64,
    pub version: i64,
    pub schedule: String,
    pub source: String,
    pub loaded_by: String,
    pub loaded_at: i64,
}

impl ScheduleRow {
    /// The row from its columns, each read by the name of its field.
    pub fn from_cells(c: &mut Cells) -> Result<Self, StoreError> {
        Ok(Self {
            year: c.int("year")?,
            version: c.int("version")?,
            schedule: c.text("schedule")?,
            source: c.text("source")?,
            loaded_by: c.text("loaded_by")?,
            loaded_at: c.int("loaded_at")?,
        })
    }
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

pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub certificate: String,
    pub action: String,
    pub referrals: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    /// The row from its columns, each read by the name of its field.
    pub fn from_cells(c: &mut Cells) -> Result<Self, StoreError> {
        Ok(Self {
            seq: c.int("seq")?,
            at: c.int("at")?,
            actor: c.text("actor")?,
            certificate: c.text("certificate")?,
            action: c.text("action")?,
            referrals: c.text("referrals")?,
            detail: c.text("detail")?,
            prev_hash: c.text("prev_hash")?,
            hash: c.text("hash")?,
        })
    }
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;

    /// Hashes that are not hex read as all ones, so that verification reports the entry
    /// rather than the tool failing to read it.
    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        let hash = |raw: &str| parse_hex(raw).unwrap_or([0xff; 32]);
        Ok(AuditEntry {
            seq: u64::try_from(row.seq).map_err(|_| corrupt("audit seq", row.seq))?,
            at: from_micros(row.at)?,
            record: AuditRecord {
                actor: member(&row.actor)?,
                certificate: row.certificate,
                action: row.action,
                referrals: row.referrals.split(',').filter(|id| !id.is_empty()).map(uuid).collect::<Result<_, _>>()?,
                detail: row.detail,
            },
            prev: hash(&row.prev_hash),
            hash: hash(&row.hash),
        })
    }
}
