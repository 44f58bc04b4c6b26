//! Moving a county from the embedded store to PostgreSQL: every table copied row by row
//! in one transaction, then the rows counted on both sides.
//!
//! The destination must be empty; its schema is brought up to date first. The source is
//! only read.

use std::sync::Arc;

use rusqlite::Connection;
use sqlx::{PgPool, Postgres};

use super::{
    postgres::PgStore,
    sql::{arguments, Query, Value},
    sqlite::{schema, SqliteStore},
    Store, StoreError,
};
use crate::keys::Keys;

/// A column's type, as the destination's schema says.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Text,
    Int,
    Bool,
    Bytes,
}

impl Kind {
    /// The kind of a PostgreSQL `data_type`.
    fn of(data_type: &str) -> Option<Self> {
        match data_type {
            "text" | "character varying" => Some(Kind::Text),
            "bigint" | "integer" | "smallint" => Some(Kind::Int),
            "boolean" => Some(Kind::Bool),
            "bytea" => Some(Kind::Bytes),
            _ => None,
        }
    }

    /// The column `name` of `row`, as a parameter for PostgreSQL.
    fn value(self, row: &rusqlite::Row<'_>, name: &str) -> rusqlite::Result<Value> {
        Ok(match self {
            Kind::Text => Value::from(row.get::<_, Option<String>>(name)?),
            Kind::Int => Value::from(row.get::<_, Option<i64>>(name)?),
            Kind::Bool => Value::from(row.get::<_, bool>(name)?),
            Kind::Bytes => Value::from(row.get::<_, Vec<u8>>(name)?),
        })
    }
}

/// Every table copied, parents before children, with its key order. Their columns are
/// the destination's, as its migrations made them: a column added by a migration is
/// copied with no change here.
const TABLES: &[(&str, &str)] = &[
    ("cases", "id"),
    ("referrals", "id"),
    ("referral_events", "referral_id, version"),
    ("deadlines", "referral_id, kind"),
    ("inbox_heads", "member"),
    ("inbox_events", "member, seq"),
    ("requests", "member, request_id"),
    ("calendar_schedules", "year, version"),
    ("audit_log", "seq"),
    ("audit_checkpoints", "seq"),
    ("audit_nodes", "level, idx"),
    ("attachments", "id"),
    ("attachment_chunks", "attachment_id, position"),
    ("attachment_links", "referral_id, attachment_id"),
    ("letter_numbers", "referral_id"),
    ("letters", "referral_id, version"),
    ("extensions", "id"),
    ("supervisions", "id"),
    ("supervision_items", "referral_id, deadline_kind, supervision_id"),
    ("visits", "referral_id, version"),
    ("key_cases", "case_id"),
    ("directory_versions", "version"),
    ("notify_cursors", "member"),
    ("notifications", "id"),
    ("notification_attempts", "notification_id, attempt"),
    ("clerk_passwords", "holder"),
];

/// Tables not copied: the record of migrations, the inbox epoch (a copy is a new
/// store, with an epoch of its own), the audit chain's head (carried over as one row),
/// the workbench's sessions (clerks sign in again), the claims on document numbers
/// of processes on the source and their counters (none on SQLite, whose process claims
/// nothing: the destination's counters start above the numbers copied), and what
/// the destination's triggers make again from the rows copied: the index of who read
/// whom (`audit_referrals`) and the counts the figures add up (`figure_*`).
const NOT_COPIED: &[&str] = &[
    "_sqlx_migrations",
    "hub_meta",
    "audit_head",
    "web_sessions",
    "letter_number_claims",
    "letter_number_next",
    "audit_referrals",
];
const DERIVED_PREFIX: &str = "figure_";

