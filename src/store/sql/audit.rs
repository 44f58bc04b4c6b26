//! Reading the audit log, its head and its signed checkpoints.

use super::{int, Backend, Cells, Query, SqlStore};
use crate::{
    domain::audit::{AuditEntry, Checkpoint},
    store::{
        rows::{from_micros, AuditRow},
        StoreError,
    },
};

fn checkpoint(mut row: Cells) -> Result<Checkpoint, StoreError> {
    Ok(Checkpoint {
        seq: row.int()?.max(0) as u64,
        head: row.text()?,
        at: from_micros(row.int()?)?,
        signature: row.text()?,
    })
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
            self.fetch(Query::new("SELECT seq, head, at, signature FROM audit_checkpoints ORDER BY seq")).await?;
        rows.into_iter().map(checkpoint).collect()
    }

    pub(super) async fn newest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let query = Query::new("SELECT seq, head, at, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1");
        self.fetch_one(query).await?.map(checkpoint).transpose()
    }

    /// The sequence number and hash (hex) of the newest audit entry.
    pub(super) async fn audit_head(&self) -> Result<(u64, String), StoreError> {
        let query = Query::new(super::writes::SELECT_AUDIT_HEAD);
        let mut row = self.fetch_one(query).await?.ok_or_else(|| StoreError::Corrupt("no audit head".into()))?;
        Ok((row.int()?.max(0) as u64, row.text()?))
    }
}
