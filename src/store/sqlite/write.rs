//! The statements of one commit on the writing connection, with cached prepared
//! statements; the writer thread runs them inside a batch's transaction.

use rusqlite::{ffi, params, Connection, ErrorCode, OptionalExtension, Params};
use uuid::Uuid;

use crate::{
    domain::{
        audit::{chain_hash, hex, parse_hex, AuditRecord, Hash},
        deadline::Deadline,
        lifecycle::Notice,
        referral::Referral,
        MemberCode,
    },
    store::{
        rows::micros,
        sealed::{SealedChange, SealedCommit, SealedContent, SealedReferral},
        sql::{
            audit, extensions,
            materials::{self, Statement},
            notifications, position, supervisions, writes,
        },
        Change, DeadlineUpdate, Delivered, InboxEvent, InboxPosition, KeyCaseChange, StoreError,
    },
};

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Write(error.to_string())
    }
}

/// Whether the statement broke a unique constraint (or a primary key).
fn unique_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _)
        if e.code == ErrorCode::ConstraintViolation
            && matches!(e.extended_code, ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

/// The audit chain's head, as this batch has advanced it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Head {
    pub(super) seq: i64,
    hash: Hash,
}

impl Head {
    pub(super) fn read(tx: &Connection) -> Result<Self, StoreError> {
        let (seq, hash): (i64, String) =
            tx.prepare_cached(writes::SELECT_AUDIT_HEAD)?.query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let hash = parse_hex(&hash).ok_or_else(|| StoreError::Corrupt("audit head hash".into()))?;
        Ok(Self { seq, hash })
    }

    pub(super) fn write(&self, tx: &Connection) -> Result<(), StoreError> {
        execute(tx, writes::SET_AUDIT_HEAD, params![self.seq, hex(&self.hash)])?;
        Ok(())
    }
}

fn execute(tx: &Connection, sql: &str, params: impl Params) -> Result<usize, rusqlite::Error> {
    tx.prepare_cached(sql)?.execute(params)
}

