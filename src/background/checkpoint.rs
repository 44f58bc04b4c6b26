//! Checkpoints of the audit log: now and then the hub signs the chain head and sends it
//! to every member and the office, who keep evidence that a log rewritten or cut short
//! later would contradict.

use std::time::Duration;

use crate::app::Hub;

/// Signs a checkpoint every `every` until the hub stops.
pub async fn run(hub: Hub, every: Duration) {
    let mut stopping = hub.delivery().stopping.clone();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
        match crate::app::audit_log::checkpoint(&hub).await {
            Ok(Some(checkpoint)) => tracing::info!(seq = checkpoint.seq, "audit checkpoint signed and sent"),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
        }
    }
}
