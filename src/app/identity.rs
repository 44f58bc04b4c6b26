//! Who is calling, and what each role may do. The TLS layer hands over each
//! connection's client certificate chain, checked once per connection against the
//! joint meeting's CA; each request then resolves that identity against the directory,
//! revocations and the clock, whichever front end it came through.

use chrono::{DateTime, Utc};

use super::AppError;
use crate::{
    domain::{directory::Directory, Caller, MemberCode, Role},
    pki::{Clerk, Identity, Revoked},
};

/// What the TLS layer established about a connection's client certificate.
#[derive(Debug, Clone)]
pub struct Peer(pub Result<Verified, Refused>);

/// A client certificate that chains to the joint meeting's CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub identity: Identity,
    /// The clerk it names; none for a unit's own system certificate.
    pub clerk: Option<Clerk>,
    /// Its serial number, lower-case hex: what a CRL and the audit log name.
    pub serial: String,
    /// The end of its validity: checked at every call, not only at the handshake.
    pub not_after: DateTime<Utc>,
}

/// Why a connection's certificate lets nobody in: each says what to do, and the
/// workbench shows each its own page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No certificate at all.
    Missing,
    /// A certificate of another authority, or one that cannot be read; why.
    Foreign(String),
    /// Revoked by the administrator: its serial number.
    Revoked(String),
    /// Past its validity: its serial number.
    Expired(String),
    /// A certificate of a member that is suspended.
    Suspended(MemberCode),
    /// A certificate of a code the directory does not hold.
    NotMember(MemberCode),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Missing => f.write_str("a client certificate is required; ask the administrator for one"),
            Refused::Foreign(why) => write!(f, "client certificate refused: not issued by this joint meeting ({why})"),
            Refused::Revoked(serial) => {
                write!(f, "client certificate {serial} is revoked; ask the administrator for a new one")
            }
            Refused::Expired(serial) => {
                write!(f, "client certificate {serial} has expired; ask the administrator for a new one")
            }
            Refused::Suspended(code) => write!(f, "member {code} is suspended; ask the joint-meeting office"),
            Refused::NotMember(code) => write!(f, "{code} is not a member of the joint meeting"),
        }
    }
}

impl From<Refused> for AppError {
    fn from(refused: Refused) -> Self {
        AppError::Unauthenticated(refused.to_string())
    }
}

/// Resolves a peer to a caller at `now`: a verified certificate of an active member, of
/// the office or of an admin. A certificate revoked or expired since the connection was
/// opened is refused on its next call.
pub fn resolve(
    peer: Option<&Peer>,
    directory: &Directory,
    revoked: &Revoked,
    now: DateTime<Utc>,
) -> Result<Caller, Refused> {
    let verified = match peer {
        None => return Err(Refused::Missing),
        Some(Peer(Err(refused))) => return Err(refused.clone()),
        Some(Peer(Ok(verified))) => verified,
    };
    if revoked.contains(&verified.serial) {
        return Err(Refused::Revoked(verified.serial.clone()));
    }
    if now > verified.not_after {
        return Err(Refused::Expired(verified.serial.clone()));
    }
    match &verified.identity {
        Identity::Office => Ok(Caller { code: MemberCode::office(), role: Role::Office }),
        Identity::Admin => Ok(Caller { code: MemberCode::admin(), role: Role::Admin }),
        Identity::Member(code) => match directory.get(code) {
            Some(member) if member.active => Ok(Caller { code: code.clone(), role: member.role }),
            Some(_) => Err(Refused::Suspended(code.clone())),
            None => Err(Refused::NotMember(code.clone())),
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
