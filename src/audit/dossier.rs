//! Checking a case's dossier on its own, as an archivist would years later: its audit
//! excerpt chains entry to entry up to a checkpoint the hub signed, and every file it
//! holds has a SHA-256 that a signed entry recorded when the file was stored.

use sha2::{Digest, Sha256};

use super::signed_by;
use crate::{
    documents::{archive, dossier::AuditLine},
    domain::audit::{chain_hash, hex, ChainCheck, Checkpoint},
};

/// What a dossier's check covered, or the first thing found wrong, in words.
pub fn verify(bytes: &[u8], public_key: &[u8]) -> Result<String, String> {
    let entries = archive::entries(bytes).map_err(|e| format!("not a dossier: {e}"))?;
    let part = |name: &str| entries.iter().find(|(n, _)| n == name).map(|(_, b)| b.as_slice());
    let lines = part("审计/entries.jsonl").ok_or("no 审计/entries.jsonl")?;
    let checkpoint: Checkpoint = serde_json::from_slice(part("审计/checkpoint.json").ok_or("no signed checkpoint")?)
        .map_err(|_| "审计/checkpoint.json is not a checkpoint")?;
    let mut log = Vec::new();
    for (i, line) in String::from_utf8_lossy(lines).lines().enumerate() {
        let parsed: AuditLine =
            serde_json::from_str(line).map_err(|_| format!("entry line {} does not parse", i + 1))?;
        log.push(parsed.entry().ok_or_else(|| format!("entry line {} does not parse", i + 1))?);
    }
    let (covered, later): (Vec<_>, Vec<_>) = log.iter().partition(|e| e.seq <= checkpoint.seq);
    let first = covered.first().ok_or(
        "no entry of the case is covered by a signed checkpoint yet: export the dossier again after the hub's next checkpoint",
    )?;
    let mut check = ChainCheck::after(first.seq - 1, first.prev, std::slice::from_ref(&checkpoint));
    for entry in &covered {
        check.entry(entry).map_err(|b| b.to_string())?;
    }
    let verified =
        check.finish(std::slice::from_ref(&checkpoint), |c| signed_by(public_key, c)).map_err(|b| b.to_string())?;
    for entry in &later {
        if chain_hash(&entry.prev, entry.seq, entry.at, &entry.record) != entry.hash {
            return Err(format!("entry {} was altered", entry.seq));
        }
    }
    let recorded: String = covered.iter().map(|e| e.record.detail.as_str()).collect::<Vec<_>>().join("\n");
    let mut files = 0;
    for (name, data) in entries.iter().filter(|(n, _)| n.starts_with("材料/")) {
        let digest = hex(&Sha256::digest(data).into());
        if !recorded.contains(&format!("sha256 {digest}")) {
            return Err(format!("{name}: its SHA-256 is not one the signed audit log recorded"));
        }
        files += 1;
    }
    Ok(format!(
        "{} audit entries ({}–{}) chain to the checkpoint signed at entry {}, {} newer entries hash as stated; \
         {files} files match the SHA-256 the signed log recorded",
        covered.len(),
        first.seq,
        verified.entries,
        checkpoint.seq,
        later.len()
    ))
}
