//! The notifier: every `interval` it turns new inbox events into messages and sends
//! those due, until the hub stops.

use std::{sync::Arc, time::Duration};

use crate::app::{
    notifications::{self, Notifying},
    Hub,
};

pub async fn run(hub: Hub, notifying: Arc<Notifying>, every: Duration) {
    let mut stopping = hub.delivery().stopping.clone();
    loop {
        if let Err(e) = pass(&hub, &notifying).await {
            tracing::error!(error = %e, "sending notifications failed");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
    }
}

/// Routes, sends, and counts what was given up on.
pub async fn pass(hub: &Hub, notifying: &Arc<Notifying>) -> Result<(), crate::app::AppError> {
    let queued = notifications::route(hub, notifying).await?;
    let sent = notifications::send(hub, notifying).await?;
    if queued + sent.sent + sent.retried + sent.failed > 0 {
        tracing::info!(queued, sent.sent, sent.retried, sent.failed, "notifications");
    }
    let failed = notifications::failed(hub).await?;
    hub.metrics().notifications_failed.set(i64::try_from(failed).unwrap_or(i64::MAX));
    Ok(())
}
