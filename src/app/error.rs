//! What can go wrong in a hub operation, said once for every front end: the gRPC
//! services map it to a status, the workbench to a page.

use crate::{
    delivery::Ended,
    domain::{DomainError, FieldViolation, MemberCode, Rule},
    store::StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    /// A request id reused for a different request.
    #[error("request_id {0:?} was already used for a different request")]
    RequestReused(String),
    /// A request id answered by an earlier version of the hub, whose record cannot
    /// give the answer again.
    #[error("request_id {0:?} was already answered; read the referral for its state")]
    AnswerNotKept(String),
    /// The person already has an open referral to the recipient; its id when the caller
    /// sent it.
    #[error("the person already has an open referral to {recipient}{}", existing.map(|id| format!(" ({id})")).unwrap_or_default())]
    OpenReferral { recipient: MemberCode, existing: Option<uuid::Uuid> },
    /// A limit per member was reached; retry after the given time, if any.
    #[error("{message}")]
    Exhausted { message: String, retry_after: Option<std::time::Duration> },
    /// An inbox cursor from another epoch: the hub's database was restored or moved.
    #[error("the inbox was renumbered (the hub's database was restored or moved): resubscribe without after_seq in epoch {current} and drop events already seen by event_id")]
    EpochChanged { current: String },
    /// A cursor or acknowledgement past the end of the inbox: the hub's database was
    /// restored under the client, whose numbers are from before.
    #[error("seq {seq} is beyond the inbox head {head}: the hub's database was restored; resubscribe without after_seq (from your acknowledgement) and drop events already seen by event_id")]
    BeyondHead { seq: u64, head: u64 },
    /// A checkpoint a member kept covers more of the audit log than the hub's newest:
    /// the log was cut short, or restored from a backup.
    #[error("the hub's newest checkpoint covers audit entry {newest}, before the {kept} entries of the checkpoint you kept: its log was cut short or restored from a backup; keep your checkpoint and tell the joint meeting's office")]
    LogBehind { kept: u64, newest: u64 },
    /// The hub is stopping: the client should come back (to another replica).
    #[error("{0}")]
    Unavailable(String),
    /// Optimistic concurrency kept losing: the caller may retry with the same id.
    #[error("the referral is being changed concurrently; retry")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The certificate authority beside the hub could not read or write its files.
    #[error(transparent)]
    Certificates(#[from] crate::pki::authority::PkiError),
    /// A stored file that fails its integrity check: altered, reordered or cut short.
    #[error("{0}")]
    Integrity(String),
    /// A document could not be written (the letter template is broken).
    #[error(transparent)]
    Document(#[from] crate::documents::DocumentError),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, rule: Rule) -> Self {
        AppError::Domain(DomainError::Invalid(vec![FieldViolation::new(field, rule)]))
    }
}

impl From<Ended> for AppError {
    fn from(ended: Ended) -> Self {
        match ended {
            Ended::Busy(message) => AppError::Exhausted { message, retry_after: None },
            Ended::Revoked(_) | Ended::Expired(_) | Ended::Suspended(_) => AppError::Unauthenticated(ended.to_string()),
            Ended::Stopping => AppError::Unavailable(ended.to_string()),
            Ended::Store(e) => AppError::Store(e),
        }
    }
}
