//! Storage: one trait, [`Store`], that the hub's operations write through and read
//! from, and its implementations. Everything one request changes is written in one
//! durable commit.
//!
//! The store knows referrals, history entries, notices and request records; it does
//! not know protobuf, and it applies no domain rules beyond optimistic versioning.

pub mod backup;
pub mod migrate;
pub mod postgres;
mod rows;
mod sealed;
mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use crate::domain::{
    audit::{AuditEntry, AuditRecord, Checkpoint, Hash},
    calendar::{Calendar, Schedule},
    deadline::{Chased, Deadline, DeadlineKind, DeadlineState},
    directory::{Directory, DirectoryEntry},
    figures::{Counts, Overdue},
    history::HistoryEntry,
    key_case::KeyCase,
    letter::DocumentNumber,
    lifecycle::{Notice, NoticeKind},
    material::{Attachment, Carried},
    merkle::Subtree,
    notification::{Channel, Event},
    period::Period,
    person::IdNumber,
    referral::{Referral, ReferralKind, State},
    request_id::RequestId,
    sign_in::Credentials,
    visit::VisitRecord,
    MemberCode,
};
use crate::keys::{stream, Keys};

/// A workbench session: opened by a clerk's sign-in with one certificate, known by the
/// SHA-256 of its cookie, last seen at `seen_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    /// The clerk's holder name, `mz.wangfang`.
    pub holder: String,
    /// The serial number of the certificate it was opened with.
    pub serial: String,
    pub seen_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The referral changed since it was read (another request won the race).
    #[error("the referral was changed concurrently")]
    Conflict,
    /// A transition found its row sealed under a key that is no longer the active
    /// one: the commit is sealed whole and written again.
    #[error("the referral is sealed under another key")]
    StaleKey,
    /// The request id was recorded by a concurrent request.
    #[error("the request id is already recorded")]
    DuplicateRequest,
    #[error("database: {0}")]
    Database(sqlx::Error),
    /// A write that failed, told to every commit of its batch.
    #[error("database: {0}")]
    Write(String),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The person already has an open referral to this recipient.
    #[error("the person already has an open referral to {0}")]
    OpenReferral(MemberCode),
    /// The store was closed.
    #[error("the store is closed")]
    Closed,
    /// A stored value that does not parse: the database was changed outside the hub.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    /// A serialization failure or a deadlock (PostgreSQL's SQLSTATE 40001 and 40P01)
    /// is a lost race like any other: the request is planned again and retried.
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")) => {
                tracing::debug!(error = %db, "transaction lost a race; retrying");
                StoreError::Conflict
            }
            _ => StoreError::Database(error),
        }
    }
}

/// A fault for tests of crash recovery: the process exits right after the commit of
/// this request id (its whole batch, on SQLite) is on disk, before anyone is answered.
pub const EXIT_AFTER_COMMIT_OF: &str = "XIANJIE_FAILPOINT_EXIT_AFTER_COMMIT_OF";

/// Exits as a crash would, at the failpoint of [`EXIT_AFTER_COMMIT_OF`].
fn exit_at_failpoint() -> ! {
    tracing::error!("{EXIT_AFTER_COMMIT_OF}: exiting with the commit on disk and no answer sent");
    std::process::exit(86);
}

/// The first answer to a request, kept so that a retry gets it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub member: MemberCode,
    pub request_id: RequestId,
    /// A hash of the method and the request, to tell a retry from a reuse of the id.
    pub fingerprint: Vec<u8>,
    /// The encoded response.
    pub response: Vec<u8>,
}

/// A sender's document numbers of one year as the store has them: the highest taken
/// (or handed out by the store's counter), and those below it that are not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqsTaken {
    pub top: u32,
    pub free: Vec<u32>,
}

