//! The audit log (Art. 24–25): who read or changed what, when, and with which
//! certificate. Each entry is chained to the one before by a SHA-256 hash; checkpoints
//! (sequence number, chain head, time) signed with a key kept outside the database go
//! to every member, so a log rewritten, cut short or reordered contradicts them.
//!
//! Pure rules: hashing, the checkpoint's signed text and verification. Signing keys,
//! storage and delivery live elsewhere.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{hex, MemberCode};

/// A SHA-256 chain hash.
pub type Hash = [u8; 32];

/// The hash before the first entry.
pub const GENESIS: Hash = [0; 32];

/// What a request or piece of background work records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub actor: MemberCode,
    /// The serial number of the caller's certificate; empty for the hub's own work.
    pub certificate: String,
    /// The RPC (`Submit`, `Get`) or the hub's work (`scan`, `schedule`).
    pub action: String,
    /// The referrals read or changed.
    pub referrals: Vec<Uuid>,
    /// `masked` for the office's reads, otherwise empty.
    pub detail: String,
}

/// A record as written: numbered, timed and chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub record: AuditRecord,
    pub prev: Hash,
    pub hash: Hash,
}

fn field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

/// The hash of the entry `seq` written at `at` after the entry whose hash is `prev`:
/// every field length-prefixed, so that no two entries encode alike.
pub fn chain_hash(prev: &Hash, seq: u64, at: DateTime<Utc>, record: &AuditRecord) -> Hash {
    let mut hasher = Sha256::new();
    field(&mut hasher, b"xianjie-audit-v1");
    field(&mut hasher, prev);
    field(&mut hasher, &seq.to_be_bytes());
    field(&mut hasher, &at.timestamp_micros().to_be_bytes());
    field(&mut hasher, record.actor.as_str().as_bytes());
    field(&mut hasher, record.certificate.as_bytes());
    field(&mut hasher, record.action.as_bytes());
    field(&mut hasher, &(record.referrals.len() as u64).to_be_bytes());
    for id in &record.referrals {
        field(&mut hasher, id.as_bytes());
    }
    field(&mut hasher, record.detail.as_bytes());
    hasher.finalize().into()
}

/// What an entry's action was, as a person reads it in a referral's access record
/// (谁看过、谁办过); an action without a wording is shown as it is named.
pub fn action_label(action: &str) -> &str {
    match action {
        "Submit" => "移送",
        "Get" => "查看",
        "List" => "在列表中查看",
        "GetCase" => "查看同案移送",
        "ToDo" => "在待办中查看",
        "Attachments" => "查看材料目录",
        "Download" => "下载材料",
        "Letter" => "下载移送函",
        "Dossier" => "导出案卷",
        "ExportLedger" => "导出台账",
        "Subscribe" => "在消息中阅读留言",
        "Access" => "查看访问记录",
        "Receive" => "签收",
        "Start" => "启动程序",
        "Conclude" => "办结",
        "Feedback" => "反馈",
        "Return" => "退回",
        "Withdraw" => "撤回",
        "Comment" => "补充材料",
        "Visit" => "回访",
        "Remind" => "催办",
        "Supervise" => "发出督办函",
        "SupervisionLetter" => "下载督办函",
        "MarkKeyCase" => "标记为重点救助对象",
        "UnmarkKeyCase" => "取消重点救助对象标记",
        other => other,
    }
}

/// The hash `raw` writes in hex; `None` unless it is 32 bytes' worth.
pub fn parse_hex(raw: &str) -> Option<Hash> {
    hex::array(raw)
}

/// The chain head at `seq`, signed by the hub. Members keep it; it travels as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    /// The hash of entry `seq`, hex.
    pub head: String,
    pub at: DateTime<Utc>,
    /// Ed25519 over [`Checkpoint::message`], base64.
    pub signature: String,
    /// The root of the log's Merkle tree over entries 1 to `seq` (RFC 9162), hex;
    /// empty in checkpoints signed before the log had a tree.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub root: String,
}

impl Checkpoint {
    /// The text the signature covers: with the tree's root when there is one.
    pub fn message(seq: u64, head: &str, root: &str, at: DateTime<Utc>) -> Vec<u8> {
        let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
        if root.is_empty() {
            format!("xianjie-audit-checkpoint-v1\n{seq}\n{head}\n{at}").into_bytes()
        } else {
            format!("xianjie-audit-checkpoint-v2\n{seq}\n{head}\n{root}\n{at}").into_bytes()
        }
    }

