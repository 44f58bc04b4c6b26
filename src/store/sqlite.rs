//! The embedded store: SQLite in WAL mode with `synchronous=FULL`, so that a commit
//! that returned survives a crash and a power loss.
//!
//! Writes go through a single connection (SQLite has one writer at a time anyway, and
//! this spares every transaction a busy wait); reads use a small pool of their own.

use std::{str::FromStr, time::Duration};

use std::sync::Arc;

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    Sqlite, SqlitePool, Transaction,
};
use tokio::sync::watch;

use super::{sql::sql_store, Delivered, StoreError};
use crate::delivery::Notifier;

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

    /// The connection pool, for tools that copy whole tables.
    pub fn pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// Closes both pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// One process owns an SQLite database: its own notifier hears every commit.
    async fn announce(&self, _tx: &mut Transaction<'_, Sqlite>, _delivered: &[Delivered]) -> Result<(), StoreError> {
        Ok(())
    }

    /// Nothing to relay from other processes.
    async fn relay(&self, _notifier: Arc<Notifier>, _stopping: watch::Receiver<bool>) -> Result<(), StoreError> {
        Ok(())
    }
}

sql_store!(SqliteStore, sqlx::Sqlite);
