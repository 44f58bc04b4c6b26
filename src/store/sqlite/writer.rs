//! The embedded store's write path: one thread owns the writing connection and writes
//! whole batches of commits, so that concurrent commits share one transaction and one
//! fsync (group commit) with no hand-off per statement.
//!
//! The thread takes every commit waiting, up to a batch, and writes them in one
//! transaction with cached prepared statements. When one fails (a lost race, a reused
//! request id), the batch is written again with each commit inside a savepoint, so that
//! the failed one rolls back alone and the others go on. The transaction then commits
//! durably (`synchronous=FULL`), and each caller hears only after that, so an answered
//! commit is on disk.
//!
//! The audit chain's head is read once per batch, carried in memory from entry to
//! entry (and set back when a commit's savepoint rolls back), and written once at the
//! end: the chain is as exact as entry by entry, at two statements per batch.

use std::{
    path::Path,
    sync::{Mutex, PoisonError},
    thread::JoinHandle,
};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::{
    checkpointer::{Checkpointer, BACKSTOP},
    write::{ack, read_head, write, write_head},
};
use crate::{
    domain::{audit::AuditRecord, request_id::RequestId, MemberCode},
    metrics::CommitMetrics,
    store::{
        sealed::SealedCommit,
        sql::{
            statement::Statement,
            writes::{self, Head, Writers},
        },
        Delivered, InboxPosition, StoreError,
    },
};

/// The name of the thread that writes the store: one commit at a time.
pub const WRITER_THREAD: &str = "sqlite-writer";

/// Most commits in one transaction.
const BATCH: usize = 256;

/// What a job came to: the inbox positions a commit filled, or an acknowledgement's
/// position.
enum Answer {
    Delivered(Vec<Delivered>),
    Position(InboxPosition),
}

/// A job's answer, with its work handed back so that the task which asked for it frees
/// it.
type Answered = (Result<Answer, StoreError>, Work);

type Reply = oneshot::Sender<Answered>;

/// What the writer thread does for a caller.
enum Work {
    Commit(Box<Prepared>),
    Ack(MemberCode, u64),
}

/// A commit as the writer thread writes it: its statements and its audit records,
/// made by the task that asks for it. Every commit waits on that thread, so it only
/// runs statements and chains the audit log; building the statements' parameters and
/// freeing the commit and them is done by the tasks, side by side.
struct Prepared {
    statements: Vec<Statement>,
    /// Chained by the thread after the head it holds.
    audit: Vec<AuditRecord>,
    at: DateTime<Utc>,
    /// The request the commit answers: the failpoint that stops the process after the
    /// commit of a given request looks for it.
    request_id: Option<RequestId>,
}

impl Prepared {
    /// The statements of `sealed`, which is freed here rather than on the thread.
    fn new(mut sealed: SealedCommit) -> Self {
        let statements = writes::statements(&sealed, Writers::One);
        let commit = &mut sealed.commit;
        Self {
            statements,
            audit: std::mem::take(&mut commit.audit),
            at: commit.at,
            request_id: commit.request.take().map(|r| r.request_id),
        }
    }
}

struct Job {
    work: Work,
    reply: Reply,
}

impl Job {
    fn request_id(&self) -> Option<&str> {
        match &self.work {
            Work::Commit(commit) => commit.request_id.as_ref().map(RequestId::as_str),
            Work::Ack(..) => None,
        }
    }

