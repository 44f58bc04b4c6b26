//! The embedded store: SQLite in WAL mode with `synchronous=FULL`, so that a commit
//! that returned survives a crash and a power loss.
//!
//! Writes go through a single connection (SQLite has one writer at a time anyway, and
//! this spares every transaction a busy wait); reads use a small pool of their own.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    QueryBuilder, Sqlite, SqlitePool,
};
use uuid::Uuid;

mod write;

use super::{
    rows::{micros, DeadlineRow, EntryRow, InboxRow, ListedRow, ReferralRow, ScheduleRow, DEADLINE_COLUMNS},
    Commit, DeadlineQuery, Delivered, InboxEvent, InboxPosition, ListQuery, ListedDeadline, RequestRecord,
    ScheduleRecord, Store, StoreError,
};
use crate::domain::{
    deadline::Deadline, lifecycle::HistoryEntry, referral::Referral, request_id::RequestId, MemberCode,
};

const REFERRAL_COLUMNS: &str = "id, case_id, kind, state, sender, recipient, content, submitted_at, \
     updated_at, started_at, conclusion, feedback, closing_reason, version";

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://PATH` or a path) and
    /// brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new().max_connections(4).connect_with(options.read_only(true)).await?;
        Ok(Self { writer, reader })
    }

    /// Closes both pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn recall(&self, member: &MemberCode, request_id: &RequestId) -> Result<Option<RequestRecord>, StoreError> {
        let row: Option<(Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT fingerprint, response FROM requests WHERE member = ? AND request_id = ?")
                .bind(member.as_str())
                .bind(request_id.as_str())
                .fetch_optional(&self.reader)
                .await?;
        Ok(row.map(|(fingerprint, response)| RequestRecord {
            member: member.clone(),
            request_id: request_id.clone(),
            fingerprint,
            response,
        }))
    }

    #[tracing::instrument(skip_all, fields(changes = commit.changes.len()))]
    async fn commit(&self, commit: Commit) -> Result<Vec<Delivered>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let delivered = write::commit(&mut tx, &commit).await?;
        tx.commit().await?;
        Ok(delivered)
    }

    async fn referral(&self, id: Uuid) -> Result<Option<Referral>, StoreError> {
        let row: Option<ReferralRow> =
            sqlx::query_as(&format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = ?"))
                .bind(id.to_string())
                .fetch_optional(&self.reader)
                .await?;
        row.map(Referral::try_from).transpose()
    }

    async fn history(&self, id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT referral_id, version, kind, actor, at, state, note FROM referral_events \
             WHERE referral_id = ? ORDER BY version",
        )
        .bind(id.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(HistoryEntry::try_from).collect()
    }

    async fn case_owner(&self, case_id: Uuid) -> Result<Option<MemberCode>, StoreError> {
        let owner: Option<String> = sqlx::query_scalar("SELECT owner FROM cases WHERE id = ?")
            .bind(case_id.to_string())
            .fetch_optional(&self.reader)
            .await?;
        owner.map(|o| MemberCode::parse(&o).map_err(StoreError::Corrupt)).transpose()
    }

    async fn case_referrals(&self, case_id: Uuid) -> Result<Vec<Referral>, StoreError> {
        let rows: Vec<ReferralRow> = sqlx::query_as(&format!(
            "SELECT {REFERRAL_COLUMNS} FROM referrals WHERE case_id = ? ORDER BY submitted_at, recipient"
        ))
        .bind(case_id.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(Referral::try_from).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn list(&self, member: &MemberCode, query: &ListQuery) -> Result<Vec<Referral>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE ("));
        match (query.sent, query.received) {
            (true, false) => q.push("sender = ").push_bind(member.as_str()),
            (false, true) => q.push("recipient = ").push_bind(member.as_str()),
            _ => q.push("sender = ").push_bind(member.as_str()).push(" OR recipient = ").push_bind(member.as_str()),
        };
        q.push(")");
        if !query.states.is_empty() {
            q.push(" AND state IN (");
            let mut states = q.separated(", ");
            for state in &query.states {
                states.push_bind(state.code());
            }
            q.push(")");
        }
        if let Some(counterpart) = &query.counterpart {
            q.push(" AND (sender = ")
                .push_bind(counterpart.as_str())
                .push(" OR recipient = ")
                .push_bind(counterpart.as_str())
                .push(")");
        }
        if let Some(case_id) = query.case_id {
            q.push(" AND case_id = ").push_bind(case_id.to_string());
        }
        if let Some((at, id)) = query.after {
            q.push(" AND (submitted_at < ")
                .push_bind(micros(at))
                .push(" OR (submitted_at = ")
                .push_bind(micros(at))
                .push(" AND id < ")
                .push_bind(id.to_string())
                .push("))");
        }
        q.push(" ORDER BY submitted_at DESC, id DESC LIMIT ").push_bind(i64::from(query.limit));
        let rows: Vec<ReferralRow> = q.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(Referral::try_from).collect()
    }

    async fn inbox(&self, member: &MemberCode, after_seq: u64, limit: u32) -> Result<Vec<InboxEvent>, StoreError> {
        let rows: Vec<InboxRow> = sqlx::query_as(
            "SELECT member, seq, event_id, kind, referral_id, case_id, referral_kind, state, actor, at, note, \
             urgent, green_channel, deadline_kind, due_on FROM inbox_events WHERE member = ? AND seq > ? \
             ORDER BY seq LIMIT ?",
        )
        .bind(member.as_str())
        .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(InboxEvent::try_from).collect()
    }

    async fn inbox_position(&self, member: &MemberCode) -> Result<InboxPosition, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as("SELECT acked_seq, last_seq FROM inbox_heads WHERE member = ?")
            .bind(member.as_str())
            .fetch_optional(&self.reader)
            .await?;
        Ok(position(row))
    }

    async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE inbox_heads SET acked_seq = MAX(acked_seq, MIN(?, last_seq)) WHERE member = ? \
             RETURNING acked_seq, last_seq",
        )
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .bind(member.as_str())
        .fetch_optional(&self.writer)
        .await?;
        Ok(position(row))
    }

    async fn deadlines(&self, referral_id: Uuid) -> Result<Vec<Deadline>, StoreError> {
        let rows: Vec<DeadlineRow> =
            sqlx::query_as(&format!("SELECT {DEADLINE_COLUMNS} FROM deadlines WHERE referral_id = ? ORDER BY due_on"))
                .bind(referral_id.to_string())
                .fetch_all(&self.reader)
                .await?;
        rows.into_iter().map(Deadline::try_from).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn list_deadlines(&self, query: &DeadlineQuery) -> Result<Vec<ListedDeadline>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT d.referral_id, d.kind, d.case_id, d.responsible, d.runs_from, d.due_on, d.provisional, d.state, \
             d.met_on, d.reminded, r.kind AS referral_kind, r.urgent, r.green_channel \
             FROM deadlines d JOIN referrals r ON r.id = d.referral_id WHERE 1 = 1",
        );
        if !query.states.is_empty() {
            q.push(" AND d.state IN (");
            let mut states = q.separated(", ");
            for state in &query.states {
                states.push_bind(state.code());
            }
            q.push(")");
        }
        if let Some(responsible) = &query.responsible {
            q.push(" AND d.responsible = ").push_bind(responsible.as_str());
        }
        if let Some(kind) = query.kind {
            q.push(" AND d.kind = ").push_bind(kind.code());
        }
        if let Some(from) = query.due_from {
            q.push(" AND d.due_on >= ").push_bind(from.to_string());
        }
        if let Some(to) = query.due_to {
            q.push(" AND d.due_on <= ").push_bind(to.to_string());
        }
        q.push(" ORDER BY r.green_channel DESC, d.due_on, d.referral_id, d.kind LIMIT ")
            .push_bind(i64::from(query.limit));
        let rows: Vec<ListedRow> = q.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(ListedDeadline::try_from).collect()
    }

    async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        let rows: Vec<ScheduleRow> = sqlx::query_as(
            "SELECT year, version, schedule, source, loaded_by, loaded_at FROM calendar_schedules s \
             WHERE version = (SELECT MAX(version) FROM calendar_schedules WHERE year = s.year) ORDER BY year",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(ScheduleRecord::try_from).collect()
    }
}

fn position(row: Option<(i64, i64)>) -> InboxPosition {
    let (acked, head) = row.unwrap_or_default();
    InboxPosition { acked_seq: acked.max(0) as u64, head_seq: head.max(0) as u64 }
}
