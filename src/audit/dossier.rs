//! Checking a case's dossier on its own, as an archivist would years later, with
//! nothing but the hub's public key: the checkpoint is signed; every audit entry hashes
//! as it states and its proof leads to the checkpoint's root; the export's entry
//! records the manifest's digest; the manifest names every part (letters, files, the
//! record) with its digest and every audit entry of the case; and every letter and
//! file has a digest that an entry of the signed log recorded. Anything missing, added
//! or altered is named.

use std::{
    collections::BTreeSet,
    io::{Read, Seek},
};

use sha2::{Digest, Sha256};

use super::signed_by;
use crate::{
    documents::dossier::{self, AuditLine, Manifest},
    domain::{
        audit::{chain_hash, parse_hex, AuditEntry, Checkpoint},
        hex, merkle,
    },
};

/// Parts read whole (the audit's); others are hashed as they are read.
const SMALL_PARTS: [&str; 3] = [dossier::MANIFEST, dossier::ENTRIES, dossier::CHECKPOINT];

/// What a dossier's check covered, or the first thing found wrong, in words.
pub fn verify<R: Read + Seek>(dossier: R, public_key: &[u8]) -> Result<String, String> {
    let mut zip = zip::ZipArchive::new(dossier).map_err(|e| format!("not a dossier: {e}"))?;
    let mut digests = Vec::with_capacity(zip.len());
    let (mut manifest, mut lines, mut checkpoint) = (None, None, None);
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(|e| format!("not a dossier: {e}"))?;
        let name = part.name().map_err(|e| format!("not a dossier: {e}"))?.into_owned();
        if SMALL_PARTS.contains(&name.as_str()) {
            let mut bytes = Vec::new();
            part.read_to_end(&mut bytes).map_err(|e| format!("{name}: {e}"))?;
            match name.as_str() {
                dossier::MANIFEST => manifest = Some(bytes),
                dossier::ENTRIES => lines = Some(bytes),
                _ => checkpoint = Some(bytes),
            }
            continue;
        }
        let mut digest = Sha256::new();
        std::io::copy(&mut part, &mut digest).map_err(|e| format!("{name}: {e}"))?;
        digests.push((name, hex::lower(&digest.finalize())));
    }
    let manifest_bytes = manifest.ok_or(format!("{} is missing", dossier::MANIFEST))?;
    let lines = lines.ok_or(format!("{} is missing", dossier::ENTRIES))?;
    let checkpoint: Checkpoint =
        serde_json::from_slice(&checkpoint.ok_or(format!("{} is missing: no signed checkpoint", dossier::CHECKPOINT))?)
            .map_err(|_| format!("{} is not a checkpoint", dossier::CHECKPOINT))?;
    if !signed_by(public_key, &checkpoint) {
        return Err(format!("the checkpoint at entry {} is not signed by the hub's key", checkpoint.seq));
    }
    let root = parse_hex(&checkpoint.root)
        .ok_or("the checkpoint has no Merkle root: the dossier was exported by an older hub; export it again")?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|_| format!("{} does not parse", dossier::MANIFEST))?;

    // Every audit entry: as it hashes, in the log the checkpoint signed.
    let mut entries: Vec<AuditEntry> = Vec::new();
    for (i, line) in String::from_utf8_lossy(&lines).lines().enumerate() {
        let unreadable = || format!("audit entry line {} does not parse", i + 1);
        let parsed: AuditLine = serde_json::from_str(line).map_err(|_| unreadable())?;
        let (entry, proof) = (parsed.entry().ok_or_else(unreadable)?, parsed.proof().ok_or_else(unreadable)?);
        if chain_hash(&entry.prev, entry.seq, entry.at, &entry.record) != entry.hash {
            return Err(format!("audit entry {} was altered: it does not hash as it states", entry.seq));
        }
        let in_log = entry.seq >= 1
            && entry.seq <= checkpoint.seq
            && merkle::verify_inclusion(entry.seq - 1, checkpoint.seq, &merkle::leaf(&entry.hash), &proof, &root);
        if !in_log {
            return Err(format!("audit entry {} is not in the log the checkpoint signed (its proof fails)", entry.seq));
        }
        entries.push(entry);
    }

    // The export's entry anchors the manifest.
    let detail = dossier::manifest_detail(&Sha256::digest(&manifest_bytes).into());
    let exported = entries
        .iter()
        .find(|e| e.record.action == "Dossier" && e.record.detail == detail)
        .ok_or(format!("{} was altered: no entry of the signed log records its SHA-256", dossier::MANIFEST))?;
    let listed: BTreeSet<u64> = manifest.entries.iter().copied().collect();
    let held: BTreeSet<u64> = entries.iter().map(|e| e.seq).filter(|seq| *seq != exported.seq).collect();
    if let Some(missing) = listed.difference(&held).next() {
        return Err(format!("audit entry {missing} of the case is missing"));
    }
    if let Some(added) = held.difference(&listed).next() {
        return Err(format!("audit entry {added} was added: the manifest does not list it"));
    }

    // Every part as the manifest lists it, and nothing else.
    for part in &manifest.parts {
        match digests.iter().find(|(name, _)| *name == part.name) {
            None => return Err(format!("{} is missing", part.name)),
            Some((_, digest)) if *digest != part.sha256 => return Err(format!("{} was altered", part.name)),
            Some(_) => {}
        }
    }
    if let Some((added, _)) = digests.iter().find(|(name, _)| !manifest.parts.iter().any(|p| p.name == *name)) {
        return Err(format!("{added} was added: the manifest does not list it"));
    }

    // Letters and files: each digest recorded by the signed log when it was stored.
    let recorded: String = entries.iter().map(|e| e.record.detail.as_str()).collect::<Vec<_>>().join("\n");
    let (mut letters, mut files) = (0, 0);
    for (name, digest) in &digests {
        let counted = if name.starts_with("移送函/") {
            &mut letters
        } else if name.starts_with("材料/") {
            &mut files
        } else {
            continue;
        };
        if !recorded.contains(&format!("sha256 {digest}")) {
            return Err(format!("{name}: its SHA-256 is not one the signed audit log recorded"));
        }
        *counted += 1;
    }
    Ok(format!(
        "{} audit entries of the case are in the log the checkpoint at entry {} signed (Merkle proofs to its root); \
         the manifest is recorded by entry {}; {letters} letters and {files} files match the SHA-256 the log recorded, \
         and the record matches the manifest",
        entries.len(),
        checkpoint.seq,
        exported.seq
    ))
}
