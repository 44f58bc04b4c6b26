//! The certificates of the joint meeting, for admins: who holds one, issuing one as a
//! PKCS#12 file for a browser, and revoking one. Only where the hub runs its own
//! certificate authority (the development CA, or one made with `xianjie pki init`);
//! with an outside CA, certificates are managed there. No referral content here.

use super::{identity, Actor, AppError, Hub};
use crate::{
    domain::{date::local_date, Role},
    pki::{
        authority::{Authority, Issued},
        p12, Identity,
    },
};

/// The authority beside the hub, for an admin.
fn authority<'h>(hub: &'h Hub, actor: &Actor) -> Result<&'h Authority, AppError> {
    identity::role(&actor.caller, Role::Admin)?;
    hub.authority.as_ref().ok_or_else(|| {
        AppError::PermissionDenied("certificates are issued by an outside certificate authority, not by the hub".into())
    })
}

/// Every certificate issued, with its serial number and whether it is revoked.
pub fn list(hub: &Hub, actor: &Actor) -> Result<Vec<Issued>, AppError> {
    Ok(authority(hub, actor)?.list()?)
}

/// Issues a new certificate for `who` and returns it, with its key and the CA, as a
/// PKCS#12 file protected by `password`; audited. The previous certificate stays valid
/// until it expires or is revoked.
pub async fn issue(hub: &Hub, actor: &Actor, who: &Identity, password: &str) -> Result<Vec<u8>, AppError> {
    let authority = authority(hub, actor)?;
    if password.chars().count() < p12::MIN_PASSWORD {
        return Err(AppError::invalid("password", format!("at least {} characters", p12::MIN_PASSWORD)));
    }
    let serial = authority.issue(who)?;
    let label = {
        let directory = hub.directory.now();
        who.label(&directory)
    };
    let file = p12::export(authority, who.name(), &label, password)?;
    hub.audit(&actor.caller.code, &actor.certificate.serial, "IssueCertificate", vec![], &format!("{who} {serial}"))
        .await?;
    Ok(file)
}

/// Revokes the current certificate of `who` and writes a new CRL; returns its serial
/// number; audited. The hub refuses it once it reads the CRL again.
pub async fn revoke(hub: &Hub, actor: &Actor, who: &Identity) -> Result<String, AppError> {
    let authority = authority(hub, actor)?;
    let serial = authority.revoke(who.name(), local_date(hub.clock.now()))?;
    hub.audit(&actor.caller.code, &actor.certificate.serial, "RevokeCertificate", vec![], &format!("{who} {serial}"))
        .await?;
    Ok(serial)
}
