//! The application layer: the hub's operations, as every front end calls them (the
//! gRPC services, the workbench, the background tasks, the command line). Each takes
//! the caller and domain values, checks who may do it, applies the domain rules, reads
//! and writes through the store, audits what it shows and hands what it wrote to
//! delivery. It knows neither protobuf nor HTTP.

pub mod assembly;
pub mod audit_log;
pub mod calendar;
pub mod certificates;
pub mod coordination;
pub mod directory;
mod error;
pub mod extensions;
pub mod identity;
pub mod inbox;
pub mod key_cases;
pub mod limits;
pub mod materials;
pub mod notifications;
mod numbering;
mod once;
pub mod records;
pub mod referrals;
pub mod scan;
pub mod sign_in;
pub mod supervision;
pub mod written;

#[cfg(test)]
mod harness;
#[cfg(test)]
mod tests;

use std::sync::{Arc, PoisonError, RwLock};

use uuid::Uuid;

pub use error::AppError;
pub use once::{Answer, Plan, PlanFuture, Recorded, RequestKey};

use crate::{
    clock::SharedClock,
    delivery::Delivery,
    domain::{audit::AuditRecord, calendar::Calendar, deadline::Policy, Caller, MemberCode},
    keys::Keys,
    metrics::Metrics,
    pki::{authority::Authority, Certificate},
    store::{Commit, Store, StoreError},
};
use directory::SharedDirectory;

/// The working-day calendar as the hub currently knows it; replaced whole when a
/// schedule is loaded.
pub type SharedCalendar = Arc<RwLock<Arc<Calendar>>>;

/// What every operation shares: the store, the directory, the calendar, the clock and
/// delivery. Built once ([`Hub::open`]) and not changed after; what changes while it
/// runs (the directory, the calendar, the keyring) changes behind its own lock.
#[derive(Clone)]
pub struct Hub {
    store: Arc<dyn Store>,
    directory: SharedDirectory,
    calendar: SharedCalendar,
    policy: Policy,
    clock: SharedClock,
    /// The keys that seal personal data, read again while the hub runs.
    keys: Arc<Keys>,
    delivery: Delivery,
    /// What the hub counts, for Prometheus.
    metrics: Arc<Metrics>,
    /// The certificate authority beside the hub, when it runs one.
    authority: Option<Authority>,
    /// Attachment limits, the letter template and document number prefixes.
    materials: Arc<materials::Materials>,
    /// How clerks' sign-ins to the workbench are held.
    sign_in: crate::domain::sign_in::SignInPolicy,
    /// The key that signs the audit log's checkpoints.
    signer: Arc<crate::audit::Signer>,
}

/// Who acts: the caller, with the certificate they presented (named in the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub caller: Caller,
    pub certificate: Certificate,
}

impl Actor {
    /// The administrator at the hub's own console (the command line on the hub's
    /// machine, with its data directory): no certificate, so the audit log names none.
    pub fn console() -> Self {
        Actor {
            caller: Caller { code: MemberCode::admin(), role: crate::domain::Role::Admin },
            certificate: Certificate {
                serial: String::new(),
                not_after: chrono::DateTime::<chrono::Utc>::MAX_UTC,
                clerk: None,
            },
        }
    }

    /// 经办人: the name of the clerk acting, empty for a unit's own system certificate.
    pub fn clerk(&self) -> &str {
        self.certificate.clerk.as_ref().map_or("", |clerk| clerk.name.as_str())
    }
}

/// How often a write is retried after losing a race.
pub(crate) const ATTEMPTS: usize = 5;

impl Hub {
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn directory(&self) -> &SharedDirectory {
        &self.directory
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn keys(&self) -> &Arc<Keys> {
        &self.keys
    }

    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn authority(&self) -> Option<&Authority> {
        self.authority.as_ref()
    }

    pub fn materials(&self) -> &materials::Materials {
        &self.materials
    }

    pub fn sign_in(&self) -> &crate::domain::sign_in::SignInPolicy {
        &self.sign_in
    }

    pub fn signer(&self) -> &crate::audit::Signer {
        &self.signer
    }

    /// Closes the store: what a hub's last user does.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// The calendar as it is now.
    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Writes a commit of background work (no request id) and wakes the subscribers of
    /// the inboxes it filled.
    pub async fn write(&self, commit: Commit) -> Result<(), StoreError> {
        let delivered = self.store.commit(commit).await?;
        self.delivery.notifier.notify(&delivered);
        Ok(())
    }

    /// Records in the audit log that `actor` read `referrals` with `method`: masked,
    /// for the office.
    pub async fn audit_read(&self, actor: &Actor, method: &str, referrals: Vec<Uuid>) -> Result<(), AppError> {
        let detail = match crate::domain::view::View::of(actor.caller.role) {
            crate::domain::view::View::Masked => "masked",
            crate::domain::view::View::Full => "",
        };
        self.audit(&actor.caller.code, &actor.certificate.serial, method, referrals, detail).await
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
    ) -> Result<(), AppError> {
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
                done => return done.map(drop).map_err(AppError::from),
            }
        }
        Err(AppError::Contended)
    }
}
