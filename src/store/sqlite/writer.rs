//! The embedded store's write path: one thread owns the writing connection and writes
//! whole batches of commits, so that concurrent commits share one transaction and one
//! fsync (group commit) with no hand-off per statement.
//!
//! The thread takes every commit waiting, up to a batch, and writes each inside a
//! savepoint of one transaction with cached prepared statements: a commit that fails
//! (a lost race, a reused request id) rolls back to its savepoint alone, and the others
//! go on. The transaction then commits durably (`synchronous=FULL`), and each caller
//! hears only after that, so an answered commit is on disk.
//!
//! The audit chain's head is read once per batch, carried in memory from entry to
//! entry (and set back when a commit's savepoint rolls back), and written once at the
//! end: the chain is as exact as entry by entry, at two statements per batch.

use std::{
    path::Path,
    sync::{Mutex, PoisonError},
    thread::JoinHandle,
};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::{
    checkpointer::{Checkpointer, BACKSTOP},
    write::{ack, read_head, write, write_head},
};
use crate::{
    domain::MemberCode,
    metrics::CommitMetrics,
    store::{sealed::SealedCommit, sql::writes::Head, Delivered, InboxPosition, StoreError},
};

/// The name of the thread that writes the store: one commit at a time.
pub const WRITER_THREAD: &str = "sqlite-writer";

/// Most commits in one transaction.
const BATCH: usize = 256;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// What the writer thread does for a caller.
enum Job {
    Commit(Box<SealedCommit>, Reply<Vec<Delivered>>),
    Ack(MemberCode, u64, Reply<InboxPosition>),
}

impl Job {
    fn request_id(&self) -> Option<&str> {
        match self {
            Job::Commit(commit, _) => commit.commit.request.as_ref().map(|r| r.request_id.as_str()),
            Job::Ack(..) => None,
        }
    }
}

