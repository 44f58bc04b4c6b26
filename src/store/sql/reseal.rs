//! Resealing under the active key: referrals, request records and notes sealed under
//! another key (or written before sealing), a batch at a time; and what each key seals.

use std::sync::LazyLock;

use super::{Backend, Query, SqlStore};
use crate::{
    keys::{seal_bytes, stream},
    store::{
        rows::{ReferralRow, REFERRAL_COLUMNS},
        sealed::{
            entry_note, inbox_note, reseal_note, response_field, sealed_assignments, SealedCommit, SealedContent,
            SEALED_COLUMNS,
        },
        Commit, Opening, StoreError, Upload,
    },
};

/// A file that does not open (or seal) as stored.
fn sealing(id: uuid::Uuid) -> impl Fn(crate::keys::SealError) -> StoreError {
    move |e| StoreError::Corrupt(format!("attachment {id}: {e}"))
}

/// Chunks read at a time while resealing a file.
const RESEAL_CHUNKS: u32 = 16;

/// A referral's content and sealed columns written again, if its key is still the one read.
static RESEAL_REFERRAL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE referrals SET content = $1, {} WHERE id = ${} AND sealed_key IS NOT DISTINCT FROM ${}",
        sealed_assignments(2),
        2 + SEALED_COLUMNS.len(),
        3 + SEALED_COLUMNS.len(),
    )
});

impl<B: Backend> SqlStore<B> {
    /// Writes the blind index of the name of up to `limit` referrals that have none, in
    /// one statement.
    pub(super) async fn index_names(&self, limit: u32) -> Result<u64, StoreError> {
        let query = Query::new(format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE name_index IS NULL LIMIT $1"))
            .bind(i64::from(limit));
        let mut indexes = Vec::new();
        for mut row in self.fetch(query).await? {
            let referral = ReferralRow::from_cells(&mut row)?.open(&self.keys, Opening::Listed)?;
            indexes.push((referral.id.to_string(), self.keys.name_index(&referral.content.person.name)));
        }
        if indexes.is_empty() {
            return Ok(0);
        }
        let mut update = Query::new("UPDATE referrals SET name_index = CASE id");
        for (id, index) in &indexes {
            update.push(" WHEN ").push_bind(id.as_str()).push(" THEN ").push_bind(index.as_str());
        }
        update.push(" END WHERE name_index IS NULL AND id IN (");
        for (n, (id, _)) in indexes.iter().enumerate() {
            update.push(if n == 0 { "" } else { ", " }).push_bind(id.as_str());
        }
        update.push(")");
        self.backend.execute(update).await
    }

    /// Seals again, under the active key, up to `limit` referrals and as many request
    /// records and notes; returns how many it resealed.
    #[tracing::instrument(skip(self))]
    pub(super) async fn reseal(&self, limit: u32) -> Result<u64, StoreError> {
        let active = self.keys.current().active().to_owned();
        let stale = |table_and_columns: &str| {
            Query::new(format!("SELECT {table_and_columns} WHERE sealed_key IS NULL OR sealed_key <> $1 LIMIT $2"))
                .bind(active.as_str())
                .bind(i64::from(limit))
        };
        let mut resealed = 0;
        for mut row in self.fetch(stale(&format!("{REFERRAL_COLUMNS} FROM referrals"))).await? {
            let row = ReferralRow::from_cells(&mut row)?;
            let was = row.sealed_key.clone();
            let referral = row.open(&self.keys, Opening::Whole)?;
            let mut sealed = SealedContent::new(&referral, &self.keys)?;
            let mut update = Query::new(RESEAL_REFERRAL.as_str()).bind(std::mem::take(&mut sealed.content));
            update.params.extend(super::writes::sealed_values(&sealed));
            resealed += self.backend.execute(update.bind(referral.id.to_string()).bind(was)).await?;
        }
        for mut row in self.fetch(stale("member, request_id, response, sealed_key FROM requests")).await? {
            let (member, request_id, response, was) =
                (row.text("member")?, row.text("request_id")?, row.bytes("response")?, row.opt_text("sealed_key")?);
            let plain = self.open_response(&member, &request_id, response)?;
            let keyring = self.keys.current();
            let (field, sealed_as) = response_field(&member, &request_id);
            let sealed = seal_bytes(&keyring, field, &sealed_as, &plain);
            let update = Query::new(
                "UPDATE requests SET response = $1, sealed_key = $2 \
                 WHERE member = $3 AND request_id = $4 AND sealed_key IS NOT DISTINCT FROM $5",
            )
            .bind(sealed.into_bytes())
            .bind(keyring.active())
            .bind(member)
            .bind(request_id)
            .bind(was);
            resealed += self.backend.execute(update).await?;
        }
        for mut row in self.fetch(stale("referral_id, version, note, sealed_key FROM referral_events")).await? {
            let (referral_id, version, note, was) =
                (row.text("referral_id")?, row.int("version")?, row.text("note")?, row.opt_text("sealed_key")?);
            let (field, sealed_as) = entry_note(&referral_id, version);
            let update = Query::new(
                "UPDATE referral_events SET note = $1, sealed_key = $2 \
                 WHERE referral_id = $3 AND version = $4 AND sealed_key IS NOT DISTINCT FROM $5",
            )
            .bind(reseal_note(&self.keys, field, &sealed_as, &note)?)
            .bind(active.as_str())
            .bind(referral_id)
            .bind(version)
            .bind(was);
            resealed += self.backend.execute(update).await?;
        }
        for mut row in self.fetch(stale("event_id, note, sealed_key FROM inbox_events")).await? {
            let (event_id, note, was) = (row.text("event_id")?, row.text("note")?, row.opt_text("sealed_key")?);
            let (field, sealed_as) = inbox_note(&event_id);
            let update = Query::new(
                "UPDATE inbox_events SET note = $1, sealed_key = $2 \
                 WHERE event_id = $3 AND sealed_key IS NOT DISTINCT FROM $4",
            )
            .bind(reseal_note(&self.keys, field, &sealed_as, &note)?)
            .bind(active.as_str())
            .bind(event_id)
            .bind(was);
            resealed += self.backend.execute(update).await?;
        }
        for mut row in self.fetch(stale("id FROM attachments")).await? {
            let id = row.text("id")?;
            let id = uuid::Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt("an attachment id".into()))?;
            resealed += self.reseal_file(id).await?;
        }
        Ok(resealed)
    }

