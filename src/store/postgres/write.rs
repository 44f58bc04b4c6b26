//! The write path on PostgreSQL: everything a commit holds, in its batch's
//! transaction (its new rows with those of the batch, or the whole inside a savepoint
//! of its own), or nothing; the audit records of the batch's commits at its end.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};

use super::rows;
use crate::{
    domain::audit::AuditRecord,
    store::{
        sql::{
            arguments,
            statement::{NotOne, Statement},
            writes, Query,
        },
        Delivered, StoreError,
    },
};

type Tx<'a> = Transaction<'a, Postgres>;

/// What a statement's refusal means: a unique constraint broken means what the
/// statement says; a row it names gone (a file the discard pass removed since the plan
/// read it) is a lost race; anything else is the store's error.
fn refusal(statement: &Statement) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => statement.unique_error(),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Conflict,
        _ => error.into(),
    }
}

/// Runs `query`, returning the rows it changed.
async fn execute(tx: &mut Tx<'_>, query: &Query) -> Result<u64, sqlx::Error> {
    let arguments = arguments::<Postgres>(query).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    Ok(sqlx::query_with(&query.sql, arguments).execute(&mut **tx).await?.rows_affected())
}

/// Writes `statements` (a commit's, or those of it not written with the batch's rows),
/// the inbox positions they filled.
pub async fn commit(tx: &mut Tx<'_>, statements: &[&Statement]) -> Result<Vec<Delivered>, StoreError> {
    let mut delivered = Vec::new();
    for statement in statements {
        delivered.extend(run(tx, statement).await?);
    }
    Ok(delivered)
}

/// Why rows of one text written together failed: `Ok` holds the error of a single
/// row that means what its statement says (a unique key broken); `Err` one of several
/// rows, which names none of them, or any other error, which the order the rows were
/// written in may have caused.
pub type RowsFailed = Result<StoreError, StoreError>;

/// A single row's error as [`RowsFailed`].
fn single(error: StoreError) -> RowsFailed {
    match error {
        StoreError::Database(_) => Err(error),
        meant => Ok(meant),
    }
}

/// Writes rows of one text, from any of the batch's commits, as one statement
/// ([`rows::together`]), or one by one where they cannot go together.
pub async fn rows(tx: &mut Tx<'_>, group: &[&Statement]) -> Result<(), RowsFailed> {
    if let [row] = group {
        return run(tx, row).await.map(|_| ()).map_err(single);
    }
    match rows::together(group) {
        Some((sql, arguments)) => {
            sqlx::query_with(&sql, arguments).execute(&mut **tx).await.map_err(|e| Err(e.into()))?;
        }
        None => {
            for row in group {
                run(tx, row).await.map_err(Err)?;
            }
        }
    }
    Ok(())
}

/// Runs one statement of a commit: the inbox position it filled, if it appends an
/// event.
async fn run(tx: &mut Tx<'_>, statement: &Statement) -> Result<Option<Delivered>, StoreError> {
    let refused = refusal(statement);
    let query = &statement.query;
    if let Some(advance) = statement.advance() {
        execute(tx, &advance).await?;
        let seq: i64 = sqlx::query_scalar_with(&query.sql, arguments::<Postgres>(query)?)
            .fetch_one(&mut **tx)
            .await
            .map_err(&refused)?;
        return Ok(statement.delivered(seq));
    }
    let changed = execute(tx, query).await.map_err(&refused)?;
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

/// Appends `events` (statements that each append an inbox event), from any of the
/// batch's commits, as one statement ([`rows::appended`]) or one by one where they
/// cannot go together: the position each filled, in their order.
pub async fn append(tx: &mut Tx<'_>, events: &[&Statement]) -> Result<Vec<Option<Delivered>>, RowsFailed> {
    let Some((sql, arguments)) = events.get(1).and_then(|_| rows::appended(events)) else {
        let mut delivered = Vec::with_capacity(events.len());
        for event in events {
            delivered.push(run(tx, event).await.map_err(|e| if events.len() == 1 { single(e) } else { Err(e) })?);
        }
        return Ok(delivered);
    };
    let numbered: Vec<(String, i64)> =
        sqlx::query_as_with(&sql, arguments).fetch_all(&mut **tx).await.map_err(|e| Err(e.into()))?;
    if numbered.len() != events.len() {
        return Err(Err(StoreError::Write("an inbox event found no inbox head".into())));
    }
    let numbers: HashMap<String, i64> = numbered.into_iter().collect();
    Ok(events
        .iter()
        .map(|event| {
            let (id, _) = event.delivers.as_deref()?;
            event.delivered(*numbers.get(&id.to_string())?)
        })
        .collect())
}

/// Appends the audit records of a batch's commits to the chain: the head row is locked
/// once, at the end of the batch, so that the entries of concurrent batches (of any
/// hub) are numbered and chained one after the other, and written back once.
pub async fn append_audits(tx: &mut Tx<'_>, records: &[(&AuditRecord, DateTime<Utc>)]) -> Result<(), StoreError> {
    let (seq, hash): (i64, String) = sqlx::query_as(writes::LOCK_AUDIT_HEAD).fetch_one(&mut **tx).await?;
    let mut head = writes::head(seq, &hash)?;
    let entries: Vec<Statement> = records.iter().map(|(record, at)| Statement::row(head.append(record, *at))).collect();
    rows(tx, &entries.iter().collect::<Vec<_>>()).await.map_err(|e| e.unwrap_or_else(|e| e))?;
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
