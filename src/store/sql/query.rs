//! Statements as plain values, so that one text and one set of parameters serve both
//! backends: a [`Query`] holds the SQL (`$n` parameters, which SQLite reads too) and
//! its [`Value`]s; a backend runs it and hands back each row as [`Cells`], read in the
//! order of the statement's columns.

use std::borrow::Cow;

use super::super::{rows::corrupt, StoreError};

/// A parameter. Nulls carry their type, as PostgreSQL wants to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_owned()))
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_owned))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}

/// A statement and its parameters. A fixed text is borrowed, not copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub sql: Cow<'static, str>,
    pub params: Vec<Value>,
}

impl Query {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Self { sql: sql.into(), params: Vec::new() }
    }

    /// Binds the next `$n` of the text.
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.params.push(value.into());
        self
    }

    /// Appends text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// Appends a parameter's `$n` and binds it.
    pub fn push_bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.params.push(value.into());
        let n = self.params.len();
        self.sql.to_mut().push_str(&format!("${n}"));
        self
    }

    /// ` AND column IN (…)` over `values`; nothing when there are none.
    pub fn push_one_of<V: Into<Value>>(&mut self, column: &str, values: impl IntoIterator<Item = V>) -> &mut Self {
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            return self;
        }
        self.push(&format!(" AND {column} IN ("));
        let mut first = true;
        for value in values {
            if !first {
                self.push(", ");
            }
            first = false;
            self.push_bind(value);
        }
        self.push(")")
    }
}

/// A column's value in a row read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

/// A row read back, its cells taken in the order of the statement's columns.
#[derive(Debug, Clone, Default)]
pub struct Cells {
    cells: std::vec::IntoIter<Cell>,
}

impl From<Vec<Cell>> for Cells {
    fn from(cells: Vec<Cell>) -> Self {
        Self { cells: cells.into_iter() }
    }
}

impl Cells {
    fn next(&mut self, what: &str) -> Result<Cell, StoreError> {
        self.cells.next().ok_or_else(|| corrupt("missing column", what))
    }

    pub fn int(&mut self) -> Result<i64, StoreError> {
        self.opt_int()?.ok_or_else(|| corrupt("null", "integer"))
    }

    pub fn opt_int(&mut self) -> Result<Option<i64>, StoreError> {
        match self.next("integer")? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(v)),
            Cell::Bool(v) => Ok(Some(i64::from(v))),
            other => Err(corrupt("not an integer", kind(&other))),
        }
    }

    pub fn text(&mut self) -> Result<String, StoreError> {
        self.opt_text()?.ok_or_else(|| corrupt("null", "text"))
    }

    pub fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        match self.next("text")? {
            Cell::Null => Ok(None),
            Cell::Text(v) => Ok(Some(v)),
            other => Err(corrupt("not text", kind(&other))),
        }
    }

    /// A boolean: PostgreSQL's own, or SQLite's 0 and 1.
    pub fn bool(&mut self) -> Result<bool, StoreError> {
        match self.next("boolean")? {
            Cell::Bool(v) => Ok(v),
            Cell::Int(v) => Ok(v != 0),
            other => Err(corrupt("not a boolean", kind(&other))),
        }
    }

    pub fn bytes(&mut self) -> Result<Vec<u8>, StoreError> {
        match self.next("bytes")? {
            Cell::Bytes(v) => Ok(v),
            Cell::Text(v) => Ok(v.into_bytes()),
            other => Err(corrupt("not bytes", kind(&other))),
        }
    }
}

/// What a cell holds, never its value (it may be personal data).
fn kind(cell: &Cell) -> &'static str {
    match cell {
        Cell::Null => "null",
        Cell::Int(_) => "integer",
        Cell::Text(_) => "text",
        Cell::Bytes(_) => "bytes",
        Cell::Bool(_) => "boolean",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_as_they_are_pushed() {
        let mut q = Query::new("SELECT x FROM t WHERE 1 = 1");
        q.push(" AND a = ").push_bind("a").push_one_of("s", ["open", "missed"]).push_one_of("k", [""; 0]);
        assert_eq!(q.sql, "SELECT x FROM t WHERE 1 = 1 AND a = $1 AND s IN ($2, $3)");
        assert_eq!(q.params.len(), 3);
    }

    #[test]
    fn cells_are_read_in_order_and_a_wrong_type_is_named_not_shown() {
        let mut cells = Cells::from(vec![Cell::Int(1), Cell::Null, Cell::Text("秘密".into())]);
        assert!(cells.bool().unwrap());
        assert_eq!(cells.opt_text().unwrap(), None);
        let err = cells.int().unwrap_err().to_string();
        assert!(err.contains("text") && !err.contains("秘密"), "{err}");
        assert!(cells.text().is_err(), "no more columns");
    }
}