/// The handle through which commits reach the writer thread.
pub struct Writer {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Opens the writing connection on the database at `path` (its schema already up
    /// to date) and starts the thread.
    pub fn start(path: &Path, metrics: CommitMetrics) -> Result<Self, StoreError> {
        let connection = super::schema::open(path)?;
        // 8 MiB of pages (the default is 2 MiB): the indexes' working set under load.
        connection.pragma_update(None, "cache_size", -8192)?;
        // Statement journals (each savepoint's undo) in memory, not in a temporary file
        // made and unlinked for every commit.
        connection.pragma_update(None, "temp_store", "MEMORY")?;
        // Every statement of the write path stays prepared.
        connection.set_prepared_statement_cache_capacity(64);
        // The log is folded in by a thread of its own; this connection does it only
        // past the backstop.
        connection.pragma_update(None, "wal_autocheckpoint", BACKSTOP)?;
        let checkpointer = Checkpointer::start(path)?;
        let (queue, waiting) = mpsc::channel(BATCH * 4);
        let exit_after = std::env::var(crate::store::EXIT_AFTER_COMMIT_OF).ok();
        let thread = std::thread::Builder::new()
            .name(WRITER_THREAD.into())
            .spawn(move || run(connection, waiting, &checkpointer, metrics, exit_after))
            .map_err(|e| StoreError::Write(format!("starting the writer thread: {e}")))?;
        Ok(Self { queue: Mutex::new(Some(queue)), thread: Mutex::new(Some(thread)) })
    }

    async fn send<T>(&self, job: impl FnOnce(Reply<T>) -> Job) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner).clone().ok_or(StoreError::Closed)?;
        queue.send(job(reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Writes `commit` and waits until it is on disk.
    pub async fn commit(&self, commit: SealedCommit) -> Result<Vec<Delivered>, StoreError> {
        self.send(|reply| Job::Commit(Box::new(commit), reply)).await
    }

    /// Raises `member`'s acknowledgement to `seq`, capped at its head.
    pub async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
        self.send(|reply| Job::Ack(member.clone(), seq, reply)).await
    }

    /// Lets the thread finish what is queued, and closes the connection.
    pub async fn close(&self) {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).take();
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn run(
    mut connection: Connection,
    mut waiting: mpsc::Receiver<Job>,
    checkpointer: &Checkpointer,
    metrics: CommitMetrics,
    exit_after: Option<String>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = waiting.blocking_recv() {
        batch.push(first);
        while batch.len() < BATCH {
            match waiting.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics.batch_size.observe(batch.len() as f64);
        let exit = exit_after.as_deref().is_some_and(|id| batch.iter().any(|job| job.request_id() == Some(id)));
        write_batch(&mut connection, &mut batch, &metrics, checkpointer, exit);
    }
}

/// What one job of a batch came to, before the batch is on disk.
enum Done {
    Commit(Reply<Vec<Delivered>>, Result<Vec<Delivered>, StoreError>),
    Ack(Reply<InboxPosition>, Result<InboxPosition, StoreError>),
}

impl Done {
    fn answer(self, failed: Option<&str>) -> bool {
        let fail = |message: &str| StoreError::Write(message.to_owned());
        match self {
            Done::Commit(reply, result) => reply.send(failed.map_or(result, |m| Err(fail(m)))).is_ok(),
            Done::Ack(reply, result) => reply.send(failed.map_or(result, |m| Err(fail(m)))).is_ok(),
        }
    }
}

/// Writes every job of the batch, each in its savepoint; one durable commit, told to
/// the checkpointer; then the answers.
fn write_batch(
    connection: &mut Connection,
    batch: &mut Vec<Job>,
    metrics: &CommitMetrics,
    checkpointer: &Checkpointer,
    exit: bool,
) {
    let mut tx = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail(batch, &e.to_string()),
    };
    let mut done = Vec::with_capacity(batch.len());
    let head = read_head(&tx);
    let mut head = match head {
        Ok(head) => head,
        Err(e) => return fail(batch, &e.to_string()),
    };
    let start = head;
    for job in batch.drain(..) {
        done.push(match job {
            Job::Commit(commit, reply) => {
                Done::Commit(reply, in_savepoint(&mut tx, &mut head, |tx, head| write(tx, &commit, head)))
            }
            Job::Ack(member, seq, reply) => {
                Done::Ack(reply, in_savepoint(&mut tx, &mut head, |tx, _| ack(tx, &member, seq)))
            }
        });
    }
    if head.seq != start.seq {
        if let Err(e) = write_head(&tx, &head) {
            let message = e.to_string();
            for d in done {
                d.answer(Some(&message));
            }
            return;
        }
    }
    let durable = metrics.commit_seconds.start_timer();
    let committed = tx.commit();
    durable.observe_duration();
    let failed = committed.err().map(|e| e.to_string());
    if exit && failed.is_none() {
        crate::store::exit_at_failpoint();
    }
    if failed.is_none() {
        checkpointer.committed(done.len());
    }
    for d in done {
        d.answer(failed.as_deref());
    }
}

/// Answers every job of a batch that could not be written with `message`.
fn fail(batch: &mut Vec<Job>, message: &str) {
    for job in batch.drain(..) {
        match job {
            Job::Commit(_, reply) => drop(reply.send(Err(StoreError::Write(message.to_owned())))),
            Job::Ack(_, _, reply) => drop(reply.send(Err(StoreError::Write(message.to_owned())))),
        }
    }
}

/// Runs `write` in a savepoint: on error, what it wrote is rolled back alone, the
/// audit head with it.
fn in_savepoint<T>(
    tx: &mut Transaction<'_>,
    head: &mut Head,
    write: impl FnOnce(&Connection, &mut Head) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let before = *head;
    let savepoint = tx.savepoint()?;
    let written = write(&savepoint, head).and_then(|done| {
        savepoint.commit()?;
        Ok(done)
    });
    if written.is_err() {
        // Dropping the savepoint rolled it back.
        *head = before;
    }
    written
}
