//! Group commit on PostgreSQL: concurrent commits of this hub share one transaction,
//! and so one flush, one lock of their members' inbox heads and one of the audit head.
//!
//! One task takes every commit waiting, up to a batch, and writes them in one
//! transaction: the new rows of one text from all of them as one statement, and their
//! inbox events as one more. When one fails (a lost race, a reused request id, a
//! deadlock), the batch is written again with each commit whole inside a savepoint, so
//! that the failed one rolls back alone. The inbox heads the batch fills are locked
//! first, in member order, so that two hubs' batches never wait on each other in a
//! circle; the audit records of the batch's commits are chained at its end, under one
//! lock of the head held only through the flush. Each caller hears after the commit,
//! so an answered commit is on disk.

use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::{announce, rows, write};
use crate::{
    metrics::CommitMetrics,
    store::{
        sealed::SealedCommit,
        sql::{
            statement::Statement,
            writes::{self, Writers},
        },
        Delivered, StoreError,
    },
};

/// Most commits in one transaction.
const BATCH: usize = 128;

type Reply = oneshot::Sender<Result<Vec<Delivered>, StoreError>>;

/// The handle through which commits reach the writing task.
pub struct GroupCommitter {
    queue: mpsc::Sender<(SealedCommit, Reply)>,
}

impl GroupCommitter {
    pub fn start(pool: PgPool, metrics: CommitMetrics, exit_after: Option<String>) -> Self {
        let (queue, waiting) = mpsc::channel(BATCH * 4);
        tokio::spawn(run(pool, waiting, metrics, exit_after));
        Self { queue }
    }