    /// Seals file `id` again under the active key, chunk by chunk in its own
    /// boundaries, and replaces it in one commit if it is still under the key read.
    async fn reseal_file(&self, id: uuid::Uuid) -> Result<u64, StoreError> {
        let Some(stored) = self.attachment(id).await? else { return Ok(0) };
        let keyring = self.keys.current();
        let file = id.to_string();
        let mut opener = stream::Opener::new(&keyring, &file, &stored.header).map_err(sealing(id))?;
        let mut sealer = stream::Sealer::new(&keyring, &file);
        let header = sealer.header().clone();
        let mut sealed = Vec::with_capacity(stored.chunks as usize);
        while (sealed.len() as u32) < stored.chunks {
            let batch = self.chunks(id, sealed.len() as u32, RESEAL_CHUNKS).await?;
            if batch.is_empty() {
                break;
            }
            sealed.extend(batch);
        }
        let (Some((last, rest)), true) = (sealed.split_last(), sealed.len() == stored.chunks as usize) else {
            return Err(StoreError::Corrupt(format!("attachment {id}: chunks missing")));
        };
        let mut chunks = Vec::with_capacity(sealed.len());
        for chunk in rest {
            let plain = opener.chunk(chunk).map_err(sealing(id))?;
            chunks.push(sealer.chunk(&plain).map_err(sealing(id))?);
        }
        let plain = opener.last(last).map_err(sealing(id))?;
        chunks.push(sealer.last(&plain).map_err(sealing(id))?);
        let upload = Upload {
            attachment: stored.attachment,
            header,
            chunks,
            staged: 0,
            issued: false,
            replaces_key: Some(stored.header.key_id),
        };
        let at = upload.attachment.uploaded_at;
        let commit = Commit { uploads: vec![upload], at, ..Commit::default() };
        match self.backend.commit(SealedCommit::new(commit, &self.keys, false)?).await {
            Ok(_) => Ok(1),
            // Resealed meanwhile by another hub.
            Err(StoreError::Conflict) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// How many rows each key seals (`None`: written before sealing).
    pub(super) async fn key_usage(&self) -> Result<Vec<(Option<String>, u64)>, StoreError> {
        let query = Query::new(
            "SELECT sealed_key, COUNT(*) AS n FROM (SELECT sealed_key FROM referrals \
             UNION ALL SELECT sealed_key FROM requests UNION ALL SELECT sealed_key FROM referral_events \
             UNION ALL SELECT sealed_key FROM inbox_events UNION ALL SELECT sealed_key FROM attachments) AS sealed GROUP BY sealed_key ORDER BY sealed_key",
        );
        let rows = self.fetch(query).await?;
        rows.into_iter().map(|mut row| Ok((row.opt_text("sealed_key")?, row.int("n")?.max(0) as u64))).collect()
    }
}
