//! Who is calling. The TLS layer hands over each connection's client certificate
//! chain, checked once per connection against the joint meeting's CA; each request
//! then resolves that identity against the directory. Handlers only see [`Caller`].

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tonic::{Request, Status};

use super::{error::ApiError, limits::RateLimiter};
use crate::{
    clock::SharedClock,
    domain::{directory::Directory, Caller, MemberCode, Role},
    pki::Identity,
    server::Revoked,
};

/// What the TLS layer established about a connection's client certificate.
#[derive(Debug, Clone)]
pub struct Peer(pub Result<Verified, String>);

/// A client certificate that chains to the joint meeting's CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub identity: Identity,
    /// Its serial number, lower-case hex: what a CRL and the audit log name.
    pub serial: String,
    /// The end of its validity: checked at every call, not only at the handshake.
    pub not_after: DateTime<Utc>,
}

/// The certificate a request came with: its serial number, for the audit log, and the
/// end of its validity, for live streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub serial: String,
    pub not_after: DateTime<Utc>,
}

/// The directory as the hub currently knows it.
pub type SharedDirectory = Arc<RwLock<Directory>>;

/// Resolves a peer to a caller at `now`: a verified certificate of an active member, of
/// the office or of an admin. A certificate revoked or expired since the connection was
/// opened is refused on its next call.
pub fn resolve(
    peer: Option<&Peer>,
    directory: &Directory,
    revoked: &Revoked,
    now: DateTime<Utc>,
) -> Result<Caller, ApiError> {
    let verified = match peer {
        None => return Err(ApiError::Unauthenticated("a client certificate is required".into())),
        Some(Peer(Err(why))) => return Err(ApiError::Unauthenticated(format!("client certificate refused: {why}"))),
        Some(Peer(Ok(verified))) => verified,
    };
    if revoked.contains(&verified.serial) {
        return Err(ApiError::Unauthenticated(format!("client certificate {} is revoked", verified.serial)));
    }
    if now > verified.not_after {
        return Err(ApiError::Unauthenticated(format!("client certificate {} has expired", verified.serial)));
    }
    match &verified.identity {
        Identity::Office => Ok(Caller { code: MemberCode::office(), role: Role::Office }),
        Identity::Admin => Ok(Caller { code: MemberCode::admin(), role: Role::Admin }),
        Identity::Member(code) => match directory.get(code) {
            Some(member) if member.active => Ok(Caller { code: code.clone(), role: member.role }),
            Some(_) => Err(ApiError::Unauthenticated(format!("member {code} is suspended"))),
            None => Err(ApiError::Unauthenticated(format!("{code} is not a member of the joint meeting"))),
        },
    }
}

/// The interceptor in front of every service, health and reflection included: a
/// request without a valid certificate gets UNAUTHENTICATED and nothing else.
#[derive(Clone)]
pub struct Authenticate {
    pub directory: SharedDirectory,
    pub revoked: watch::Receiver<Revoked>,
    /// Requests per second per member: past it, RESOURCE_EXHAUSTED with retry advice.
    pub rate: Arc<RateLimiter>,
    /// The hub's clock, against which certificates expire.
    pub clock: SharedClock,
}

impl tonic::service::Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let peer = request.extensions().get::<Peer>().cloned();
        let caller = {
            let directory = self.directory.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            resolve(peer.as_ref(), &directory, &self.revoked.borrow(), self.clock.now())?
        };
        self.rate.take(&caller.code)?;
        if let Some(Peer(Ok(verified))) = peer {
            request.extensions_mut().insert(Certificate { serial: verified.serial, not_after: verified.not_after });
        }
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// The serial number of the caller's certificate.
pub fn certificate<T>(request: &Request<T>) -> String {
    request.extensions().get::<Certificate>().map(|c| c.serial.clone()).unwrap_or_default()
}

/// The caller's certificate, as the interceptor found it.
pub fn presented<T>(request: &Request<T>) -> Result<Certificate, Status> {
    request.extensions().get::<Certificate>().cloned().ok_or_else(|| Status::unauthenticated("no client certificate"))
}

/// The caller the interceptor put on a request.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request.extensions().get::<Caller>().cloned().ok_or_else(|| Status::unauthenticated("no authenticated caller"))
}

/// The caller, who must be a member unit (not the office, not an admin).
pub fn member<T>(request: &Request<T>) -> Result<Caller, Status> {
    let caller = caller(request)?;
    if caller.role.is_member() {
        Ok(caller)
    } else {
        Err(ApiError::PermissionDenied(format!("the {} role does not exchange referrals", caller.role)).into())
    }
}

/// The caller, who must be a member or the office: those who read referrals. Admins
/// manage members and certificates and read no referral.
pub fn reader<T>(request: &Request<T>) -> Result<Caller, Status> {
    let caller = caller(request)?;
    if caller.role == Role::Admin {
        Err(ApiError::PermissionDenied("admins manage members and certificates; they read no referrals".into()).into())
    } else {
        Ok(caller)
    }
}

/// The caller, who must play `role`.
pub fn role<T>(request: &Request<T>, role: Role) -> Result<Caller, Status> {
    let caller = caller(request)?;
    if caller.role == role {
        Ok(caller)
    } else {
        Err(ApiError::PermissionDenied(format!("only the {role} role may do this; you are {}", caller.role)).into())
    }
}
