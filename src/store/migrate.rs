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

#[derive(Clone, Copy)]
enum Column {
    Text(&'static str),
    OptText(&'static str),
    Int(&'static str),
    OptInt(&'static str),
    Bool(&'static str),
    Bytes(&'static str),
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Text(n)
            | Column::OptText(n)
            | Column::Int(n)
            | Column::OptInt(n)
            | Column::Bool(n)
            | Column::Bytes(n) => n,
        }
    }

    /// The column's value in `row`, as a parameter for PostgreSQL.
    fn value(self, row: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
        let name = self.name();
        Ok(match self {
            Column::Text(_) => Value::from(row.get::<_, String>(name)?),
            Column::OptText(_) => Value::from(row.get::<_, Option<String>>(name)?),
            Column::Int(_) => Value::from(row.get::<_, i64>(name)?),
            Column::OptInt(_) => Value::from(row.get::<_, Option<i64>>(name)?),
            Column::Bool(_) => Value::from(row.get::<_, bool>(name)?),
            Column::Bytes(_) => Value::from(row.get::<_, Vec<u8>>(name)?),
        })
    }
}

use Column::{Bool, Bytes, Int, OptInt, OptText, Text};

/// Every table, parents before children, with its columns and key order.
const TABLES: &[(&str, &[Column], &str)] = &[
    ("cases", &[Text("id"), Text("owner"), Int("created_at")], "id"),
    (
        "referrals",
        &[
            Text("id"),
            Text("case_id"),
            Text("kind"),
            Text("state"),
            Text("sender"),
            Text("recipient"),
            Bool("urgent"),
            Bool("green_channel"),
            Text("content"),
            Int("submitted_at"),
            Int("updated_at"),
            OptInt("started_at"),
            OptText("conclusion"),
            OptText("feedback"),
            OptText("closing_reason"),
            Int("version"),
            OptText("person_name"),
            OptText("person_id_number"),
            OptText("person_phone"),
            OptText("person_address"),
            OptText("person_household"),
            OptText("narrative"),
            OptText("sealed_key"),
            OptText("person_index"),
            OptText("name_index"),
        ],
        "id",
    ),
    (
        "referral_events",
        &[
            Text("referral_id"),
            Int("version"),
            Text("kind"),
            Text("actor"),
            Int("at"),
            Text("state"),
            Text("note"),
            OptText("sealed_key"),
            Text("clerk"),
        ],
        "referral_id, version",
    ),
    (
        "deadlines",
        &[
            Text("referral_id"),
            Text("kind"),
            Text("case_id"),
            Text("responsible"),
            Text("runs_from"),
            Text("due_on"),
            Bool("provisional"),
            Text("state"),
            OptText("met_on"),
            Bool("reminded"),
            Text("referral_kind"),
            Bool("urgent"),
            Bool("green_channel"),
            OptText("closed_on"),
            Int("extended"),
            Int("paused"),
            OptText("paused_on"),
            Int("pauses"),
            Int("pauses_allowed"),
        ],
        "referral_id, kind",
    ),
    ("inbox_heads", &[Text("member"), Int("last_seq"), Int("acked_seq")], "member"),
    (
        "inbox_events",
        &[
            Text("member"),
            Int("seq"),
            Text("event_id"),
            Text("kind"),
            Text("referral_id"),
            Text("case_id"),
            Text("referral_kind"),
            Text("state"),
            Text("actor"),
            Int("at"),
            Text("note"),
            Bool("urgent"),
            Bool("green_channel"),
            OptText("deadline_kind"),
            OptText("due_on"),
            OptText("sealed_key"),
            Text("clerk"),
        ],
        "member, seq",
    ),
    (
        "requests",
        &[
            Text("member"),
            Text("request_id"),
            Bytes("fingerprint"),
            Bytes("response"),
            Int("at"),
            OptText("sealed_key"),
        ],
        "member, request_id",
    ),
    (
        "calendar_schedules",
        &[Int("year"), Int("version"), Text("schedule"), Text("source"), Text("loaded_by"), Int("loaded_at")],
        "year, version",
    ),
    (
        "audit_log",
        &[
            Int("seq"),
            Int("at"),
            Text("actor"),
            Text("certificate"),
            Text("action"),
            Text("referrals"),
            Text("detail"),
            Text("prev_hash"),
            Text("hash"),
        ],
        "seq",
    ),
    ("audit_checkpoints", &[Int("seq"), Text("head"), Int("at"), Text("signature"), Text("root")], "seq"),
    ("audit_nodes", &[Int("level"), Int("idx"), Text("hash")], "level, idx"),
    (
        "attachments",
        &[
            Text("id"),
            Text("owner"),
            Text("name"),
            Text("kind"),
            Int("size"),
            Text("sha256"),
            Int("chunks"),
            Bytes("nonce_prefix"),
            Text("sealed_key"),
            Int("uploaded_at"),
            Int("staged"),
        ],
        "id",
    ),
    ("attachment_chunks", &[Text("attachment_id"), Int("position"), Bytes("sealed")], "attachment_id, position"),
    (
        "attachment_links",
        &[Text("referral_id"), Text("attachment_id"), Int("version"), Int("ordinal"), Text("by_member")],
        "referral_id, attachment_id",
    ),
    ("letter_numbers", &[Text("referral_id"), Text("sender"), Int("year"), Int("seq"), Text("prefix")], "referral_id"),
    (
        "letters",
        &[
            Text("referral_id"),
            Int("version"),
            Text("number"),
            Text("attachment_id"),
            Int("issued_at"),
            Text("by_member"),
            Text("clerk"),
        ],
        "referral_id, version",
    ),
    (
        "extensions",
        &[
            Text("id"),
            Text("referral_id"),
            Text("deadline_kind"),
            Text("member"),
            Int("asked_at"),
            Text("asked_by"),
            Int("days"),
            Text("reason"),
            Text("state"),
            OptInt("decided_at"),
            Text("decided_by"),
            Int("granted_days"),
            Text("answer"),
            Text("due_before"),
            Text("due_after"),
        ],
        "id",
    ),
    (
        "supervisions",
        &[
            Text("id"),
            Text("member"),
            Int("year"),
            Int("seq"),
            Text("number"),
            Text("attachment_id"),
            Int("issued_at"),
            Text("clerk"),
        ],
        "id",
    ),
    (
        "supervision_items",
        &[Text("referral_id"), Text("deadline_kind"), Text("supervision_id"), Int("ordinal")],
        "referral_id, deadline_kind, supervision_id",
    ),
    (
        "visits",
        &[
            Text("referral_id"),
            Int("version"),
            Text("visited_on"),
            Text("method"),
            Text("visitor"),
            Bool("aid_in_place"),
            Text("effect"),
            Bool("another_referral"),
            Text("by_member"),
            Int("at"),
        ],
        "referral_id, version",
    ),
    ("key_cases", &[Text("case_id"), Text("reason"), Text("marked_by"), Int("marked_at")], "case_id"),
    (
        "directory_versions",
        &[Int("version"), Int("at"), Text("actor"), Text("change"), Text("description"), Text("directory")],
        "version",
    ),
    ("notify_cursors", &[Text("member"), Int("seq")], "member"),
    (
        "notifications",
        &[
            Text("id"),
            Text("member"),
            Text("event"),
            Text("channel"),
            Text("address"),
            Text("subject"),
            Text("body"),
            Text("referral_id"),
            OptText("deadline_kind"),
            Int("created_at"),
            Int("next_at"),
            Int("attempts"),
            Text("state"),
            Text("last_error"),
            OptInt("done_at"),
        ],
        "id",
    ),
    (
        "notification_attempts",
        &[Text("notification_id"), Int("attempt"), Int("at"), Bool("ok"), Text("error")],
        "notification_id, attempt",
    ),
];

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
    #[error("{table}: {source_rows} rows in the source but {copied} in the destination")]
    Mismatch { table: &'static str, source_rows: i64, copied: i64 },
}

fn count_sqlite(db: &Connection, table: &str) -> Result<i64, rusqlite::Error> {
    db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
}

/// A page of `select`'s rows (`LIMIT ?1 OFFSET ?2`), each as the statement `insert`.
fn page(
    db: &Connection,
    (select, insert): (&str, &str),
    columns: &[Column],
    offset: i64,
) -> Result<Vec<Query>, rusqlite::Error> {
    let mut statement = db.prepare_cached(select)?;
    let mut rows = statement.query([PAGE, offset])?;
    let mut page = Vec::new();
    while let Some(row) = rows.next()? {
        let mut query = Query::new(insert.to_owned());
        for column in columns {
            query.params.push(column.value(row)?);
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
    for (table, _, _) in TABLES {
        let rows = count_pg(dst, table).await?;
        if rows > 0 {
            return Err(MigrateError::NotEmpty { table, rows });
        }
    }
    let mut tx = dst.begin().await?;
    for (table, columns, key) in TABLES {
        let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
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
    for (table, _, _) in TABLES {
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