/// A document number claimed by one hub process (`holder`) at `at`, until `until`.
#[derive(Debug, Clone)]
pub struct NumberClaim {
    pub sender: MemberCode,
    pub year: i32,
    pub seq: u32,
    pub holder: String,
    pub at: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// One referral written by a commit.
#[derive(Debug, Clone)]
pub struct Change {
    /// `None` inserts a new referral; `Some(v)` updates it only if it is still at `v`.
    pub expected_version: Option<u32>,
    pub referral: Referral,
    pub entries: Vec<HistoryEntry>,
    pub notices: Vec<Notice>,
    /// Deadlines of the referral to insert or replace.
    pub deadlines: Vec<Deadline>,
}

/// A deadline changed on its own (by the scanner, a reminder or a new schedule), only if
/// it still is as it was read; otherwise the whole commit fails with `Conflict`.
#[derive(Debug, Clone)]
pub struct DeadlineUpdate {
    pub deadline: Deadline,
    pub was: Deadline,
}

/// A holiday schedule loaded at run time: its year's next version.
#[derive(Debug, Clone)]
pub struct ScheduleRecord {
    pub year: i32,
    pub version: u32,
    /// The schedule in the open JSON format.
    pub schedule: String,
    pub source: String,
    pub loaded_by: MemberCode,
    pub loaded_at: DateTime<Utc>,
}

/// A case marked for the joint meeting's study (again: the mark is replaced), or its
/// mark removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCaseChange {
    Mark(KeyCase),
    Unmark(Uuid),
}

/// One referral of a case, as the figures' list of marked cases counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReferral {
    pub id: Uuid,
    pub case_id: Uuid,
    pub sender: MemberCode,
    pub recipient: MemberCode,
    pub state: State,
}

impl CaseReferral {
    /// Whether `member` sent or received it.
    pub fn is_party(&self, member: &MemberCode) -> bool {
        &self.sender == member || &self.recipient == member
    }
}

/// A version of the directory: the change that made it and the directory after it.
#[derive(Debug, Clone)]
pub struct DirectoryRecord {
    pub entry: DirectoryEntry,
    pub directory: Directory,
}

/// Everything one request (or one piece of background work) writes, atomically and
/// durably.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// The request id and answer of a client's request; none for background work.
    pub request: Option<RequestRecord>,
    /// A case opened by this request: its id and owner.
    pub new_case: Option<(Uuid, MemberCode)>,
    pub changes: Vec<Change>,
    pub deadline_updates: Vec<DeadlineUpdate>,
    /// Inbox events beyond those of `changes`.
    pub notices: Vec<Notice>,
    pub schedule: Option<ScheduleRecord>,
    /// The directory's next version; a second one with the same number fails the
    /// commit with `Conflict`.
    pub directory: Option<DirectoryRecord>,
    /// Audit records, appended to the chain in this order.
    pub audit: Vec<AuditRecord>,
    /// A signed checkpoint of the audit chain; a second one for the same entry fails
    /// the commit with `Conflict`.
    pub checkpoint: Option<Checkpoint>,
    /// Complete subtrees of the audit log's Merkle tree, with their hashes.
    pub audit_nodes: Vec<(Subtree, Hash)>,
    /// Files stored by this commit: an upload completed, letters issued, a file
    /// resealed.
    pub uploads: Vec<Upload>,
    /// Chunks of an upload still arriving, written ahead of the commit that completes
    /// it.
    pub staging: Option<Staging>,
    /// Letters issued, each a file of `uploads`.
    pub letters: Vec<LetterRecord>,
    /// A 督办函 issued, after the file that holds it.
    pub supervision: Option<SupervisionRecord>,
    /// A request to extend a deadline, or the office's answer to one.
    pub extension: Option<crate::domain::extension::Extension>,
    /// Files the changes attach to their referrals.
    pub links: Vec<Link>,
    /// Follow-up visits the changes recorded, each with its history entry.
    pub visits: Vec<VisitRecord>,
    /// A case marked for the joint meeting's study, or unmarked.
    pub key_case: Option<KeyCaseChange>,
    /// Files removed that nothing carries, each only if that still holds (one attached
    /// meanwhile fails the commit with `Conflict`).
    pub discards: Vec<Discard>,
    /// New referrals that get the next document number of their sender and year.
    pub numbering: Vec<Numbering>,
    /// Messages queued away from the workbench (one already queued stays as it is).
    pub notifications: Vec<Notification>,
    /// Each member's inbox routed into messages up to this sequence number.
    pub told: Vec<(MemberCode, u64)>,
    /// Queued messages taken for sending: each still pending and due when it was read
    /// (`was`), held until `until`; one taken meanwhile by another hub process fails
    /// the commit with `Conflict`.
    pub claims: Vec<Claim>,
    /// Attempts to send queued messages, with their outcomes.
    pub attempts: Vec<Attempt>,
    pub at: DateTime<Utc>,
}

