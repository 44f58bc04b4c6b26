//! The production store: PostgreSQL, shared by several hub processes.
//!
//! Each commit also announces the inbox positions it filled with `pg_notify`, delivered
//! to every hub when the transaction commits; the relay hands them to this process's
//! live subscribers. Rows are numbered and changed under row locks, so that two hubs
//! never both apply a transition, a reminder or an inbox number.

mod group_commit;
mod rows;
mod write;

use std::{str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use sqlx::{
    postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow},
    Column, PgPool, Postgres, Row, Transaction, TypeInfo, ValueRef,
};
use tokio::sync::watch;

use super::{
    sealed::SealedCommit,
    sql::{self, query::Names, Backend, Cell, Cells, Query, SqlStore},
    Announcements, Delivered, InboxPosition, StoreError,
};
use crate::{domain::MemberCode, keys::Keys, metrics::CommitMetrics};

/// The channel on which hubs announce new inbox events: `member:seq`.
const CHANNEL: &str = "xianjie_inbox";

/// The production store.
pub type PgStore = SqlStore<PgBackend>;

pub struct PgBackend {
    pool: PgPool,
    /// Connections for claims on document numbers, with `synchronous_commit` off.
    claims: PgPool,
    epoch: String,
    metrics: CommitMetrics,
    committer: group_commit::GroupCommitter,
}

impl SqlStore<PgBackend> {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date.
    pub async fn open(url: &str, keys: Arc<Keys>) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let claims = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(options.options([("synchronous_commit", "off")]));
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        sqlx::query(sql::INSERT_EPOCH).bind(uuid::Uuid::new_v4().to_string()).execute(&pool).await?;
        let epoch = sqlx::query_scalar(sql::SELECT_EPOCH).fetch_one(&pool).await?;
        let exit_after = std::env::var(super::EXIT_AFTER_COMMIT_OF).ok();
        let metrics = CommitMetrics::new();
        let committer = group_commit::GroupCommitter::start(pool.clone(), metrics.clone(), exit_after);
        Ok(SqlStore::new(PgBackend { pool, claims, epoch, metrics, committer }, keys))
    }

    /// The connection pool, for tools that copy whole tables.
    pub fn pool(&self) -> &PgPool {
        &self.backend().pool
    }
}

/// The names of a row's columns.
fn names(row: &PgRow) -> Names {
    row.columns().iter().map(|c| Box::from(c.name())).collect()
}

/// A row's cells, by each column's type.
fn cells(row: &PgRow, names: &Names) -> Result<Cells, StoreError> {
    let mut cells = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i)?;
        let cell = if raw.is_null() {
            Cell::Null
        } else {
            match raw.type_info().name() {
                "INT8" => Cell::Int(row.try_get(i)?),
                "INT4" => Cell::Int(i64::from(row.try_get::<i32, _>(i)?)),
                "INT2" => Cell::Int(i64::from(row.try_get::<i16, _>(i)?)),
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => Cell::Text(row.try_get(i)?),
                "BYTEA" => Cell::Bytes(row.try_get(i)?),
                "BOOL" => Cell::Bool(row.try_get(i)?),
                other => return Err(StoreError::Corrupt(format!("a column of type {other}"))),
            }
        };
        cells.push(cell);
    }
    Ok(Cells::new(names.clone(), cells))
}

#[async_trait]
impl Backend for PgBackend {
    async fn fetch(&self, query: Query) -> Result<Vec<Cells>, StoreError> {
        let rows = sqlx::query_with::<Postgres, _>(&query.sql, sql::arguments::<Postgres>(&query)?)
            .fetch_all(&self.pool)
            .await?;
        let Some(first) = rows.first() else { return Ok(Vec::new()) };
        let names = names(first);
        rows.iter().map(|row| cells(row, &names)).collect()
    }

    async fn execute(&self, query: Query) -> Result<u64, StoreError> {
        let done = sqlx::query_with::<Postgres, _>(&query.sql, sql::arguments::<Postgres>(&query)?)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// On connections of their own that do not wait for the log's flush.
    async fn claim(&self, query: Query, given_up: Query) -> Result<bool, StoreError> {
        let run = |query: Query| async move {
            let arguments = sql::arguments::<Postgres>(&query)?;
            let done = sqlx::query_with::<Postgres, _>(&query.sql, arguments).execute(&self.claims).await?;
            Ok::<_, StoreError>(done.rows_affected() == 1)
        };
        Ok(run(query).await? && !run(given_up).await?)
    }

    async fn take_next(&self, query: Query) -> Result<Option<u32>, StoreError> {
        let arguments = sql::arguments::<Postgres>(&query)?;
        let seq: i64 = sqlx::query_scalar_with(&query.sql, arguments).fetch_one(&self.claims).await?;
        let seq = u32::try_from(seq).map_err(|_| StoreError::Corrupt("a document number out of range".into()))?;
        Ok(Some(seq))
    }

    /// Hands the commit to the group committer, which tells every hub listening of the
    /// inbox positions it fills (they hear it when, and only if, it commits), and waits
    /// until it is on disk.
    async fn commit(&self, commit: SealedCommit) -> Result<Vec<Delivered>, StoreError> {
        self.committer.commit(commit).await
    }

    async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(sql::writes::ACK)
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(member.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(sql::position(row))
    }

    /// Forwards every hub's announcements to `to` until `stopping`. After the
    /// connection drops and comes back, `to` hears that announcements may have been
    /// missed meanwhile.
    async fn relay(&self, to: Arc<dyn Announcements>, mut stopping: watch::Receiver<bool>) -> Result<(), StoreError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        loop {
            let received = tokio::select! {
                received = listener.try_recv() => received,
                _ = stopping.wait_for(|stop| *stop) => return Ok(()),
            };
            match received {
                Ok(Some(notification)) => match parse(notification.payload()) {
                    Some(delivered) => to.delivered(&[delivered]),
                    None => tracing::warn!(payload = notification.payload(), "unreadable inbox announcement"),
                },
                Ok(None) => {
                    tracing::warn!("announcement connection was lost and is back; waking every subscriber");
                    to.lost();
                }
                Err(e) => {
                    tracing::error!(error = %e, "listening for announcements");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    async fn close(&self) {
        self.claims.close().await;
        self.pool.close().await;
    }

    fn epoch(&self) -> &str {
        &self.epoch
    }

    fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        self.metrics.collectors()
    }
}

/// Tells every hub listening of inbox positions, when the transaction commits: one
/// statement for all of them.
async fn announce(tx: &mut Transaction<'_, Postgres>, delivered: &[Delivered]) -> Result<(), StoreError> {
    if delivered.is_empty() {
        return Ok(());
    }
    let payloads: Vec<String> = delivered.iter().map(|d| format!("{}:{}", d.member, d.seq)).collect();
    sqlx::query("SELECT pg_notify($1, payload) FROM UNNEST($2::text[]) WITH ORDINALITY AS p (payload, n) ORDER BY n")
        .bind(CHANNEL)
        .bind(payloads)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn parse(payload: &str) -> Option<Delivered> {
    let (member, seq) = payload.split_once(':')?;
    Some(Delivered { member: MemberCode::parse(member).ok()?, seq: seq.parse().ok()?, event: None })
}
