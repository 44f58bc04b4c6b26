//! Files the hub reads again while it runs: the keyring (after `xianjie keys rotate`,
//! so that new data is sealed under the new key) and the TLS files (a new CRL after
//! `xianjie pki revoke`, a renewed server certificate), without a restart.

use std::time::Duration;

use super::tls::Tls;
use crate::app::Hub;

/// Reads the files every `every` until the hub stops. A file that fails to load is
/// logged and the hub goes on with what it had.
pub async fn run(hub: Hub, tls: Tls, every: Duration) {
    let mut stopping = hub.delivery.stopping.clone();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
        if let Err(e) = hub.keys.reload() {
            tracing::error!(error = %e, "reading the keyring again failed; keeping the keys as they were");
        }
        match tls.reload() {
            Ok(true) => tracing::info!("TLS files changed: CA, CRL and server certificate taken up"),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "reading the TLS files again failed; keeping them as they were"),
        }
    }
}
