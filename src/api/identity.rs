//! Who is calling. The TLS layer hands over each connection's client certificate
//! chain, checked once per connection against the joint meeting's CA; each request
//! then resolves that identity against the directory. Handlers only see [`Caller`].

use std::sync::{Arc, RwLock};

use tonic::{Request, Status};

use super::error::ApiError;
use crate::{
    domain::{directory::Directory, Caller, MemberCode, Role},
    pki::Identity,
};

/// What the TLS layer established about a connection's client certificate.
#[derive(Debug, Clone)]
pub struct Peer(pub Result<Identity, String>);

/// The directory as the hub currently knows it.
pub type SharedDirectory = Arc<RwLock<Directory>>;

/// Resolves a peer to a caller: a verified certificate of an active member, of the
/// office or of an admin.
pub fn resolve(peer: Option<&Peer>, directory: &Directory) -> Result<Caller, ApiError> {
    let identity = match peer {
        None => return Err(ApiError::Unauthenticated("a client certificate is required".into())),
        Some(Peer(Err(why))) => return Err(ApiError::Unauthenticated(format!("client certificate refused: {why}"))),
        Some(Peer(Ok(identity))) => identity,
    };
    match identity {
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
}

impl tonic::service::Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let caller = {
            let directory = self.directory.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            resolve(request.extensions().get::<Peer>(), &directory)?
        };
        request.extensions_mut().insert(caller);
        Ok(request)
    }
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

/// The caller, who must play `role`.
pub fn role<T>(request: &Request<T>, role: Role) -> Result<Caller, Status> {
    let caller = caller(request)?;
    if caller.role == role {
        Ok(caller)
    } else {
        Err(ApiError::PermissionDenied(format!("only the {role} role may do this; you are {}", caller.role)).into())
    }
}
