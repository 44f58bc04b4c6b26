//! The audit log's signing key and its two uses: the hub signs checkpoints of the chain
//! head, and `xianjie audit verify` checks the whole log against them.
//!
//! The key (Ed25519, PKCS#8) is kept in a file outside the database, created on first
//! start; its public half is written beside it (`.pub`, base64) for verifiers.

pub mod dossier;

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Utc};
use ring::{
    rand::SystemRandom,
    signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519},
};

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    domain::{
        audit::{parse_hex, Broken, ChainCheck, Checkpoint, Hash, Verified},
        hex,
        merkle::{self, Frontier},
    },
    store::{Store, StoreError},
};

/// Entries read per round trip while verifying.
const BATCH: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum AuditKeyError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not an Ed25519 key: {why}", path.display())]
    Invalid { path: PathBuf, why: String },
}

/// The hub's signing key.
pub struct Signer {
    pair: Ed25519KeyPair,
}

/// The file of a signing key's public half.
pub fn public_key_file(key_file: &Path) -> PathBuf {
    key_file.with_extension("pub")
}

impl Signer {
    /// Reads the key at `path`, creating it (readable by this user alone) and its
    /// public half when there is none.
    pub fn open_or_create(path: &Path) -> Result<Self, AuditKeyError> {
        let io = |source| AuditKeyError::Io { path: path.to_owned(), source };
        if !path.exists() {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                .map_err(|_| AuditKeyError::Invalid { path: path.to_owned(), why: "no randomness".into() })?;
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(io)?;
            }
            write(path, STANDARD.encode(pkcs8.as_ref()).as_bytes(), true).map_err(io)?;
        }
        let text = fs::read_to_string(path).map_err(io)?;
        let invalid = |why: String| AuditKeyError::Invalid { path: path.to_owned(), why };
        let der = STANDARD.decode(text.trim()).map_err(|e| invalid(e.to_string()))?;
        let pair = Ed25519KeyPair::from_pkcs8(&der).map_err(|e| invalid(e.to_string()))?;
        let signer = Self { pair };
        let public = public_key_file(path);
        if !public.exists() {
            write(&public, signer.public_key().as_bytes(), false)
                .map_err(|source| AuditKeyError::Io { path: public, source })?;
        }
        Ok(signer)
    }

    /// The public key, base64.
    pub fn public_key(&self) -> String {
        STANDARD.encode(self.pair.public_key().as_ref())
    }

    /// Signs the log's entry `seq`, whose chain hash is `head` and whose tree over
    /// entries 1 to `seq` has `root` (both hex).
    pub fn sign(&self, seq: u64, head: String, root: String, at: DateTime<Utc>) -> Checkpoint {
        let signature = self.pair.sign(&Checkpoint::message(seq, &head, &root, at));
        Checkpoint { seq, head, at, signature: STANDARD.encode(signature.as_ref()), root }
    }
}

/// Reads a public key file (base64).
pub fn read_public_key(path: &Path) -> Result<Vec<u8>, AuditKeyError> {
    let text = fs::read_to_string(path).map_err(|source| AuditKeyError::Io { path: path.to_owned(), source })?;
    STANDARD.decode(text.trim()).map_err(|e| AuditKeyError::Invalid { path: path.to_owned(), why: e.to_string() })
}

/// Whether `checkpoint` is signed by `public_key`.
pub fn signed_by(public_key: &[u8], checkpoint: &Checkpoint) -> bool {
    let Ok(signature) = STANDARD.decode(&checkpoint.signature) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, public_key).verify(&checkpoint.signed_message(), &signature).is_ok()
}