/// Each copied table's columns and their kinds, as the destination's schema has them
/// (those it computes itself left out);
/// refuses a table the copy does not know (a migration added it: it belongs in
/// `TABLES` or `NOT_COPIED`).
async fn columns(db: &PgPool) -> Result<Vec<Vec<(String, Kind)>>, MigrateError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND is_generated = 'NEVER' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(db)
    .await?;
    if let Some((table, _, _)) = rows.iter().find(|(table, _, _)| {
        !TABLES.iter().any(|(t, _)| t == table)
            && !NOT_COPIED.contains(&table.as_str())
            && !table.starts_with(DERIVED_PREFIX)
    }) {
        return Err(MigrateError::UnknownTable(table.clone()));
    }
    let mut out = Vec::with_capacity(TABLES.len());
    for (table, _) in TABLES {
        let mut of_table = Vec::new();
        for (_, column, data_type) in rows.iter().filter(|(t, _, _)| t == table) {
            let kind = Kind::of(data_type).ok_or_else(|| MigrateError::UnknownType {
                table,
                column: column.clone(),
                data_type: data_type.clone(),
            })?;
            of_table.push((column.clone(), kind));
        }
        out.push(of_table);
    }
    Ok(out)
}

/// Rows read from one pass at a time.
const PAGE: i64 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the source database: {0}")]
    Source(#[from] rusqlite::Error),
    #[error("the destination already holds {rows} rows in {table}; it must be empty")]
    NotEmpty { table: &'static str, rows: i64 },
    #[error("the destination has a table {0} that the copy does not know")]
    UnknownTable(String),
    #[error("{table}.{column} is of type {data_type}, which the copy does not know")]
    UnknownType { table: &'static str, column: String, data_type: String },
    #[error("{table}: {source_rows} rows in the source but {copied} in the destination")]
    Mismatch { table: &'static str, source_rows: i64, copied: i64 },
}

fn count_sqlite(db: &Connection, table: &str) -> Result<i64, rusqlite::Error> {
    db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
}

/// A page of `select`'s rows (`LIMIT ?1 OFFSET ?2`), each as the statement `insert`,
/// each column read by its name.
fn page(
    db: &Connection,
    (select, insert): (&str, &str),
    columns: &[(String, Kind)],
    offset: i64,
) -> Result<Vec<Query>, rusqlite::Error> {
    let mut statement = db.prepare_cached(select)?;
    let mut rows = statement.query([PAGE, offset])?;
    let mut page = Vec::new();
    while let Some(row) = rows.next()? {
        let mut query = Query::new(insert.to_owned());
        for (name, kind) in columns {
            query.params.push(kind.value(row, name)?);
        }
        page.push(query);
    }
    Ok(page)
}

async fn count_pg(pool: &PgPool, table: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(pool).await
}

/// Copies the SQLite store at `from` into the empty PostgreSQL store at `to` and returns
/// each table with its row count, as verified on both sides.
/// Sealed values are copied as they are: they are bound to their row and field, not
/// to the database, and `keys` opens them on either side.
pub async fn sqlite_to_postgres(
    from: &str,
    to: &str,
    keys: Arc<Keys>,
) -> Result<Vec<(&'static str, i64)>, MigrateError> {
    let source = SqliteStore::open(from, keys.clone()).await?;
    let destination = PgStore::open(to, keys).await?;
    // Read on a connection of its own: the store's readers answer the hub's reads.
    let src = schema::open_read_only(source.path())?;
    let dst = destination.pool();
    let schema = columns(dst).await?;
    for (table, _) in TABLES {
        let rows = count_pg(dst, table).await?;
        if rows > 0 {
            return Err(MigrateError::NotEmpty { table, rows });
        }
    }
    let mut tx = dst.begin().await?;
    for ((table, key), columns) in TABLES.iter().zip(&schema) {
        let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let insert = format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), placeholders.join(", "));
        let select = format!("SELECT {} FROM {table} ORDER BY {key} LIMIT ?1 OFFSET ?2", names.join(", "));
        let mut offset = 0;
        loop {
            let rows = page(&src, (&select, &insert), columns, offset)?;
            for query in &rows {
                sqlx::query_with(&query.sql, arguments::<Postgres>(query)?).execute(&mut *tx).await?;
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
            offset += PAGE;
        }
    }
    // The head of the audit chain is one row on both sides: carried over, not copied.
    let (seq, hash): (i64, String) =
        src.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut counts = Vec::with_capacity(TABLES.len());
    for (table, _) in TABLES {
        let (source_rows, copied) = (count_sqlite(&src, table)?, count_pg(dst, table).await?);
        if source_rows != copied {
            return Err(MigrateError::Mismatch { table, source_rows, copied });
        }
        counts.push((*table, copied));
    }
    source.close().await;
    destination.close().await;
    Ok(counts)
}
