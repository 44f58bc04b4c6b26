//! Group commit: concurrent commits share one SQLite transaction and so one fsync.
//!
//! One task owns the writing connection. It takes every commit waiting for it, up to a
//! batch, and writes each inside a savepoint of one transaction: a commit that fails
//! (a lost race, a reused request id) rolls back to its savepoint alone, and the others
//! go on. The transaction then commits durably once, and each caller hears only after
//! that, so an answered commit is on disk as before.

use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::SqliteStore;
use crate::{
    metrics::CommitMetrics,
    store::{sealed::SealedCommit as Commit, Delivered, StoreError},
};

/// Most commits in one transaction.
const BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Vec<Delivered>, StoreError>>;

/// The handle through which commits reach the writer task.
#[derive(Clone)]
pub struct GroupCommitter {
    queue: mpsc::Sender<(Commit, Reply)>,
}

impl GroupCommitter {
    /// Starts the writer task on `writer` (a pool of one connection).
    pub fn start(writer: SqlitePool, metrics: CommitMetrics) -> Self {
        let (queue, waiting) = mpsc::channel(BATCH * 4);
        tokio::spawn(run(writer, waiting, metrics));
        Self { queue }
    }

    pub async fn commit(&self, commit: Commit) -> Result<Vec<Delivered>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((commit, reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(writer: SqlitePool, mut waiting: mpsc::Receiver<(Commit, Reply)>, metrics: CommitMetrics) {
    let mut batch = Vec::with_capacity(BATCH);
    while waiting.recv_many(&mut batch, BATCH).await > 0 {
        metrics.batch_size.observe(batch.len() as f64);
        let results = write_batch(&writer, &batch, &metrics).await;
        for ((_, reply), result) in batch.drain(..).zip(results) {
            let _ = reply.send(result);
        }
    }
}

/// Writes every commit of the batch, each in its savepoint; one durable commit.
async fn write_batch(
    writer: &SqlitePool,
    batch: &[(Commit, Reply)],
    metrics: &CommitMetrics,
) -> Vec<Result<Vec<Delivered>, StoreError>> {
    let mut tx = match writer.begin().await {
        Ok(tx) => tx,
        Err(e) => return batch.iter().map(|_| Err(StoreError::from(clone_error(&e)))).collect(),
    };
    let mut results = Vec::with_capacity(batch.len());
    if let [(commit, _)] = batch {
        // Alone in its transaction, a commit needs no savepoint: on error, roll back.
        match SqliteStore::write(&mut tx, commit).await {
            Ok(delivered) => results.push(Ok(delivered)),
            Err(e) => return vec![Err(e)],
        }
    } else {
        for (commit, _) in batch {
            results.push(write_one(&mut tx, commit).await);
        }
    }
    let durable = metrics.commit_seconds.start_timer();
    let committed = tx.commit().await;
    durable.observe_duration();
    if let Err(e) = committed {
        return batch.iter().map(|_| Err(StoreError::from(clone_error(&e)))).collect();
    }
    results
}

async fn write_one(tx: &mut Transaction<'_, Sqlite>, commit: &Commit) -> Result<Vec<Delivered>, StoreError> {
    sqlx::query("SAVEPOINT one_commit").execute(&mut **tx).await?;
    match SqliteStore::write(tx, commit).await {
        Ok(delivered) => {
            sqlx::query("RELEASE one_commit").execute(&mut **tx).await?;
            Ok(delivered)
        }
        Err(e) => {
            sqlx::query("ROLLBACK TO one_commit").execute(&mut **tx).await?;
            sqlx::query("RELEASE one_commit").execute(&mut **tx).await?;
            Err(e)
        }
    }
}

/// sqlx errors cannot be cloned; every caller of a failed batch gets its message.
fn clone_error(e: &sqlx::Error) -> sqlx::Error {
    sqlx::Error::Protocol(e.to_string())
}
