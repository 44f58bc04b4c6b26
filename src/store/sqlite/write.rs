//! The statements of one commit on the writing connection, with cached prepared
//! statements; the writer thread runs them inside a batch's transaction.

use chrono::{DateTime, Utc};
use rusqlite::{ffi, params, Connection, ErrorCode, OptionalExtension};

use crate::{
    domain::{audit::AuditRecord, MemberCode},
    store::{
        sql::{
            position,
            statement::{NotOne, Statement},
            writes::{self, Head},
            Query,
        },
        Delivered, InboxPosition, StoreError,
    },
};

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Write(error.to_string())
    }
}

/// What the check of one open referral a person to each recipient says when it refuses
/// (migration 0029: on SQLite a trigger keeps the rule that PostgreSQL's unique index
/// keeps).
const OPEN_REFERRAL_CHECK: &str = "referrals_open_person";

/// What a statement's refusal means: a unique constraint (or a primary key, or the
/// check that stands for a unique index) broken means what the statement says; a row it
/// names gone (a file the discard pass removed since the plan read it) is a lost race;
/// anything else is the store's error.
fn refusal(statement: &Statement) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |error| match &error {
        rusqlite::Error::SqliteFailure(e, message) if e.code == ErrorCode::ConstraintViolation => {
            match e.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => statement.unique_error(),
                ffi::SQLITE_CONSTRAINT_TRIGGER if message.as_deref() == Some(OPEN_REFERRAL_CHECK) => {
                    statement.unique_error()
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::Conflict,
                _ => error.into(),
            }
        }
        _ => error.into(),
    }
}

/// The audit chain's head as the database holds it.
pub(super) fn read_head(tx: &Connection) -> Result<Head, StoreError> {
    let (seq, hash): (i64, String) =
        tx.prepare_cached(writes::SELECT_AUDIT_HEAD)?.query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    writes::head(seq, &hash)
}

pub(super) fn write_head(tx: &Connection, head: &Head) -> Result<(), StoreError> {
    execute(tx, &head.write())?;
    Ok(())
}

/// Runs `query`, returning the rows it changed.
fn execute(tx: &Connection, query: &Query) -> Result<usize, rusqlite::Error> {
    let mut statement = tx.prepare_cached(&super::numbered(&query.sql))?;
    statement.execute(super::params(query))
}

/// Whether `query` finds a row.
fn found(tx: &Connection, query: &Query) -> Result<bool, rusqlite::Error> {
    let mut statement = tx.prepare_cached(&super::numbered(&query.sql))?;
    statement.exists(super::params(query))
}

pub(super) fn ack(tx: &Connection, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
    let row = tx
        .prepare_cached(writes::ACK)?
        .query_row(params![i64::try_from(seq).unwrap_or(i64::MAX), member.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(position(row))
}

/// Runs `statements`, then writes the `audit` records made `at`, chained after `head`.
pub(super) fn write(
    tx: &Connection,
    statements: &[Statement],
    audit: &[AuditRecord],
    at: DateTime<Utc>,
    head: &mut Head,
) -> Result<Vec<Delivered>, StoreError> {
    let mut delivered = Vec::new();
    for statement in statements {
        delivered.extend(run(tx, statement)?);
    }
    for record in audit {
        execute(tx, &head.append(record, at))?;
    }
    Ok(delivered)
}

/// Runs one statement of a commit: the inbox position it filled, if it appends an
/// event.
fn run(tx: &Connection, statement: &Statement) -> Result<Option<Delivered>, StoreError> {
    let refused = refusal(statement);
    if let Some(advance) = statement.advance() {
        execute(tx, &advance)?;
        let mut prepared = tx.prepare_cached(&super::numbered(&statement.query.sql))?;
        let values = super::params(&statement.query);
        let seq: i64 = prepared.query_row(values, |r| r.get(0)).map_err(&refused)?;
        return Ok(statement.delivered(seq));
    }
    let changed = execute(tx, &statement.query).map_err(&refused)?;
    match &statement.one_row {
        Some(_) if changed == 1 => Ok(None),
        None => Ok(None),
        Some(NotOne::Conflict) => Err(StoreError::Conflict),
        Some(NotOne::ConflictUnlessFound(check)) => {
            Err(if found(tx, check)? { StoreError::StaleKey } else { StoreError::Conflict })
        }
    }
}
