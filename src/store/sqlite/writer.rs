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
    time::Duration,
};

use rusqlite::{ffi, params, Connection, ErrorCode, OptionalExtension, Params, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{
    domain::{
        audit::{chain_hash, hex, parse_hex, AuditRecord, Hash},
        deadline::Deadline,
        lifecycle::Notice,
        referral::Referral,
        MemberCode,
    },
    metrics::CommitMetrics,
    store::{
        rows::micros,
        sealed::{SealedChange, SealedCommit, SealedContent},
        sql::{position, writes},
        Change, DeadlineUpdate, Delivered, InboxPosition, StoreError,
    },
};

/// Most commits in one transaction.
const BATCH: usize = 256;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// What the writer thread does for a caller.
enum Job {
    Commit(Box<SealedCommit>, Reply<Vec<Delivered>>),
    Ack(MemberCode, u64, Reply<InboxPosition>),
}

/// The handle through which commits reach the writer thread.
pub struct Writer {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Sqlite(error.to_string())
    }
}

/// Whether the statement broke a unique constraint (or a primary key).
fn unique_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _)
        if e.code == ErrorCode::ConstraintViolation
            && matches!(e.extended_code, ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

impl Writer {
    /// Opens the writing connection on the database at `path` (its schema already up
    /// to date) and starts the thread.
    pub fn start(path: &Path, metrics: CommitMetrics) -> Result<Self, StoreError> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(Duration::from_secs(10))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        // 8 MiB of pages (the default is 2 MiB): the indexes' working set under load.
        connection.pragma_update(None, "cache_size", -8192)?;
        // Statement journals (each savepoint's undo) in memory, not in a temporary file
        // made and unlinked for every commit.
        connection.pragma_update(None, "temp_store", "MEMORY")?;
        connection.set_prepared_statement_cache_capacity(32);
        let (queue, waiting) = mpsc::channel(BATCH * 4);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(connection, waiting, metrics))
            .map_err(|e| StoreError::Sqlite(format!("starting the writer thread: {e}")))?;
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

fn run(mut connection: Connection, mut waiting: mpsc::Receiver<Job>, metrics: CommitMetrics) {
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
        write_batch(&mut connection, &mut batch, &metrics);
    }
}

/// The audit chain's head, as this batch has advanced it.
#[derive(Debug, Clone, Copy)]
struct Head {
    seq: i64,
    hash: Hash,
}

impl Head {
    fn read(tx: &Connection) -> Result<Self, StoreError> {
        let (seq, hash): (i64, String) =
            tx.prepare_cached(writes::SELECT_AUDIT_HEAD)?.query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let hash = parse_hex(&hash).ok_or_else(|| StoreError::Corrupt("audit head hash".into()))?;
        Ok(Self { seq, hash })
    }

    fn write(&self, tx: &Connection) -> Result<(), StoreError> {
        execute(tx, writes::SET_AUDIT_HEAD, params![self.seq, hex(&self.hash)])?;
        Ok(())
    }
}

/// What one job of a batch came to, before the batch is on disk.
enum Done {
    Commit(Reply<Vec<Delivered>>, Result<Vec<Delivered>, StoreError>),
    Ack(Reply<InboxPosition>, Result<InboxPosition, StoreError>),
}

impl Done {
    fn answer(self, failed: Option<&str>) -> bool {
        let fail = |message: &str| StoreError::Sqlite(message.to_owned());
        match self {
            Done::Commit(reply, result) => reply.send(failed.map_or(result, |m| Err(fail(m)))).is_ok(),
            Done::Ack(reply, result) => reply.send(failed.map_or(result, |m| Err(fail(m)))).is_ok(),
        }
    }
}

/// Writes every job of the batch, each in its savepoint; one durable commit; then the
/// answers.
fn write_batch(connection: &mut Connection, batch: &mut Vec<Job>, metrics: &CommitMetrics) {
    let mut tx = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail(batch, &e.to_string()),
    };
    let mut done = Vec::with_capacity(batch.len());
    let head = Head::read(&tx);
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
        if let Err(e) = head.write(&tx) {
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
    for d in done {
        d.answer(failed.as_deref());
    }
}