    pub fn signed_message(&self) -> Vec<u8> {
        Self::message(self.seq, &self.head, &self.root, self.at)
    }
}

/// The first thing found wrong with a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// Entry `seq` is missing (deleted), or the entries are out of order.
    Missing { seq: u64 },
    /// Entry `seq` does not point at the hash of the entry before it.
    Unlinked { seq: u64 },
    /// Entry `seq` does not hash to what it states (edited).
    Altered { seq: u64 },
    /// A checkpoint's signature does not verify with the hub's public key.
    BadSignature { seq: u64 },
    /// A checkpoint names an entry the log no longer has (cut short).
    Truncated { checkpoint: u64, last: u64 },
    /// The log's entry `checkpoint` hashes otherwise than the signed checkpoint says:
    /// entries after `since` up to it were rewritten.
    Rewritten { since: u64, checkpoint: u64 },
    /// The Merkle tree of the entries up to `checkpoint` has another root than the one
    /// its checkpoint signed.
    Uprooted { checkpoint: u64 },
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Missing { seq } => write!(f, "entry {seq} is missing or out of order"),
            Broken::Unlinked { seq } => write!(f, "entry {seq} does not chain to the entry before it"),
            Broken::Altered { seq } => write!(f, "entry {seq} was altered: it does not hash to its stated hash"),
            Broken::BadSignature { seq } => write!(f, "the checkpoint at entry {seq} is not signed by the hub's key"),
            Broken::Truncated { checkpoint, last } => {
                write!(f, "the log was cut short: a checkpoint covers entry {checkpoint}, the log ends at {last}")
            }
            Broken::Rewritten { since, checkpoint } => write!(
                f,
                "entries {}–{checkpoint} were rewritten: entry {checkpoint} contradicts its signed checkpoint",
                since + 1
            ),
            Broken::Uprooted { checkpoint } => write!(
                f,
                "the Merkle tree of entries 1–{checkpoint} has another root than the checkpoint at entry {checkpoint} signed"
            ),
        }
    }
}

/// What a verification covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verified {
    pub entries: u64,
    pub checkpoints: usize,
}

/// Walks a log, oldest first, checking the chain as it goes.
#[derive(Debug, Default)]
pub struct ChainCheck {
    last: u64,
    head: Hash,
    /// The hash of each entry a checkpoint names.
    wanted: BTreeMap<u64, Option<Hash>>,
}

impl ChainCheck {
    /// A check that will compare the entries `checkpoints` name.
    pub fn new(checkpoints: &[Checkpoint]) -> Self {
        Self { last: 0, head: GENESIS, wanted: checkpoints.iter().map(|c| (c.seq, None)).collect() }
    }

    /// A check of a log's part that follows entry `last`, whose hash is `head` (an
    /// excerpt, as a dossier holds it).
    pub fn after(last: u64, head: Hash, checkpoints: &[Checkpoint]) -> Self {
        Self { last, head, ..Self::new(checkpoints) }
    }

    /// Takes the next entry.
    pub fn entry(&mut self, entry: &AuditEntry) -> Result<(), Broken> {
        if entry.seq != self.last + 1 {
            return Err(Broken::Missing { seq: self.last + 1 });
        }
        if entry.prev != self.head {
            return Err(Broken::Unlinked { seq: entry.seq });
        }
        if chain_hash(&entry.prev, entry.seq, entry.at, &entry.record) != entry.hash {
            return Err(Broken::Altered { seq: entry.seq });
        }
        if let Some(slot) = self.wanted.get_mut(&entry.seq) {
            *slot = Some(entry.hash);
        }
        self.last = entry.seq;
        self.head = entry.hash;
        Ok(())
    }

