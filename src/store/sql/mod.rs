//! The SQL both backends share, as plain Rust: every statement's text once, and
//! [`SqlStore`], which implements [`Store`] over a [`Backend`] — the small part that
//! truly differs between SQLite and PostgreSQL: running a [`Query`] on the readers,
//! writing a commit durably, acknowledging, relaying other replicas' announcements and
//! closing.
//!
//! The reads live by concern: [`referrals`], [`inbox`], [`deadlines`], [`audit`],
//! [`reseal`] and [`calendar`].

pub mod audit;
mod calendar;
mod deadlines;
mod directory;
pub mod extensions;
mod figures;
mod inbox;
mod key_cases;
pub mod materials;
pub mod notifications;
pub mod query;
mod referrals;
mod reseal;
mod sign_in;
pub mod statement;
pub mod supervisions;
mod visits;
pub mod writes;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::watch;
use uuid::Uuid;

pub use query::{Cell, Cells, Query, Value};

use super::{
    sealed::SealedCommit, Announcements, Awaiting, CaseReferral, Chase, Commit, DeadlineQuery, DeadlineTally,
    Delivered, Filter, InboxEvent, InboxPosition, ListQuery, ListedDeadline, NumberClaim, Opening, Parties,
    RequestRecord, ScheduleRecord, Session, Store, StoreError, StoredFile,
};
use crate::{
    domain::{
        audit::{AuditEntry, Checkpoint},
        deadline::Deadline,
        directory::{Directory, DirectoryEntry},
        figures::{Counts, Overdue},
        history::HistoryEntry,
        key_case::KeyCase,
        letter::DocumentNumber,
        material::Carried,
        period::Period,
        person::IdNumber,
        referral::Referral,
        request_id::RequestId,
        sign_in::Credentials,
        visit::VisitRecord,
        MemberCode,
    },
    keys::Keys,
};

/// Makes the store's inbox epoch on first open; an existing one stays.
pub const INSERT_EPOCH: &str = "INSERT INTO hub_meta (id, epoch) VALUES (1, $1) ON CONFLICT (id) DO NOTHING";
/// Replaces the inbox epoch (a restore).
pub const NEW_EPOCH: &str = "UPDATE hub_meta SET epoch = $1 WHERE id = 1";
/// The inbox epoch.
pub const SELECT_EPOCH: &str = "SELECT epoch FROM hub_meta WHERE id = 1";

/// What differs between the backends.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Runs a read on the readers' connections.
    async fn fetch(&self, query: Query) -> Result<Vec<Cells>, StoreError>;

    /// Runs one statement that writes outside a commit (resealing), returning the rows
    /// it changed.
    async fn execute(&self, query: Query) -> Result<u64, StoreError>;

    /// Writes a sealed commit durably, returning the inbox positions it filled.
    async fn commit(&self, commit: SealedCommit) -> Result<Vec<Delivered>, StoreError>;

    /// Raises `member`'s acknowledgement to `seq`, capped at its head.
    async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError>;

    /// Until `stopping`, tells `to` of inbox events other hub processes commit.
    async fn relay(&self, to: Arc<dyn Announcements>, stopping: watch::Receiver<bool>) -> Result<(), StoreError>;

    async fn close(&self);

    /// Runs a claim (see [`SqlStore::claim_number`]): a write that needs no flush to
    /// disk of its own, since a claim lost in a crash leaves only a number another
    /// process may take as well, which the commits' unique key then refuses to one of
    /// them; whether it changed a row and, when it did, `given_up` (run next) changed
    /// none. A store written by one process alone (SQLite's, which its lock file
    /// ensures) runs neither and answers yes: that process's own pool is exact.
    async fn claim(&self, query: Query, given_up: Query) -> Result<bool, StoreError>;

    /// Runs a take from a counter of document numbers with its claim (see
    /// [`SqlStore::claim_next_number`]), with no flush of its own as a claim: the number
    /// it returns. A store written by one process alone runs nothing and returns none.
    async fn take_next(&self, query: Query) -> Result<Option<u32>, StoreError>;

    fn epoch(&self) -> &str;

    fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>>;
}

