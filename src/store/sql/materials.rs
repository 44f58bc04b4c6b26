//! Materials and document numbers: the statements a commit's upload, links and
//! numbering run (the same on both backends), and the reads of files, their chunks, the
//! files a referral carries and a referral's document number.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{statement::Statement, writes::Writers, Backend, Cells, Query, SqlStore};
use crate::{
    domain::{
        letter::DocumentNumber,
        material::{Attachment, Carried, Kind},
        MemberCode,
    },
    keys::stream::Header,
    store::{
        rows::{corrupt, from_micros, micros},
        sealed::{attachment_name, open_text, SealedCommit},
        LetterRecord, NumberClaim, SeqsTaken, StoreError, StoredFile,
    },
};

/// The statements that write a commit's staged chunks, files, letters, links and
/// numbering, in order; to run after its referrals (which the links, letters and
/// numbers name). A unique violation in them (two writers taking the same document
/// number) fails the commit with `Conflict`.
pub fn statements(sealed: &SealedCommit, writers: Writers) -> Vec<Statement> {
    let commit = &sealed.commit;
    let mut out = Vec::new();
    if let (Some(staging), Some(name)) = (&commit.staging, &sealed.staging_name) {
        let id = staging.attachment_id.to_string();
        if staging.first == 0 {
            out.push(Statement::row(
                Query::new(
                    "INSERT INTO attachments (id, owner, name, kind, size, sha256, chunks, nonce_prefix, \
                     sealed_key, uploaded_at, staged) VALUES ($1, $2, $3, '', 0, '', 0, $4, $5, $6, 1)",
                )
                .bind(id.as_str())
                .bind(staging.owner.as_str())
                .bind(name.as_str())
                .bind(staging.header.prefix.to_vec())
                .bind(staging.header.key_id.as_str())
                .bind(micros(staging.at)),
            ));
        }
        chunks(&mut out, &id, staging.first, &staging.chunks, Statement::row);
    }
    for (upload, name) in commit.uploads.iter().zip(&sealed.upload_names) {
        let a = &upload.attachment;
        let id = a.id.to_string();
        let total = i64::from(upload.staged) + upload.chunks.len() as i64;
        let (size, sha256) = (i64::try_from(a.size).unwrap_or(i64::MAX), crate::domain::hex::lower(&a.sha256));
        match (&upload.replaces_key, upload.staged) {
            (None, 0) => out.push(Statement::row(
                Query::new(
                    "INSERT INTO attachments (id, owner, name, kind, size, sha256, chunks, nonce_prefix, \
                     sealed_key, uploaded_at, issued) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(id.as_str())
                .bind(a.owner.as_str())
                .bind(name.as_str())
                .bind(a.kind.code())
                .bind(size)
                .bind(sha256)
                .bind(total)
                .bind(upload.header.prefix.to_vec())
                .bind(upload.header.key_id.as_str())
                .bind(micros(a.uploaded_at))
                .bind(i64::from(upload.issued)),
            )),
            // Completing a staged file: it must still be staged (not discarded).
            (None, _) => out.push(Statement::one_row(
                Query::new(
                    "UPDATE attachments SET kind = $1, size = $2, sha256 = $3, chunks = $4, staged = 0 \
                     WHERE id = $5 AND staged = 1",
                )
                .bind(a.kind.code())
                .bind(size)
                .bind(sha256)
                .bind(total)
                .bind(id.as_str()),
            )),
            (Some(was), _) => {
                out.push(Statement::one_row(
                    Query::new(
                        "UPDATE attachments SET name = $1, chunks = $2, nonce_prefix = $3, sealed_key = $4 \
                         WHERE id = $5 AND sealed_key = $6",
                    )
                    .bind(name.as_str())
                    .bind(total)
                    .bind(upload.header.prefix.to_vec())
                    .bind(upload.header.key_id.as_str())
                    .bind(id.as_str())
                    .bind(was.as_str()),
                ));
                out.push(Statement::any(
                    Query::new("DELETE FROM attachment_chunks WHERE attachment_id = $1").bind(id.as_str()),
                ));
            }
        }
        // A replaced file's chunks follow the statement that deletes the old ones.
        let chunk = if upload.replaces_key.is_some() { Statement::any } else { Statement::row };
        chunks(&mut out, &id, upload.staged, &upload.chunks, chunk);
    }
    for letter in &commit.letters {
        out.push(Statement::row(
            Query::new(
                "INSERT INTO letters (referral_id, version, number, attachment_id, issued_at, by_member, clerk) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(letter.referral_id.to_string())
            .bind(i64::from(letter.version))
            .bind(letter.number.as_str())
            .bind(letter.attachment_id.to_string())
            .bind(micros(letter.issued_at))
            .bind(letter.by.as_str())
            .bind(letter.clerk.as_str()),
        ));
    }
    for link in &commit.links {
        out.push(Statement::row(
            Query::new(
                "INSERT INTO attachment_links (referral_id, attachment_id, version, ordinal, by_member) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(link.referral_id.to_string())
            .bind(link.attachment_id.to_string())
            .bind(i64::from(link.version))
            .bind(i64::from(link.ordinal))
            .bind(link.by.as_str()),
        ));
    }
    for d in &commit.discards {
        let id = d.id.to_string();
        let bind = |sql: String| Query::new(sql).bind(micros(d.staged_before)).bind(micros(d.unattached_before));
        out.push(Statement::any(
            bind(format!(
                "DELETE FROM attachment_chunks WHERE attachment_id = $3 AND attachment_id IN \
                 (SELECT id FROM attachments WHERE id = $3 AND {DOOMED})"
            ))
            .bind(id.as_str()),
        ));
        out.push(Statement::one_row(
            bind(format!("DELETE FROM attachments WHERE id = $3 AND {DOOMED}")).bind(id.as_str()),
        ));
    }
    for n in &commit.numbering {
        out.push(Statement::row(
            Query::new(
                "INSERT INTO letter_numbers (referral_id, sender, year, seq, prefix) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(n.referral_id.to_string())
            .bind(n.sender.as_str())
            .bind(i64::from(n.year))
            .bind(i64::from(n.seq))
            .bind(n.prefix.as_str()),
        ));
        out.extend(unclaim(writers, &n.sender, n.year, n.seq));
    }
    out
}

/// Drops the claim on a document number the commit writes (see
/// [`SqlStore::claim_number`]), where other processes write the store too.
pub fn unclaim(writers: Writers, sender: &MemberCode, year: i32, seq: u32) -> Option<Statement> {
    (writers == Writers::Many).then(|| {
        Statement::row(
            Query::new("DELETE FROM letter_number_claims WHERE (sender, year, seq) IN (VALUES ($1, $2, $3))")
                .bind(sender.as_str())
                .bind(i64::from(year))
                .bind(i64::from(seq)),
        )
    })
}

/// Inserts `sealed` as the chunks of file `id` from position `first`, each statement
/// made by `statement`.
fn chunks(out: &mut Vec<Statement>, id: &str, first: u32, sealed: &[Vec<u8>], statement: fn(Query) -> Statement) {
    for (position, chunk) in (i64::from(first)..).zip(sealed) {
        out.push(statement(
            Query::new("INSERT INTO attachment_chunks (attachment_id, position, sealed) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(position)
                .bind(chunk.clone()),
        ));
    }
}

/// Which files nothing needs: not issued by the hub (a letter, a 督办函), and staged
/// before `$1` or stored before `$2` and carried by no referral.
const DOOMED: &str = "(issued = 0 AND ((staged = 1 AND uploaded_at < $1) OR (staged = 0 AND uploaded_at < $2 \
     AND id NOT IN (SELECT attachment_id FROM attachment_links))))";

const ATTACHMENT_COLUMNS: &str = "a.id, a.owner, a.name, a.kind, a.size, a.sha256, a.uploaded_at";

fn parse_uuid(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|_| corrupt("uuid", raw))
}

fn parse_sha256(raw: &str) -> Result<[u8; 32], StoreError> {
    crate::domain::audit::parse_hex(raw).ok_or_else(|| corrupt("sha256", "a digest"))
}

impl<B: Backend> SqlStore<B> {
    /// An attachment from the row's cells ([`ATTACHMENT_COLUMNS`]).
    fn attachment_row(&self, row: &mut Cells) -> Result<Attachment, StoreError> {
        let id = row.text("id")?;
        let owner = row.text("owner")?;
        let name = row.text("name")?;
        let (field, sealed_as) = attachment_name(&id);
        Ok(Attachment {
            owner: MemberCode::parse(&owner).map_err(|_| corrupt("member", &owner))?,
            name: open_text(&self.keys, field, &sealed_as, &name)?,
            kind: {
                let kind = row.text("kind")?;
                Kind::from_code(&kind).ok_or_else(|| corrupt("attachment kind", &kind))?
            },
            size: row.int("size")?.max(0) as u64,
            sha256: parse_sha256(&row.text("sha256")?)?,
            uploaded_at: from_micros(row.int("uploaded_at")?)?,
            id: parse_uuid(&id)?,
        })
    }

    pub(super) async fn attachment(&self, id: Uuid) -> Result<Option<StoredFile>, StoreError> {
        let query = Query::new(format!(
            "SELECT {ATTACHMENT_COLUMNS}, a.sealed_key, a.nonce_prefix, a.chunks FROM attachments a \
             WHERE a.id = $1 AND a.staged = 0"
        ))
        .bind(id.to_string());
        let Some(mut row) = self.fetch_one(query).await? else { return Ok(None) };
        let attachment = self.attachment_row(&mut row)?;
        let key_id = row.text("sealed_key")?;
        let prefix = row.bytes("nonce_prefix")?.try_into().map_err(|_| corrupt("nonce prefix", "not 19 bytes"))?;
        let chunks = u32::try_from(row.int("chunks")?).map_err(|_| corrupt("chunk count", "out of range"))?;
        Ok(Some(StoredFile { attachment, header: Header { key_id, prefix }, chunks }))
    }

    pub(super) async fn chunks(&self, id: Uuid, from: u32, limit: u32) -> Result<Vec<Vec<u8>>, StoreError> {
        let query = Query::new(
            "SELECT sealed FROM attachment_chunks WHERE attachment_id = $1 AND position >= $2 \
             ORDER BY position LIMIT $3",
        )
        .bind(id.to_string())
        .bind(i64::from(from))
        .bind(i64::from(limit));
        self.fetch(query).await?.into_iter().map(|mut row| row.bytes("sealed")).collect()
    }

    pub(super) async fn carried(&self, referrals: &[Uuid]) -> Result<Vec<Carried>, StoreError> {
        if referrals.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new(format!(
            "SELECT {ATTACHMENT_COLUMNS}, l.referral_id, l.version, l.by_member FROM attachment_links l \
             JOIN attachments a ON a.id = l.attachment_id WHERE l.referral_id IN ("
        ));
        for (i, id) in referrals.iter().enumerate() {
            if i > 0 {
                query.push(", ");
            }
            query.push_bind(id.to_string());
        }
        query.push(") ORDER BY l.referral_id, l.version, l.ordinal");
        let mut carried = Vec::new();
        for mut row in self.fetch(query).await? {
            let attachment = self.attachment_row(&mut row)?;
            let referral_id = parse_uuid(&row.text("referral_id")?)?;
            let version = u32::try_from(row.int("version")?).map_err(|_| corrupt("version", "out of range"))?;
            let by = row.text("by_member")?;
            let by = MemberCode::parse(&by).map_err(|_| corrupt("member", &by))?;
            carried.push(Carried { attachment, referral_id, version, by });
        }
        Ok(carried)
    }

    pub(super) async fn document_numbers(
        &self,
        referral_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, DocumentNumber)>, StoreError> {
        if referral_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new("SELECT referral_id, sender, year, seq, prefix FROM letter_numbers WHERE 1 = 1");
        query.push_one_of("referral_id", referral_ids.iter().map(Uuid::to_string));
        let mut numbers = Vec::new();
        for mut row in self.fetch(query).await? {
            let id = row.text("referral_id")?;
            let sender = row.text("sender")?;
            numbers.push((
                Uuid::parse_str(&id).map_err(|_| corrupt("referral id", &id))?,
                DocumentNumber {
                    sender: MemberCode::parse(&sender).map_err(|_| corrupt("member", &sender))?,
                    year: i32::try_from(row.int("year")?).map_err(|_| corrupt("year", "out of range"))?,
                    seq: u32::try_from(row.int("seq")?).map_err(|_| corrupt("document number", "out of range"))?,
                    prefix: row.text("prefix")?,
                },
            ));
        }
        Ok(numbers)
    }

    /// The numbers of `sender` in `year` that are taken (written, or claimed by a
    /// process other than `holder` until after `now`): the highest, and the free ones
    /// below it. The database finds the gaps, so that a pool is rebuilt from a row or
    /// two rather than every number of the year.
    pub(super) async fn document_seqs(
        &self,
        sender: &MemberCode,
        year: i32,
        (holder, now): (&str, DateTime<Utc>),
    ) -> Result<SeqsTaken, StoreError> {
        // Each row is a taken number (0 standing before the first) followed by a gap or
        // by nothing: the free numbers run from `seq + 1` to `following - 1`.
        let query = Query::new(
            "SELECT seq, following FROM (SELECT seq, LEAD(seq) OVER (ORDER BY seq) AS following FROM ( \
             SELECT 0 AS seq \
             UNION ALL SELECT seq FROM letter_numbers WHERE sender = $1 AND year = $2 \
             UNION ALL SELECT seq FROM supervisions WHERE $1 = 'office' AND year = $2 \
             UNION ALL SELECT seq FROM letter_number_claims WHERE sender = $1 AND year = $2 \
             AND holder <> $3 AND until > $4) AS taken) AS runs \
             WHERE following IS NULL OR following > seq + 1 ORDER BY seq",
        )
        .bind(sender.as_str())
        .bind(i64::from(year))
        .bind(holder)
        .bind(micros(now));
        let seq = |n: i64| u32::try_from(n).map_err(|_| corrupt("document number", "out of range"));
        let mut taken = SeqsTaken::default();
        for mut row in self.fetch(query).await? {
            let at = seq(row.int("seq")?)?;
            match row.opt_int("following")? {
                Some(following) => taken.free.extend(at + 1..seq(following)?),
                None => taken.top = at,
            }
        }
        // The counter's last number and those below it above the highest taken were
        // handed out, and are neither written nor claimed by another process now: their
        // commits failed, or their processes are gone and their claims lapsed.
        let counter = Query::new("SELECT next FROM letter_number_next WHERE sender = $1 AND year = $2")
            .bind(sender.as_str())
            .bind(i64::from(year));
        if let Some(mut row) = self.fetch(counter).await?.pop() {
            let handed = seq(row.int("next")?)?;
            if handed > taken.top {
                taken.free.extend(taken.top + 1..=handed);
                taken.top = handed;
            }
        }
        Ok(taken)
    }

    /// Claims `claim`'s number for its holder unless it is written or another process's
    /// claim on it has not lapsed; whether it is the holder's.
    ///
    /// A claim that waited on another's, held by a commit writing the number, is made
    /// once that commit has dropped it; the number that commit wrote is seen only by
    /// the next statement, which gives the claim up again.
    pub(super) async fn claim_number(&self, claim: &NumberClaim) -> Result<bool, StoreError> {
        let bind = |sql: &'static str| {
            Query::new(sql)
                .bind(claim.sender.as_str())
                .bind(i64::from(claim.year))
                .bind(i64::from(claim.seq))
                .bind(claim.holder.as_str())
        };
        let query = bind(
            "INSERT INTO letter_number_claims (sender, year, seq, holder, until) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE NOT EXISTS (SELECT 1 FROM letter_numbers WHERE sender = $1 AND year = $2 AND seq = $3) \
             AND NOT EXISTS (SELECT 1 FROM supervisions WHERE $1 = 'office' AND year = $2 AND seq = $3) \
             ON CONFLICT (sender, year, seq) DO UPDATE SET holder = excluded.holder, until = excluded.until \
             WHERE letter_number_claims.holder = excluded.holder OR letter_number_claims.until <= $6",
        )
        .bind(micros(claim.until))
        .bind(micros(claim.at));
        let written = bind(
            "DELETE FROM letter_number_claims WHERE sender = $1 AND year = $2 AND seq = $3 AND holder = $4 \
             AND (EXISTS (SELECT 1 FROM letter_numbers WHERE sender = $1 AND year = $2 AND seq = $3) \
             OR EXISTS (SELECT 1 FROM supervisions WHERE $1 = 'office' AND year = $2 AND seq = $3))",
        );
        self.backend.claim(query, written).await
    }

    /// Takes the next number from the counter of `claim`'s sender and year (at least
    /// `claim.seq`: the counter starts there, and never stays below what the taking
    /// process knows taken) and claims it for `claim.holder`. The counter's row (its
    /// column `next`, as migration 0026 named it) holds the last number it handed out.
    /// A standing claim on it (the counter set back with the store) is taken over: the
    /// unique key of the numbers written refuses the second commit of one.
    pub(super) async fn claim_next_number(&self, claim: &NumberClaim) -> Result<Option<u32>, StoreError> {
        let query = Query::new(
            "WITH counted AS (INSERT INTO letter_number_next (sender, year, next) VALUES ($1, $2, $3) \
             ON CONFLICT (sender, year) DO UPDATE SET next = CASE WHEN letter_number_next.next + 1 > excluded.next \
             THEN letter_number_next.next + 1 ELSE excluded.next END RETURNING next) \
             INSERT INTO letter_number_claims (sender, year, seq, holder, until) \
             SELECT $1, $2, next, $4, $5 FROM counted \
             ON CONFLICT (sender, year, seq) DO UPDATE SET holder = excluded.holder, until = excluded.until \
             RETURNING seq",
        )
        .bind(claim.sender.as_str())
        .bind(i64::from(claim.year))
        .bind(i64::from(claim.seq))
        .bind(claim.holder.as_str())
        .bind(micros(claim.until));
        self.backend.take_next(query).await
    }

    pub(super) async fn letters(&self, referral_ids: &[Uuid]) -> Result<Vec<LetterRecord>, StoreError> {
        if referral_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new(
            "SELECT referral_id, version, number, attachment_id, issued_at, by_member, clerk FROM letters WHERE 1 = 1",
        );
        query.push_one_of("referral_id", referral_ids.iter().map(Uuid::to_string));
        query.push(" ORDER BY referral_id, version");
        let mut letters = Vec::new();
        for mut row in self.fetch(query).await? {
            letters.push(LetterRecord {
                referral_id: parse_uuid(&row.text("referral_id")?)?,
                version: u32::try_from(row.int("version")?).map_err(|_| corrupt("letter version", "out of range"))?,
                number: row.text("number")?,
                attachment_id: parse_uuid(&row.text("attachment_id")?)?,
                issued_at: from_micros(row.int("issued_at")?)?,
                by: {
                    let by = row.text("by_member")?;
                    MemberCode::parse(&by).map_err(|_| corrupt("member", &by))?
                },
                clerk: row.text("clerk")?,
            });
        }
        Ok(letters)
    }

    pub(super) async fn doomed_files(
        &self,
        staged_before: DateTime<Utc>,
        unattached_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        // Oldest first, from the partial index of the files not issued: its condition
        // and a bound on its key (`$4`) stand alone in the query for the planner to use it.
        let query = Query::new(format!(
            "SELECT id FROM attachments WHERE issued = 0 AND uploaded_at < $4 AND {DOOMED} \
             ORDER BY uploaded_at, id LIMIT $3"
        ))
        .bind(micros(staged_before))
        .bind(micros(unattached_before))
        .bind(i64::from(limit))
        .bind(micros(staged_before.max(unattached_before)));
        self.fetch(query).await?.into_iter().map(|mut row| parse_uuid(&row.text("id")?)).collect()
    }
}
