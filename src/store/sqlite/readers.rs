//! The readers' connections: read-only, through the same driver as the writer. A read
//! runs whole on a blocking thread (its statement prepared once per connection, its
//! parameters bound by number, its rows copied once into cells) and comes back as one
//! answer, so that a ledger's page of thousands of rows crosses threads once.

use std::{
    path::Path,
    sync::{Arc, Mutex, PoisonError},
};

use rusqlite::{types::ValueRef, Connection};
use tokio::sync::Semaphore;

use crate::store::{
    sql::{query::Names, Cell, Cells, Query},
    StoreError,
};

/// Statements kept prepared per connection: every read the hub makes, with room.
const CACHED_STATEMENTS: usize = 128;

pub struct Readers {
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    /// `count` read-only connections to the database at `path`, which map the file into
    /// memory: long reads (the figures' distinct persons, a ledger) then copy no page
    /// through the page cache.
    pub fn open(path: &Path, count: usize) -> Result<Self, StoreError> {
        let mut idle = Vec::with_capacity(count);
        for _ in 0..count {
            let connection = super::schema::open_read_only(path)?;
            connection.pragma_update(None, "mmap_size", 268_435_456)?;
            connection.pragma_update(None, "cache_size", -16384)?;
            connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
            idle.push(connection);
        }
        Ok(Self { idle: Arc::new(Mutex::new(idle)), permits: Arc::new(Semaphore::new(count)) })
    }

    /// The rows of `query`, on an idle connection. The read takes the connection and
    /// gives it back on its own thread, so a caller that stops waiting loses none.
    pub async fn fetch(&self, query: Query) -> Result<Vec<Cells>, StoreError> {
        let closed = || StoreError::Write("the store is closed".into());
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| closed())?;
        let idle = self.idle.clone();
        tokio::task::spawn_blocking(move || {
            let connection = idle.lock().unwrap_or_else(PoisonError::into_inner).pop().ok_or_else(closed)?;
            let rows = read(&connection, &query);
            if !permit.semaphore().is_closed() {
                idle.lock().unwrap_or_else(PoisonError::into_inner).push(connection);
            }
            rows
        })
        .await
        .map_err(|e| StoreError::Write(format!("a read stopped: {e}")))?
    }

    /// Closes every connection (those reading as they finish); reads after it fail.
    pub fn close(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

fn read(connection: &Connection, query: &Query) -> Result<Vec<Cells>, StoreError> {
    let mut statement = connection.prepare_cached(&super::numbered(&query.sql))?;
    let columns = statement.column_count();
    let names: Names = statement.column_names().into_iter().map(Box::from).collect();
    let mut rows = statement.query(super::params(query))?;
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
        read.push(Cells::new(names.clone(), cells));
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_given_up_on_gives_its_connection_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE t (a INTEGER);").unwrap();
        let readers = Readers::open(&path, 1).unwrap();
        let slow = Query::new(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) FROM n",
        );
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let given_up = runtime
            .block_on(async { tokio::time::timeout(std::time::Duration::from_millis(1), readers.fetch(slow)).await });
        assert!(given_up.is_err(), "the slow read was still running");
        let mut rows = runtime.block_on(readers.fetch(Query::new("SELECT 7 AS n"))).unwrap();
        assert_eq!(rows.remove(0).int("n").unwrap(), 7, "the one connection read again");
    }

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
            rows.into_iter().map(|mut c| (c.int("a").unwrap(), c.opt_text("b").unwrap())).collect();
        assert_eq!(read, vec![(1, Some("x".into())), (3, None)]);
    }
}
