//! The embedded store's connections and schema, through its one driver (rusqlite):
//! how a connection is opened, and the migrations of `migrations/sqlite` (embedded at
//! build time) applied in order, each in a transaction with its record. The record is
//! sqlx's (`_sqlx_migrations`, its columns and SHA-384 checksums), which PostgreSQL's
//! migrations keep too, so a store made by any earlier version carries on.

use std::{path::Path, time::Duration};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::store::StoreError;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A writing connection to the database at `path` (made if missing), in WAL mode with
/// `synchronous=FULL`, so that a commit that returned survives a crash and a power loss.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(10))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    Ok(connection)
}

/// A read-only connection to the existing database at `path`.
pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    connection.busy_timeout(Duration::from_secs(10))?;
    Ok(connection)
}

fn refused(why: String) -> StoreError {
    StoreError::Write(format!("migrating the database: {why}"))
}

/// Applies every migration the database lacks; refuses one left half-applied, one
/// applied but changed since, and one applied that this version does not know.
pub fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
         checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
    )?;
    let dirty: Option<i64> = connection
        .query_row("SELECT version FROM _sqlx_migrations WHERE success = false ORDER BY version LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(version) = dirty {
        return Err(refused(format!("migration {version} was left half-applied; restore a backup")));
    }
    let applied: Vec<(i64, Vec<u8>)> = connection
        .prepare("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (version, _) in &applied {
        if !MIGRATIONS.iter().any(|m| m.version == *version) {
            return Err(refused(format!("migration {version} is applied but unknown to this version of the hub")));
        }
    }
    // A migration that rebuilds a table drops it while others still refer to it, as
    // SQLite's way of changing a table has it: foreign keys are off while migrations
    // run, and each is checked against them before it commits.
    connection.pragma_update(None, "foreign_keys", false)?;
    let applied = apply(connection, &applied);
    connection.pragma_update(None, "foreign_keys", true)?;
    applied
}

