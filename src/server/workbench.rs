//! Serves the workbench to browsers on its own listener, over the hub's TLS (the same
//! CA, CRL and server certificate, read again as they change), HTTP/1.1 or HTTP/2 as
//! the browser chooses. Each request carries what its connection's certificate
//! established, for [`crate::web`] to resolve.

use std::{future::Future, io, sync::Arc};

use axum::{extract::connect_info::Connected, serve::IncomingStream};
use tokio::net::TcpListener;
use tokio_stream::{wrappers::ReceiverStream, StreamExt};

use super::tls::{PeerStream, Tls};
use crate::{
    app::{
        identity::{Peer, Refused},
        limits::RateLimiter,
        Hub,
    },
    web::{self, Web},
};

/// Browsers' TLS connections, as axum takes them.
struct Browsers(ReceiverStream<Result<PeerStream, io::Error>>);

impl axum::serve::Listener for Browsers {
    type Io = PeerStream;
    type Addr = Peer;

    async fn accept(&mut self) -> (PeerStream, Peer) {
        loop {
            match self.0.next().await {
                Some(Ok(stream)) => {
                    let peer = stream.peer().clone();
                    return (stream, peer);
                }
                Some(Err(_)) => continue,
                None => std::future::pending().await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Peer> {
        Ok(Peer(Err(Refused::Foreign("the listener itself".into()))))
    }
}

impl Connected<IncomingStream<'_, Browsers>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Browsers>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Serves the workbench on `listener` until `stopping` completes.
pub async fn serve(
    hub: Hub,
    rate: Arc<RateLimiter>,
    tls: Tls,
    listener: TcpListener,
    stopping: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let reread = {
        let tls = tls.clone();
        Arc::new(move || {
            if let Err(e) = tls.reload() {
                tracing::warn!(error = %e, "reading the certificates again");
            }
        })
    };
    let router = web::router(Web::new(hub, rate, reread));
    let browsers = Browsers(tls.incoming_web(listener));
    axum::serve(browsers, router.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(stopping)
        .await?;
    Ok(())
}