/// An inbox event not yet routed into messages, with what a message says of it (no
/// personal data: the event's note is not read).
#[derive(Debug, Clone)]
pub struct Untold {
    pub member: MemberCode,
    pub seq: u64,
    pub event_id: Uuid,
    pub kind: NoticeKind,
    pub state: State,
    pub referral_id: Uuid,
    pub referral_kind: ReferralKind,
    pub actor: MemberCode,
    pub urgent: bool,
    /// The deadline the event tells of, and who owes it.
    pub deadline: Option<(DeadlineKind, NaiveDate)>,
    pub responsible: Option<MemberCode>,
    /// The soonest deadline still open that the member owes on the referral.
    pub owed: Option<(DeadlineKind, NaiveDate)>,
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sending {
    Pending,
    Sent,
    /// Given up on after the configured attempts.
    Failed,
    /// No longer due: the deadline it would remind of was met first.
    Void,
}

impl Sending {
    pub const ALL: [Sending; 4] = [Sending::Pending, Sending::Sent, Sending::Failed, Sending::Void];

    pub fn code(self) -> &'static str {
        match self {
            Sending::Pending => "pending",
            Sending::Sent => "sent",
            Sending::Failed => "failed",
            Sending::Void => "void",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sending::Pending => "待发送",
            Sending::Sent => "已发送",
            Sending::Failed => "发送失败",
            Sending::Void => "无需发送",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// A message to a member away from the workbench, as queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The inbox event's id, the channel and the stage: the idempotency key the
    /// message carries.
    pub id: String,
    pub member: MemberCode,
    pub event: Event,
    pub channel: Channel,
    /// The e-mail address, the mobile or the webhook's address.
    pub address: String,
    pub subject: String,
    pub body: String,
    pub referral_id: Uuid,
    /// Sent only while this deadline of the referral is open (the due day's reminder).
    pub while_open: Option<DeadlineKind>,
    pub created_at: DateTime<Utc>,
    pub next_at: DateTime<Utc>,
    pub attempts: u32,
    pub state: Sending,
    pub last_error: String,
}

/// A file to remove: staged before `staged_before`, or stored before
/// `unattached_before` and carried by nothing.
#[derive(Debug, Clone)]
pub struct Discard {
    pub id: Uuid,
    pub staged_before: DateTime<Utc>,
    pub unattached_before: DateTime<Utc>,
}

/// A queued message taken for sending.
#[derive(Debug, Clone)]
pub struct Claim {
    pub id: String,
    pub was: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// One attempt to send a queued message.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: String,
    /// Its number, from 1.
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Failed; tried again at `next_at`.
    Retry {
        next_at: DateTime<Utc>,
        error: String,
    },
    /// Failed for the last time.
    Failed {
        error: String,
    },
    /// Not sent: no longer due.
    Void,
}

impl Outcome {
    /// As the metrics name it.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Retry { .. } => "retry",
            Outcome::Failed { .. } => "failed",
            Outcome::Void => "void",
        }
    }
}

/// A file as stored: its description, and what opening its chunks needs.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub attachment: Attachment,
    pub header: stream::Header,
    pub chunks: u32,
}

