//! Backups of the embedded store and restoring them, and the inbox epoch that tells
//! members a restore happened.
//!
//! A backup is SQLite's `VACUUM INTO`: one consistent snapshot taken in a read
//! transaction, so it may run while the hub serves. A restore puts a checked copy in
//! place of the database (keeping the one it replaces beside it) and gives the store a
//! new inbox epoch: inbox numbers after the backup are numbered again, and a member
//! whose cursor is from the old epoch is told so instead of skipping events.
//! PostgreSQL is backed up with `pg_dump`; after `pg_restore`, [`mark_restored`] gives
//! it its new epoch.

use std::{
    fs::File,
    path::{Path, PathBuf},
};

use rusqlite::Connection;
use uuid::Uuid;

use super::{
    sqlite::{numbered, schema},
    StoreError,
};

/// What a backup or restore found in the copy it made or checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub referrals: i64,
    pub inbox_events: i64,
    pub audit_entries: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("migrating the restored database: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} already exists; name a new file", .0.display())]
    Exists(PathBuf),
    #[error("{} is not a xianjie database: {why}", path.display())]
    NotABackup { path: PathBuf, why: String },
    #[error("a hub is running on {}; stop it first", .0.display())]
    HubRunning(PathBuf),
    #[error("backup and restore of this kind work on the embedded SQLite store; for PostgreSQL use pg_dump and pg_restore, then `xianjie restore --mark-restored`")]
    NotSqlite,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.to_owned(), source }
}

/// The file a `sqlite://PATH` URL (or a bare path) names.
pub fn sqlite_path(url: &str) -> Result<PathBuf, BackupError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(BackupError::NotSqlite);
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    Ok(PathBuf::from(path.split('?').next().unwrap_or(path)))
}

/// Checks that `path` is an intact xianjie database and counts what it holds.
async fn inspect(path: &Path) -> Result<Snapshot, BackupError> {
    let not_a_backup = |why: String| BackupError::NotABackup { path: path.to_owned(), why };
    let db = schema::open_read_only(path).map_err(|e| not_a_backup(e.to_string()))?;
    let check: String =
        db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| not_a_backup(e.to_string()))?;
    if check != "ok" {
        return Err(not_a_backup(format!("integrity check: {check}")));
    }
    let count = |table: &'static str| format!("SELECT COUNT(*) FROM {table}");
    let mut counts = Vec::new();
    for table in ["referrals", "inbox_events", "audit_log"] {
        let rows: i64 = db
            .query_row(&count(table), [], |r| r.get(0))
            .map_err(|_| not_a_backup(format!("it has no {table} table")))?;
        counts.push(rows);
    }
    Ok(Snapshot { referrals: counts[0], inbox_events: counts[1], audit_entries: counts[2] })
}

/// Writes a consistent copy of the SQLite store at `url` to `out` (which must not
/// exist), flushed to disk and checked; the hub may be running.
pub async fn backup(url: &str, out: &Path) -> Result<Snapshot, BackupError> {
    let source = sqlite_path(url)?;
    if out.exists() {
        return Err(BackupError::Exists(out.to_owned()));
    }
    let db = schema::open_read_only(&source)?;
    db.execute("VACUUM INTO ?1", [out.to_string_lossy()])?;
    drop(db);
    File::open(out).and_then(|f| f.sync_all()).map_err(io(out))?;
    inspect(out).await
}

/// The lock a serving hub holds on its SQLite data: `DATA_DIR/xianjie.db.lock`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock of the SQLite database at `database` for as long as the returned file
/// is open: a hub serving it, or a restore replacing it.
pub fn lock(database: &Path) -> Result<File, BackupError> {
    let path = lock_path(database);
    let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::HubRunning(database.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => Err(BackupError::Io { path, source: e }),
    }
}

/// Gives the database a new inbox epoch.
fn new_epoch(db: &Connection) -> Result<String, BackupError> {
    let epoch = Uuid::new_v4().to_string();
    db.execute(&numbered(&super::sql::INSERT_EPOCH.into()), [&epoch])?;
    db.execute(&numbered(&super::sql::NEW_EPOCH.into()), [&epoch])?;
    Ok(epoch)
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub snapshot: Snapshot,
    pub epoch: String,
    /// Where the database it replaced was put, if there was one.
    pub replaced: Option<PathBuf>,
}

/// Puts the backup `from` in place of the SQLite store at `url` (no hub may be running
/// on it) with a new inbox epoch. The database it replaces, with its write-ahead log,
/// is kept beside it with the suffix `.replaced-<stamp>`.
pub async fn restore(url: &str, from: &Path, stamp: &str) -> Result<Restored, BackupError> {
    let target = sqlite_path(url)?;
    let _lock = lock(&target)?;
    inspect(from).await?;
    let staging = with_suffix(&target, ".restoring");
    for leftover in sidecars(&staging) {
        let _ = std::fs::remove_file(leftover);
    }
    std::fs::copy(from, &staging).map_err(io(&staging))?;
    let mut db = schema::open(&staging)?;
    schema::migrate(&mut db)?;
    let epoch = new_epoch(&db)?;
    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(db);
    let snapshot = inspect(&staging).await?;
    let replaced = if target.exists() {
        let aside = with_suffix(&target, &format!(".replaced-{stamp}"));
        for (from, to) in sidecars(&target).into_iter().zip(sidecars(&aside)) {
            if from.exists() {
                std::fs::rename(&from, &to).map_err(io(&from))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&staging, &target).map_err(io(&target))?;
    for leftover in sidecars(&staging) {
        let _ = std::fs::remove_file(leftover);
    }
    if let Some(dir) = target.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    }
    Ok(Restored { snapshot, epoch, replaced })
}

/// Gives the PostgreSQL store at `url`, just restored with `pg_restore`, a new inbox
/// epoch. Returns it.
pub async fn mark_restored(url: &str) -> Result<String, BackupError> {
    let pool = sqlx::PgPool::connect(url).await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    let epoch = Uuid::new_v4().to_string();
    let mut tx = pool.begin().await?;
    sqlx::query(super::sql::INSERT_EPOCH).bind(&epoch).execute(&mut *tx).await?;
    sqlx::query(super::sql::NEW_EPOCH).bind(&epoch).execute(&mut *tx).await?;
    tx.commit().await?;
    pool.close().await;
    Ok(epoch)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The database file and its write-ahead log and shared-memory files.
fn sidecars(database: &Path) -> [PathBuf; 3] {
    [database.to_owned(), with_suffix(database, "-wal"), with_suffix(database, "-shm")]
}
