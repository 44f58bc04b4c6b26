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
}