/// A file stored: its description and its chunks, sealed in order; the first `staged`
/// of them written already by [`Staging`] commits.
#[derive(Debug, Clone)]
pub struct Upload {
    pub attachment: Attachment,
    pub header: stream::Header,
    /// The chunks after the staged ones.
    pub chunks: Vec<Vec<u8>>,
    pub staged: u32,
    /// A document the hub issued (a letter, a 督办函): kept for good, never looked at
    /// by the discard pass. (A replacement leaves the stored file's mark as it is.)
    pub issued: bool,
    /// `Some(key)`: the file is stored already, sealed under `key`, and is replaced
    /// by this sealing (if still under `key`; otherwise the commit fails with
    /// `Conflict`).
    pub replaces_key: Option<String>,
}

/// Chunks of an upload written as they arrive, from position `first`; the first
/// staging of a file also writes its row, marked staged, so nothing reads it until the
/// commit that completes it.
#[derive(Debug, Clone)]
pub struct Staging {
    pub attachment_id: Uuid,
    pub owner: MemberCode,
    pub name: String,
    pub header: stream::Header,
    pub first: u32,
    pub chunks: Vec<Vec<u8>>,
    pub at: DateTime<Utc>,
}

/// A version of a referral's letter as issued: its document number (with the suffix
/// of a correction), the stored file holding it, and who issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterRecord {
    pub referral_id: Uuid,
    pub version: u32,
    pub number: String,
    pub attachment_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub by: MemberCode,
    pub clerk: String,
}

/// A 督办函 as issued: its number in the office's series, the member it went to, the
/// stored file that holds it and the deadlines it listed, in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionRecord {
    pub id: Uuid,
    pub member: MemberCode,
    pub year: i32,
    pub seq: u32,
    pub number: String,
    pub attachment_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub clerk: String,
    pub items: Vec<(Uuid, DeadlineKind)>,
}

/// A file attached to a referral by a change, with the history entry it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub referral_id: Uuid,
    pub attachment_id: Uuid,
    pub version: u32,
    /// Its place among the files of the same act.
    pub ordinal: u32,
    pub by: MemberCode,
}

/// A new referral's document number, `seq` of its sender's `year` under `prefix`: the
/// next one when planned; two writers that took the same collide on the store's unique
/// index, and the loser plans again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbering {
    pub referral_id: Uuid,
    pub sender: MemberCode,
    pub year: i32,
    pub seq: u32,
    pub prefix: String,
}

impl Commit {
    /// The referrals the commit writes or tells of, each once, in order.
    pub fn referrals(&self) -> Vec<Uuid> {
        let mut ids = Vec::new();
        let changed = self.changes.iter().map(|c| c.referral.id);
        let updated = self.deadline_updates.iter().map(|u| u.deadline.referral_id);
        let told = self.notices.iter().map(|n| n.referral_id).filter(|id| !id.is_nil());
        let lettered = self.letters.iter().map(|l| l.referral_id);
        for id in changed.chain(updated).chain(told).chain(lettered) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

/// A deadline with the flags of its referral, as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDeadline {
    pub deadline: Deadline,
    pub referral_kind: ReferralKind,
    pub urgent: bool,
    pub green_channel: bool,
    /// The office's 催办 of it, when the reader asked for them.
    pub chased: Option<Chased>,
}

impl Chase {
    /// How the office chased `deadline`, from `chases`; none when it never did.
    pub fn of(chases: &[Chase], deadline: &Deadline) -> Option<Chased> {
        let mut chased = None;
        for c in chases.iter().filter(|c| c.referral_id == deadline.referral_id && c.kind == deadline.kind) {
            let chased: &mut Chased = chased.get_or_insert_with(Chased::default);
            let step = Some((c.times, c.last));
            if c.supervised {
                chased.supervised = step;
            } else {
                chased.reminded = step;
            }
        }
        chased
    }
}

/// A referral awaiting a member's act, as the store finds it: by a deadline of the
/// member's still running (the soonest), by its state (a started referral to conclude, a
/// returned one to re-route) or by the other party's comment, the latest entry (补充材料).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Awaiting {
    pub referral_id: Uuid,
    /// The soonest of the member's running deadlines on it.
    pub due: Option<NaiveDate>,
    pub urgent: bool,
    /// The other party's comment is the latest entry.
    pub reply: bool,
    pub updated_at: DateTime<Utc>,
}

