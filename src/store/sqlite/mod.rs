//! The embedded store: SQLite in WAL mode with `synchronous=FULL`, so that a commit
//! that returned survives a crash and a power loss.
//!
//! Commits go through a single connection on a thread of its own (SQLite has one
//! writer at a time anyway, and this spares every transaction a busy wait), and
//! concurrent commits share its transactions (group commit); reads use a small pool of
//! their own and never queue behind the writer.

mod writer;

use std::{str::FromStr, time::Duration};

use std::sync::Arc;

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};
use tokio::sync::watch;

use self::writer::Writer;
use crate::domain::MemberCode;
use crate::keys::Keys;
use crate::metrics::CommitMetrics;
use crate::store::{
    sealed::SealedCommit,
    sql::{self, sql_store},
    Announcements, Delivered, InboxPosition, StoreError,
};

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    committer: Writer,
    keys: Arc<Keys>,
    epoch: String,
    metrics: CommitMetrics,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://PATH` or a path) and
    /// brings its schema up to date.
    pub async fn open(url: &str, keys: Arc<Keys>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        sqlx::query(sql::INSERT_EPOCH).bind(uuid::Uuid::new_v4().to_string()).execute(&writer).await?;
        let epoch = sqlx::query_scalar(sql::SELECT_EPOCH).fetch_one(&writer).await?;
        let reader = SqlitePoolOptions::new().max_connections(4).connect_with(options.read_only(true)).await?;
        let metrics = CommitMetrics::new();
        let path = super::backup::sqlite_path(url).map_err(|e| StoreError::Sqlite(e.to_string()))?;
        let committer = Writer::start(&path, metrics.clone())?;
        Ok(Self { writer, reader, committer, keys, epoch, metrics })
    }

    /// The connection pool, for tools that copy whole tables.
    pub fn pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// Closes both pools, waiting for connections in use to be returned, and folds
    /// the write-ahead log back into the database file first: a stopped hub leaves one
    /// file that holds everything (readers close first, as a read-only connection
    /// cannot fold the log in when it is the last to close).
    pub async fn close(&self) {
        self.committer.close().await;
        self.reader.close().await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.writer).await {
            tracing::warn!(error = %e, "folding the write-ahead log into the database");
        }
        self.writer.close().await;
    }

    /// Hands the commit to the writer thread and waits until it is on disk.
    async fn commit_one(&self, commit: SealedCommit) -> Result<Vec<Delivered>, StoreError> {
        self.committer.commit(commit).await
    }

    /// Acknowledgements are written by the writer thread too.
    async fn ack_one(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
        self.committer.ack(member, seq).await
    }

    /// Nothing to relay from other processes.
    async fn relay(&self, _to: Arc<dyn Announcements>, _stopping: watch::Receiver<bool>) -> Result<(), StoreError> {
        Ok(())
    }
}

sql_store!(SqliteStore, sqlx::Sqlite);
