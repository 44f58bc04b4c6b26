//! The certificates of the joint meeting, for admins: who holds one, issuing one as a
//! PKCS#12 file for a browser, and revoking one. Only where the hub runs its own
//! certificate authority (the development CA, or one made with `xianjie pki init`);
//! with an outside CA, certificates are managed there. No referral content here.

use super::{identity, Actor, AppError, Hub};
use crate::domain::Rule;
use crate::{
    domain::{date::local_date, Role},
    pki::{
        authority::{self, Authority, Previous, Reissued, Replaced},
        p12, Holder,
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
pub fn list(hub: &Hub, actor: &Actor) -> Result<Vec<authority::Issued>, AppError> {
    Ok(authority(hub, actor)?.list()?)
}

/// The clerk each certificate the hub's authority issued names, by serial number:
/// whose act an audit entry records. Empty with an outside authority.
pub fn clerks(hub: &Hub) -> Result<std::collections::HashMap<String, String>, AppError> {
    let Some(authority) = &hub.authority else {
        return Ok(Default::default());
    };
    Ok(authority.clerks()?)
}

/// A certificate issued: the PKCS#12 file, what became of the previous one, and for a
/// clerk the initial sign-in password.
#[derive(Debug, Clone)]
pub struct Issued {
    pub file: Vec<u8>,
    pub reissued: Reissued,
    pub initial_password: Option<String>,
}

/// Issues a new certificate for `who` and returns it, with its key and the CA, as a
/// PKCS#12 file protected by `password`, with what became of the previous one (revoked,
/// or kept until its end when `previous` says so); a clerk's comes with an initial
/// sign-in password (`initial_password`, or a new one), to be changed at the first
/// sign-in. Audited.
pub async fn issue(
    hub: &Hub,
    actor: &Actor,
    who: &Holder,
    password: &str,
    previous: Previous,
    initial_password: Option<&str>,
) -> Result<Issued, AppError> {
    let authority = authority(hub, actor)?;
    if password.chars().count() < p12::MIN_PASSWORD {
        return Err(AppError::invalid("password", Rule::AtLeastChars { min: p12::MIN_PASSWORD }));
    }
    // Checked before anything is issued: a refused password issues nothing.
    let initial_password =
        who.clerk.as_ref().map(|_| super::sign_in::initial_password(initial_password)).transpose()?;
    let reissued = authority.reissue(who, previous, local_date(hub.clock.now()))?;
    let label = {
        let directory = hub.directory.now();
        who.label(&directory)
    };
    let file = p12::export(authority, &who.name(), &label, password, p12::Encryption::Modern)?;
    let detail = match &reissued.previous {
        None => format!("{who} {}", reissued.serial),
        Some(Replaced::Revoked(old)) => format!("{who} {} revoking {old}", reissued.serial),
        Some(Replaced::Kept { serial, until }) => {
            format!("{who} {} keeping {serial} until {}", reissued.serial, until.format("%Y-%m-%d"))
        }
    };
    hub.audit(&actor.caller.code, &actor.certificate.serial, "IssueCertificate", vec![], &detail).await?;
    if let Some(initial) = &initial_password {
        super::sign_in::set_initial_password(hub.store.as_ref(), &who.name(), initial, hub.clock.now()).await?;
    }
    Ok(Issued { file, reissued, initial_password })
}

/// Revokes any certificate the authority issued, by its serial number, and writes a new
/// CRL; returns whose it was; audited. The hub refuses it once it reads the CRL again.
pub async fn revoke(hub: &Hub, actor: &Actor, serial: &str) -> Result<String, AppError> {
    let authority = authority(hub, actor)?;
    let holder = authority.revoke_serial(serial, local_date(hub.clock.now()))?;
    hub.audit(
        &actor.caller.code,
        &actor.certificate.serial,
        "RevokeCertificate",
        vec![],
        &format!("{holder} {serial}"),
    )
    .await?;
    Ok(holder)
}
