//! The API layer: the tonic services, the mapping between protobuf and the domain, and
//! the caller's identity. Handlers parse their request once, apply the domain, and
//! write through the store; they hold no state of their own.

mod calendar;
pub mod convert;
mod coordination;
mod directory;
pub mod error;
pub mod identity;
mod inbox;
pub mod limits;
mod referrals;

use std::sync::{Arc, PoisonError, RwLock};

use prost::Message;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tonic::Request;
use uuid::Uuid;

pub use calendar::{load_plan, CalendarApi};
pub use coordination::CoordinationApi;
pub use directory::DirectoryApi;
use error::ApiError;
pub use identity::{Authenticate, Peer, SharedDirectory, Verified};
pub use inbox::InboxApi;
pub use referrals::{check_submit, ReferralApi};

use crate::{
    clock::SharedClock,
    delivery::Notifier,
    domain::{audit::AuditRecord, calendar::Calendar, deadline::Policy, request_id::RequestId, Caller},
    keys::Keys,
    server::Revoked,
    store::{Commit, RequestRecord, Store, StoreError},
};

/// The working-day calendar as the hub currently knows it; replaced whole when a
/// schedule is loaded.
pub type SharedCalendar = Arc<RwLock<Arc<Calendar>>>;

/// What every service shares: the store, the directory, the calendar, the clock and
/// delivery.
#[derive(Clone)]
pub struct Hub {
    pub store: Arc<dyn Store>,
    pub directory: SharedDirectory,
    pub calendar: SharedCalendar,
    pub policy: Policy,
    pub clock: SharedClock,
    pub notifier: Arc<Notifier>,
    /// The keys that seal personal data, read again while the hub runs.
    pub keys: Arc<Keys>,
    /// Live streams open per member.
    pub streams: Arc<limits::StreamSlots>,
    /// Serial numbers of revoked certificates: a live stream of one ends.
    pub revoked: watch::Receiver<Revoked>,
    /// Turns true when the hub shuts down, so that live streams end.
    pub stopping: watch::Receiver<bool>,
}

/// What one attempt of a mutating request would write (its request record and time are
/// filled in by [`Hub::once`]), and its answer.
pub struct Plan<R> {
    pub commit: Commit,
    pub response: R,
}

/// One attempt at planning a mutating request.
pub type PlanFuture<'a, R> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Plan<R>, ApiError>> + Send + 'a>>;

/// How often a transition is retried after losing a race for the same referral.
const ATTEMPTS: usize = 5;

impl Hub {
    /// The calendar as it is now.
    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Runs a mutating request at most once per request id: replays the recorded
    /// answer to a retry, refuses a reuse of the id for another request, and retries
    /// the plan when a concurrent change wins the race.
    ///
    /// What it writes carries an audit record of the change: who, with which
    /// certificate, which method, which referrals.
    pub async fn once<'a, Q, R>(
        &self,
        caller: &Caller,
        method: &str,
        request_id: &str,
        request: &Request<Q>,
        mut plan: impl FnMut() -> PlanFuture<'a, R>,
    ) -> Result<R, ApiError>
    where
        Q: Message,
        R: Message + Default,
    {
        let request_id = RequestId::parse(request_id).map_err(|v| ApiError::Domain(v.into()))?;
        let fingerprint = Sha256::new()
            .chain_update(method.as_bytes())
            .chain_update([0])
            .chain_update(request.get_ref().encode_to_vec())
            .finalize()
            .to_vec();
        if let Some(answer) = self.replay(caller, &request_id, &fingerprint).await? {
            return Ok(answer);
        }
        for _ in 0..ATTEMPTS {
            let Plan { commit, response } = match plan().await {
                Ok(plan) => plan,
                // The same request, sent twice at once, may have been answered meanwhile
                // (and made its own plan impossible): the recorded answer wins.
                Err(e) => return self.replay(caller, &request_id, &fingerprint).await?.ok_or(e),
            };
            let audit = AuditRecord {
                actor: caller.code.clone(),
                certificate: identity::certificate(request),
                action: method.to_owned(),
                referrals: commit.referrals(),
                detail: String::new(),
            };
            let commit = Commit {
                audit: vec![audit],
                request: Some(RequestRecord {
                    member: caller.code.clone(),
                    request_id: request_id.clone(),
                    fingerprint: fingerprint.clone(),
                    response: response.encode_to_vec(),
                }),
                at: self.clock.now(),
                ..commit
            };
            match self.store.commit(commit).await {
                Ok(delivered) => {
                    self.notifier.notify(&delivered);
                    return Ok(response);
                }
                Err(StoreError::Conflict) => continue,
                Err(StoreError::DuplicateRequest) => {
                    if let Some(answer) = self.replay(caller, &request_id, &fingerprint).await? {
                        return Ok(answer);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Contended)
    }

    /// Records in the audit log that `caller` read `referrals` (`masked` for the
    /// office's view) with `method`.
    pub async fn audit_read<T>(
        &self,
        request: &Request<T>,
        caller: &Caller,
        method: &str,
        referrals: Vec<Uuid>,
    ) -> Result<(), ApiError> {
        let detail = if caller.role == crate::domain::Role::Office { "masked" } else { "" };
        let audit = AuditRecord {
            actor: caller.code.clone(),
            certificate: identity::certificate(request),
            action: method.to_owned(),
            referrals,
            detail: detail.to_owned(),
        };
        self.store.commit(Commit { audit: vec![audit], at: self.clock.now(), ..Commit::default() }).await?;
        Ok(())
    }

    async fn replay<R: Message + Default>(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        fingerprint: &[u8],
    ) -> Result<Option<R>, ApiError> {
        let Some(record) = self.store.recall(&caller.code, request_id).await? else {
            return Ok(None);
        };
        if record.fingerprint != fingerprint {
            return Err(ApiError::RequestReused(request_id.as_str().to_owned()));
        }
        R::decode(record.response.as_slice())
            .map(Some)
            .map_err(|e| ApiError::Store(StoreError::Corrupt(format!("recorded response: {e}"))))
    }
}
