//! The one place where every failure becomes a gRPC status. Clients get the right code
//! and the fields at fault; internal details are logged, never sent.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, PreconditionViolation, StatusExt};

use crate::{
    domain::{DomainError, FieldViolation, MemberCode},
    store::StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
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
    /// Optimistic concurrency kept losing: the caller may retry with the same id.
    #[error("the referral is being changed concurrently; retry")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        ApiError::Domain(DomainError::Invalid(vec![FieldViolation::new(field, description)]))
    }
}

/// Most field violations an answer lists; the others are counted, so that an answer
/// stays small whatever the request held.
pub const MAX_VIOLATIONS: usize = 20;
/// Longest message an answer carries, in characters.
pub const MAX_MESSAGE: usize = 1_000;

/// The first violations, and a line counting the rest.
fn listed(violations: &[FieldViolation]) -> Vec<FieldViolation> {
    let mut shown: Vec<FieldViolation> = violations.iter().take(MAX_VIOLATIONS).cloned().collect();
    if violations.len() > MAX_VIOLATIONS {
        let rest = violations.len() - MAX_VIOLATIONS;
        shown.push(FieldViolation::new("", format!("and {rest} more violations, not listed")));
    }
    shown
}

fn bad_request(violations: &[FieldViolation]) -> ErrorDetails {
    ErrorDetails::with_bad_request(
        violations.iter().map(|v| tonic_types::FieldViolation::new(&v.field, &v.description)).collect::<Vec<_>>(),
    )
}

/// `message` cut to [`MAX_MESSAGE`] characters.
fn bounded(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message,
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        let message = bounded(match &error {
            ApiError::Domain(DomainError::Invalid(violations)) => DomainError::Invalid(listed(violations)).to_string(),
            _ => error.to_string(),
        });
        match error {
            ApiError::Domain(DomainError::Invalid(violations)) => {
                Status::with_error_details(Code::InvalidArgument, message, bad_request(&listed(&violations)))
            }
            ApiError::Domain(DomainError::WrongState { current, .. }) => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_precondition_failure(vec![PreconditionViolation::new("STATE", current, "state")]),
            ),
            ApiError::Domain(DomainError::Forbidden(_)) | ApiError::PermissionDenied(_) => {
                Status::permission_denied(message)
            }
            ApiError::NotFound(_) => Status::not_found(message),
            ApiError::Unauthenticated(_) => Status::unauthenticated(message),
            ApiError::RequestReused(_) => Status::with_error_details(
                Code::AlreadyExists,
                message,
                ErrorDetails::with_bad_request_violation("request_id", "already used for a different request"),
            ),
            ApiError::OpenReferral { recipient, .. } | ApiError::Store(StoreError::OpenReferral(recipient)) => {
                Status::with_error_details(
                    Code::FailedPrecondition,
                    message,
                    ErrorDetails::with_precondition_failure(vec![PreconditionViolation::new(
                        "OPEN_REFERRAL",
                        recipient.as_str(),
                        "one open referral per person and recipient",
                    )]),
                )
            }
            ApiError::Exhausted { retry_after, .. } => {
                let details = retry_after.map(|wait| ErrorDetails::with_retry_info(Some(wait))).unwrap_or_default();
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            ApiError::EpochChanged { current } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_precondition_failure(vec![PreconditionViolation::new(
                    "INBOX_EPOCH",
                    current,
                    "the cursor was read in another epoch",
                )]),
            ),
            ApiError::Contended => Status::aborted(message),
            ApiError::Store(e) => {
                tracing::error!(error = %e, "store failure");
                Status::internal("internal error; the request may be retried with the same request_id")
            }
        }
    }
}
