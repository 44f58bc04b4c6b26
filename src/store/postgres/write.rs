//! The write path on PostgreSQL: everything a commit holds, in its batch's
//! transaction (inside a savepoint of its own), or nothing; the audit records of the
//! batch's commits at its end.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};

use crate::{
    domain::audit::AuditRecord,
    store::{
        sealed::SealedCommit,
        sql::{
            arguments,
            statement::{NotOne, Statement},
            writes, Query,
        },
        Delivered, StoreError,
    },
};

type Tx<'a> = Transaction<'a, Postgres>;

fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Runs `query`, returning the rows it changed.
async fn execute(tx: &mut Tx<'_>, query: &Query) -> Result<u64, sqlx::Error> {
    let arguments = arguments::<Postgres>(query).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    Ok(sqlx::query_with(&query.sql, arguments).execute(&mut **tx).await?.rows_affected())
}

/// Writes every part of `commit` but its audit records; the caller appends those and
/// commits the transaction.
pub async fn commit(tx: &mut Tx<'_>, sealed: &SealedCommit) -> Result<Vec<Delivered>, StoreError> {
    let mut delivered = Vec::new();
    for statement in writes::statements(sealed) {
        delivered.extend(run(tx, &statement).await?);
    }
    Ok(delivered)
}

/// Runs one statement of a commit: the inbox position it filled, if it appends an
/// event.
async fn run(tx: &mut Tx<'_>, statement: &Statement) -> Result<Option<Delivered>, StoreError> {
    let refused = |e: sqlx::Error| if unique_violation(&e) { statement.unique_error() } else { e.into() };
    let query = &statement.query;
    if statement.delivers.is_some() {
        let seq: i64 = sqlx::query_scalar_with(&query.sql, arguments::<Postgres>(query)?)
            .fetch_one(&mut **tx)
            .await
            .map_err(refused)?;
        return Ok(statement.delivered(seq));
    }
    let changed = execute(tx, query).await.map_err(refused)?;
    match &statement.one_row {
        Some(_) if changed == 1 => Ok(None),
        None => Ok(None),
        Some(NotOne::Conflict) => Err(StoreError::Conflict),
        Some(NotOne::ConflictUnlessFound(check)) => {
            let found = sqlx::query_with(&check.sql, arguments::<Postgres>(check)?).fetch_optional(&mut **tx).await?;
            Err(if found.is_some() { StoreError::StaleKey } else { StoreError::Conflict })
        }
    }
}

/// Appends the audit records of a batch's commits to the chain: the head row is locked
/// once, at the end of the batch, so that the entries of concurrent batches (of any
/// hub) are numbered and chained one after the other, and written back once.
pub async fn append_audits(tx: &mut Tx<'_>, records: &[(&AuditRecord, DateTime<Utc>)]) -> Result<(), StoreError> {
    let (seq, hash): (i64, String) = sqlx::query_as(writes::LOCK_AUDIT_HEAD).fetch_one(&mut **tx).await?;
    let mut head = writes::head(seq, &hash)?;
    for (record, at) in records {
        execute(tx, &head.append(record, *at)).await?;
    }
    execute(tx, &head.write()).await?;
    Ok(())
}

/// Locks the inbox heads of `members` (sorted), made if missing, in one order for
/// every batch: two batches naming the same members never wait on each other.
pub async fn lock_inboxes(tx: &mut Tx<'_>, members: &[String]) -> Result<(), StoreError> {
    if members.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO inbox_heads (member, last_seq, acked_seq) SELECT m, 0, 0 FROM UNNEST($1::text[]) AS m \
         ORDER BY m ON CONFLICT (member) DO NOTHING",
    )
    .bind(members)
    .execute(&mut **tx)
    .await?;
    sqlx::query("SELECT member FROM inbox_heads WHERE member = ANY($1) ORDER BY member FOR UPDATE")
        .bind(members)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
