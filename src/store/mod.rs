//! Storage: one trait, [`Store`], that the API writes through and reads from, and its
//! implementations. Everything one request changes is written in one durable commit.
//!
//! The store knows referrals, history entries, notices and request records; it does
//! not know protobuf, and it applies no domain rules beyond optimistic versioning.

mod rows;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{
    lifecycle::{HistoryEntry, Notice},
    referral::{Referral, State},
    request_id::RequestId,
    MemberCode,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The referral changed since it was read (another request won the race).
    #[error("the referral was changed concurrently")]
    Conflict,
    /// The request id was recorded by a concurrent request.
    #[error("the request id is already recorded")]
    DuplicateRequest,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value that does not parse: the database was changed outside the hub.
    #[error("corrupt row: {0}")]
    Corrupt(String),
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

/// One referral written by a commit.
#[derive(Debug, Clone)]
pub struct Change {
    /// `None` inserts a new referral; `Some(v)` updates it only if it is still at `v`.
    pub expected_version: Option<u32>,
    pub referral: Referral,
    pub entries: Vec<HistoryEntry>,
    pub notices: Vec<Notice>,
}

/// Everything one request writes, atomically and durably.
#[derive(Debug, Clone)]
pub struct Commit {
    pub request: RequestRecord,
    /// A case opened by this request: its id and owner.
    pub new_case: Option<(Uuid, MemberCode)>,
    pub changes: Vec<Change>,
    pub at: DateTime<Utc>,
}

/// An inbox position written by a commit, for waking live subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub member: MemberCode,
    pub seq: u64,
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
    /// Continue after this (submitted_at, id), newest first.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u32,
}

/// Where a member's inbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InboxPosition {
    pub acked_seq: u64,
    pub head_seq: u64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The recorded answer to `request_id` of `member`, if any.
    async fn recall(&self, member: &MemberCode, request_id: &RequestId) -> Result<Option<RequestRecord>, StoreError>;

    /// Writes a commit in one durable transaction and returns the inbox positions it
    /// filled. Nothing is written on error.
    async fn commit(&self, commit: Commit) -> Result<Vec<Delivered>, StoreError>;

    async fn referral(&self, id: Uuid) -> Result<Option<Referral>, StoreError>;

    /// The history of a referral, oldest first.
    async fn history(&self, id: Uuid) -> Result<Vec<HistoryEntry>, StoreError>;

    /// The owner of a case.
    async fn case_owner(&self, case_id: Uuid) -> Result<Option<MemberCode>, StoreError>;

    /// Every referral of a case, in the order submitted.
    async fn case_referrals(&self, case_id: Uuid) -> Result<Vec<Referral>, StoreError>;

    /// Referrals `member` sent or received, newest first.
    async fn list(&self, member: &MemberCode, query: &ListQuery) -> Result<Vec<Referral>, StoreError>;

    /// Up to `limit` inbox events of `member` after `after_seq`, in order.
    async fn inbox(&self, member: &MemberCode, after_seq: u64, limit: u32) -> Result<Vec<InboxEvent>, StoreError>;

    async fn inbox_position(&self, member: &MemberCode) -> Result<InboxPosition, StoreError>;

    /// Raises the acknowledgement of `member` to `seq` (never lowers it), capped at the
    /// head.
    async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError>;
}