/// Which referrals of a member's to find: the person or case searched for, and when
/// they were submitted.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub search: Option<String>,
    pub submitted: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// A referral's parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parties {
    pub referral_id: Uuid,
    pub sender: MemberCode,
    pub recipient: MemberCode,
}

/// How often the office chased (催办) one deadline of a referral, or listed it in a
/// 督办函 (`supervised`), and the last time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chase {
    pub referral_id: Uuid,
    pub kind: DeadlineKind,
    pub supervised: bool,
    pub times: u32,
    pub last: DateTime<Utc>,
}

/// Which deadlines to list.
#[derive(Debug, Clone, Default)]
pub struct DeadlineQuery {
    /// Only those still waiting for an act ([`Deadline::is_outstanding`]).
    pub outstanding: bool,
    /// Any state when empty.
    pub states: Vec<DeadlineState>,
    /// Only those counted through a year with no loaded schedule.
    pub provisional_only: bool,
    /// Only those whose count runs (none standing still for materials asked for).
    pub running: bool,
    pub responsible: Option<MemberCode>,
    pub kind: Option<DeadlineKind>,
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    /// Only those of the referrals with this case reference (案号).
    pub case_reference: Option<String>,
    pub limit: u32,
}

/// Outstanding deadlines of one kind, as the metrics show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineTally {
    pub kind: DeadlineKind,
    /// Every outstanding one.
    pub open: u64,
    /// Open, with at most one working day left.
    pub due_soon: u64,
    /// Past their due date.
    pub overdue: u64,
}

impl Default for DeadlineTally {
    fn default() -> Self {
        Self { kind: DeadlineKind::Start, open: 0, due_soon: 0, overdue: 0 }
    }
}

/// Who hears of the inbox events other hub processes commit on the same database.
pub trait Announcements: Send + Sync + 'static {
    fn delivered(&self, delivered: &[Delivered]);
    /// Announcements may have been missed (the connection dropped and came back).
    fn lost(&self);
}

/// An inbox position written by a commit, for waking live subscribers, with the event
/// itself when the commit was this process's (another replica's announcement names the
/// position only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub member: MemberCode,
    pub seq: u64,
    pub event: Option<InboxEvent>,
}

/// An event in a member's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEvent {
    pub seq: u64,
    pub event_id: Uuid,
    pub notice: Notice,
}

/// Which referrals of a member to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub sent: bool,
    pub received: bool,
    pub states: Vec<State>,
    pub counterpart: Option<MemberCode>,
    pub case_id: Option<Uuid>,
    /// Submitted from the first instant up to (not including) the second.
    pub submitted: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Continue after this (submitted_at, id), newest first (oldest first when
    /// `oldest_first`).
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub oldest_first: bool,
    pub limit: u32,
    pub opening: Opening,
    /// Only the referrals of the person with this full name or ID number (exact,
    /// through their blind indexes) or with this case reference (案号).
    pub search: Option<String>,
    /// The search looks at the case reference only, not for a person.
    pub by_case_only: bool,
}

/// Which of a referral's sealed fields a read opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Opening {
    /// Every one.
    #[default]
    Whole,
    /// What a list shows: the person's name, ID number and phone, and the conclusion.
    /// The narrative, address, household, reason for advancing, feedback and the notes
    /// of the history stay sealed and read as empty: a ledger of a year opens a third
    /// as much.
    Listed,
}

/// Where a member's inbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InboxPosition {
    pub acked_seq: u64,
    pub head_seq: u64,
}

