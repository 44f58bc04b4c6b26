//! Folding the write-ahead log into the database, off the commit path.
//!
//! Left to itself, SQLite folds the log in (a checkpoint: the pages copied into the
//! database file and both files synced) on the connection whose commit took the log
//! past a thousand pages, inside that commit: with some fifty pages to a submit, one
//! submit in twenty waited for it, and those were the slowest hundredth of all. A
//! thread of its own now folds the log in shortly after commits (sooner when they
//! come one at a time than when they queue), on a connection of its own, without
//! stopping the writer (a passive checkpoint), and passes again while commits land
//! during a pass, so that the log is wholly folded in when the writer next begins and
//! starts again from its head. The writer's own checkpoint stays only as the
//! backstop, for a log that load without a pause lets grow to [`BACKSTOP`] pages.

use std::{
    path::Path,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc, Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use rusqlite::Connection;

use crate::store::StoreError;

/// The name of the thread that folds the log in.
/// (Linux keeps fifteen characters of a thread's name.)
pub const CHECKPOINTER_THREAD: &str = "sqlite-checkpt";

/// Pages in the log past which the writer folds it in itself.
pub const BACKSTOP: i64 = 4096;

/// How long after a commit the log is folded in, when commits come one job at a time
/// (one submit in flight): soon, so that each pass is small and slows no commit much.
const AFTER_ALONE: Duration = Duration::from_millis(1);

/// The same when commits carry several jobs (submits queue behind one another): later,
/// so that the commits in between share the pages copied and the CPU goes to them;
/// soon enough that the log stays well under [`BACKSTOP`] (at 64 submits in flight
/// some 11 pages a submit: about 2,200 pages in 40 ms at 4,800 submits a second).
/// Measured in docs/benchmarks.md, "The log folded in off the commit" and "The log
/// folded in every 40 ms under load".
const AFTER_CROWDED: Duration = Duration::from_millis(40);

/// Passes in a row while commits keep landing during each.
const PASSES: usize = 4;

/// What the writer has told of its commits.
#[derive(Default)]
struct Commits {
    count: AtomicU64,
    /// Whether the latest carried more than one job.
    crowded: AtomicBool,
}

/// The handle the writer tells of its commits.
pub struct Checkpointer {
    commits: Arc<Commits>,
    wake: Option<mpsc::SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a connection of its own on the database at `path` and starts the thread.
    pub fn start(path: &Path) -> Result<Self, StoreError> {
        let connection = super::schema::open(path)?;
        let commits = Arc::new(Commits::default());
        let (wake, woken) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name(CHECKPOINTER_THREAD.into())
            .spawn({
                let commits = commits.clone();
                move || run(&connection, &woken, &commits)
            })
            .map_err(|e| StoreError::Write(format!("starting the checkpointer thread: {e}")))?;
        Ok(Self { commits, wake: Some(wake), thread: Some(thread) })
    }

    /// A commit of `jobs` jobs is on disk: its pages are to be folded in.
    pub fn committed(&self, jobs: usize) {
        self.commits.crowded.store(jobs > 1, Ordering::Relaxed);
        self.commits.count.fetch_add(1, Ordering::Release);
        if let Some(wake) = &self.wake {
            // Full means a wake is already waiting, which covers this commit too.
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(connection: &Connection, woken: &mpsc::Receiver<()>, commits: &Commits) {
    while woken.recv().is_ok() {
        std::thread::sleep(if commits.crowded.load(Ordering::Relaxed) { AFTER_CROWDED } else { AFTER_ALONE });
        for _ in 0..PASSES {
            let before = commits.count.load(Ordering::Acquire);
            if let Err(e) = checkpoint(connection) {
                tracing::warn!(error = %e, "folding the write-ahead log into the database");
                break;
            }
            if commits.count.load(Ordering::Acquire) == before {
                break;
            }
        }
    }
}

/// Copies every page of the log no reader still needs, without waiting for the writer.
fn checkpoint(connection: &Connection) -> Result<(), StoreError> {
    Ok(connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits the writer's own checkpoint does not reach are copied into the database
    /// by the thread, and the next commit starts the log again from its head.
    #[test]
    fn the_log_is_folded_in_after_commits_and_starts_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let log = dir.path().join("t.db-wal");
        let size = |file: &Path| std::fs::metadata(file).unwrap().len();
        let writer = super::super::schema::open(&path).unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", BACKSTOP).unwrap();
        writer.execute_batch("CREATE TABLE t (v BLOB)").unwrap();
        for _ in 0..50 {
            writer.execute("INSERT INTO t VALUES (zeroblob(3000))", []).unwrap();
        }
        assert!(size(&path) < 50 * 3000, "the rows are only in the log: {} bytes", size(&path));
        let logged = size(&log);

        let checkpointer = Checkpointer::start(&path).unwrap();
        checkpointer.committed(1);
        // Dropping it lets the thread finish the wake it was given.
        drop(checkpointer);
        assert!(size(&path) >= 50 * 3000, "folded into the database: {} bytes", size(&path));
        writer.execute("INSERT INTO t VALUES (zeroblob(3000))", []).unwrap();
        assert_eq!(size(&log), logged, "the commit was written over the log's head, not after its end");
        let rows: i64 = writer.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 51);
    }
}
