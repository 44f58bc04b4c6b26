//! The readers' connections: read-only, through the same driver as the writer. A read
//! runs whole on a blocking thread (its statement prepared once per connection, its
//! parameters bound by number, its rows copied once into cells) and comes back as one
//! answer, so that a ledger's page of thousands of rows crosses threads once.

use std::{
    path::Path,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use rusqlite::{types::ValueRef, Connection, OpenFlags};
use tokio::sync::Semaphore;

use crate::store::{
    sql::{Cell, Cells, Query},
    StoreError,
};

/// Statements kept prepared per connection: every read the hub makes, with room.
const CACHED_STATEMENTS: usize = 128;

pub struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    /// `count` read-only connections to the database at `path`, which map the file into
    /// memory: long reads (the figures' distinct persons, a ledger) then copy no page
    /// through the page cache.
    pub fn open(path: &Path, count: usize) -> Result<Self, StoreError> {
        let mut idle = Vec::with_capacity(count);
        for _ in 0..count {
            let connection = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )?;
            connection.busy_timeout(Duration::from_secs(10))?;
            connection.pragma_update(None, "mmap_size", 268_435_456)?;
            connection.pragma_update(None, "cache_size", -16384)?;
            connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
            idle.push(connection);
        }
        Ok(Self { idle: Mutex::new(idle), permits: Semaphore::new(count) })
    }

    /// The rows of `query`, on an idle connection.
    pub async fn fetch(&self, query: Query) -> Result<Vec<Cells>, StoreError> {
        let permit = self.permits.acquire().await.map_err(|_| StoreError::Write("the store is closed".into()))?;
        let connection = self.take().ok_or_else(|| StoreError::Write("no reading connection".into()))?;
        let (connection, rows) = tokio::task::spawn_blocking(move || {
            let rows = read(&connection, &query);
            (connection, rows)
        })
        .await
        .map_err(|e| StoreError::Write(format!("a read stopped: {e}")))?;
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(connection);
        drop(permit);
        rows
    }

    /// Closes every connection; reads after it fail.
    pub fn close(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    fn take(&self) -> Option<Connection> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop()
    }
}

fn read(connection: &Connection, query: &Query) -> Result<Vec<Cells>, StoreError> {
    let mut statement = connection.prepare_cached(&super::numbered(&query.sql))?;
    let columns = statement.column_count();
    let mut rows = statement.query(rusqlite::params_from_iter(query.params.iter().map(super::value)))?;
    let mut read = Vec::new();
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(columns);
        for i in 0..columns {
            cells.push(match row.get_ref(i)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::Int(v),
                ValueRef::Real(_) => return Err(StoreError::Corrupt("a column of type REAL".into())),
                ValueRef::Text(v) => Cell::Text(
                    String::from_utf8(v.to_vec()).map_err(|_| StoreError::Corrupt("a column's text".into()))?,
                ),
                ValueRef::Blob(v) => Cell::Bytes(v.to_vec()),
            });
        }
        read.push(Cells::from(cells));
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_binds_by_number_whatever_the_order_of_mention() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Connection::open(&path).unwrap();
        db.execute_batch("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, NULL);")
            .unwrap();
        let readers = Readers::open(&path, 1).unwrap();
        let query = Query::new("SELECT a, b FROM t WHERE b = $2 OR a = $1 ORDER BY a").bind(3).bind("x");
        let rows = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(readers.fetch(query))
            .unwrap();
        let read: Vec<(i64, Option<String>)> =
            rows.into_iter().map(|mut c| (c.int().unwrap(), c.opt_text().unwrap())).collect();
        assert_eq!(read, vec![(1, Some("x".into())), (3, None)]);
    }
}
