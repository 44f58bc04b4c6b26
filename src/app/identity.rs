//! Who is calling, and what each role may do. The TLS layer hands over each
//! connection's client certificate chain, checked once per connection against the
//! joint meeting's CA; each request then resolves that identity against the directory,
//! revocations and the clock, whichever front end it came through.

use chrono::{DateTime, Utc};

use super::AppError;
use crate::{
    domain::{directory::Directory, Caller, MemberCode, Role},
    pki::{Identity, Revoked},
};

/// What the TLS layer established about a connection's client certificate.
#[derive(Debug, Clone)]
pub struct Peer(pub Result<Verified, String>);

/// What the TLS layer says of a connection that presented no certificate at all.
pub const NO_CERTIFICATE: &str = "no client certificate";

/// A client certificate that chains to the joint meeting's CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub identity: Identity,
    /// Its serial number, lower-case hex: what a CRL and the audit log name.
    pub serial: String,
    /// The end of its validity: checked at every call, not only at the handshake.
    pub not_after: DateTime<Utc>,
}

/// Resolves a peer to a caller at `now`: a verified certificate of an active member, of
/// the office or of an admin. A certificate revoked or expired since the connection was
/// opened is refused on its next call.
pub fn resolve(
    peer: Option<&Peer>,
    directory: &Directory,
    revoked: &Revoked,
    now: DateTime<Utc>,
) -> Result<Caller, AppError> {
    let verified = match peer {
        None => return Err(AppError::Unauthenticated("a client certificate is required".into())),
        Some(Peer(Err(why))) => return Err(AppError::Unauthenticated(format!("client certificate refused: {why}"))),
        Some(Peer(Ok(verified))) => verified,
    };
    if revoked.contains(&verified.serial) {
        return Err(AppError::Unauthenticated(format!("client certificate {} is revoked", verified.serial)));
    }
    if now > verified.not_after {
        return Err(AppError::Unauthenticated(format!("client certificate {} has expired", verified.serial)));
    }
    match &verified.identity {
        Identity::Office => Ok(Caller { code: MemberCode::office(), role: Role::Office }),
        Identity::Admin => Ok(Caller { code: MemberCode::admin(), role: Role::Admin }),
        Identity::Member(code) => match directory.get(code) {
            Some(member) if member.active => Ok(Caller { code: code.clone(), role: member.role }),
            Some(_) => Err(AppError::Unauthenticated(format!("member {code} is suspended"))),
            None => Err(AppError::Unauthenticated(format!("{code} is not a member of the joint meeting"))),
        },
    }
}

/// The caller, who must be a member unit (not the office, not an admin).
pub fn member(caller: &Caller) -> Result<(), AppError> {
    if caller.role.is_member() {
        Ok(())
    } else {
        Err(AppError::PermissionDenied(format!("the {} role does not exchange referrals", caller.role)))
    }
}

/// The caller, who must be a member or the office: those who read referrals. Admins
/// manage members and certificates and read no referral.
pub fn reader(caller: &Caller) -> Result<(), AppError> {
    if caller.role == Role::Admin {
        Err(AppError::PermissionDenied("admins manage members and certificates; they read no referrals".into()))
    } else {
        Ok(())
    }
}

/// The caller, who must play `role`.
pub fn role(caller: &Caller, role: Role) -> Result<(), AppError> {
    if caller.role == role {
        Ok(())
    } else {
        Err(AppError::PermissionDenied(format!("only the {role} role may do this; you are {}", caller.role)))
    }
}

/// Inboxes belong to members and to the office; admins have none.
pub fn inbox_owner(caller: &Caller) -> Result<(), AppError> {
    if caller.role == Role::Admin {
        return Err(AppError::PermissionDenied("admins have no inbox".into()));
    }
    Ok(())
}
