//! The audit log: the statements that write a commit's checkpoint and the Merkle
//! tree's subtrees (the same on both backends), and the reads of the log, its head, its
//! checkpoints and its subtrees.

use super::{int, statement::Statement, Backend, Cells, Query, SqlStore};
use crate::{
    domain::{
        audit::{parse_hex, AuditEntry, Checkpoint, Hash},
        hex,
        merkle::Subtree,
    },
    store::{
        rows::{corrupt, from_micros, micros, AuditRow},
        Commit, StoreError,
    },
};

const CHECKPOINT_COLUMNS: &str = "seq, head, at, signature, root";

fn checkpoint(mut row: Cells) -> Result<Checkpoint, StoreError> {
    Ok(Checkpoint {
        seq: row.int("seq")?.max(0) as u64,
        head: row.text("head")?,
        at: from_micros(row.int("at")?)?,
        signature: row.text("signature")?,
        root: row.text("root")?,
    })
}

/// The statements that write a commit's subtrees of the Merkle tree (each once: a
/// replica may have written it first) and its checkpoint (a second one for the same
/// entry fails the commit with `Conflict`).
pub fn statements(commit: &Commit) -> Vec<Statement> {
    let mut out: Vec<Statement> = commit
        .audit_nodes
        .iter()
        .map(|(subtree, hash)| {
            Statement::row(Query::new(
                "INSERT INTO audit_nodes (level, idx, hash) VALUES ($1, $2, $3) ON CONFLICT (level, idx) DO NOTHING",
            )
            .bind(i64::from(subtree.level))
            .bind(int(subtree.index))
            .bind(hex::lower(hash)))
        })
        .collect();
    if let Some(c) = &commit.checkpoint {
        out.push(Statement::any(
            Query::new(format!("INSERT INTO audit_checkpoints ({CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"))
                .bind(int(c.seq))
                .bind(c.head.as_str())
                .bind(micros(c.at))
                .bind(c.signature.as_str())
                .bind(c.root.as_str()),
        ));
    }
    out
}

impl<B: Backend> SqlStore<B> {
    pub(super) async fn audit_log(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let query = Query::new(
            "SELECT seq, at, actor, certificate, action, referrals, detail, prev_hash, hash FROM audit_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(int(after_seq))
        .bind(i64::from(limit));
        let rows = self.fetch(query).await?;
        rows.into_iter().map(|mut row| AuditEntry::try_from(AuditRow::from_cells(&mut row)?)).collect()
    }

    /// The audit entries that name `referral`, in order (the index the database keeps
    /// of each entry's referrals).
    pub(super) async fn audit_of(&self, referral: uuid::Uuid) -> Result<Vec<AuditEntry>, StoreError> {
        let query = Query::new(
            "SELECT a.seq, a.at, a.actor, a.certificate, a.action, a.referrals, a.detail, a.prev_hash, a.hash \
             FROM audit_referrals r JOIN audit_log a ON a.seq = r.seq WHERE r.referral_id = $1 ORDER BY r.seq",
        )
        .bind(referral.to_string());
        let rows = self.fetch(query).await?;
        rows.into_iter().map(|mut row| AuditEntry::try_from(AuditRow::from_cells(&mut row)?)).collect()
    }

    pub(super) async fn audit_checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows =
            self.fetch(Query::new(format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq"))).await?;
        rows.into_iter().map(checkpoint).collect()
    }

    pub(super) async fn newest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let query = Query::new(format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"));
        self.fetch_one(query).await?.map(checkpoint).transpose()
    }

    /// The sequence number and hash (hex) of the newest audit entry.
    pub(super) async fn audit_head(&self) -> Result<(u64, String), StoreError> {
        let query = Query::new(super::writes::SELECT_AUDIT_HEAD);
        let mut row = self.fetch_one(query).await?.ok_or_else(|| StoreError::Corrupt("no audit head".into()))?;
        Ok((row.int("seq")?.max(0) as u64, row.text("hash")?))
    }

    /// The hashes of `subtrees`, in order: a leaf from its entry's chain hash, a larger
    /// subtree as stored.
    pub(super) async fn audit_nodes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, StoreError> {
        let mut found = std::collections::HashMap::new();
        let (leaves, inner): (Vec<&Subtree>, Vec<&Subtree>) = subtrees.iter().partition(|s| s.level == 0);
        for batch in leaves.chunks(500) {
            let mut query = Query::new("SELECT seq - 1 AS idx, hash FROM audit_log WHERE 1 = 1");
            query.push_one_of("seq", batch.iter().map(|s| int(s.index + 1)));
            for mut row in self.fetch(query).await? {
                let (index, hash) = (row.int("idx")?.max(0) as u64, row.text("hash")?);
                let hash = parse_hex(&hash).ok_or_else(|| corrupt("audit hash", "not a digest"))?;
                found.insert(Subtree { level: 0, index }, crate::domain::merkle::leaf(&hash));
            }
        }
        for batch in inner.chunks(250) {
            let mut query = Query::new("SELECT idx, level, hash FROM audit_nodes WHERE 1 = 0");
            for s in batch {
                query.push(" OR (level = ");
                query.push_bind(i64::from(s.level));
                query.push(" AND idx = ");
                query.push_bind(int(s.index));
                query.push(")");
            }
            for mut row in self.fetch(query).await? {
                let (index, level, hash) = (row.int("idx")?.max(0) as u64, row.int("level")?, row.text("hash")?);
                let hash = parse_hex(&hash).ok_or_else(|| corrupt("audit node", "not a digest"))?;
                found.insert(Subtree { level: u32::try_from(level).unwrap_or(u32::MAX), index }, hash);
            }
        }
        subtrees
            .iter()
            .map(|s| {
                found.get(s).copied().ok_or_else(|| {
                    StoreError::Corrupt(format!("the audit log's subtree {} at level {} is missing", s.index, s.level))
                })
            })
            .collect()
    }
}
