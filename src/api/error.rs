//! The one place where every failure becomes a gRPC status. Clients get the right code
//! and the fields at fault; internal details are logged, never sent.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, PreconditionViolation, StatusExt};

use crate::domain::Rule;
use crate::{
    app::AppError,
    domain::{DomainError, FieldViolation},
    store::StoreError,
};

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
        shown.push(FieldViolation::new("", Rule::MoreNotListed { rest }));
    }
    shown
}

fn bad_request(violations: &[FieldViolation]) -> ErrorDetails {
    ErrorDetails::with_bad_request(
        violations.iter().map(|v| tonic_types::FieldViolation::new(&v.field, v.description())).collect::<Vec<_>>(),
    )
}

/// `message` cut to [`MAX_MESSAGE`] characters.
fn bounded(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message,
    }
}

impl From<AppError> for Status {
    fn from(error: AppError) -> Status {
        let message = bounded(match &error {
            AppError::Domain(DomainError::Invalid(violations)) => DomainError::Invalid(listed(violations)).to_string(),
            _ => error.to_string(),
        });
        match error {
            AppError::Domain(DomainError::Invalid(violations)) => {
                Status::with_error_details(Code::InvalidArgument, message, bad_request(&listed(&violations)))
            }
            AppError::Domain(DomainError::WrongState { current, .. }) => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_precondition_failure(vec![PreconditionViolation::new("STATE", current, "state")]),
            ),
            AppError::Domain(DomainError::Forbidden(_)) | AppError::PermissionDenied(_) => {
                Status::permission_denied(message)
            }
            AppError::NotFound(_) => Status::not_found(message),
            AppError::Unauthenticated(_) => Status::unauthenticated(message),
            AppError::RequestReused(_) => Status::with_error_details(
                Code::AlreadyExists,
                message,
                ErrorDetails::with_bad_request_violation("request_id", "already used for a different request"),
            ),
            AppError::OpenReferral { recipient, .. } | AppError::Store(StoreError::OpenReferral(recipient)) => {
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
            AppError::Exhausted { retry_after, .. } => {
                let details = retry_after.map(|wait| ErrorDetails::with_retry_info(Some(wait))).unwrap_or_default();
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            AppError::BeyondHead { head, .. } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_precondition_failure(vec![PreconditionViolation::new(
                    "INBOX_HEAD",
                    head.to_string(),
                    "the cursor is beyond the end of the inbox",
                )]),
            ),
            AppError::LogBehind { newest, .. } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_precondition_failure(vec![PreconditionViolation::new(
                    "AUDIT_LOG_BEHIND",
                    newest.to_string(),
                    "the hub's log is shorter than the checkpoint kept",
                )]),
            ),
            AppError::EpochChanged { current } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_precondition_failure(vec![PreconditionViolation::new(
                    "INBOX_EPOCH",
                    current,
                    "the cursor was read in another epoch",
                )]),
            ),
            AppError::AnswerNotKept(_) => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_precondition_failure(vec![PreconditionViolation::new(
                    "ANSWERED",
                    "request_id",
                    "answered before; its answer is not kept",
                )]),
            ),
            AppError::Unavailable(_) => Status::unavailable(message),
            AppError::Contended => Status::aborted(message),
            AppError::Integrity(_) => {
                tracing::error!(error = %message, "a stored file failed its integrity check");
                Status::data_loss(message)
            }
            AppError::Document(e) => {
                tracing::error!(error = %e, "writing a document");
                Status::internal(e.to_string())
            }
            AppError::Certificates(e) => {
                tracing::error!(error = %e, "certificate authority failure");
                Status::internal("internal error in the certificate authority")
            }
            AppError::Store(e) => {
                tracing::error!(error = %e, "store failure");
                Status::internal("internal error; the request may be retried with the same request_id")
            }
        }
    }
}