    pub async fn commit(&self, commit: SealedCommit) -> Result<Vec<Delivered>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((commit, reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(
    pool: PgPool,
    mut waiting: mpsc::Receiver<(SealedCommit, Reply)>,
    metrics: CommitMetrics,
    exit_after: Option<String>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while waiting.recv_many(&mut batch, BATCH).await > 0 {
        metrics.batch_size.observe(batch.len() as f64);
        let commits: Vec<&SealedCommit> = batch.iter().map(|(commit, _)| commit).collect();
        let results = match write_batch(&pool, &commits, &metrics).await {
            Ok(results) => results,
            Err(e) => {
                // The batch as a whole failed: a lost race is retried by each caller.
                let message = e.to_string();
                let conflict = matches!(e, StoreError::Conflict);
                commits
                    .iter()
                    .map(|_| Err(if conflict { StoreError::Conflict } else { StoreError::Write(message.clone()) }))
                    .collect()
            }
        };
        let exit = exit_after.as_deref().is_some_and(|id| {
            commits
                .iter()
                .zip(&results)
                .any(|(c, r)| r.is_ok() && c.commit.request.as_ref().is_some_and(|q| q.request_id.as_str() == id))
        });
        if exit {
            crate::store::exit_at_failpoint();
        }
        for ((_, reply), result) in batch.drain(..).zip(results) {
            let _ = reply.send(result);
        }
    }
}

/// Writes the batch in one durable commit: its new rows a statement per text, the
/// rest of each commit straight into the transaction; only when a commit of it fails,
/// again with each commit whole in its savepoint, so that the others are written all
/// the same (a batch of one commit whose own statement failed needs no second pass:
/// the transaction's rollback is its savepoint's).
async fn write_batch(
    pool: &PgPool,
    commits: &[&SealedCommit],
    metrics: &CommitMetrics,
) -> Result<Vec<Result<Vec<Delivered>, StoreError>>, StoreError> {
    let statements: Vec<Vec<Statement>> =
        commits.iter().map(|commit| writes::statements(commit, Writers::Many)).collect();
    match written(pool, commits, &statements, metrics, false).await {
        Err(Failed::Commit(error)) if commits.len() == 1 => Ok(vec![Err(error)]),
        Err(Failed::Commit(_) | Failed::Rows(_)) => {
            written(pool, commits, &statements, metrics, true).await.map_err(Failed::into_error)
        }
        written => written.map_err(Failed::into_error),
    }
}

/// Why a pass over a batch wrote nothing.
enum Failed {
    /// A commit failed, with no savepoint to roll back to alone.
    Commit(StoreError),
    /// Rows of several commits, written together, failed: which commit's is unknown.
    Rows(StoreError),
    /// The transaction's own statements failed, or its commit.
    Batch(StoreError),
}

impl Failed {
    fn into_error(self) -> StoreError {
        match self {
            Failed::Commit(e) | Failed::Rows(e) | Failed::Batch(e) => e,
        }
    }
}

impl From<sqlx::Error> for Failed {
    fn from(error: sqlx::Error) -> Self {
        Failed::Batch(error.into())
    }
}

/// Writes every commit of the batch, `statements` being each one's; then the audit
/// records; one durable commit. Guarded, each commit is written whole inside its
/// savepoint; else the batch's new rows first, a statement per text where an order
/// keeps every commit's ([`rows::grouped`]), then the rest of each commit, and the
/// first to fail rolls the whole transaction back.
async fn written(
    pool: &PgPool,
    commits: &[&SealedCommit],
    statements: &[Vec<Statement>],
    metrics: &CommitMetrics,
    guarded: bool,
) -> Result<Vec<Result<Vec<Delivered>, StoreError>>, Failed> {
    let mut tx = pool.begin().await?;
    let mut members: Vec<String> = commits
        .iter()
        .flat_map(|c| {
            let changed = c.commit.changes.iter().flat_map(|change| change.notices.iter());
            changed.chain(c.commit.notices.iter()).map(|n| n.to.to_string())
        })
        .collect();
    members.sort();
    members.dedup();
    write::lock_inboxes(&mut tx, &members).await.map_err(Failed::Batch)?;
    let rows_failed = |failed: write::RowsFailed| failed.map_or_else(Failed::Rows, Failed::Commit);
    let grouped = if guarded { None } else { rows::grouped(statements) };
    for group in grouped.iter().flatten() {
        write::rows(&mut tx, group).await.map_err(rows_failed)?;
    }
    // Grouped, the batch's inbox events are appended together after the rest.
    let apart = |s: &&Statement| grouped.is_none() || !(s.row || s.delivers.is_some());
    let mut results = Vec::with_capacity(commits.len());
    for statements in statements {
        let rest: Vec<&Statement> = statements.iter().filter(apart).collect();
        results.push(if guarded {
            in_savepoint(&mut tx, &rest).await.map_err(Failed::Batch)?
        } else {
            Ok(write::commit(&mut tx, &rest).await.map_err(Failed::Commit)?)
        });
    }
    if grouped.is_some() {
        let events: Vec<&Statement> = statements.iter().flatten().filter(|s| s.delivers.is_some()).collect();
        let mut appended = write::append(&mut tx, &events).await.map_err(rows_failed)?.into_iter();
        for (result, statements) in results.iter_mut().zip(statements) {
            let count = statements.iter().filter(|s| s.delivers.is_some()).count();
            if let Ok(delivered) = result {
                delivered.extend(appended.by_ref().take(count).flatten());
            }
        }
    }
    let mut audits = Vec::new();
    let mut delivered = Vec::new();
    for (commit, result) in commits.iter().zip(&results) {
        if let Ok(written) = result {
            audits.extend(commit.commit.audit.iter().map(|record| (record, commit.commit.at)));
            delivered.extend(written.iter().cloned());
        }
    }
    if !audits.is_empty() {
        write::append_audits(&mut tx, &audits).await.map_err(Failed::Batch)?;
    }
    announce(&mut tx, &delivered).await.map_err(Failed::Batch)?;
    let durable = metrics.commit_seconds.start_timer();
    tx.commit().await?;
    durable.observe_duration();
    Ok(results)
}

/// Writes one commit's `statements` inside a savepoint; the outer error is the
/// transaction's own.
async fn in_savepoint(
    tx: &mut Transaction<'_, Postgres>,
    statements: &[&Statement],
) -> Result<Result<Vec<Delivered>, StoreError>, StoreError> {
    sqlx::query("SAVEPOINT one_commit").execute(&mut **tx).await?;
    match write::commit(tx, statements).await {
        Ok(delivered) => {
            sqlx::query("RELEASE one_commit").execute(&mut **tx).await?;
            Ok(Ok(delivered))
        }
        Err(e) => {
            sqlx::query("ROLLBACK TO one_commit").execute(&mut **tx).await?;
            sqlx::query("RELEASE one_commit").execute(&mut **tx).await?;
            Ok(Err(e))
        }
    }
}
