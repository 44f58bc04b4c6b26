//! What the hub reads again while it runs: the keyring (after `xianjie keys rotate`,
//! so that new data is sealed under the new key), the TLS files (a new CRL after
//! `xianjie pki revoke`, a renewed server certificate), and the directory of members
//! as another hub on the same database changed it, without a restart.

use std::time::Duration;

use super::tls::Tls;
use crate::app::Hub;

/// Reads the files every `every` until the hub stops. A file that fails to load is
/// logged and the hub goes on with what it had.
pub async fn run(hub: Hub, tls: Tls, every: Duration) {
    let mut stopping = hub.delivery().stopping.clone();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
        match crate::app::directory::refresh(&hub).await {
            Ok(true) => {
                tracing::info!(version = hub.directory().now().version(), "took up a newer directory of members")
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "reading the directory of members again failed"),
        }
        if let Err(e) = hub.keys().reload() {
            tracing::error!(error = %e, "reading the keyring again failed; keeping the keys as they were");
        }
        match tls.reload() {
            Ok(true) => tracing::info!("TLS files changed: CA, CRL and server certificate taken up"),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "reading the TLS files again failed; keeping them as they were"),
        }
    }
}