    fn write(&self, tx: &Connection, head: &mut Head) -> Result<Answer, StoreError> {
        match &self.work {
            Work::Commit(commit) => {
                write(tx, &commit.statements, &commit.audit, commit.at, head).map(Answer::Delivered)
            }
            Work::Ack(member, seq) => ack(tx, member, *seq).map(Answer::Position),
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

    async fn send(&self, work: Work) -> Result<Answer, StoreError> {
        let (reply, answer) = oneshot::channel();
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner).clone().ok_or(StoreError::Closed)?;
        queue.send(Job { work, reply }).await.map_err(|_| StoreError::Closed)?;
        let (answer, _work) = answer.await.map_err(|_| StoreError::Closed)?;
        answer
    }

    /// Writes `commit` and waits until it is on disk.
    pub async fn commit(&self, commit: SealedCommit) -> Result<Vec<Delivered>, StoreError> {
        match self.send(Work::Commit(Box::new(Prepared::new(commit)))).await? {
            Answer::Delivered(delivered) => Ok(delivered),
            Answer::Position(_) => Err(mixed()),
        }
    }

    /// Raises `member`'s acknowledgement to `seq`, capped at its head.
    pub async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
        match self.send(Work::Ack(member.clone(), seq)).await? {
            Answer::Position(position) => Ok(position),
            Answer::Delivered(_) => Err(mixed()),
        }
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

fn mixed() -> StoreError {
    StoreError::Write("the writer answered a job with another's answer".into())
}

/// Writes the batch in one transaction and one durable commit, told to the
/// checkpointer; then the answers.
///
/// Nearly every batch is written whole, so its jobs go in first without savepoints,
/// whose undo copies every page a job touches into memory. Only when
/// one of them fails is the batch written again with each job in its savepoint, so that
/// the failed one rolls back alone and the others go on; a batch of one job needs no
/// second pass, its transaction's rollback being its savepoint's.
fn write_batch(
    connection: &mut Connection,
    batch: &mut Vec<Job>,
    metrics: &CommitMetrics,
    checkpointer: &Checkpointer,
    exit: bool,
) {
    let written = match written(connection, batch, metrics, false) {
        Err(Failed::Job(error)) if batch.len() == 1 => Ok(vec![Err(error)]),
        Err(Failed::Job(_)) => written(connection, batch, metrics, true),
        written => written,
    };
    let answers = match written {
        Ok(answers) => answers,
        Err(Failed::Job(e) | Failed::Batch(e)) => {
            let message = e.to_string();
            batch.iter().map(|_| Err(StoreError::Write(message.clone()))).collect()
        }
    };
    if answers.iter().any(Result::is_ok) {
        if exit {
            crate::store::exit_at_failpoint();
        }
        checkpointer.committed(answers.len());
    }
    for (Job { work, reply }, answer) in batch.drain(..).zip(answers) {
        let _ = reply.send((answer, work));
    }
}

/// Why a pass over a batch wrote nothing.
enum Failed {
    /// A job failed, with no savepoint to roll back to alone.
    Job(StoreError),
    /// The transaction could not be begun, its audit head read or written, or it could
    /// not be committed.
    Batch(StoreError),
}

/// Writes `batch` in one transaction and commits it: each job in its savepoint when
/// `guarded`, its answer then its own; unguarded, the first job to fail rolls the whole
/// transaction back.
fn written(
    connection: &mut Connection,
    batch: &[Job],
    metrics: &CommitMetrics,
    guarded: bool,
) -> Result<Vec<Result<Answer, StoreError>>, Failed> {
    let mut tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(batch_error)?;
    let mut head = read_head(&tx).map_err(Failed::Batch)?;
    let start = head;
    let mut answers = Vec::with_capacity(batch.len());
    for job in batch {
        answers.push(if guarded {
            in_savepoint(&mut tx, &mut head, |tx, head| job.write(tx, head))
        } else {
            Ok(job.write(&tx, &mut head).map_err(Failed::Job)?)
        });
    }
    if head.seq != start.seq {
        write_head(&tx, &head).map_err(Failed::Batch)?;
    }
    let durable = metrics.commit_seconds.start_timer();
    let committed = tx.commit();
    durable.observe_duration();
    committed.map_err(batch_error)?;
    Ok(answers)
}

fn batch_error(e: rusqlite::Error) -> Failed {
    Failed::Batch(e.into())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::request_id::RequestId,
        keys::{KeySource, Keyring, Keys},
        store::{Commit, RequestRecord},
    };

    /// A commit that records request `id` of 民政 and nothing else.
    fn request(keys: &Keys, id: &str) -> (Job, oneshot::Receiver<Answered>) {
        let request = RequestRecord {
            member: MemberCode::parse("mz").unwrap(),
            request_id: RequestId::parse(id).unwrap(),
            fingerprint: vec![1],
            response: vec![2],
        };
        let commit = Commit { request: Some(request), ..Commit::default() };
        let (reply, answer) = oneshot::channel();
        let prepared = Prepared::new(SealedCommit::new(commit, keys, false).unwrap());
        (Job { work: Work::Commit(Box::new(prepared)), reply }, answer)
    }

    /// A batch is written without savepoints; when a commit of it fails, the others are
    /// written all the same and only the failed one hears of its failure.
    #[test]
    fn a_failed_commit_rolls_back_alone_and_the_rest_of_its_batch_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut connection = super::super::schema::open(&path).unwrap();
        super::super::schema::migrate(&mut connection).unwrap();
        let keys = Keys::new(Keyring::generate().unwrap(), KeySource::Text);
        let checkpointer = Checkpointer::start(&path).unwrap();
        let metrics = CommitMetrics::new();
        let requests =
            |c: &Connection| -> i64 { c.query_row("SELECT COUNT(*) FROM requests", [], |r| r.get(0)).unwrap() };

        let (jobs, mut answers): (Vec<_>, Vec<_>) = ["a", "a", "b"].map(|id| request(&keys, id)).into_iter().unzip();
        let mut batch = jobs;
        write_batch(&mut connection, &mut batch, &metrics, &checkpointer, false);
        let answered: Vec<_> = answers.iter_mut().map(|a| a.try_recv().unwrap().0).collect();
        assert!(matches!(answered[0], Ok(Answer::Delivered(_))), "the first is written");
        assert!(matches!(answered[1], Err(StoreError::DuplicateRequest)), "the reused id is refused");
        assert!(matches!(answered[2], Ok(Answer::Delivered(_))), "the one after the failure is written");
        assert_eq!(requests(&connection), 2);

        let (job, mut answer) = request(&keys, "b");
        write_batch(&mut connection, &mut vec![job], &metrics, &checkpointer, false);
        assert!(
            matches!(answer.try_recv().unwrap().0, Err(StoreError::DuplicateRequest)),
            "a batch of one fails alone"
        );
        let (job, mut answer) = request(&keys, "c");
        write_batch(&mut connection, &mut vec![job], &metrics, &checkpointer, false);
        assert!(matches!(answer.try_recv().unwrap().0, Ok(Answer::Delivered(_))), "and the next is written");
        assert_eq!(requests(&connection), 3);
    }
}
