//! Mutating operations run at most once per request id (AIP-155): a retry gets the
//! first answer again, a reuse of the id for another request is refused, and a plan
//! that loses a race to a concurrent change is made again.
//!
//! The request record keeps what rebuilds the answer (the ids and versions it names),
//! never a copy of the person: a retry reads the referrals and their history and
//! rewinds them to the versions answered, and that read is audited.

use std::future::Future;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{calendar::Loaded, numbering::Held, Actor, AppError, Hub, ATTEMPTS};
use crate::{
    domain::{audit::AuditRecord, deadline::DeadlineKind, key_case::KeyCase, request_id::RequestId},
    store::{Commit, RequestRecord, StoreError},
};

/// A request's id, and what tells a retry of the request from a reuse of its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    pub request_id: String,
    pub fingerprint: Vec<u8>,
}

impl RequestKey {
    /// The key of `request`, as its client encoded it, sent to `method`.
    pub fn new(request_id: &str, method: &str, request: &[u8]) -> Self {
        let fingerprint =
            Sha256::new().chain_update(method.as_bytes()).chain_update([0]).chain_update(request).finalize().to_vec();
        Self { request_id: request_id.to_owned(), fingerprint }
    }
}

/// What a request record keeps of an answer: ids, and a loaded schedule's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referrals: Vec<Uuid>,
    /// The version of each of `referrals` the answer showed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DeadlineKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Loaded>,
    /// A file stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Uuid>,
    /// The version of the directory a change made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<u64>,
    /// A case marked for the joint meeting's study, as marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_case: Option<KeyCase>,
}

/// The answer to a mutating operation: what its record keeps, and how it is given
/// again from that record.
pub trait Answer: Sized + Send {
    fn record(&self) -> Recorded;
    fn rebuild(hub: &Hub, record: Recorded) -> impl Future<Output = Result<Self, AppError>> + Send;
}

/// What one attempt of a mutating operation would write (its request record, audit
/// record and time are filled in by [`Hub::once`]), and its answer.
pub struct Plan<R> {
    pub commit: Commit,
    pub answer: R,
    /// What the audit record says beyond who did what to which referrals (the digests
    /// of files stored or attached); usually empty.
    pub detail: String,
    /// Document numbers the plan took: kept if its commit is written, given back
    /// otherwise.
    pub numbers: Option<Held>,
}

impl<R> Plan<R> {
    pub fn new(commit: Commit, answer: R) -> Self {
        Self { commit, answer, detail: String::new(), numbers: None }
    }
}

/// One attempt at planning a mutating operation.
pub type PlanFuture<'a, R> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Plan<R>, AppError>> + Send + 'a>>;

impl Hub {
    /// Runs a mutating operation at most once per request id: gives the recorded
    /// answer to a retry, refuses a reuse of the id for another request, and makes the
    /// plan again when a concurrent change wins the race.
    ///
    /// The request id is not looked up first: the plan is made and written with its
    /// request record, and only when the record exists already (or the plan cannot be
    /// made, as a retry of an act already applied cannot) is the recorded answer read.
    /// A first request, the usual case, costs no read for its id.
    ///
    /// What it writes carries an audit record of the change: who, with which
    /// certificate, which operation, which referrals.
    pub async fn once<'a, R: Answer>(
        &self,
        actor: &Actor,
        method: &str,
        key: &RequestKey,
        mut plan: impl FnMut() -> PlanFuture<'a, R>,
    ) -> Result<R, AppError> {
        let request_id = RequestId::parse(&key.request_id).map_err(|v| AppError::Domain(v.into()))?;
        let replay = || self.replay(actor, method, &request_id, &key.fingerprint);
        for _ in 0..ATTEMPTS {
            let Plan { commit, answer, detail, numbers } = match plan().await {
                Ok(plan) => plan,
                // A retry, or the same request sent twice at once and answered
                // meanwhile, finds its act done (and its plan impossible): the recorded
                // answer wins.
                Err(e) => return replay().await?.ok_or(e),
            };
            let audit = AuditRecord {
                actor: actor.caller.code.clone(),
                certificate: actor.certificate.serial.clone(),
                action: method.to_owned(),
                referrals: commit.referrals(),
                detail,
            };
            let record = serde_json::to_vec(&answer.record())
                .map_err(|e| AppError::Store(StoreError::Corrupt(format!("recording an answer: {e}"))))?;
            let commit = Commit {
                audit: vec![audit],
                request: Some(RequestRecord {
                    member: actor.caller.code.clone(),
                    request_id: request_id.clone(),
                    fingerprint: key.fingerprint.clone(),
                    response: record,
                }),
                at: self.clock.now(),
                ..commit
            };
            match self.store.commit(commit).await {
                Ok(delivered) => {
                    if let Some(numbers) = numbers {
                        numbers.written();
                    }
                    self.delivery.notifier.notify(&delivered);
                    return Ok(answer);
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
        Err(AppError::Contended)
    }

    /// The answer recorded for a request id, if any, rebuilt from what the record
    /// names; giving it again is a read of the person's data, and audited as one.
    async fn replay<R: Answer>(
        &self,
        actor: &Actor,
        method: &str,
        request_id: &RequestId,
        fingerprint: &[u8],
    ) -> Result<Option<R>, AppError> {
        let Some(record) = self.store.recall(&actor.caller.code, request_id).await? else {
            return Ok(None);
        };
        if record.fingerprint != fingerprint {
            return Err(AppError::RequestReused(request_id.as_str().to_owned()));
        }
        let recorded: Recorded = serde_json::from_slice(&record.response)
            .map_err(|_| AppError::AnswerNotKept(request_id.as_str().to_owned()))?;
        let referrals = recorded.referrals.clone();
        let answer = R::rebuild(self, recorded).await?;
        self.audit(&actor.caller.code, &actor.certificate.serial, method, referrals, "replayed answer").await?;
        Ok(Some(answer))
    }
}
