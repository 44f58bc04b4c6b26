//! The gRPC services: each handler takes the caller the interceptor resolved, maps its
//! request from protobuf to domain values, calls the hub's operation in [`crate::app`]
//! and maps the answer back. No rule lives here.

mod calendar;
pub mod convert;
mod coordination;
mod directory;
pub mod error;
pub mod identity;
mod inbox;
pub mod materials;
mod records;
mod referrals;

use prost::Message;
use tonic::Request;

pub use calendar::CalendarApi;
pub use coordination::CoordinationApi;
pub use directory::DirectoryApi;
pub use identity::Authenticate;
pub use inbox::InboxApi;
pub use materials::MaterialApi;
pub use records::RecordsApi;
pub use referrals::{submission, ReferralApi};

use crate::app::RequestKey;

/// The idempotency key of a request: its id, and a fingerprint of the RPC and the
/// request as the client encoded it.
fn key<Q: Message>(method: &str, request_id: &str, request: &Request<Q>) -> RequestKey {
    RequestKey::new(request_id, method, &request.get_ref().encode_to_vec())
}
