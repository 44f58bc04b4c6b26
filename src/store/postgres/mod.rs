//! The production store: PostgreSQL, shared by several hub processes.
//!
//! Each commit also announces the inbox positions it filled with `pg_notify`, delivered
//! to every hub when the transaction commits; [`PgStore::relay`] hands them to this
//! process's live subscribers. Rows are numbered and changed under row locks, so that
//! two hubs never both apply a transition, a reminder or an inbox number.

mod write;

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
    PgPool, Postgres, Transaction,
};
use tokio::sync::watch;

use super::{
    sealed::SealedCommit,
    sql::{self, sql_store},
    Announcements, Delivered, StoreError,
};
use crate::{domain::MemberCode, keys::Keys, metrics::CommitMetrics};

/// The channel on which hubs announce new inbox events: `member:seq`.
const CHANNEL: &str = "xianjie_inbox";

pub struct PgStore {
    writer: PgPool,
    reader: PgPool,
    keys: Arc<Keys>,
    epoch: String,
    metrics: CommitMetrics,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date.
    pub async fn open(url: &str, keys: Arc<Keys>) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        sqlx::query(sql::INSERT_EPOCH).bind(uuid::Uuid::new_v4().to_string()).execute(&pool).await?;
        let epoch = sqlx::query_scalar(sql::SELECT_EPOCH).fetch_one(&pool).await?;
        Ok(Self { writer: pool.clone(), reader: pool, keys, epoch, metrics: CommitMetrics::new() })
    }

    /// The connection pool, for tools that copy whole tables.
    pub fn pool(&self) -> &PgPool {
        &self.writer
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.writer.close().await;
    }

    /// Writes a commit in a transaction of its own, and tells every hub listening of the
    /// inbox positions it fills; they hear it when (and only if) it commits. PostgreSQL
    /// groups concurrent commits' flushes itself.
    async fn commit_one(&self, commit: SealedCommit) -> Result<Vec<Delivered>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let delivered = write::commit(&mut tx, &commit).await?;
        announce(&mut tx, &delivered).await?;
        self.metrics.batch_size.observe(1.0);
        let durable = self.metrics.commit_seconds.start_timer();
        tx.commit().await?;
        durable.observe_duration();
        Ok(delivered)
    }

    /// Raises `member`'s acknowledgement to `seq`, capped at its head.
    async fn ack_one(&self, member: &MemberCode, seq: u64) -> Result<super::InboxPosition, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(sql::writes::ACK)
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(member.as_str())
            .fetch_optional(&self.writer)
            .await?;
        Ok(sql::position(row))
    }

    /// Forwards every hub's announcements to `to` until `stopping`. After the
    /// connection drops and comes back, `to` hears that announcements may have been
    /// missed meanwhile.
    async fn relay(&self, to: Arc<dyn Announcements>, mut stopping: watch::Receiver<bool>) -> Result<(), StoreError> {
        let mut listener = PgListener::connect_with(&self.reader).await?;
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
}

async fn announce(tx: &mut Transaction<'_, Postgres>, delivered: &[Delivered]) -> Result<(), StoreError> {
    for d in delivered {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("{}:{}", d.member, d.seq))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn parse(payload: &str) -> Option<Delivered> {
    let (member, seq) = payload.split_once(':')?;
    Some(Delivered { member: MemberCode::parse(member).ok()?, seq: seq.parse().ok()? })
}

sql_store!(PgStore, sqlx::Postgres);
