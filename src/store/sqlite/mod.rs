//! The embedded store: SQLite in WAL mode with `synchronous=FULL`, so that a commit
//! that returned survives a crash and a power loss.
//!
//! Commits go through a single connection on a thread of its own (SQLite has one
//! writer at a time anyway, and this spares every transaction a busy wait), and
//! concurrent commits share its transactions (group commit); reads use a small pool of
//! their own and never queue behind the writer; another thread folds the write-ahead
//! log into the database, so that no commit waits for it.

mod checkpointer;
mod readers;
pub mod schema;
mod write;
mod writer;

pub use checkpointer::CHECKPOINTER_THREAD;
pub use writer::WRITER_THREAD;

use std::{
    borrow::Cow,
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use rusqlite::Connection;
use tokio::sync::watch;

use self::{readers::Readers, writer::Writer};
use crate::{
    domain::MemberCode,
    keys::Keys,
    metrics::CommitMetrics,
    store::{
        sealed::SealedCommit,
        sql::{self, Backend, Cells, Query, SqlStore, Value},
        Announcements, Delivered, InboxPosition, StoreError,
    },
};

/// The embedded store.
pub type SqliteStore = SqlStore<SqliteBackend>;

pub struct SqliteBackend {
    path: PathBuf,
    /// One connection for migrations and the rare writes outside commits (resealing),
    /// and to fold the write-ahead log in when the store closes.
    maintenance: Arc<Mutex<Connection>>,
    readers: Readers,
    committer: Writer,
    epoch: String,
    metrics: CommitMetrics,
}

impl SqlStore<SqliteBackend> {
    /// Opens (creating if needed) the database at `url` (`sqlite://PATH` or a path) and
    /// brings its schema up to date.
    pub async fn open(url: &str, keys: Arc<Keys>) -> Result<Self, StoreError> {
        let path = super::backup::sqlite_path(url).map_err(|e| StoreError::Write(e.to_string()))?;
        let (maintenance, epoch) = tokio::task::spawn_blocking({
            let path = path.clone();
            move || -> Result<_, StoreError> {
                let mut connection = schema::open(&path)?;
                schema::migrate(&mut connection)?;
                connection.execute(&numbered(&sql::INSERT_EPOCH.into()), [uuid::Uuid::new_v4().to_string()])?;
                let epoch: String = connection.query_row(sql::SELECT_EPOCH, [], |r| r.get(0))?;
                Ok((connection, epoch))
            }
        })
        .await
        .map_err(|e| StoreError::Write(format!("opening the database: {e}")))??;
        let metrics = CommitMetrics::new();
        let readers = Readers::open(&path, READERS)?;
        let committer = Writer::start(&path, metrics.clone())?;
        let maintenance = Arc::new(Mutex::new(maintenance));
        Ok(SqlStore::new(SqliteBackend { path, maintenance, readers, committer, epoch, metrics }, keys))
    }

    /// The database file, for tools that copy whole tables.
    pub fn path(&self) -> &Path {
        &self.backend().path
    }
}

impl SqliteBackend {
    /// Runs `work` on the maintenance connection, on a blocking thread.
    async fn maintain<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = self.maintenance.clone();
        tokio::task::spawn_blocking(move || work(&connection.lock().unwrap_or_else(PoisonError::into_inner)))
            .await
            .map_err(|e| StoreError::Write(format!("a write stopped: {e}")))?
    }
}

/// Connections that read at once.
const READERS: usize = 4;

/// A parameter as SQLite takes it: text and bytes lent, not copied into a value of
/// SQLite's own first.
struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value as Sql, ValueRef};
        Ok(match self.0 {
            Value::Int(Some(v)) => ToSqlOutput::Owned(Sql::Integer(*v)),
            Value::Int(None) | Value::Text(None) => ToSqlOutput::Owned(Sql::Null),
            Value::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Bool(v) => ToSqlOutput::Owned(Sql::Integer(i64::from(*v))),
            Value::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
        })
    }
}

/// A query's parameters, bound by number.
fn params(query: &Query) -> impl rusqlite::Params + '_ {
    rusqlite::params_from_iter(query.params.iter().map(Param))
}

/// The statement with each `$n` written `?n`: SQLite gives `?n` the number n, so the
/// parameters bind by number, where a `$n` would be looked up by name (a scan of the
/// statement's names for each, quadratic over a page's list of ids). A text the
/// program holds (`'static`) is rewritten once and kept: the writer runs a dozen of
/// them for each submit.
// A `Cow` it is, not a `&str`: whether the text is the program's is what decides.
#[allow(clippy::ptr_arg)]
pub(crate) fn numbered(sql: &Cow<'static, str>) -> Cow<'static, str> {
    static KEPT: Mutex<BTreeMap<(usize, usize), &'static str>> = Mutex::new(BTreeMap::new());
    match sql {
        Cow::Owned(text) => Cow::Owned(rewritten(text)),
        Cow::Borrowed(text) => {
            let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
            let at = (text.as_ptr() as usize, text.len());
            Cow::Borrowed(kept.entry(at).or_insert_with(|| Box::leak(rewritten(text).into_boxed_str())))
        }
    }
}

fn rewritten(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn fetch(&self, query: Query) -> Result<Vec<Cells>, StoreError> {
        self.readers.fetch(query).await
    }

    async fn execute(&self, query: Query) -> Result<u64, StoreError> {
        self.maintain(move |connection| {
            let mut statement = connection.prepare_cached(&numbered(&query.sql))?;
            Ok(statement.execute(params(&query))? as u64)
        })
        .await
    }

    /// One process writes the store (its lock file sees to that): nothing to claim.
    async fn claim(&self, _query: Query, _given_up: Query) -> Result<bool, StoreError> {
        Ok(true)
    }

    async fn take_next(&self, _query: Query) -> Result<Option<u32>, StoreError> {
        Ok(None)
    }

    /// Hands the commit to the writer thread and waits until it is on disk.
    async fn commit(&self, commit: SealedCommit) -> Result<Vec<Delivered>, StoreError> {
        self.committer.commit(commit).await
    }

    /// Acknowledgements are written by the writer thread too.
    async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
        self.committer.ack(member, seq).await
    }

    /// Nothing to relay from other processes.
    async fn relay(&self, _to: Arc<dyn Announcements>, _stopping: watch::Receiver<bool>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Stops the writer, closes the pools, and folds the write-ahead log back into the
    /// database file: a stopped hub leaves one file that holds everything (readers
    /// close first, as a read-only connection cannot fold the log in when it is the
    /// last to close).
    async fn close(&self) {
        self.committer.close().await;
        self.readers.close();
        let folded = self
            .maintain(|connection| Ok(connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?))
            .await;
        if let Err(e) = folded {
            tracing::warn!(error = %e, "folding the write-ahead log into the database");
        }
    }

    fn epoch(&self) -> &str {
        &self.epoch
    }

    fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        self.metrics.collectors()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameters_are_numbered_for_sqlite() {
        let text = "a = $1 AND b IN ($2, $10) AND c = '$x'";
        let rewritten = "a = ?1 AND b IN (?2, ?10) AND c = '$x'";
        assert_eq!(super::numbered(&text.into()), rewritten);
        assert_eq!(super::numbered(&text.into()), rewritten, "kept the first time");
        assert_eq!(super::numbered(&text.to_owned().into()), rewritten);
    }
}
