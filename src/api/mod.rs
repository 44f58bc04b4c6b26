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
    domain::{audit::AuditRecord, calendar::Calendar, deadline::Policy, request_id::RequestId, Caller, MemberCode},
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
    /// What the hub counts, for Prometheus.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The answer to a mutating request, kept to answer a retry: which referrals it shows,
/// so that replaying it is audited as a read of them.
pub trait Answer: Message + Default {
    fn referrals(&self) -> Vec<Uuid>;
}

fn ids<'a>(ids: impl IntoIterator<Item = &'a String>) -> Vec<Uuid> {
    ids.into_iter().filter_map(|id| Uuid::parse_str(id).ok()).collect()
}

impl Answer for crate::proto::Referral {
    fn referrals(&self) -> Vec<Uuid> {
        ids([&self.id])
    }
}

impl Answer for crate::proto::SubmitResponse {
    fn referrals(&self) -> Vec<Uuid> {
        ids(self.referrals.iter().map(|r| &r.id))
    }
}

impl Answer for crate::proto::RemindResponse {
    fn referrals(&self) -> Vec<Uuid> {
        ids(self.deadline.iter().map(|d| &d.referral_id))
    }
}

impl Answer for crate::proto::LoadScheduleResponse {
    fn referrals(&self) -> Vec<Uuid> {
        ids(self.moved.iter().map(|m| &m.referral_id))
    }
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
        R: Answer,
    {
        let request_id = RequestId::parse(request_id).map_err(|v| ApiError::Domain(v.into()))?;
        let fingerprint = Sha256::new()
            .chain_update(method.as_bytes())
            .chain_update([0])
            .chain_update(request.get_ref().encode_to_vec())
            .finalize()
            .to_vec();
        let certificate = identity::certificate(request);
        let replay = || self.replay(caller, &certificate, method, &request_id, &fingerprint);
        if let Some(answer) = replay().await? {
            return Ok(answer);
        }
        for _ in 0..ATTEMPTS {
            let Plan { commit, response } = match plan().await {
                Ok(plan) => plan,
                // The same request, sent twice at once, may have been answered meanwhile
                // (and made its own plan impossible): the recorded answer wins.
                Err(e) => return replay().await?.ok_or(e),
            };
            let audit = AuditRecord {
                actor: caller.code.clone(),
                certificate: certificate.clone(),
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
                    if let Some(answer) = replay().await? {
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
        self.audit(&caller.code, &identity::certificate(request), method, referrals, detail).await
    }

    /// Records in the audit log that `actor`, with the certificate of serial
    /// `certificate`, read `referrals` with `method`.
    pub async fn audit(
        &self,
        actor: &MemberCode,
        certificate: &str,
        method: &str,
        referrals: Vec<Uuid>,
        detail: &str,
    ) -> Result<(), ApiError> {
        let audit = AuditRecord {
            actor: actor.clone(),
            certificate: certificate.to_owned(),
            action: method.to_owned(),
            referrals,
            detail: detail.to_owned(),
        };
        for _ in 0..ATTEMPTS {
            let commit = Commit { audit: vec![audit.clone()], at: self.clock.now(), ..Commit::default() };
            match self.store.commit(commit).await {
                Err(StoreError::Conflict) => continue,
                done => return done.map(drop).map_err(ApiError::from),
            }
        }
        Err(ApiError::Contended)
    }

    /// The recorded answer to a request id, if any; reading it again is a read of the
    /// person's data, and audited as one.
    async fn replay<R: Answer>(
        &self,
        caller: &Caller,
        certificate: &str,
        method: &str,
        request_id: &RequestId,
        fingerprint: &[u8],
    ) -> Result<Option<R>, ApiError> {
        let Some(record) = self.store.recall(&caller.code, request_id).await? else {
            return Ok(None);
        };
        if record.fingerprint != fingerprint {
            return Err(ApiError::RequestReused(request_id.as_str().to_owned()));
        }
        let answer = R::decode(record.response.as_slice())
            .map_err(|e| ApiError::Store(StoreError::Corrupt(format!("recorded response: {e}"))))?;
        self.audit(&caller.code, certificate, method, answer.referrals(), "replayed answer").await?;
        Ok(Some(answer))
    }
}
