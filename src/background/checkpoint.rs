//! Checkpoints of the audit log: now and then the hub signs the chain head and sends it
//! to every member and the office, who keep evidence that a log rewritten or cut short
//! later would contradict.

use std::{sync::Arc, time::Duration};

use crate::{
    app::Hub,
    audit::Signer,
    domain::{lifecycle::Notice, MemberCode},
    store::{Commit, StoreError},
};

/// Signs a checkpoint every `every` until the hub stops.
pub async fn run(hub: Hub, signer: Arc<Signer>, every: Duration) {
    let mut stopping = hub.delivery.stopping.clone();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
        match checkpoint(&hub, &signer).await {
            Ok(Some(seq)) => tracing::info!(seq, "audit checkpoint signed and sent"),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
        }
    }
}

/// Signs the head of the log if it moved since the last checkpoint, and sends it to
/// every active member and the office; returns the entry it covers. Another replica
/// signing the same head first leaves nothing to do.
pub async fn checkpoint(hub: &Hub, signer: &Signer) -> Result<Option<u64>, StoreError> {
    let (seq, head) = hub.store.audit_head().await?;
    let last = hub.store.audit_checkpoints().await?.last().map_or(0, |c| c.seq);
    if seq <= last {
        return Ok(None);
    }
    let checkpoint = signer.sign(seq, head, hub.clock.now());
    let mut to: Vec<MemberCode> = {
        let directory = hub.directory.now();
        directory.members().iter().filter(|m| m.active).map(|m| m.code.clone()).collect()
    };
    to.push(MemberCode::office());
    let notices = to.iter().map(|member| Notice::for_checkpoint(member, &checkpoint)).collect();
    let at = checkpoint.at;
    match hub.write(Commit { checkpoint: Some(checkpoint), notices, at, ..Commit::default() }).await {
        Ok(()) => Ok(Some(seq)),
        Err(StoreError::Conflict) => Ok(None),
        Err(e) => Err(e),
    }
}