/// Whether `newest` extends the log that `kept` signed, as `proof` (RFC 9162
/// consistency) shows, both signed by `public_key`: what was checked, or what is wrong,
/// in words.
pub fn consistent(kept: &Checkpoint, newest: &Checkpoint, proof: &[Hash], public_key: &[u8]) -> Result<String, String> {
    for c in [kept, newest] {
        if !signed_by(public_key, c) {
            return Err(format!("the checkpoint at entry {} is not signed by the hub's key", c.seq));
        }
    }
    let (Some(old), Some(new)) = (parse_hex(&kept.root), parse_hex(&newest.root)) else {
        return Err("a checkpoint without a Merkle root (signed before the log had a tree): check it with xianjie audit verify on the hub's machine".into());
    };
    if merkle::verify_consistency(kept.seq, newest.seq, &old, &new, proof) {
        Ok(format!(
            "the hub's log at entry {} extends the one you kept at entry {}: nothing before was changed ({} hashes)",
            newest.seq,
            kept.seq,
            proof.len()
        ))
    } else {
        Err(format!(
            "the hub's log at entry {} does not extend the one you kept at entry {}: entries up to {} were changed",
            newest.seq, kept.seq, kept.seq
        ))
    }
}

/// What a verification of the stored log found.
#[derive(Debug)]
pub enum Verdict {
    Intact(Verified),
    Broken(Broken),
}

/// Recomputes the whole chain of the stored log and its Merkle tree, and checks them
/// against the stored checkpoints and `handed_back` (checkpoints members kept), all
/// with `public_key`.
pub async fn verify(store: &dyn Store, public_key: &[u8], handed_back: &[Checkpoint]) -> Result<Verdict, StoreError> {
    let mut checkpoints = store.audit_checkpoints().await?;
    checkpoints.extend(handed_back.iter().cloned());
    let mut check = ChainCheck::new(&checkpoints);
    // The Merkle tree grown entry by entry, its root kept where a checkpoint signed one.
    let signed: BTreeSet<u64> = checkpoints.iter().filter(|c| !c.root.is_empty()).map(|c| c.seq).collect();
    let mut tree = Frontier::default();
    let mut roots: BTreeMap<u64, String> = BTreeMap::new();
    let mut after = 0;
    loop {
        let entries = store.audit_log(after, BATCH).await?;
        for entry in &entries {
            if let Err(broken) = check.entry(entry) {
                return Ok(Verdict::Broken(broken));
            }
            tree.push(&entry.hash);
            if signed.contains(&entry.seq) {
                roots.insert(entry.seq, tree.root().map(|r| hex::lower(&r)).unwrap_or_default());
            }
        }
        match entries.last() {
            Some(last) if entries.len() == BATCH as usize => after = last.seq,
            _ => break,
        }
    }
    let verified = match check.finish(&checkpoints, |c| signed_by(public_key, c)) {
        Ok(verified) => verified,
        Err(broken) => return Ok(Verdict::Broken(broken)),
    };
    // Signed and chained as they say: each signed root is the tree's.
    match checkpoints.iter().find(|c| !c.root.is_empty() && roots.get(&c.seq) != Some(&c.root)) {
        Some(c) => Ok(Verdict::Broken(Broken::Uprooted { checkpoint: c.seq })),
        None => Ok(Verdict::Intact(verified)),
    }
}

fn write(path: &Path, contents: &[u8], secret: bool) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_with_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Signer::open_or_create(&dir.path().join("audit.key")).unwrap();
        let at = "2026-09-10T02:00:00Z".parse().unwrap();
        let checkpoint = signer.sign(7, "ab".repeat(32), "cd".repeat(32), at);
        let public = read_public_key(&dir.path().join("audit.pub")).unwrap();
        assert!(signed_by(&public, &checkpoint));
        let moved = Checkpoint { seq: 8, ..checkpoint.clone() };
        assert!(!signed_by(&public, &moved));
        let rerooted = Checkpoint { root: "ce".repeat(32), ..checkpoint.clone() };
        assert!(!signed_by(&public, &rerooted), "the root is signed");
        let other = Signer::open_or_create(&dir.path().join("other.key")).unwrap();
        assert!(!signed_by(&read_public_key(&dir.path().join("other.pub")).unwrap(), &checkpoint));
        // The same key comes back from its file.
        let again = Signer::open_or_create(&dir.path().join("audit.key")).unwrap();
        assert_eq!(again.public_key(), signer.public_key());
        assert_ne!(other.public_key(), signer.public_key());
    }
}
