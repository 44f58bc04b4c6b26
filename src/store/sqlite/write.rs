//! The one write path of the SQLite store: everything a commit holds, in its
//! transaction, or nothing.

use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use crate::{
    domain::{deadline::Deadline, lifecycle::Notice},
    store::{rows::documents, rows::micros, Change, Commit, DeadlineUpdate, Delivered, StoreError},
};

type Tx<'a> = Transaction<'a, Sqlite>;

fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Writes every part of `commit`; the caller commits the transaction.
pub async fn commit(tx: &mut Tx<'_>, commit: &Commit) -> Result<Vec<Delivered>, StoreError> {
    if let Some(request) = &commit.request {
        sqlx::query("INSERT INTO requests (member, request_id, fingerprint, response, at) VALUES (?, ?, ?, ?, ?)")
            .bind(request.member.as_str())
            .bind(request.request_id.as_str())
            .bind(&request.fingerprint)
            .bind(&request.response)
            .bind(micros(commit.at))
            .execute(&mut **tx)
            .await
            .map_err(|e| if unique_violation(&e) { StoreError::DuplicateRequest } else { e.into() })?;
    }
    if let Some((case_id, owner)) = &commit.new_case {
        sqlx::query("INSERT INTO cases (id, owner, created_at) VALUES (?, ?, ?)")
            .bind(case_id.to_string())
            .bind(owner.as_str())
            .bind(micros(commit.at))
            .execute(&mut **tx)
            .await?;
    }
    if let Some(s) = &commit.schedule {
        sqlx::query(
            "INSERT INTO calendar_schedules (year, version, schedule, source, loaded_by, loaded_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
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
    let mut delivered = Vec::new();
    for change in &commit.changes {
        write_change(tx, change).await?;
        for deadline in &change.deadlines {
            upsert_deadline(tx, deadline).await?;
        }
        for notice in &change.notices {
            delivered.push(deliver(tx, notice).await?);
        }
    }
    for update in &commit.deadline_updates {
        update_deadline(tx, update).await?;
    }
    for notice in &commit.notices {
        delivered.push(deliver(tx, notice).await?);
    }
    Ok(delivered)
}

async fn write_change(tx: &mut Tx<'_>, change: &Change) -> Result<(), StoreError> {
    let r = &change.referral;
    let (content, conclusion) = documents(r)?;
    match change.expected_version {
        None => {
            sqlx::query(
                "INSERT INTO referrals (id, case_id, kind, state, sender, recipient, urgent, green_channel, \
                 content, submitted_at, updated_at, started_at, conclusion, feedback, closing_reason, version) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(r.id.to_string())
            .bind(r.case_id.to_string())
            .bind(r.kind.code())
            .bind(r.state.code())
            .bind(r.sender.as_str())
            .bind(r.recipient.as_str())
            .bind(r.content.urgent)
            .bind(r.content.green_channel())
            .bind(content)
            .bind(micros(r.submitted_at))
            .bind(micros(r.updated_at))
            .bind(r.started_at.map(micros))
            .bind(conclusion)
            .bind(&r.feedback)
            .bind(&r.closing_reason)
            .bind(i64::from(r.version))
            .execute(&mut **tx)
            .await?;
        }
        Some(expected) => {
            let updated = sqlx::query(
                "UPDATE referrals SET state = ?, updated_at = ?, started_at = ?, conclusion = ?, feedback = ?, \
                 closing_reason = ?, version = ? WHERE id = ? AND version = ?",
            )
            .bind(r.state.code())
            .bind(micros(r.updated_at))
            .bind(r.started_at.map(micros))
            .bind(conclusion)
            .bind(&r.feedback)
            .bind(&r.closing_reason)
            .bind(i64::from(r.version))
            .bind(r.id.to_string())
            .bind(i64::from(expected))
            .execute(&mut **tx)
            .await?;
            if updated.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
        }
    }
    for entry in &change.entries {
        sqlx::query(
            "INSERT INTO referral_events (referral_id, version, kind, actor, at, state, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(entry.referral_id.to_string())
        .bind(i64::from(entry.version))
        .bind(entry.kind.code())
        .bind(entry.actor.as_str())
        .bind(micros(entry.at))
        .bind(entry.state.code())
        .bind(&entry.note)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn upsert_deadline(tx: &mut Tx<'_>, d: &Deadline) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deadlines (referral_id, kind, case_id, responsible, runs_from, due_on, provisional, state, \
         met_on, reminded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (referral_id, kind) DO UPDATE SET responsible = excluded.responsible, \
         runs_from = excluded.runs_from, due_on = excluded.due_on, provisional = excluded.provisional, \
         state = excluded.state, met_on = excluded.met_on, reminded = excluded.reminded",
    )
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Changes a deadline only if it is still as it was read.
async fn update_deadline(tx: &mut Tx<'_>, update: &DeadlineUpdate) -> Result<(), StoreError> {
    let (d, was) = (&update.deadline, &update.was);
    let updated = sqlx::query(
        "UPDATE deadlines SET due_on = ?, provisional = ?, state = ?, met_on = ?, reminded = ? \
         WHERE referral_id = ? AND kind = ? AND due_on = ? AND state = ? AND reminded = ?",
    )
    .bind(d.due.to_string())
    .bind(d.provisional)
    .bind(d.state.code())
    .bind(d.met_on.map(|m| m.to_string()))
    .bind(d.reminded)
    .bind(d.referral_id.to_string())
    .bind(d.kind.code())
    .bind(was.due.to_string())
    .bind(was.state.code())
    .bind(was.reminded)
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

/// Appends a notice to its member's inbox at the next sequence number.
async fn deliver(tx: &mut Tx<'_>, notice: &Notice) -> Result<Delivered, StoreError> {
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO inbox_heads (member, last_seq, acked_seq) VALUES (?, 1, 0) \
         ON CONFLICT (member) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
    )
    .bind(notice.to.as_str())
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO inbox_events (member, seq, event_id, kind, referral_id, case_id, referral_kind, state, \
         actor, at, note, urgent, green_channel, deadline_kind, due_on) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(notice.to.as_str())
    .bind(seq)
    .bind(Uuid::new_v4().to_string())
    .bind(notice.kind.code())
    .bind(notice.referral_id.to_string())
    .bind(notice.case_id.to_string())
    .bind(notice.referral_kind.code())
    .bind(notice.state.code())
    .bind(notice.actor.as_str())
    .bind(micros(notice.at))
    .bind(&notice.note)
    .bind(notice.urgent)
    .bind(notice.green_channel)
    .bind(notice.deadline.map(|(kind, _)| kind.code()))
    .bind(notice.deadline.map(|(_, due)| due.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(Delivered { member: notice.to.clone(), seq: seq as u64 })
}
