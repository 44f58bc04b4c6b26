//! The write path on PostgreSQL: everything a commit holds, in its batch's
//! transaction (inside a savepoint of its own), or nothing; the audit records of the
//! batch's commits at its end.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::{
    domain::{
        audit::{chain_hash, hex, parse_hex, AuditRecord},
        deadline::Deadline,
        lifecycle::Notice,
        referral::Referral,
    },
    store::{
        rows::micros,
        sealed::{SealedChange, SealedCommit, SealedReferral},
        sql::{arguments, audit, bind_sealed, extensions, materials, notifications, supervisions, writes},
        Change, DeadlineUpdate, Delivered, InboxEvent, KeyCaseChange, StoreError,
    },
};

type Tx<'a> = Transaction<'a, Postgres>;
fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Writes every part of `commit` but its audit records; the caller appends those and
/// commits the transaction.
pub async fn commit(tx: &mut Tx<'_>, sealed: &SealedCommit) -> Result<Vec<Delivered>, StoreError> {
    let commit = &sealed.commit;
    if let (Some(request), Some(response)) = (&commit.request, &sealed.response) {
        sqlx::query(writes::INSERT_REQUEST)
            .bind(request.member.as_str())
            .bind(request.request_id.as_str())
            .bind(&request.fingerprint)
            .bind(response.as_bytes())
            .bind(micros(commit.at))
            .bind(&sealed.key)
            .execute(&mut **tx)
            .await
            .map_err(|e| if unique_violation(&e) { StoreError::DuplicateRequest } else { e.into() })?;
    }
    if let Some((case_id, owner)) = &commit.new_case {
        sqlx::query(writes::INSERT_CASE)
            .bind(case_id.to_string())
            .bind(owner.as_str())
            .bind(micros(commit.at))
            .execute(&mut **tx)
            .await?;
    }
    if let Some(s) = &commit.schedule {
        sqlx::query(writes::INSERT_SCHEDULE)
            .bind(i64::from(s.year))
            .bind(i64::from(s.version))
            .bind(&s.schedule)
            .bind(&s.source)
            .bind(s.loaded_by.as_str())
            .bind(micros(s.loaded_at))
            .execute(&mut **tx)
            .await
            .map_err(|e| if unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
    }
    if let Some(d) = &commit.directory {
        let (version, change, directory) = writes::directory_columns(d);
        sqlx::query(writes::INSERT_DIRECTORY)
            .bind(version)
            .bind(micros(d.entry.at))
            .bind(d.entry.actor.as_str())
            .bind(change)
            .bind(&d.entry.description)
            .bind(directory)
            .execute(&mut **tx)
            .await
            .map_err(|e| if unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
    }
    let mut notices = Vec::new();
    for (change, written) in commit.changes.iter().zip(&sealed.changes) {
        write_change(tx, change, written, &sealed.key).await?;
        for deadline in &change.deadlines {
            upsert_deadline(tx, deadline, &change.referral).await?;
        }
        notices.extend(change.notices.iter().zip(&written.notices));
    }
    match &commit.key_case {
        Some(KeyCaseChange::Mark(k)) => {
            sqlx::query(writes::MARK_KEY_CASE)
                .bind(k.case_id.to_string())
                .bind(&k.reason)
                .bind(k.marked_by.as_str())
                .bind(micros(k.marked_at))
                .execute(&mut **tx)
                .await?;
        }
        Some(KeyCaseChange::Unmark(case_id)) => {
            sqlx::query(writes::UNMARK_KEY_CASE).bind(case_id.to_string()).execute(&mut **tx).await?;
        }
        None => {}
    }
    for v in &commit.visits {
        let visit = &v.visit;
        sqlx::query(writes::INSERT_VISIT)
            .bind(v.referral_id.to_string())
            .bind(i64::from(v.version))
            .bind(visit.visited_on.to_string())
            .bind(visit.method.code())
            .bind(&visit.visitor)
            .bind(visit.aid_in_place)
            .bind(visit.effect.code())
            .bind(visit.another_referral)
            .bind(v.by.as_str())
            .bind(micros(v.at))
            .execute(&mut **tx)
            .await?;
    }
    for update in &commit.deadline_updates {
        update_deadline(tx, update).await?;
    }
    for statement in materials::statements(sealed)
        .into_iter()
        .chain(supervisions::statements(&sealed.commit))
        .chain(extensions::statements(&sealed.commit))
        .chain(audit::statements(&sealed.commit))
        .chain(notifications::statements(&sealed.commit))
    {
        let arguments = arguments::<Postgres>(&statement.query)?;
        let changed = sqlx::query_with(&statement.query.sql, arguments)
            .execute(&mut **tx)
            .await
            .map_err(|e| if unique_violation(&e) { StoreError::Conflict } else { e.into() })?
            .rows_affected();
        if statement.one_row && changed != 1 {
            return Err(StoreError::Conflict);
        }
    }
    notices.extend(commit.notices.iter().zip(&sealed.notices));
    // Inbox heads are locked in one order, by member code, whatever order
    // the request named its recipients in: two commits to the same
    // members cannot wait on each other (each member's events keep
    // their order; the sort is stable).
    notices.sort_by(|(a, _), (b, _)| a.to.as_str().cmp(b.to.as_str()));
    let mut delivered = Vec::with_capacity(notices.len());
    for (notice, note) in notices {
        delivered.push(deliver(tx, notice, note, &sealed.key).await?);
    }
    Ok(delivered)
}

/// Appends the audit records of a batch's commits to the chain: the head row is locked
/// once, at the end of the batch, so that the entries of concurrent batches (of any
/// hub) are numbered and chained one after the other, and written back once.
pub async fn append_audits(tx: &mut Tx<'_>, records: &[(&AuditRecord, DateTime<Utc>)]) -> Result<(), StoreError> {
    let (mut seq, head): (i64, String) = sqlx::query_as(writes::LOCK_AUDIT_HEAD).fetch_one(&mut **tx).await?;
    let mut prev = parse_hex(&head).ok_or_else(|| StoreError::Corrupt("audit head hash".into()))?;
    for (record, at) in records {
        seq += 1;
        let hash = chain_hash(&prev, seq as u64, *at, record);
        let referrals: Vec<String> = record.referrals.iter().map(Uuid::to_string).collect();
        sqlx::query(writes::INSERT_AUDIT)
            .bind(seq)
            .bind(micros(*at))
            .bind(record.actor.as_str())
            .bind(&record.certificate)
            .bind(&record.action)
            .bind(referrals.join(","))
            .bind(&record.detail)
            .bind(hex(&prev))
            .bind(hex(&hash))
            .execute(&mut **tx)
            .await?;
        prev = hash;
    }
    sqlx::query(writes::SET_AUDIT_HEAD).bind(seq).bind(hex(&prev)).execute(&mut **tx).await?;
    Ok(())
}

/// Locks the inbox heads of `members` (sorted), made if missing, in one order for
/// every batch: two batches naming the same members never wait on each other.
pub async fn lock_inboxes(tx: &mut Tx<'_>, members: &[String]) -> Result<(), StoreError> {
    if members.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO inbox_heads (member, last_seq, acked_seq) SELECT m, 0, 0 FROM UNNEST($1::text[]) AS m \
         ORDER BY m ON CONFLICT (member) DO NOTHING",
    )
    .bind(members)
    .execute(&mut **tx)
    .await?;
    sqlx::query("SELECT member FROM inbox_heads WHERE member = ANY($1) ORDER BY member FOR UPDATE")
        .bind(members)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn write_change(tx: &mut Tx<'_>, change: &Change, written: &SealedChange, key: &str) -> Result<(), StoreError> {
    let r = &change.referral;
    match (change.expected_version, &written.referral) {
        (None, SealedReferral::Whole(sealed)) => {
            let insert = sqlx::query(&writes::INSERT_REFERRAL)
                .bind(r.id.to_string())
                .bind(r.case_id.to_string())
                .bind(r.kind.code())
                .bind(r.state.code())
                .bind(r.sender.as_str())
                .bind(r.recipient.as_str())
                .bind(r.content.urgent)
                .bind(r.content.green_channel())
                .bind(&sealed.content)
                .bind(micros(r.submitted_at))
                .bind(micros(r.updated_at))
                .bind(r.started_at.map(micros))
                .bind(i64::from(r.version));
            bind_sealed(insert, sealed).execute(&mut **tx).await.map_err(|e| {
                if unique_violation(&e) {
                    StoreError::OpenReferral(r.recipient.clone())
                } else {
                    e.into()
                }
            })?;
        }
        (None, SealedReferral::Texts { .. }) => {
            return Err(StoreError::Corrupt("a new referral sealed in part".into()))
        }
        (Some(expected), SealedReferral::Whole(sealed)) => {
            let update = sqlx::query(&writes::UPDATE_REFERRAL)
                .bind(r.state.code())
                .bind(micros(r.updated_at))
                .bind(r.started_at.map(micros))
                .bind(i64::from(r.version))
                .bind(&sealed.content);
            let updated =
                bind_sealed(update, sealed).bind(r.id.to_string()).bind(i64::from(expected)).execute(&mut **tx).await?;
            if updated.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
        }
        (Some(expected), SealedReferral::Texts { conclusion, feedback, closing_reason }) => {
            let updated = sqlx::query(writes::UPDATE_REFERRAL_TEXTS)
                .bind(r.state.code())
                .bind(micros(r.updated_at))
                .bind(r.started_at.map(micros))
                .bind(i64::from(r.version))
                .bind(conclusion)
                .bind(feedback)
                .bind(closing_reason)
                .bind(r.id.to_string())
                .bind(i64::from(expected))
                .bind(key)
                .execute(&mut **tx)
                .await?;
            if updated.rows_affected() != 1 {
                let at_version: Option<(Option<String>,)> = sqlx::query_as(writes::SELECT_VERSION_KEY)
                    .bind(r.id.to_string())
                    .bind(i64::from(expected))
                    .fetch_optional(&mut **tx)
                    .await?;
                return Err(if at_version.is_some() { StoreError::StaleKey } else { StoreError::Conflict });
            }
        }
    }
    for (entry, note) in change.entries.iter().zip(&written.entries) {
        sqlx::query(writes::INSERT_ENTRY)
            .bind(entry.referral_id.to_string())
            .bind(i64::from(entry.version))
            .bind(entry.kind.code())
            .bind(entry.actor.as_str())
            .bind(micros(entry.at))
            .bind(entry.state.code())
            .bind(note)
            .bind(key)
            .bind(&entry.clerk)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn upsert_deadline(tx: &mut Tx<'_>, d: &Deadline, referral: &Referral) -> Result<(), StoreError> {
    sqlx::query(writes::UPSERT_DEADLINE)
        .bind(d.referral_id.to_string())
        .bind(d.kind.code())
        .bind(d.case_id.to_string())
        .bind(d.responsible.as_str())
        .bind(d.trigger.to_string())
        .bind(d.due.to_string())
        .bind(d.provisional)
        .bind(d.state.code())
        .bind(d.met_on.map(|m| m.to_string()))
        .bind(d.reminded)
        .bind(referral.kind.code())
        .bind(referral.content.urgent)
        .bind(referral.content.green_channel())
        .bind(d.closed_on.map(|c| c.to_string()))
        .bind(i64::from(d.extended))
        .bind(i64::from(d.paused))
        .bind(d.paused_on.map(|p| p.to_string()))
        .bind(i64::from(d.pauses))
        .bind(i64::from(d.pauses_allowed))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Changes a deadline only if it is still as it was read.
async fn update_deadline(tx: &mut Tx<'_>, update: &DeadlineUpdate) -> Result<(), StoreError> {
    let (d, was) = (&update.deadline, &update.was);
    let updated = sqlx::query(writes::UPDATE_DEADLINE)
        .bind(d.due.to_string())
        .bind(d.provisional)
        .bind(d.state.code())
        .bind(d.met_on.map(|m| m.to_string()))
        .bind(d.reminded)
        .bind(i64::from(d.extended))
        .bind(i64::from(d.paused))
        .bind(d.paused_on.map(|p| p.to_string()))
        .bind(i64::from(d.pauses))
        .bind(i64::from(d.pauses_allowed))
        .bind(d.referral_id.to_string())
        .bind(d.kind.code())
        .bind(was.due.to_string())
        .bind(was.state.code())
        .bind(was.reminded)
        .bind(i64::from(was.extended))
        .bind(i64::from(was.pauses_allowed))
        .execute(&mut **tx)
        .await?;
    if updated.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

/// Appends a notice to its member's inbox at the next sequence number.
async fn deliver(
    tx: &mut Tx<'_>,
    notice: &Notice,
    (event_id, note): &(Uuid, String),
    key: &str,
) -> Result<Delivered, StoreError> {
    let seq: i64 = sqlx::query_scalar(writes::ADVANCE_INBOX_HEAD).bind(notice.to.as_str()).fetch_one(&mut **tx).await?;
    sqlx::query(writes::INSERT_INBOX_EVENT)
        .bind(notice.to.as_str())
        .bind(seq)
        .bind(event_id.to_string())
        .bind(notice.kind.code())
        .bind(notice.referral_id.to_string())
        .bind(notice.case_id.to_string())
        .bind(notice.referral_kind.code())
        .bind(notice.state.code())
        .bind(notice.actor.as_str())
        .bind(micros(notice.at))
        .bind(note)
        .bind(notice.urgent)
        .bind(notice.green_channel)
        .bind(notice.deadline.map(|(kind, _)| kind.code()))
        .bind(notice.deadline.map(|(_, due)| due.to_string()))
        .bind(key)
        .bind(&notice.clerk)
        .execute(&mut **tx)
        .await?;
    let event = InboxEvent { seq: seq as u64, event_id: *event_id, notice: notice.clone() };
    Ok(Delivered { member: notice.to.clone(), seq: seq as u64, event: Some(event) })
}
