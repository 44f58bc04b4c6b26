//! The caller of a gRPC request: the interceptor in front of every service resolves
//! the connection's certificate (see [`crate::app::identity`]) and puts the caller on
//! the request; handlers take it from there.

use std::sync::Arc;

use tokio::sync::watch;
use tonic::{Request, Status};

use crate::{
    app::{
        directory::SharedDirectory,
        identity::{resolve, Peer, Verified},
        limits::RateLimiter,
        Actor,
    },
    clock::SharedClock,
    domain::Caller,
    pki::{Certificate, Revoked},
};

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
            let directory = self.directory.now();
            resolve(peer.as_ref(), &directory, &self.revoked.borrow(), self.clock.now())
                .map_err(crate::app::AppError::from)?
        };
        self.rate.take(&caller.code)?;
        if let Some(Peer(Ok(verified))) = peer {
            let Verified { serial, not_after, clerk, .. } = verified;
            request.extensions_mut().insert(Certificate { serial, not_after, clerk });
        }
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// The caller the interceptor put on a request.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request.extensions().get::<Caller>().cloned().ok_or_else(|| Status::unauthenticated("no authenticated caller"))
}

/// The caller's certificate, as the interceptor found it.
pub fn presented<T>(request: &Request<T>) -> Result<Certificate, Status> {
    request.extensions().get::<Certificate>().cloned().ok_or_else(|| Status::unauthenticated("no client certificate"))
}

/// Who acts on a request: the caller, with the certificate they presented.
pub fn actor<T>(request: &Request<T>) -> Result<Actor, Status> {
    Ok(Actor { caller: caller(request)?, certificate: presented(request)? })
}