    /// Checks the checkpoints against the entries seen, with `signed` telling whether a
    /// signature verifies.
    pub fn finish(self, checkpoints: &[Checkpoint], signed: impl Fn(&Checkpoint) -> bool) -> Result<Verified, Broken> {
        let mut sorted: Vec<&Checkpoint> = checkpoints.iter().collect();
        sorted.sort_by_key(|c| c.seq);
        let mut good_since = 0;
        for checkpoint in sorted {
            if !signed(checkpoint) {
                return Err(Broken::BadSignature { seq: checkpoint.seq });
            }
            match self.wanted.get(&checkpoint.seq).copied().flatten() {
                None => return Err(Broken::Truncated { checkpoint: checkpoint.seq, last: self.last }),
                Some(hash) if hex::lower(&hash) != checkpoint.head => {
                    return Err(Broken::Rewritten { since: good_since, checkpoint: checkpoint.seq })
                }
                Some(_) => good_since = checkpoint.seq,
            }
        }
        Ok(Verified { entries: self.last, checkpoints: checkpoints.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str) -> AuditRecord {
        AuditRecord {
            actor: MemberCode::parse("mz").unwrap(),
            certificate: "1f".into(),
            action: action.into(),
            referrals: vec![Uuid::nil()],
            detail: String::new(),
        }
    }

    fn log(n: u64) -> Vec<AuditEntry> {
        let mut prev = GENESIS;
        let at: DateTime<Utc> = "2026-09-10T02:00:00Z".parse().unwrap();
        (1..=n)
            .map(|seq| {
                let record = record(if seq % 2 == 0 { "Get" } else { "Submit" });
                let hash = chain_hash(&prev, seq, at, &record);
                let entry = AuditEntry { seq, at, record, prev, hash };
                prev = hash;
                entry
            })
            .collect()
    }

    fn checkpoint(entries: &[AuditEntry], seq: u64) -> Checkpoint {
        let entry = &entries[seq as usize - 1];
        Checkpoint { seq, head: hex::lower(&entry.hash), at: entry.at, signature: "ok".into(), root: String::new() }
    }

    fn verify(entries: &[AuditEntry], checkpoints: &[Checkpoint]) -> Result<Verified, Broken> {
        let mut check = ChainCheck::new(checkpoints);
        for entry in entries {
            check.entry(entry)?;
        }
        check.finish(checkpoints, |c| c.signature == "ok")
    }

    #[test]
    fn an_intact_log_verifies() {
        let entries = log(5);
        let checkpoints = [checkpoint(&entries, 2), checkpoint(&entries, 5)];
        assert_eq!(verify(&entries, &checkpoints), Ok(Verified { entries: 5, checkpoints: 2 }));
    }

    #[test]
    fn every_tampering_names_what_broke() {
        let entries = log(6);
        let checkpoints = [checkpoint(&entries, 3), checkpoint(&entries, 6)];

        let mut edited = entries.clone();
        edited[3].record.action = "Withdraw".into();
        assert_eq!(verify(&edited, &checkpoints), Err(Broken::Altered { seq: 4 }));

        let mut deleted = entries.clone();
        deleted.remove(2);
        assert_eq!(verify(&deleted, &checkpoints), Err(Broken::Missing { seq: 3 }));

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert_eq!(verify(&reordered, &checkpoints), Err(Broken::Missing { seq: 2 }));

        let truncated = &entries[..4];
        assert_eq!(verify(truncated, &checkpoints), Err(Broken::Truncated { checkpoint: 6, last: 4 }));

        // Rewritten from entry 5 on with a fresh chain: consistent, but not what was signed.
        let mut rewritten = entries.clone();
        rewritten[4].record.referrals.clear();
        for i in 4..rewritten.len() {
            let prev = rewritten[i - 1].hash;
            let e = &mut rewritten[i];
            e.prev = prev;
            e.hash = chain_hash(&prev, e.seq, e.at, &e.record);
        }
        assert_eq!(verify(&rewritten, &checkpoints), Err(Broken::Rewritten { since: 3, checkpoint: 6 }));

        let mut forged = checkpoints.clone();
        forged[1].signature = "forged".into();
        assert_eq!(verify(&entries, &forged), Err(Broken::BadSignature { seq: 6 }));
    }

    #[test]
    fn hashes_round_trip_through_hex() {
        let hash = log(1)[0].hash;
        assert_eq!(parse_hex(&hex::lower(&hash)), Some(hash));
        assert_eq!(parse_hex("zz"), None);
        assert_eq!(parse_hex(&hex::lower(&hash[..31])), None, "31 bytes are no hash");
    }
}
