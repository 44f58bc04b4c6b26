//! The deadline scanner on its timer (the pass itself is `app::scan`), with the
//! discarding of files nothing carries.

use std::time::Duration;

use crate::app::{
    scan::{scan, Pass},
    Hub,
};

/// Scans every `every` until the hub stops.
pub async fn run(hub: Hub, every: Duration) {
    let mut stopping = hub.delivery().stopping.clone();
    loop {
        match scan(&hub).await {
            Ok(pass) if pass != Pass::default() => tracing::info!(pass.reminded, pass.missed, "deadlines scanned"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "deadline scan failed"),
        }
        if let Err(e) = crate::app::materials::discard(&hub).await {
            tracing::error!(error = %e, "discarding files nothing carries failed");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
    }
}
