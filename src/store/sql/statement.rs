//! One statement of a commit, as both backends run it, and what its outcome means: the
//! error a unique violation stands for, whether it must change exactly one row, and
//! whether it appends an inbox event (then it returns the event's sequence number), and
//! whether it is a new row that may be written together with others of its text.

use uuid::Uuid;

use super::{writes::ADVANCE_INBOX_HEAD, Query};
use crate::{
    domain::{lifecycle::Notice, MemberCode},
    store::{Delivered, InboxEvent, StoreError},
};

#[derive(Debug)]
pub struct Statement {
    pub query: Query,
    /// What breaking a unique constraint means.
    pub unique: Unique,
    /// When the statement must change exactly one row: what another count means.
    pub one_row: Option<NotOne>,
    /// The inbox event the statement appends, after [`Statement::advance`] moved its
    /// member's head on; it returns the event's sequence number.
    pub delivers: Option<Box<(Uuid, Notice)>>,
    /// A row written by `INSERT … VALUES (…)` (or matched by `IN (VALUES (…))`) whose
    /// place in its batch does not matter but for the rows it names, which are stored
    /// already or written the same way before it: a backend may write the rows of one
    /// text, from every commit of a batch, as one statement, ahead of the rest (a
    /// statement of the rest that then finds a row changed fails as a lost race, as it
    /// would after another batch).
    pub row: bool,
}

/// What a unique violation means.
#[derive(Debug, Clone)]
pub enum Unique {
    /// Another writer came first: the plan is made again.
    Conflict,
    /// The request id is recorded already: the recorded answer is given.
    DuplicateRequest,
    /// The person has an open referral to this member already.
    OpenReferral(MemberCode),
}

/// What changing other than one row means.
#[derive(Debug)]
pub enum NotOne {
    /// The row changed meanwhile.
    Conflict,
    /// The row changed meanwhile, unless this query finds it still at the version read
    /// (then it is sealed under an older key, and is written whole instead).
    ConflictUnlessFound(Query),
}

impl Statement {
    /// A statement whose count of rows does not matter.
    pub fn any(query: Query) -> Self {
        Self { query, unique: Unique::Conflict, one_row: None, delivers: None, row: false }
    }

    /// A new row, which a backend may write with the others of its text.
    pub fn row(query: Query) -> Self {
        Self { row: true, ..Self::any(query) }
    }

    /// A statement that must change exactly one row.
    pub fn one_row(query: Query) -> Self {
        Self { one_row: Some(NotOne::Conflict), ..Self::any(query) }
    }

    /// A statement that appends `notice` to its member's inbox.
    pub fn delivering(query: Query, event_id: Uuid, notice: Notice) -> Self {
        Self { delivers: Some(Box::new((event_id, notice))), ..Self::any(query) }
    }

    pub fn on_unique(self, unique: Unique) -> Self {
        Self { unique, ..self }
    }

    /// What the commit fails with when the statement breaks a unique constraint.
    pub fn unique_error(&self) -> StoreError {
        match &self.unique {
            Unique::Conflict => StoreError::Conflict,
            Unique::DuplicateRequest => StoreError::DuplicateRequest,
            Unique::OpenReferral(recipient) => StoreError::OpenReferral(recipient.clone()),
        }
    }

    /// For a statement that appends an inbox event: the one to run just before it,
    /// which moves the member's inbox head on to the event's number.
    pub fn advance(&self) -> Option<Query> {
        let (_, notice) = self.delivers.as_deref()?;
        Some(Query::new(ADVANCE_INBOX_HEAD).bind(notice.to.as_str()))
    }

    /// The inbox position filled, from the sequence number the statement returned.
    pub fn delivered(&self, seq: i64) -> Option<Delivered> {
        let (event_id, notice) = self.delivers.as_deref()?;
        let seq = seq.max(0) as u64;
        let event = InboxEvent { seq, event_id: *event_id, notice: notice.clone() };
        Some(Delivered { member: notice.to.clone(), seq, event: Some(event) })
    }
}