/// The store over a backend, with the keys that seal and open the person's data.
pub struct SqlStore<B> {
    backend: B,
    keys: Arc<Keys>,
}

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B, keys: Arc<Keys>) -> Self {
        Self { backend, keys }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The rows of a read.
    async fn fetch(&self, query: Query) -> Result<Vec<Cells>, StoreError> {
        self.backend.fetch(query).await
    }

    /// The first row of a read, if any.
    async fn fetch_one(&self, query: Query) -> Result<Option<Cells>, StoreError> {
        Ok(self.backend.fetch(query).await?.into_iter().next())
    }
}

/// A query's parameters, for sqlx on either backend.
pub fn arguments<'q, DB>(query: &Query) -> Result<<DB as sqlx::Database>::Arguments<'q>, StoreError>
where
    DB: sqlx::Database,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use sqlx::Arguments;
    let mut arguments = <DB as sqlx::Database>::Arguments::default();
    for value in &query.params {
        let added = match value.clone() {
            Value::Int(v) => arguments.add(v),
            Value::Text(v) => arguments.add(v),
            Value::Bool(v) => arguments.add(v),
            Value::Bytes(v) => arguments.add(v),
        };
        added.map_err(|e| StoreError::Corrupt(format!("a parameter: {e}")))?;
    }
    Ok(arguments)
}

/// `(acked_seq, last_seq)` of an inbox as a position.
pub fn position(row: Option<(i64, i64)>) -> InboxPosition {
    let (acked, head) = row.unwrap_or_default();
    InboxPosition { acked_seq: acked.max(0) as u64, head_seq: head.max(0) as u64 }
}

