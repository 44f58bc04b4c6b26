//! What a case's dossier holds and says: the names of its parts, the readable record of
//! its referrals (who sent what to whom, every step, every deadline, every file with its
//! digest), the manifest of its parts with their digests, and the case's audit entries
//! as JSON lines, one entry a line with its proof of inclusion, as `xianjie audit
//! verify-dossier` reads them back.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{
    audit::{AuditEntry, AuditRecord, Hash},
    date::local_time,
    deadline::Deadline,
    directory::Directory,
    hex,
    history::HistoryEntry,
    material::{Attachment, Carried},
    referral::Referral,
    MemberCode,
};

/// The readable record (办理经过).
pub const RECORD: &str = "办理经过.txt";
/// Every part but the audit's, with its digest.
pub const MANIFEST: &str = "审计/manifest.json";
/// The case's audit entries with their proofs.
pub const ENTRIES: &str = "审计/entries.jsonl";
/// The checkpoint the proofs lead to.
pub const CHECKPOINT: &str = "审计/checkpoint.json";

/// What a dossier holds: each part (letters, files, the record) with its SHA-256, and
/// the audit entries of the case at export. Its own digest is in the export's audit
/// entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub case_id: Uuid,
    pub exported_at: DateTime<Utc>,
    pub parts: Vec<Part>,
    /// The sequence numbers of the case's audit entries before the export's own.
    pub entries: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    /// Hex.
    pub sha256: String,
}

impl Manifest {
    pub fn part(&mut self, name: &str, sha256: Hash) {
        self.parts.push(Part { name: name.to_owned(), sha256: hex::lower(&sha256) });
    }
}

/// What the export's audit entry says: the manifest's digest.
pub fn manifest_detail(digest: &Hash) -> String {
    format!("manifest sha256 {}", hex::lower(digest))
}

/// Where a file lies in the archive: numbered, under its own name.
pub fn file_path(n: usize, a: &Attachment) -> String {
    format!("材料/{n:02}-{}", a.name.replace(['/', '\\'], "_"))
}

/// One audit entry as a dossier keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub certificate: String,
    pub action: String,
    pub referrals: Vec<Uuid>,
    pub detail: String,
    pub prev: String,
    pub hash: String,
    /// The entry's proof of inclusion in the log of the dossier's checkpoint (RFC 9162),
    /// hex, nearest the entry first.
    #[serde(default)]
    pub proof: Vec<String>,
}

impl AuditLine {
    pub fn of(e: &AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor: e.record.actor.to_string(),
            certificate: e.record.certificate.clone(),
            action: e.record.action.clone(),
            referrals: e.record.referrals.clone(),
            detail: e.record.detail.clone(),
            prev: hex::lower(&e.prev),
            hash: hex::lower(&e.hash),
            proof: Vec::new(),
        }
    }

    pub fn with_proof(self, proof: &[Hash]) -> Self {
        Self { proof: proof.iter().map(|hash| hex::lower(hash)).collect(), ..self }
    }

    /// The line as the dossier holds it, with its end.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default() + "\n"
    }

    /// The proof's hashes, or `None` if one does not parse.
    pub fn proof(&self) -> Option<Vec<Hash>> {
        self.proof.iter().map(|h| crate::domain::audit::parse_hex(h)).collect()
    }

    /// The entry again, or `None` if a field does not parse.
    pub fn entry(&self) -> Option<AuditEntry> {
        Some(AuditEntry {
            seq: self.seq,
            at: self.at,
            record: AuditRecord {
                actor: MemberCode::parse(&self.actor).ok()?,
                certificate: self.certificate.clone(),
                action: self.action.clone(),
                referrals: self.referrals.clone(),
                detail: self.detail.clone(),
            },
            prev: crate::domain::audit::parse_hex(&self.prev)?,
            hash: crate::domain::audit::parse_hex(&self.hash)?,
        })
    }
}

fn time(at: DateTime<Utc>) -> String {
    local_time(at).format("%Y-%m-%d %H:%M").to_string()
}

/// The readable record of a case, built a referral and a file at a time.
pub struct Record {
    text: String,
    files: String,
}

impl Record {
    pub fn new(case_id: Uuid, at: DateTime<Utc>) -> Self {
        let mut text = String::new();
        let _ = writeln!(text, "\u{feff}案卷 {case_id}");
        let _ = writeln!(text, "导出时间：{}（北京时间）", time(at));
        let _ = writeln!(text);
        Self { text, files: String::new() }
    }

    /// A referral: its parties, its letter, every step and every deadline.
    pub fn referral(
        &mut self,
        r: &Referral,
        letter: &str,
        history: &[HistoryEntry],
        deadlines: &[Deadline],
        directory: &Directory,
    ) {
        let name = |code: &MemberCode| directory.get(code).map_or_else(|| code.to_string(), |m| m.name.clone());
        let t = &mut self.text;
        let _ = writeln!(t, "== {}：{} → {} ==", r.kind.label(), name(&r.sender), name(&r.recipient));
        let _ = writeln!(t, "编号：{}", r.id);
        let _ = writeln!(t, "移送函：移送函/{letter}");
        let _ = writeln!(t, "当事人：{}（{}）", r.content.person.name, r.content.person.id_number.as_str());
        let _ = writeln!(t, "现状态：{}", r.state.label());
        let _ = writeln!(t, "办理经过：");
        for e in history {
            let note = if e.note.is_empty() { String::new() } else { format!("：{}", e.note) };
            let _ = writeln!(t, "  {}  {}  {}{note}", time(e.at), name(&e.actor), e.state.label());
        }
        let _ = writeln!(t, "期限：");
        for d in deadlines {
            let met = d.met_on.map(|m| format!("，{m} 办理")).unwrap_or_default();
            let _ = writeln!(
                t,
                "  {}  {}负责  {} 起算，{} 届满  {}{met}",
                d.kind.label(),
                name(&d.responsible),
                d.trigger,
                d.due,
                d.state.label()
            );
        }
        let _ = writeln!(t);
    }

    /// A file a referral carries.
    pub fn file(&mut self, c: &Carried) {
        let a = &c.attachment;
        let _ = writeln!(
            self.files,
            "  {}  {}  {} 字节  SHA-256 {}  （{} 随第 {} 步附上，移送 {}）",
            a.name,
            a.kind.code().to_uppercase(),
            a.size,
            hex::lower(&a.sha256),
            c.by,
            c.version,
            c.referral_id
        );
    }

    /// The whole record, with the files and what the audit excerpt holds (`entries` of
    /// the case before the export).
    pub fn text(mut self, entries: usize) -> String {
        let t = &mut self.text;
        let _ = writeln!(t, "== 救助材料 ==");
        t.push_str(if self.files.is_empty() { "  （无）\n" } else { &self.files });
        let _ = writeln!(t);
        let _ = writeln!(t, "== 审计日志 ==");
        let _ = writeln!(t, "审计/entries.jsonl 收录涉及本案的审计记录 {entries} 条及本次导出的记录（不含个人信息），");
        let _ = writeln!(t, "每条附默克尔包含证明，指向导出时签名的检查点（审计/checkpoint.json）。");
        let _ = writeln!(t, "审计/manifest.json 列出本案卷每个文件的 SHA-256，其摘要记入导出记录。");
        let _ = writeln!(t, "核验：xianjie audit verify-dossier 本文件.zip --public-key 审计公钥文件");
        self.text.replace('\n', "\r\n")
    }
}