/// The shipped calendar with every schedule loaded at run time laid over it.
pub async fn load_calendar(store: &dyn Store) -> Result<Calendar, StoreError> {
    let mut calendar = Calendar::shipped();
    for record in store.schedules().await? {
        let schedule = Schedule::from_open_json(&record.schedule)
            .map_err(|e| StoreError::Corrupt(format!("schedule {} v{}: {e}", record.year, record.version)))?;
        calendar = calendar.with(schedule);
    }
    Ok(calendar)
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The recorded answer to `request_id` of `member`, if any.
    async fn recall(&self, member: &MemberCode, request_id: &RequestId) -> Result<Option<RequestRecord>, StoreError>;

    /// Writes a commit in one durable transaction and returns the inbox positions it
    /// filled. Nothing is written on error.
    async fn commit(&self, commit: Commit) -> Result<Vec<Delivered>, StoreError>;

    async fn referral(&self, id: Uuid) -> Result<Option<Referral>, StoreError>;

    /// Referrals `ids` (those that exist), in no particular order.
    async fn referrals(&self, ids: &[Uuid], opening: Opening) -> Result<Vec<Referral>, StoreError>;

    /// The history of referrals `ids`, each oldest first.
    async fn history(&self, ids: &[Uuid], opening: Opening) -> Result<Vec<HistoryEntry>, StoreError>;

    /// Who sent and who received each of `ids`, opening nothing.
    async fn parties(&self, ids: &[Uuid]) -> Result<Vec<Parties>, StoreError>;

    /// The office's 催办 of the deadlines of `ids`: how many of each, and the last when.
    async fn chases(&self, ids: &[Uuid]) -> Result<Vec<Chase>, StoreError>;

    /// The owner of a case.
    async fn case_owner(&self, case_id: Uuid) -> Result<Option<MemberCode>, StoreError>;

    /// Every referral of a case, in the order submitted.
    async fn case_referrals(&self, case_id: Uuid) -> Result<Vec<Referral>, StoreError>;

    /// Referrals `member` sent or received (every member's when none), newest first.
    async fn list(&self, member: Option<&MemberCode>, query: &ListQuery) -> Result<Vec<Referral>, StoreError>;

    /// Up to `limit` inbox events of `member` after `after_seq`, in order.
    async fn inbox(&self, member: &MemberCode, after_seq: u64, limit: u32) -> Result<Vec<InboxEvent>, StoreError>;

    async fn inbox_position(&self, member: &MemberCode) -> Result<InboxPosition, StoreError>;

    /// Every inbox's position.
    async fn inbox_positions(&self) -> Result<Vec<(MemberCode, InboxPosition)>, StoreError>;

    /// Outstanding deadlines by kind: all, those due from `today` to `soon`, those
    /// before `today`.
    async fn deadline_tally(&self, today: NaiveDate, soon: NaiveDate) -> Result<Vec<DeadlineTally>, StoreError>;

    /// The newest checkpoint of the audit chain.
    async fn newest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError>;

    /// Raises the acknowledgement of `member` to `seq` (never lowers it), capped at the
    /// head.
    async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError>;

    /// The deadlines of referrals `referral_ids`, each in the order they fall due.
    async fn deadlines(&self, referral_ids: &[Uuid]) -> Result<Vec<Deadline>, StoreError>;

    /// Deadlines with their referral's flags: urgent clues first, then the green
    /// channel, then by due date.
    async fn list_deadlines(&self, query: &DeadlineQuery) -> Result<Vec<ListedDeadline>, StoreError>;

    /// The open referral to `recipient` about the person with `id_number`, as (id,
    /// sender), found by the blind index without opening anything.
    async fn open_referral(
        &self,
        recipient: &MemberCode,
        id_number: &IdNumber,
    ) -> Result<Option<(Uuid, MemberCode)>, StoreError>;

    /// Seals again, under the active key, up to `limit` referrals and as many request
    /// records sealed under another key (or written before sealing); returns how many
    /// it resealed.
    async fn reseal(&self, limit: u32) -> Result<u64, StoreError>;

    /// Every referral awaiting `member`'s act that `filter` finds, one entry each, in no
    /// particular order.
    async fn awaiting(&self, member: &MemberCode, filter: &Filter) -> Result<Vec<Awaiting>, StoreError>;

    /// Writes the blind index of the name of up to `limit` referrals written without
    /// one; returns how many.
    async fn index_names(&self, limit: u32) -> Result<u64, StoreError>;

    /// How many rows (referrals and request records) each key seals (`None`: written
    /// before sealing).
    async fn key_usage(&self) -> Result<Vec<(Option<String>, u64)>, StoreError>;

    /// Up to `limit` audit entries after `after_seq`, in order.
    async fn audit_log(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// A clerk's password and sign-in record (`holder`: `mz.wangfang`), if one is set.
    async fn credentials(&self, holder: &str) -> Result<Option<Credentials>, StoreError>;

    /// Sets a clerk's password hash (to be changed at the next sign-in when
    /// `must_change`), clearing failures and any lockout.
    async fn set_password(
        &self,
        holder: &str,
        hash: &str,
        must_change: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records wrong passwords in a row, and a lockout.
    async fn set_failures(
        &self,
        holder: &str,
        failures: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;

    async fn start_session(&self, session: &Session) -> Result<(), StoreError>;

    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError>;

    /// Marks a session seen at `at` (never earlier than it was).
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Ends one of `holder`'s sessions, or all of them.
    async fn end_sessions(&self, holder: &str, token_hash: Option<&str>) -> Result<(), StoreError>;

    /// The audit entries that name `referral`, oldest first: its access record.
    async fn audit_of(&self, referral: Uuid) -> Result<Vec<AuditEntry>, StoreError>;

    /// Every checkpoint of the audit chain, oldest first.
    async fn audit_checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError>;

    /// The hashes of subtrees of the audit log's Merkle tree, in order (a leaf from its
    /// entry; larger ones as written with a checkpoint).
    async fn audit_nodes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, StoreError>;

    /// The sequence number and hash (hex) of the newest audit entry.
    async fn audit_head(&self) -> Result<(u64, String), StoreError>;

    /// The newest version of every schedule loaded at run time.
    async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError>;

    /// The follow-up visits of referrals `ids`, each referral's in the order made.
    async fn visits(&self, ids: &[Uuid]) -> Result<Vec<VisitRecord>, StoreError>;

    /// The marks of cases `case_ids` (those marked).
    async fn key_cases(&self, case_ids: &[Uuid]) -> Result<Vec<KeyCase>, StoreError>;

    /// The cases marked within `period`, oldest mark first; only those `party` sent or
    /// received a referral of, if named.
    async fn key_cases_marked(&self, period: &Period, party: Option<&MemberCode>) -> Result<Vec<KeyCase>, StoreError>;

    /// The referrals of cases `case_ids`, without their content.
    async fn case_parties(&self, case_ids: &[Uuid]) -> Result<Vec<CaseReferral>, StoreError>;

    /// The newest version of the directory, if it was ever stored.
    async fn directory(&self) -> Result<Option<Directory>, StoreError>;

    /// Every change to the directory, oldest first.
    async fn directory_history(&self) -> Result<Vec<DirectoryEntry>, StoreError>;

    /// A stored file, its name opened.
    async fn attachment(&self, id: Uuid) -> Result<Option<StoredFile>, StoreError>;

    /// Up to `limit` sealed chunks of file `id` from position `from`, in order.
    async fn chunks(&self, id: Uuid, from: u32, limit: u32) -> Result<Vec<Vec<u8>>, StoreError>;

    /// The files the referrals carry, in the order attached.
    async fn carried(&self, referrals: &[Uuid]) -> Result<Vec<Carried>, StoreError>;

    /// What the figures of `period` count: over every referral, or those `party` sent,
    /// received or (deadlines) answers for; deadlines still open past due on `today`
    /// count as missed.
    async fn figure_counts(
        &self,
        party: Option<&MemberCode>,
        period: &Period,
        today: NaiveDate,
    ) -> Result<Counts, StoreError>;

    /// Outstanding deadlines past due on `today`, by member and kind (of `responsible`
    /// alone, if named).
    async fn overdue(&self, responsible: Option<&MemberCode>, today: NaiveDate) -> Result<Vec<Overdue>, StoreError>;

    /// The document numbers of referrals `referral_ids` (those that have one).
    async fn document_numbers(&self, referral_ids: &[Uuid]) -> Result<Vec<(Uuid, DocumentNumber)>, StoreError>;

    /// The document numbers of `sender` in `year` that are taken — written (the office's,
    /// those of its 督办函 too), or claimed by a process other than `holder` with the
    /// claim still standing at `now` — as the highest and the free ones below it; those
    /// the store's counter handed out above them and nobody claims now count as free.
    async fn document_seqs(
        &self,
        sender: &MemberCode,
        year: i32,
        holder: (&str, DateTime<Utc>),
    ) -> Result<SeqsTaken, StoreError>;

    /// Claims a document number for a process, unless it is written or another
    /// process's standing claim holds it: whether the number is the process's now. The
    /// commit that writes the number drops the claim.
    async fn claim_number(&self, claim: &NumberClaim) -> Result<bool, StoreError>;

    /// Takes the next document number of `claim.sender` in `claim.year` from the
    /// store's counter, at least `claim.seq` (one above the highest its process knows
    /// taken), and claims it for the process, in one statement: the number; none on a
    /// store one process writes, whose own pool is exact and which claims nothing.
    async fn claim_next_number(&self, claim: &NumberClaim) -> Result<Option<u32>, StoreError>;

    /// The letters issued for `referral_ids`, by referral and version.
    async fn letters(&self, referral_ids: &[Uuid]) -> Result<Vec<LetterRecord>, StoreError>;

    /// Requests to extend deadlines of `referral_ids` (any when empty), the one `id`
    /// when given, only those waiting for the office when `asked_only`, the oldest
    /// first; at most `limit`.
    async fn extensions(
        &self,
        of: (&[Uuid], Option<Uuid>),
        asked_only: bool,
        limit: u32,
    ) -> Result<Vec<crate::domain::extension::Extension>, StoreError>;

    /// The 督办函 issued, newest first: to `to` only when given, the one `id` only when
    /// given; at most `limit`.
    async fn supervisions(
        &self,
        to: Option<&MemberCode>,
        id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<SupervisionRecord>, StoreError>;

    /// Files staged before `staged_before`, and files uploaded before
    /// `unattached_before` that nothing carries (no referral, no letter): at most
    /// `limit`, for a [`Discard`].
    async fn doomed_files(
        &self,
        staged_before: DateTime<Utc>,
        unattached_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError>;

    /// Inbox events not yet routed into messages, oldest first per member, at most
    /// `limit` of each member's.
    async fn untold(&self, limit: u32) -> Result<Vec<Untold>, StoreError>;

    /// Queued messages due by `now`, soonest first.
    async fn due_notifications(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Notification>, StoreError>;

    /// Messages newest first (only those given up on, with `failed`), and how many
    /// were given up on in all.
    async fn notifications(&self, failed: bool, limit: u32) -> Result<(Vec<Notification>, u64), StoreError>;

    /// Whether the deadline `kind` of `referral_id` is still open and unmet.
    async fn deadline_open(&self, referral_id: Uuid, kind: DeadlineKind) -> Result<bool, StoreError>;

    /// Until `stopping`, tells `to` of inbox events that other hub processes commit on
    /// the same database.
    async fn listen(&self, to: Arc<dyn Announcements>, stopping: watch::Receiver<bool>) -> Result<(), StoreError>;

    /// Closes the connections, waiting for those in use.
    async fn close(&self);

    /// The inbox epoch: the name of this history of inbox sequence numbers, new after
    /// a restore or a migration.
    fn epoch(&self) -> &str;

    /// The store's own metrics (its write path), for the hub's registry.
    fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>>;
}

/// Opens the store a database URL names: `postgres://…` (or `postgresql://…`), or
/// SQLite (`sqlite://PATH`).
/// `keys` seal and open the person's data.
pub async fn open(url: &str, keys: Arc<Keys>) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(postgres::PgStore::open(url, keys).await?)
    } else {
        Arc::new(sqlite::SqliteStore::open(url, keys).await?)
    };
    // Referrals written before names had a blind index get one, so that a search by
    // name finds them too.
    while store.index_names(500).await? > 0 {}
    Ok(store)
}