pub(super) fn ack(tx: &Connection, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
    let row = tx
        .prepare_cached(writes::ACK)?
        .query_row(params![i64::try_from(seq).unwrap_or(i64::MAX), member.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(position(row))
}

/// Writes every part of `sealed`.
pub(super) fn write(tx: &Connection, sealed: &SealedCommit, head: &mut Head) -> Result<Vec<Delivered>, StoreError> {
    let commit = &sealed.commit;
    if let (Some(request), Some(response)) = (&commit.request, &sealed.response) {
        execute(
            tx,
            writes::INSERT_REQUEST,
            params![
                request.member.as_str(),
                request.request_id.as_str(),
                request.fingerprint,
                response.as_bytes(),
                micros(commit.at),
                sealed.key
            ],
        )
        .map_err(|e| if unique_violation(&e) { StoreError::DuplicateRequest } else { e.into() })?;
    }
    if let Some((case_id, owner)) = &commit.new_case {
        execute(tx, writes::INSERT_CASE, params![case_id.to_string(), owner.as_str(), micros(commit.at)])?;
    }
    if let Some(s) = &commit.schedule {
        execute(
            tx,
            writes::INSERT_SCHEDULE,
            params![
                i64::from(s.year),
                i64::from(s.version),
                s.schedule,
                s.source,
                s.loaded_by.as_str(),
                micros(s.loaded_at)
            ],
        )
        .map_err(|e| if unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
    }
    if let Some(d) = &commit.directory {
        let (version, change, directory) = writes::directory_columns(d);
        execute(
            tx,
            writes::INSERT_DIRECTORY,
            params![version, micros(d.entry.at), d.entry.actor.as_str(), change, d.entry.description, directory],
        )
        .map_err(|e| if unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
    }
    let mut notices = Vec::new();
    for (change, written) in commit.changes.iter().zip(&sealed.changes) {
        write_change(tx, change, written, &sealed.key)?;
        for deadline in &change.deadlines {
            upsert_deadline(tx, deadline, &change.referral)?;
        }
        notices.extend(change.notices.iter().zip(&written.notices));
    }
    match &commit.key_case {
        Some(KeyCaseChange::Mark(k)) => {
            execute(
                tx,
                writes::MARK_KEY_CASE,
                params![k.case_id.to_string(), k.reason, k.marked_by.as_str(), micros(k.marked_at)],
            )?;
        }
        Some(KeyCaseChange::Unmark(case_id)) => {
            execute(tx, writes::UNMARK_KEY_CASE, params![case_id.to_string()])?;
        }
        None => {}
    }
    for v in &commit.visits {
        let visit = &v.visit;
        execute(
            tx,
            writes::INSERT_VISIT,
            params![
                v.referral_id.to_string(),
                i64::from(v.version),
                visit.visited_on.to_string(),
                visit.method.code(),
                visit.visitor,
                visit.aid_in_place,
                visit.effect.code(),
                visit.another_referral,
                v.by.as_str(),
                micros(v.at)
            ],
        )?;
    }
    for update in &commit.deadline_updates {
        update_deadline(tx, update)?;
    }
    for statement in materials::statements(sealed)
        .into_iter()
        .chain(supervisions::statements(&sealed.commit))
        .chain(extensions::statements(&sealed.commit))
        .chain(audit::statements(&sealed.commit))
        .chain(notifications::statements(&sealed.commit))
    {
        run(tx, &statement)?;
    }
    notices.extend(commit.notices.iter().zip(&sealed.notices));
    let mut delivered = Vec::with_capacity(notices.len());
    for (notice, note) in notices {
        delivered.push(deliver(tx, notice, note, &sealed.key)?);
    }
    for record in &commit.audit {
        append_audit(tx, head, record, commit.at)?;
    }
    Ok(delivered)
}

/// Runs one statement of a commit's materials.
fn run(tx: &Connection, statement: &Statement) -> Result<(), StoreError> {
    let values = statement.query.params.iter().map(super::value);
    let sql = super::numbered(&statement.query.sql);
    let changed = execute(tx, &sql, rusqlite::params_from_iter(values)).map_err(|e| {
        if unique_violation(&e) {
            StoreError::Conflict
        } else {
            e.into()
        }
    })?;
    if statement.one_row && changed != 1 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Appends a record to the audit chain after `head`, and advances it.
fn append_audit(
    tx: &Connection,
    head: &mut Head,
    record: &AuditRecord,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let seq = head.seq + 1;
    let hash = chain_hash(&head.hash, seq as u64, at, record);
    let referrals: Vec<String> = record.referrals.iter().map(Uuid::to_string).collect();
    execute(
        tx,
        writes::INSERT_AUDIT,
        params![
            seq,
            micros(at),
            record.actor.as_str(),
            record.certificate,
            record.action,
            referrals.join(","),
            record.detail,
            hex(&head.hash),
            hex(&hash)
        ],
    )?;
    *head = Head { seq, hash };
    Ok(())
}

/// The sealed columns of a referral, in the order of `SEALED_COLUMNS`.
fn sealed_values(sealed: &SealedContent) -> [&dyn rusqlite::ToSql; 12] {
    let [a, b, c, d, e, f] = &sealed.sealed;
    [
        a,
        b,
        c,
        d,
        e,
        f,
        &sealed.sealed_key,
        &sealed.person_index,
        &sealed.name_index,
        &sealed.conclusion,
        &sealed.feedback,
        &sealed.closing_reason,
    ]
}

fn write_change(tx: &Connection, change: &Change, written: &SealedChange, key: &str) -> Result<(), StoreError> {
    let r = &change.referral;
    let (id, started_at, version) = (r.id.to_string(), r.started_at.map(micros), i64::from(r.version));
    let (kind, state, sender, recipient) = (r.kind.code(), r.state.code(), r.sender.as_str(), r.recipient.as_str());
    match (change.expected_version, &written.referral) {
        (None, SealedReferral::Whole(sealed)) => {
            let (case_id, submitted_at, updated_at) =
                (r.case_id.to_string(), micros(r.submitted_at), micros(r.updated_at));
            let (urgent, green_channel) = (r.content.urgent, r.content.green_channel());
            let mut values: Vec<&dyn rusqlite::ToSql> = vec![
                &id,
                &case_id,
                &kind,
                &state,
                &sender,
                &recipient,
                &urgent,
                &green_channel,
                &sealed.content,
                &submitted_at,
                &updated_at,
                &started_at,
                &version,
            ];
            values.extend(sealed_values(sealed));
            execute(tx, &writes::INSERT_REFERRAL, values.as_slice()).map_err(|e| {
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
            let (updated_at, expected) = (micros(r.updated_at), i64::from(expected));
            let mut values: Vec<&dyn rusqlite::ToSql> =
                vec![&state, &updated_at, &started_at, &version, &sealed.content];
            values.extend(sealed_values(sealed));
            values.extend([&id as &dyn rusqlite::ToSql, &expected]);
            if execute(tx, &writes::UPDATE_REFERRAL, values.as_slice())? != 1 {
                return Err(StoreError::Conflict);
            }
        }
        (Some(expected), SealedReferral::Texts { conclusion, feedback, closing_reason }) => {
            let (updated_at, expected) = (micros(r.updated_at), i64::from(expected));
            let values = params![
                state,
                updated_at,
                started_at,
                version,
                conclusion,
                feedback,
                closing_reason,
                id,
                expected,
                key
            ];
            if execute(tx, writes::UPDATE_REFERRAL_TEXTS, values)? != 1 {
                let at_version = tx
                    .prepare_cached(writes::SELECT_VERSION_KEY)?
                    .query_row(params![id, expected], |_| Ok(()))
                    .optional()?;
                return Err(if at_version.is_some() { StoreError::StaleKey } else { StoreError::Conflict });
            }
        }
    }
    for (entry, note) in change.entries.iter().zip(&written.entries) {
        execute(
            tx,
            writes::INSERT_ENTRY,
            params![
                entry.referral_id.to_string(),
                i64::from(entry.version),
                entry.kind.code(),
                entry.actor.as_str(),
                micros(entry.at),
                entry.state.code(),
                note,
                key,
                entry.clerk
            ],
        )?;
    }
    Ok(())
}

fn upsert_deadline(tx: &Connection, d: &Deadline, referral: &Referral) -> Result<(), StoreError> {
    execute(
        tx,
        writes::UPSERT_DEADLINE,
        params![
            d.referral_id.to_string(),
            d.kind.code(),
            d.case_id.to_string(),
            d.responsible.as_str(),
            d.trigger.to_string(),
            d.due.to_string(),
            d.provisional,
            d.state.code(),
            d.met_on.map(|m| m.to_string()),
            d.reminded,
            referral.kind.code(),
            referral.content.urgent,
            referral.content.green_channel(),
            d.closed_on.map(|c| c.to_string()),
            d.extended,
            d.paused,
            d.paused_on.map(|p| p.to_string()),
            d.pauses,
            d.pauses_allowed
        ],
    )?;
    Ok(())
}

fn update_deadline(tx: &Connection, update: &DeadlineUpdate) -> Result<(), StoreError> {
    let (d, was) = (&update.deadline, &update.was);
    let updated = execute(
        tx,
        writes::UPDATE_DEADLINE,
        params![
            d.due.to_string(),
            d.provisional,
            d.state.code(),
            d.met_on.map(|m| m.to_string()),
            d.reminded,
            d.extended,
            d.paused,
            d.paused_on.map(|p| p.to_string()),
            d.pauses,
            d.pauses_allowed,
            d.referral_id.to_string(),
            d.kind.code(),
            was.due.to_string(),
            was.state.code(),
            was.reminded,
            was.extended,
            was.pauses_allowed
        ],
    )?;
    if updated == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

/// Appends a notice to its member's inbox at the next sequence number.
fn deliver(
    tx: &Connection,
    notice: &Notice,
    (event_id, note): &(Uuid, String),
    key: &str,
) -> Result<Delivered, StoreError> {
    let seq: i64 =
        tx.prepare_cached(writes::ADVANCE_INBOX_HEAD)?.query_row(params![notice.to.as_str()], |r| r.get(0))?;
    execute(
        tx,
        writes::INSERT_INBOX_EVENT,
        params![
            notice.to.as_str(),
            seq,
            event_id.to_string(),
            notice.kind.code(),
            notice.referral_id.to_string(),
            notice.case_id.to_string(),
            notice.referral_kind.code(),
            notice.state.code(),
            notice.actor.as_str(),
            micros(notice.at),
            note,
            notice.urgent,
            notice.green_channel,
            notice.deadline.map(|(kind, _)| kind.code()),
            notice.deadline.map(|(_, due)| due.to_string()),
            key,
            notice.clerk
        ],
    )?;
    let event = InboxEvent { seq: seq as u64, event_id: *event_id, notice: notice.clone() };
    Ok(Delivered { member: notice.to.clone(), seq: seq as u64, event: Some(event) })
}
