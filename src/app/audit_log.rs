//! The audit log's checkpoints and proofs: the hub signs the chain's head with the root
//! of the log's Merkle tree (writing the tree's new subtrees first), sends the
//! checkpoint to every member and the office, and proves from the stored subtrees that
//! an entry belongs to a signed log (inclusion) or that a log extends one a member kept
//! (consistency): a few hashes, never the entries between.

use super::{identity, Actor, AppError, Hub};
use crate::domain::Rule;
use crate::{
    domain::{
        audit::{Checkpoint, Hash},
        hex,
        lifecycle::Notice,
        merkle::{self, Frontier, Range, Subtree},
        MemberCode,
    },
    store::{Commit, StoreError},
};

/// Entries read, and subtrees written, at a time while the tree grows.
const BATCH: u32 = 10_000;

/// Signs the head of the log if it moved since the last checkpoint, and sends it to
/// every active member and the office: the checkpoint it signed, or none when the
/// newest stored already covers the head (the head did not move, or another replica
/// signed it first).
pub async fn checkpoint(hub: &Hub) -> Result<Option<Checkpoint>, StoreError> {
    let (seq, head) = hub.store.audit_head().await?;
    let checkpoints = hub.store.audit_checkpoints().await?;
    if checkpoints.last().is_some_and(|c| c.seq >= seq && !c.root.is_empty()) {
        return Ok(None);
    }
    let rooted = checkpoints.iter().rev().find(|c| !c.root.is_empty()).map_or(0, |c| c.seq);
    let root = grow(hub, rooted, seq).await?;
    let checkpoint = hub.signer.sign(seq, head, hex::lower(&root), hub.clock.now());
    let mut to: Vec<MemberCode> = {
        let directory = hub.directory.now();
        directory.members().iter().filter(|m| m.active).map(|m| m.code.clone()).collect()
    };
    to.push(MemberCode::office());
    let notices = to.iter().map(|member| Notice::for_checkpoint(member, &checkpoint)).collect();
    let commit = Commit { checkpoint: Some(checkpoint.clone()), notices, at: checkpoint.at, ..Commit::default() };
    match hub.write(commit).await {
        Ok(()) => Ok(Some(checkpoint)),
        Err(StoreError::Conflict) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes the subtrees the tree gains from `from` entries (whose subtrees are stored)
/// to `to`, and returns its root at `to`. Memory stays flat: the tree's right edge
/// and a batch of entries.
async fn grow(hub: &Hub, from: u64, to: u64) -> Result<Hash, StoreError> {
    let edge = Range { start: 0, size: from }.subtrees();
    let hashes = hub.store.audit_nodes(&edge).await?;
    let mut frontier =
        Frontier::of(from, &hashes).ok_or_else(|| StoreError::Corrupt("the audit tree's edge".into()))?;
    let mut completed = Vec::new();
    while frontier.size() < to {
        let entries = hub.store.audit_log(frontier.size(), BATCH).await?;
        if entries.is_empty() {
            return Err(StoreError::Corrupt(format!("the audit log ends before entry {to}")));
        }
        for entry in entries.iter().take_while(|e| e.seq <= to) {
            if entry.seq != frontier.size() + 1 {
                return Err(StoreError::Corrupt(format!("audit entry {} is missing", frontier.size() + 1)));
            }
            completed.extend(frontier.push(&entry.hash));
        }
        if completed.len() >= BATCH as usize || frontier.size() >= to {
            let audit_nodes = std::mem::take(&mut completed);
            hub.store.commit(Commit { audit_nodes, at: hub.clock.now(), ..Commit::default() }).await?;
        }
    }
    frontier.root().ok_or_else(|| StoreError::Corrupt("an empty audit log has no root".into()))
}

/// The hashes of `ranges` of the tree, each from its stored subtrees, read at once.
async fn hashes(hub: &Hub, ranges: &[Range]) -> Result<Vec<Hash>, AppError> {
    let parts: Vec<Vec<Subtree>> = ranges.iter().map(|r| r.subtrees()).collect();
    let all: Vec<Subtree> = parts.iter().flatten().copied().collect();
    let mut found = hub.store.audit_nodes(&all).await?.into_iter();
    Ok(parts
        .iter()
        .map(|p| {
            let hashes: Vec<Hash> = found.by_ref().take(p.len()).collect();
            merkle::combine(&hashes).unwrap_or_default()
        })
        .collect())
}

/// The proof that entry `seq` belongs to the log of `size` entries.
pub async fn inclusion(hub: &Hub, seq: u64, size: u64) -> Result<Vec<Hash>, AppError> {
    hashes(hub, &merkle::inclusion(seq - 1, size)).await
}

/// The proof that the log of `new` entries extends the log of `old`, both covered by
/// checkpoints (so their subtrees are stored).
pub async fn consistency(hub: &Hub, old: u64, new: u64) -> Result<Vec<Hash>, AppError> {
    if old == 0 || old > new {
        return Err(AppError::invalid("seq", Rule::CheckpointCovers));
    }
    hashes(hub, &merkle::consistency(old, new)).await
}

/// For whoever keeps checkpoints (the members, the office): the newest signed checkpoint
/// with the proof that its log extends the one a checkpoint of `kept` entries signed.
pub async fn prove(hub: &Hub, actor: &Actor, kept: u64) -> Result<(Checkpoint, Vec<Hash>), AppError> {
    identity::inbox_owner(&actor.caller)?;
    if kept == 0 {
        return Err(AppError::invalid("seq", Rule::CheckpointCovers));
    }
    let checkpoints = hub.store.audit_checkpoints().await?;
    let newest = checkpoints.into_iter().rev().find(|c| !c.root.is_empty()).ok_or_else(|| {
        AppError::Unavailable("the hub has signed no checkpoint with a tree yet; ask after its next".into())
    })?;
    if newest.seq < kept {
        return Err(AppError::LogBehind { kept, newest: newest.seq });
    }
    let proof = consistency(hub, kept, newest.seq).await?;
    Ok((newest, proof))
}