/// Answers every job of a batch that could not be written with `message`.
fn fail(batch: &mut Vec<Job>, message: &str) {
    for job in batch.drain(..) {
        match job {
            Job::Commit(_, reply) => drop(reply.send(Err(StoreError::Sqlite(message.to_owned())))),
            Job::Ack(_, _, reply) => drop(reply.send(Err(StoreError::Sqlite(message.to_owned())))),
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

fn execute(tx: &Connection, sql: &str, params: impl Params) -> Result<usize, rusqlite::Error> {
    tx.prepare_cached(sql)?.execute(params)
}

fn ack(tx: &Connection, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
    let row = tx
        .prepare_cached(writes::ACK)?
        .query_row(params![i64::try_from(seq).unwrap_or(i64::MAX), member.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(position(row))
}

/// Writes every part of `sealed`.
fn write(tx: &Connection, sealed: &SealedCommit, head: &mut Head) -> Result<Vec<Delivered>, StoreError> {
    let commit = &sealed.commit;
    if let (Some(request), Some(response)) = (&commit.request, &sealed.response) {
        execute(
            tx,
            writes::INSERT_REQUEST,
            params![
                request.member.as_str(),
                request.request_id.as_str(),
                request.fingerprint,
                response.as_bytes(),
                micros(commit.at),
                sealed.key
            ],
        )
        .map_err(|e| if unique_violation(&e) { StoreError::DuplicateRequest } else { e.into() })?;
    }
    if let Some((case_id, owner)) = &commit.new_case {
        execute(tx, writes::INSERT_CASE, params![case_id.to_string(), owner.as_str(), micros(commit.at)])?;
    }
    if let Some(s) = &commit.schedule {
        execute(
            tx,
            writes::INSERT_SCHEDULE,
            params![
                i64::from(s.year),
                i64::from(s.version),
                s.schedule,
                s.source,
                s.loaded_by.as_str(),
                micros(s.loaded_at)
            ],
        )
        .map_err(|e| if unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
    }
    let mut notices = Vec::new();
    for (change, written) in commit.changes.iter().zip(&sealed.changes) {
        write_change(tx, change, written, &sealed.key)?;
        for deadline in &change.deadlines {
            upsert_deadline(tx, deadline, &change.referral)?;
        }
        notices.extend(change.notices.iter().zip(&written.notices));
    }
    for update in &commit.deadline_updates {
        update_deadline(tx, update)?;
    }
    notices.extend(commit.notices.iter().zip(&sealed.notices));
    let mut delivered = Vec::with_capacity(notices.len());
    for (notice, note) in notices {
        delivered.push(deliver(tx, notice, note, &sealed.key)?);
    }
    for record in &commit.audit {
        append_audit(tx, head, record, commit.at)?;
    }
    if let Some(c) = &commit.checkpoint {
        execute(
            tx,
            writes::INSERT_CHECKPOINT,
            params![i64::try_from(c.seq).unwrap_or(i64::MAX), c.head, micros(c.at), c.signature],
        )
        .map_err(|e| if unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
    }
    Ok(delivered)
}

/// Appends a record to the audit chain after `head`, and advances it.
fn append_audit(
    tx: &Connection,
    head: &mut Head,
    record: &AuditRecord,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let seq = head.seq + 1;
    let hash = chain_hash(&head.hash, seq as u64, at, record);
    let referrals: Vec<String> = record.referrals.iter().map(Uuid::to_string).collect();
    execute(
        tx,
        writes::INSERT_AUDIT,
        params![
            seq,
            micros(at),
            record.actor.as_str(),
            record.certificate,
            record.action,
            referrals.join(","),
            record.detail,
            hex(&head.hash),
            hex(&hash)
        ],
    )?;
    *head = Head { seq, hash };
    Ok(())
}

/// The sealed columns of a referral, in the order of `SEALED_COLUMNS`.
fn sealed_values(sealed: &SealedContent) -> [&dyn rusqlite::ToSql; 11] {
    let [a, b, c, d, e, f] = &sealed.sealed;
    [
        a,
        b,
        c,
        d,
        e,
        f,
        &sealed.sealed_key,
        &sealed.person_index,
        &sealed.conclusion,
        &sealed.feedback,
        &sealed.closing_reason,
    ]
}

fn write_change(tx: &Connection, change: &Change, written: &SealedChange, key: &str) -> Result<(), StoreError> {
    let r = &change.referral;
    let (id, started_at, version) = (r.id.to_string(), r.started_at.map(micros), i64::from(r.version));
    let (kind, state, sender, recipient) = (r.kind.code(), r.state.code(), r.sender.as_str(), r.recipient.as_str());
    match change.expected_version {
        None => {
            let (case_id, submitted_at, updated_at) =
                (r.case_id.to_string(), micros(r.submitted_at), micros(r.updated_at));
            let (urgent, green_channel) = (r.content.urgent, r.content.green_channel());
            let mut values: Vec<&dyn rusqlite::ToSql> = vec![
                &id,
                &case_id,
                &kind,
                &state,
                &sender,
                &recipient,
                &urgent,
                &green_channel,
                &written.referral.content,
                &submitted_at,
                &updated_at,
                &started_at,
                &version,
            ];
            values.extend(sealed_values(&written.referral));
            execute(tx, &writes::INSERT_REFERRAL, values.as_slice()).map_err(|e| {
                if unique_violation(&e) {
                    StoreError::OpenReferral(r.recipient.clone())
                } else {
                    e.into()
                }
            })?;
        }
        Some(expected) => {
            let (updated_at, expected) = (micros(r.updated_at), i64::from(expected));
            let mut values: Vec<&dyn rusqlite::ToSql> =
                vec![&state, &updated_at, &started_at, &version, &written.referral.content];
            values.extend(sealed_values(&written.referral));
            values.extend([&id as &dyn rusqlite::ToSql, &expected]);
            if execute(tx, &writes::UPDATE_REFERRAL, values.as_slice())? != 1 {
                return Err(StoreError::Conflict);
            }
        }
    }
    for (entry, note) in change.entries.iter().zip(&written.entries) {
        execute(
            tx,
            writes::INSERT_ENTRY,
            params![
                entry.referral_id.to_string(),
                i64::from(entry.version),
                entry.kind.code(),
                entry.actor.as_str(),
                micros(entry.at),
                entry.state.code(),
                note,
                key
            ],
        )?;
    }
    Ok(())
}

fn upsert_deadline(tx: &Connection, d: &Deadline, referral: &Referral) -> Result<(), StoreError> {
    execute(
        tx,
        writes::UPSERT_DEADLINE,
        params![
            d.referral_id.to_string(),
            d.kind.code(),
            d.case_id.to_string(),
            d.responsible.as_str(),
            d.trigger.to_string(),
            d.due.to_string(),
            d.provisional,
            d.state.code(),
            d.met_on.map(|m| m.to_string()),
            d.reminded,
            referral.kind.code(),
            referral.content.urgent,
            referral.content.green_channel(),
            d.closed_on.map(|c| c.to_string())
        ],
    )?;
    Ok(())
}

fn update_deadline(tx: &Connection, update: &DeadlineUpdate) -> Result<(), StoreError> {
    let (d, was) = (&update.deadline, &update.was);
    let updated = execute(
        tx,
        writes::UPDATE_DEADLINE,
        params![
            d.due.to_string(),
            d.provisional,
            d.state.code(),
            d.met_on.map(|m| m.to_string()),
            d.reminded,
            d.referral_id.to_string(),
            d.kind.code(),
            was.due.to_string(),
            was.state.code(),
            was.reminded
        ],
    )?;
    if updated == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

/// Appends a notice to its member's inbox at the next sequence number.
fn deliver(
    tx: &Connection,
    notice: &Notice,
    (event_id, note): &(Uuid, String),
    key: &str,
) -> Result<Delivered, StoreError> {
    let seq: i64 =
        tx.prepare_cached(writes::ADVANCE_INBOX_HEAD)?.query_row(params![notice.to.as_str()], |r| r.get(0))?;
    execute(
        tx,
        writes::INSERT_INBOX_EVENT,
        params![
            notice.to.as_str(),
            seq,
            event_id.to_string(),
            notice.kind.code(),
            notice.referral_id.to_string(),
            notice.case_id.to_string(),
            notice.referral_kind.code(),
            notice.state.code(),
            notice.actor.as_str(),
            micros(notice.at),
            note,
            notice.urgent,
            notice.green_channel,
            notice.deadline.map(|(kind, _)| kind.code()),
            notice.deadline.map(|(_, due)| due.to_string()),
            key
        ],
    )?;
    Ok(Delivered { member: notice.to.clone(), seq: seq as u64 })
}
