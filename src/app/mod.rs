//! The application layer: the hub's operations, as every front end calls them (the
//! gRPC services, the workbench, the background tasks, the command line). Each takes
//! the caller and domain values, checks who may do it, applies the domain rules, reads
//! and writes through the store, audits what it shows and hands what it wrote to
//! delivery. It knows neither protobuf nor HTTP.

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
pub mod sign_in;
pub mod supervision;
pub mod written;

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
/// delivery.
#[derive(Clone)]
pub struct Hub {
    pub store: Arc<dyn Store>,
    pub directory: SharedDirectory,
    pub calendar: SharedCalendar,
    pub policy: Policy,
    pub clock: SharedClock,
    /// The keys that seal personal data, read again while the hub runs.
    pub keys: Arc<Keys>,
    pub delivery: Delivery,
    /// What the hub counts, for Prometheus.
    pub metrics: Arc<Metrics>,
    /// The certificate authority beside the hub, when it runs one.
    pub authority: Option<Authority>,
    /// Attachment limits, the letter template and document number prefixes.
    pub materials: Arc<materials::Materials>,
    /// How clerks' sign-ins to the workbench are held.
    pub sign_in: crate::domain::sign_in::SignInPolicy,
    /// The key that signs the audit log's checkpoints.
    pub signer: Arc<crate::audit::Signer>,
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
