//! Statements as plain values, so that one text and one set of parameters serve both
//! backends: a [`Query`] holds the SQL (`$n` parameters, which SQLite reads too) and
//! its [`Value`]s; a backend runs it and hands back each row as [`Cells`], whose
//! columns are read by name (an expression's name is its alias: `COUNT(*) AS n`).

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

/// The names of a statement's columns, shared by its rows.
pub type Names = std::sync::Arc<[Box<str>]>;

/// A row read back; each cell is taken by its column's name, once.
#[derive(Debug, Clone)]
pub struct Cells {
    names: Names,
    cells: Vec<Cell>,
    /// Where the next name is looked for first: decoders mostly read in the
    /// statement's order, so a lookup is usually one comparison.
    next: usize,
}

impl Cells {
    pub fn new(names: Names, cells: Vec<Cell>) -> Self {
        Self { names, cells, next: 0 }
    }

    fn take(&mut self, name: &str) -> Result<Cell, StoreError> {
        let count = self.names.len();
        let at = (0..count)
            .map(|i| (self.next + i) % count.max(1))
            .find(|&i| &*self.names[i] == name)
            .ok_or_else(|| corrupt("missing column", name))?;
        self.next = at + 1;
        let cell = self.cells.get_mut(at).ok_or_else(|| corrupt("missing column", name))?;
        Ok(std::mem::replace(cell, Cell::Null))
    }

    pub fn int(&mut self, name: &str) -> Result<i64, StoreError> {
        self.opt_int(name)?.ok_or_else(|| corrupt("null", name))
    }

    pub fn opt_int(&mut self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.take(name)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(v)),
            Cell::Bool(v) => Ok(Some(i64::from(v))),
            other => Err(corrupt(&format!("{name}: not an integer"), kind(&other))),
        }
    }

    pub fn text(&mut self, name: &str) -> Result<String, StoreError> {
        self.opt_text(name)?.ok_or_else(|| corrupt("null", name))
    }

    pub fn opt_text(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        match self.take(name)? {
            Cell::Null => Ok(None),
            Cell::Text(v) => Ok(Some(v)),
            other => Err(corrupt(&format!("{name}: not text"), kind(&other))),
        }
    }

    /// A boolean: PostgreSQL's own, or SQLite's 0 and 1.
    pub fn bool(&mut self, name: &str) -> Result<bool, StoreError> {
        match self.take(name)? {
            Cell::Bool(v) => Ok(v),
            Cell::Int(v) => Ok(v != 0),
            other => Err(corrupt(&format!("{name}: not a boolean"), kind(&other))),
        }
    }

    pub fn bytes(&mut self, name: &str) -> Result<Vec<u8>, StoreError> {
        match self.take(name)? {
            Cell::Bytes(v) => Ok(v),
            Cell::Text(v) => Ok(v.into_bytes()),
            other => Err(corrupt(&format!("{name}: not bytes"), kind(&other))),
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
    fn cells_are_read_by_name_in_any_order_and_a_wrong_type_is_named_not_shown() {
        let names: Names = ["flag", "nothing", "secret"].map(Box::from).into();
        let mut cells = Cells::new(names, vec![Cell::Int(1), Cell::Null, Cell::Text("秘密".into())]);
        assert_eq!(cells.opt_text("nothing").unwrap(), None);
        assert!(cells.bool("flag").unwrap());
        let err = cells.int("secret").unwrap_err().to_string();
        assert!(err.contains("secret") && err.contains("text") && !err.contains("秘密"), "{err}");
        assert!(cells.text("absent").unwrap_err().to_string().contains("absent"));
    }
}