/// A count or sequence number as a parameter.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn recall(&self, member: &MemberCode, request_id: &RequestId) -> Result<Option<RequestRecord>, StoreError> {
        self.recall(member, request_id).await
    }

    #[tracing::instrument(skip_all, fields(changes = commit.changes.len()))]
    async fn commit(&self, commit: Commit) -> Result<Vec<Delivered>, StoreError> {
        // A transition writes only the free text an act sets; a row still under an
        // older key (before `keys reseal` reached it) is written whole instead.
        let again = commit.changes.iter().any(|c| c.expected_version.is_some()).then(|| commit.clone());
        match self.backend.commit(SealedCommit::new(commit, &self.keys, false)?).await {
            Err(StoreError::StaleKey) => match again {
                Some(commit) => self.backend.commit(SealedCommit::new(commit, &self.keys, true)?).await,
                None => Err(StoreError::StaleKey),
            },
            written => written,
        }
    }

    async fn referral(&self, id: Uuid) -> Result<Option<Referral>, StoreError> {
        self.referral(id).await
    }

    async fn referrals(&self, ids: &[Uuid], opening: Opening) -> Result<Vec<Referral>, StoreError> {
        self.referrals(ids, opening).await
    }

    async fn history(&self, ids: &[Uuid], opening: Opening) -> Result<Vec<HistoryEntry>, StoreError> {
        self.history(ids, opening).await
    }

    async fn case_owner(&self, case_id: Uuid) -> Result<Option<MemberCode>, StoreError> {
        self.case_owner(case_id).await
    }

    async fn case_referrals(&self, case_id: Uuid) -> Result<Vec<Referral>, StoreError> {
        self.case_referrals(case_id).await
    }

    async fn list(&self, member: Option<&MemberCode>, query: &ListQuery) -> Result<Vec<Referral>, StoreError> {
        self.list(member, query).await
    }

    async fn inbox(&self, member: &MemberCode, after_seq: u64, limit: u32) -> Result<Vec<InboxEvent>, StoreError> {
        self.inbox(member, after_seq, limit).await
    }

    async fn inbox_position(&self, member: &MemberCode) -> Result<InboxPosition, StoreError> {
        self.inbox_position(member).await
    }

    async fn inbox_positions(&self) -> Result<Vec<(MemberCode, InboxPosition)>, StoreError> {
        self.inbox_positions().await
    }

    async fn deadline_tally(&self, today: NaiveDate, soon: NaiveDate) -> Result<Vec<DeadlineTally>, StoreError> {
        self.deadline_tally(today, soon).await
    }

    async fn newest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.newest_checkpoint().await
    }

    async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
        self.backend.ack(member, seq).await
    }

    async fn deadlines(&self, referral_ids: &[Uuid]) -> Result<Vec<Deadline>, StoreError> {
        self.deadlines(referral_ids).await
    }

    async fn list_deadlines(&self, query: &DeadlineQuery) -> Result<Vec<ListedDeadline>, StoreError> {
        self.list_deadlines(query).await
    }

    async fn open_referral(
        &self,
        recipient: &MemberCode,
        id_number: &IdNumber,
    ) -> Result<Option<(Uuid, MemberCode)>, StoreError> {
        self.open_referral(recipient, id_number).await
    }

    async fn reseal(&self, limit: u32) -> Result<u64, StoreError> {
        self.reseal(limit).await
    }

    async fn parties(&self, ids: &[Uuid]) -> Result<Vec<Parties>, StoreError> {
        self.parties(ids).await
    }

    async fn chases(&self, ids: &[Uuid]) -> Result<Vec<Chase>, StoreError> {
        self.chases(ids).await
    }

    async fn awaiting(&self, member: &MemberCode, filter: &Filter) -> Result<Vec<Awaiting>, StoreError> {
        self.awaiting(member, filter).await
    }

    async fn index_names(&self, limit: u32) -> Result<u64, StoreError> {
        self.index_names(limit).await
    }

    async fn key_usage(&self) -> Result<Vec<(Option<String>, u64)>, StoreError> {
        self.key_usage().await
    }

    async fn audit_log(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_log(after_seq, limit).await
    }

    async fn audit_of(&self, referral: Uuid) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_of(referral).await
    }

    async fn credentials(&self, holder: &str) -> Result<Option<Credentials>, StoreError> {
        self.credentials(holder).await
    }

    async fn set_password(
        &self,
        holder: &str,
        hash: &str,
        must_change: bool,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.set_password(holder, hash, must_change, at).await
    }

    async fn set_failures(
        &self,
        holder: &str,
        failures: u32,
        locked_until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), StoreError> {
        self.set_failures(holder, failures, locked_until).await
    }

    async fn start_session(&self, session: &Session) -> Result<(), StoreError> {
        self.start_session(session).await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        self.session(token_hash).await
    }

    async fn touch_session(&self, token_hash: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        self.touch_session(token_hash, at).await
    }

    async fn end_sessions(&self, holder: &str, token_hash: Option<&str>) -> Result<(), StoreError> {
        self.end_sessions(holder, token_hash).await
    }

    async fn audit_checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        self.audit_checkpoints().await
    }

    async fn audit_nodes(
        &self,
        subtrees: &[crate::domain::merkle::Subtree],
    ) -> Result<Vec<crate::domain::audit::Hash>, StoreError> {
        self.audit_nodes(subtrees).await
    }

    async fn audit_head(&self) -> Result<(u64, String), StoreError> {
        self.audit_head().await
    }

    async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        self.schedules().await
    }

    async fn visits(&self, ids: &[Uuid]) -> Result<Vec<VisitRecord>, StoreError> {
        self.visits(ids).await
    }

    async fn key_cases(&self, case_ids: &[Uuid]) -> Result<Vec<KeyCase>, StoreError> {
        self.key_cases(case_ids).await
    }

    async fn key_cases_marked(&self, period: &Period, party: Option<&MemberCode>) -> Result<Vec<KeyCase>, StoreError> {
        self.key_cases_marked(period, party).await
    }

    async fn case_parties(&self, case_ids: &[Uuid]) -> Result<Vec<CaseReferral>, StoreError> {
        self.case_parties(case_ids).await
    }

    async fn directory(&self) -> Result<Option<Directory>, StoreError> {
        self.directory().await
    }

    async fn directory_history(&self) -> Result<Vec<DirectoryEntry>, StoreError> {
        self.directory_history().await
    }

    async fn attachment(&self, id: Uuid) -> Result<Option<StoredFile>, StoreError> {
        self.attachment(id).await
    }

    async fn chunks(&self, id: Uuid, from: u32, limit: u32) -> Result<Vec<Vec<u8>>, StoreError> {
        self.chunks(id, from, limit).await
    }

    async fn carried(&self, referrals: &[Uuid]) -> Result<Vec<Carried>, StoreError> {
        self.carried(referrals).await
    }

    async fn figure_counts(
        &self,
        party: Option<&MemberCode>,
        period: &Period,
        today: NaiveDate,
    ) -> Result<Counts, StoreError> {
        self.figure_counts(party, period, today).await
    }

    async fn overdue(&self, responsible: Option<&MemberCode>, today: NaiveDate) -> Result<Vec<Overdue>, StoreError> {
        self.overdue(responsible, today).await
    }

    async fn document_numbers(&self, referral_ids: &[Uuid]) -> Result<Vec<(Uuid, DocumentNumber)>, StoreError> {
        self.document_numbers(referral_ids).await
    }

    async fn document_seqs(
        &self,
        sender: &MemberCode,
        year: i32,
        holder: (&str, DateTime<Utc>),
    ) -> Result<super::SeqsTaken, StoreError> {
        self.document_seqs(sender, year, holder).await
    }

    async fn claim_number(&self, claim: &NumberClaim) -> Result<bool, StoreError> {
        self.claim_number(claim).await
    }

    async fn claim_next_number(&self, claim: &NumberClaim) -> Result<Option<u32>, StoreError> {
        self.claim_next_number(claim).await
    }

    async fn letters(&self, referral_ids: &[Uuid]) -> Result<Vec<crate::store::LetterRecord>, StoreError> {
        self.letters(referral_ids).await
    }

    async fn extensions(
        &self,
        of: (&[Uuid], Option<Uuid>),
        asked_only: bool,
        limit: u32,
    ) -> Result<Vec<crate::domain::extension::Extension>, StoreError> {
        self.extensions(of, asked_only, limit).await
    }

    async fn supervisions(
        &self,
        to: Option<&MemberCode>,
        id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<crate::store::SupervisionRecord>, StoreError> {
        self.supervisions(to, id, limit).await
    }

    async fn doomed_files(
        &self,
        staged_before: chrono::DateTime<chrono::Utc>,
        unattached_before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.doomed_files(staged_before, unattached_before, limit).await
    }

    async fn untold(&self, limit: u32) -> Result<Vec<super::Untold>, StoreError> {
        self.untold(limit).await
    }

    async fn due_notifications(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<super::Notification>, StoreError> {
        self.due_notifications(now, limit).await
    }

    async fn notifications(&self, failed: bool, limit: u32) -> Result<(Vec<super::Notification>, u64), StoreError> {
        self.notifications(failed, limit).await
    }

    async fn deadline_open(
        &self,
        referral_id: Uuid,
        kind: crate::domain::deadline::DeadlineKind,
    ) -> Result<bool, StoreError> {
        self.deadline_open(referral_id, kind).await
    }

    async fn listen(&self, to: Arc<dyn Announcements>, stopping: watch::Receiver<bool>) -> Result<(), StoreError> {
        self.backend.relay(to, stopping).await
    }

    async fn close(&self) {
        self.backend.close().await
    }

    fn epoch(&self) -> &str {
        self.backend.epoch()
    }

    fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        self.backend.collectors()
    }
}