/// Applies, in order, each migration not among `applied`, each with its record.
fn apply(connection: &mut Connection, applied: &[(i64, Vec<u8>)]) -> Result<(), StoreError> {
    for migration in MIGRATIONS.iter().filter(|m| !m.migration_type.is_down_migration()) {
        match applied.iter().find(|(version, _)| *version == migration.version) {
            Some((_, checksum)) if checksum.as_slice() != &*migration.checksum => {
                return Err(refused(format!("migration {} was changed after it was applied", migration.version)));
            }
            Some(_) => {}
            None => {
                let tx = connection.transaction()?;
                tx.execute_batch(&migration.sql)
                    .map_err(|e| refused(format!("migration {}: {e}", migration.version)))?;
                let dangling: Option<String> = tx
                    .query_row("SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1", [], |r| r.get(0))
                    .optional()?;
                if let Some(table) = dangling {
                    return Err(refused(format!(
                        "migration {} leaves rows of {table} referring to rows that are gone",
                        migration.version
                    )));
                }
                tx.execute(
                    "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                     VALUES (?1, ?2, TRUE, ?3, -1)",
                    params![migration.version, &*migration.description, &*migration.checksum],
                )?;
                tx.commit()?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_database_is_migrated_once_and_a_changed_migration_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir.path().join("t.db")).unwrap();
        migrate(&mut db).unwrap();
        let count = |db: &Connection| -> i64 {
            db.query_row("SELECT COUNT(*) FROM _sqlx_migrations WHERE success", [], |r| r.get(0)).unwrap()
        };
        let all = MIGRATIONS.iter().count() as i64;
        assert_eq!(count(&db), all);
        migrate(&mut db).unwrap();
        assert_eq!(count(&db), all, "nothing applied twice");
        db.execute("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1", []).unwrap();
        let refused = migrate(&mut db).unwrap_err().to_string();
        assert!(refused.contains("migration 1 was changed"), "{refused}");
    }

    /// A store made before the tables were kept in their keys' B-trees keeps every row
    /// and every rule through the rebuilds: the figures' triggers still count, the
    /// history still refuses a delete, foreign keys are enforced again after, and the
    /// file a letter was issued as is marked as issued (an uploaded file is not).
    #[test]
    fn rebuilt_tables_keep_their_rows_triggers_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir.path().join("t.db")).unwrap();
        db.execute_batch(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
        )
        .unwrap();
        for migration in MIGRATIONS.iter().filter(|m| m.version < 24) {
            db.execute_batch(&migration.sql).unwrap();
            db.execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES (?1, ?2, TRUE, ?3, -1)",
                params![migration.version, &*migration.description, &*migration.checksum],
            )
            .unwrap();
        }
        db.execute_batch(
            "INSERT INTO cases VALUES ('c1', 'jcy', 1);
             INSERT INTO referrals (id, case_id, kind, state, sender, recipient, urgent, green_channel, content, \
                 submitted_at, updated_at, version) \
                 VALUES ('r1', 'c1', 'social_assistance', 'submitted', 'jcy', 'mz', 0, 0, '{}', 1, 1, 1);
             INSERT INTO deadlines (referral_id, kind, case_id, responsible, runs_from, due_on, provisional, state, \
                 reminded) VALUES ('r1', 'start', 'c1', 'mz', '2026-09-01', '2026-09-08', 0, 'open', 0);
             INSERT INTO referral_events (referral_id, version, kind, actor, at, state, note) \
                 VALUES ('r1', 1, 'submitted', 'jcy', 1, 'submitted', '');
             INSERT INTO requests (member, request_id, fingerprint, response, at) VALUES ('jcy', 'q1', x'01', x'02', 1);
             INSERT INTO letter_numbers VALUES ('r1', 'jcy', 2026, 1, 'x');
             INSERT INTO attachments (id, owner, name, kind, size, sha256, chunks, nonce_prefix, sealed_key, \
                 uploaded_at) VALUES ('a1', 'jcy', 'n', 'docx', 1, 'h', 1, x'00', 'k', 1), \
                 ('a2', 'jcy', 'n', 'pdf', 1, 'h', 1, x'00', 'k', 1);
             INSERT INTO attachment_chunks VALUES ('a1', 0, x'01'), ('a2', 0, x'02');
             INSERT INTO letters (referral_id, version, number, attachment_id, issued_at, by_member, clerk) \
                 VALUES ('r1', 1, 'x', 'a1', 1, 'jcy', '');
             INSERT INTO attachment_links (referral_id, attachment_id, version, ordinal, by_member) \
                 VALUES ('r1', 'a2', 1, 0, 'jcy');",
        )
        .unwrap();
        migrate(&mut db).unwrap();

        let one = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
        for (table, rows) in
            [("cases", 1), ("referral_events", 1), ("letter_numbers", 1), ("figure_flows", 1), ("attachments", 2)]
        {
            assert_eq!(one(&format!("SELECT COUNT(*) FROM {table}")), rows, "{table}");
            let rowid = db.prepare(&format!("SELECT rowid FROM {table}")).map(|_| ()).unwrap_err().to_string();
            assert!(rowid.contains("no such column"), "{table} has no rowid: {rowid}");
        }
        assert_eq!(one("SELECT pending FROM deadlines"), 1, "the generated column is computed");
        db.execute(
            "INSERT INTO deadlines (referral_id, kind, case_id, responsible, runs_from, due_on, provisional, state, \
             reminded) VALUES ('r1', 'feedback', 'c1', 'mz', '2026-09-01', '2026-09-08', 0, 'open', 0)",
            [],
        )
        .unwrap();
        assert_eq!(one("SELECT SUM(deadlines) FROM figure_deadlines WHERE due_on = '2026-09-08'"), 2, "counted after");
        assert!(db.execute("DELETE FROM referral_events", []).is_err(), "history is append-only");
        let orphan = db.execute(
            "INSERT INTO deadlines (referral_id, kind, case_id, responsible, runs_from, due_on, provisional, state, \
             reminded) VALUES ('gone', 'start', 'c1', 'mz', '2026-09-01', '2026-09-08', 0, 'open', 0)",
            [],
        );
        assert!(orphan.is_err(), "foreign keys are enforced again");
        let marks: String =
            db.query_row("SELECT group_concat(id || ':' || issued, ' ') FROM attachments", [], |r| r.get(0)).unwrap();
        assert_eq!(marks, "a1:1 a2:0", "the letter's file is issued, the upload not");
        assert_eq!(one("SELECT COUNT(*) FROM attachment_chunks"), 2, "the chunks are kept");
        let orphan = db.execute("INSERT INTO attachment_chunks VALUES ('gone', 0, x'03')", []);
        assert!(orphan.is_err(), "a chunk names its file");
        assert_eq!(one("SELECT COUNT(*) FROM sqlite_master WHERE sql LIKE '%rebuilt%'"), 0);
    }

    /// One open referral a person to each recipient, kept on SQLite by a check rather
    /// than an index of its own: a second one is refused by the rule's name, whether
    /// inserted or made so by a change; a closed one, or one to another recipient, is
    /// not. The check reads the person's index, not the recipient's run of referrals:
    /// the steps an insert takes do not grow with the recipient's referrals.
    #[test]
    fn one_open_referral_a_person_to_each_recipient() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir.path().join("t.db")).unwrap();
        migrate(&mut db).unwrap();
        db.execute_batch(
            "INSERT INTO cases VALUES ('c1', 'jcy', 1);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO referrals (id, case_id, kind, state, sender, recipient, urgent, green_channel, content, \
                 submitted_at, updated_at, version, person_index) \
             SELECT 'r' || i, 'c1', 'social_assistance', 'submitted', 'jcy', 'mz', 0, 0, '{}', i, i, 1, 'p' || i FROM n;",
        )
        .unwrap();
        let insert = |id: &str, person: &str, recipient: &str| -> Result<u64, rusqlite::Error> {
            let mut statement = db.prepare(
                "INSERT INTO referrals (id, case_id, kind, state, sender, recipient, urgent, green_channel, \
                 content, submitted_at, updated_at, version, person_index) \
                 VALUES (?1, 'c1', 'social_assistance', 'submitted', 'jcy', ?3, 0, 0, '{}', 9999, 9999, 1, ?2)",
            )?;
            statement.execute(params![id, person, recipient])?;
            Ok(statement.get_status(rusqlite::StatementStatus::VmStep) as u64)
        };
        let refused = |result: Result<u64, rusqlite::Error>| match result {
            Err(rusqlite::Error::SqliteFailure(e, Some(message))) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER && message == "referrals_open_person"
            }
            _ => false,
        };

        let steps = insert("new", "p-new", "mz").unwrap();
        assert!(steps < 1000, "the check looked at the person's referrals alone: {steps} steps");
        assert!(refused(insert("again", "p7", "mz")), "a second open referral is refused");
        insert("elsewhere", "p7", "jy").unwrap();
        db.execute("UPDATE referrals SET state = 'closed' WHERE id = 'r7'", []).unwrap();
        insert("after", "p7", "mz").unwrap();
        assert!(
            refused(db.execute("UPDATE referrals SET state = 'received' WHERE id = 'r7'", []).map(|n| n as u64)),
            "nor made so by a change",
        );
        db.execute("UPDATE referrals SET state = 'received' WHERE id = 'r8'", []).unwrap();
    }
}
