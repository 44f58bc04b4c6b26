//! The write path, as both backends run it: each statement's text once (`$n`
//! parameters, which SQLite reads too), and [`statements`], which turns a sealed
//! commit into the statements that write it, in order, with what their outcomes mean.
//! A backend runs them in its transaction and adds only what truly differs: where
//! the audit chain's head is read and written (per batch on both, but locked on
//! PostgreSQL, where other hubs write too).

use std::sync::LazyLock;

use uuid::Uuid;

use super::{
    audit, extensions, materials, notifications,
    statement::{NotOne, Statement, Unique},
    supervisions, visits, Query, Value,
};
use crate::{
    domain::{
        audit::{chain_hash, AuditRecord, Hash},
        deadline::Deadline,
        hex,
        referral::Referral,
    },
    store::{
        rows::micros,
        sealed::{sealed_assignments, SealedChange, SealedCommit, SealedContent, SealedReferral, SEALED_COLUMNS},
        Change, DeadlineUpdate, KeyCaseChange,
    },
};

pub const INSERT_REQUEST: &str = "INSERT INTO requests (member, request_id, fingerprint, response, at, sealed_key) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub const INSERT_CASE: &str = "INSERT INTO cases (id, owner, created_at) VALUES ($1, $2, $3)";

pub const INSERT_SCHEDULE: &str =
    "INSERT INTO calendar_schedules (year, version, schedule, source, loaded_by, loaded_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub const INSERT_DIRECTORY: &str =
    "INSERT INTO directory_versions (version, at, actor, change, description, directory) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub const MARK_KEY_CASE: &str = "INSERT INTO key_cases (case_id, reason, marked_by, marked_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (case_id) DO UPDATE SET reason = excluded.reason, \
     marked_by = excluded.marked_by, marked_at = excluded.marked_at";

pub const UNMARK_KEY_CASE: &str = "DELETE FROM key_cases WHERE case_id = $1";

/// The columns of a directory version after its actor: its number, the change and the
/// directory after it, as JSON.
pub fn directory_columns(d: &crate::store::DirectoryRecord) -> (i64, String, String) {
    let change = serde_json::to_string(&d.entry.change).unwrap_or_else(|e| unreachable!("a change serializes: {e}"));
    (i64::try_from(d.entry.version).unwrap_or(i64::MAX), change, d.directory.to_json())
}

/// The audit chain's head, read once per batch and carried through it.
pub const SELECT_AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";

/// The same, locked until the batch commits (PostgreSQL, where other hubs write too).
pub const LOCK_AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";

/// The audit chain's head after a batch, written once.
pub const SET_AUDIT_HEAD: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";

pub const INSERT_AUDIT: &str =
    "INSERT INTO audit_log (seq, at, actor, certificate, action, referrals, detail, prev_hash, \
     hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// A new referral: 13 plain columns, then the sealed ones.
pub static INSERT_REFERRAL: LazyLock<String> = LazyLock::new(|| {
    let placeholders: Vec<String> = (1..=13 + SEALED_COLUMNS.len()).map(|n| format!("${n}")).collect();
    format!(
        "INSERT INTO referrals (id, case_id, kind, state, sender, recipient, urgent, green_channel, content, \
         submitted_at, updated_at, started_at, version, {}) VALUES ({})",
        SEALED_COLUMNS.join(", "),
        placeholders.join(", "),
    )
});

/// A transition: everything sealed is written again, under one key, so that the row's
/// `sealed_key` names the key of all its fields; only if the row is still at the
/// version read.
pub static UPDATE_REFERRAL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE referrals SET state = $1, updated_at = $2, started_at = $3, version = $4, content = $5, {} \
         WHERE id = ${} AND version = ${}",
        sealed_assignments(6),
        6 + SEALED_COLUMNS.len(),
        7 + SEALED_COLUMNS.len(),
    )
});

/// A transition of a row sealed under the active key (`$10`): only what an act
/// changes, only if the row is still at the version read.
pub const UPDATE_REFERRAL_TEXTS: &str = "UPDATE referrals SET state = $1, updated_at = $2, started_at = $3, \
     version = $4, conclusion = $5, feedback = $6, closing_reason = $7 \
     WHERE id = $8 AND version = $9 AND sealed_key = $10";

/// After a transition changed nothing: whether the row is at the version read (then
/// under another key) or not (a lost race).
pub const SELECT_VERSION_KEY: &str = "SELECT sealed_key FROM referrals WHERE id = $1 AND version = $2";

pub const INSERT_ENTRY: &str = "INSERT INTO referral_events (referral_id, version, kind, actor, at, state, note, \
     sealed_key, clerk) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

pub const UPSERT_DEADLINE: &str = "INSERT INTO deadlines (referral_id, kind, case_id, responsible, runs_from, due_on, \
     provisional, state, met_on, reminded, referral_kind, urgent, green_channel, closed_on, extended, paused, \
     paused_on, pauses, pauses_allowed) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
     ON CONFLICT (referral_id, kind) DO UPDATE SET responsible = excluded.responsible, \
     runs_from = excluded.runs_from, due_on = excluded.due_on, provisional = excluded.provisional, \
     state = excluded.state, met_on = excluded.met_on, reminded = excluded.reminded, closed_on = excluded.closed_on, \
     extended = excluded.extended, paused = excluded.paused, paused_on = excluded.paused_on, \
     pauses = excluded.pauses, pauses_allowed = excluded.pauses_allowed";

/// Changes a deadline only if it is still as it was read.
pub const UPDATE_DEADLINE: &str = "UPDATE deadlines SET due_on = $1, provisional = $2, state = $3, met_on = $4, \
     reminded = $5, extended = $6, paused = $7, paused_on = $8, pauses = $9, pauses_allowed = $10 \
     WHERE referral_id = $11 AND kind = $12 AND due_on = $13 AND state = $14 AND reminded = $15 \
     AND extended = $16 AND pauses_allowed = $17 AND closed_on IS NULL";

/// Moves a member's inbox head to the next sequence number.
pub const ADVANCE_INBOX_HEAD: &str = "INSERT INTO inbox_heads (member, last_seq, acked_seq) VALUES ($1, 1, 0) \
     ON CONFLICT (member) DO UPDATE SET last_seq = inbox_heads.last_seq + 1";

/// The columns of an inbox event after its member and number, which the parameters
/// `$2…$16` of [`INSERT_INBOX_EVENT`] fill.
pub const INBOX_EVENT_FIELDS: &str = "event_id, kind, referral_id, case_id, referral_kind, state, actor, at, note, \
     urgent, green_channel, deadline_kind, due_on, sealed_key, clerk";

/// Appends an event (`$1` its member) at the member's inbox head, and returns its
/// sequence number.
pub static INSERT_INBOX_EVENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO inbox_events (member, seq, {INBOX_EVENT_FIELDS}) \
         SELECT $1, last_seq, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 \
         FROM inbox_heads WHERE member = $1 RETURNING seq"
    )
});

/// Raises an acknowledgement (never lowers it), capped at the head.
pub const ACK: &str = "UPDATE inbox_heads SET acked_seq = CASE WHEN $1 > last_seq THEN last_seq \
     WHEN $1 > acked_seq THEN $1 ELSE acked_seq END WHERE member = $2 RETURNING acked_seq, last_seq";

/// Whether processes other than the one writing may write the store too: only then
/// does a commit drop the claims on the document numbers it writes, since a store one
/// process writes never holds a claim (see [`super::Backend::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writers {
    One,
    Many,
}

/// The statements that write `sealed` to a store written by `writers`, in order, but
/// its audit records (which the backend chains after the head it holds, with
/// [`audit_entry`]).
pub fn statements(sealed: &SealedCommit, writers: Writers) -> Vec<Statement> {
    let commit = &sealed.commit;
    let mut out = Vec::new();
    if let (Some(request), Some(response)) = (&commit.request, &sealed.response) {
        let query = Query::new(INSERT_REQUEST)
            .bind(request.member.as_str())
            .bind(request.request_id.as_str())
            .bind(request.fingerprint.clone())
            .bind(response.as_bytes().to_vec())
            .bind(micros(commit.at))
            .bind(sealed.key.as_str());
        out.push(Statement::row(query).on_unique(Unique::DuplicateRequest));
    }
    if let Some((case_id, owner)) = &commit.new_case {
        out.push(Statement::row(
            Query::new(INSERT_CASE).bind(case_id.to_string()).bind(owner.as_str()).bind(micros(commit.at)),
        ));
    }
    if let Some(s) = &commit.schedule {
        out.push(Statement::any(
            Query::new(INSERT_SCHEDULE)
                .bind(i64::from(s.year))
                .bind(i64::from(s.version))
                .bind(s.schedule.as_str())
                .bind(s.source.as_str())
                .bind(s.loaded_by.as_str())
                .bind(micros(s.loaded_at)),
        ));
    }
    if let Some(d) = &commit.directory {
        let (version, change, directory) = directory_columns(d);
        out.push(Statement::any(
            Query::new(INSERT_DIRECTORY)
                .bind(version)
                .bind(micros(d.entry.at))
                .bind(d.entry.actor.as_str())
                .bind(change)
                .bind(d.entry.description.as_str())
                .bind(directory),
        ));
    }
    let mut notices = Vec::new();
    for (change, written) in commit.changes.iter().zip(&sealed.changes) {
        referral(&mut out, change, written, &sealed.key);
        out.extend(change.deadlines.iter().map(|d| upsert_deadline(d, &change.referral)));
        notices.extend(change.notices.iter().zip(&written.notices));
    }
    match &commit.key_case {
        Some(KeyCaseChange::Mark(k)) => out.push(Statement::any(
            Query::new(MARK_KEY_CASE)
                .bind(k.case_id.to_string())
                .bind(k.reason.as_str())
                .bind(k.marked_by.as_str())
                .bind(micros(k.marked_at)),
        )),
        Some(KeyCaseChange::Unmark(case_id)) => {
            out.push(Statement::any(Query::new(UNMARK_KEY_CASE).bind(case_id.to_string())))
        }
        None => {}
    }
    out.extend(commit.visits.iter().map(visits::insert));
    out.extend(commit.deadline_updates.iter().map(update_deadline));
    out.extend(materials::statements(sealed, writers));
    out.extend(supervisions::statements(commit, writers));
    out.extend(extensions::statements(commit));
    out.extend(audit::statements(commit));
    out.extend(notifications::statements(commit));
    notices.extend(commit.notices.iter().zip(&sealed.notices));
    // Inbox heads are taken (by each event's statement, see `Statement::advance`) in
    // one order, by member code, whatever order the request named its recipients in:
    // two commits to the same members cannot wait on each other (each member's events
    // keep their order; the sort is stable).
    notices.sort_by(|(a, _), (b, _)| a.to.as_str().cmp(b.to.as_str()));
    for (notice, (event_id, note)) in notices {
        let query = Query::new(INSERT_INBOX_EVENT.as_str())
            .bind(notice.to.as_str())
            .bind(event_id.to_string())
            .bind(notice.kind.code())
            .bind(notice.referral_id.to_string())
            .bind(notice.case_id.to_string())
            .bind(notice.referral_kind.code())
            .bind(notice.state.code())
            .bind(notice.actor.as_str())
            .bind(micros(notice.at))
            .bind(note.as_str())
            .bind(notice.urgent)
            .bind(notice.green_channel)
            .bind(notice.deadline.map(|(kind, _)| kind.code()))
            .bind(notice.deadline.map(|(_, due)| due.to_string()))
            .bind(sealed.key.as_str())
            .bind(notice.clerk.as_str());
        out.push(Statement::delivering(query, *event_id, notice.clone()));
    }
    out
}

/// The sealed columns of a referral, in the order of `SEALED_COLUMNS`.
pub fn sealed_values(sealed: &SealedContent) -> impl Iterator<Item = Value> + '_ {
    sealed
        .sealed
        .iter()
        .chain([&sealed.sealed_key, &sealed.person_index, &sealed.name_index])
        .map(Value::from)
        .chain([&sealed.conclusion, &sealed.feedback, &sealed.closing_reason].into_iter().cloned().map(Value::from))
}

/// A change's referral (inserted, or moved on from the version read) and its new
/// history entries.
fn referral(out: &mut Vec<Statement>, change: &Change, written: &SealedChange, key: &str) {
    let r = &change.referral;
    let (id, started_at, version) = (r.id.to_string(), r.started_at.map(micros), i64::from(r.version));
    match (change.expected_version, &written.referral) {
        (None, SealedReferral::Whole(sealed)) => {
            let mut query = Query::new(INSERT_REFERRAL.as_str())
                .bind(id)
                .bind(r.case_id.to_string())
                .bind(r.kind.code())
                .bind(r.state.code())
                .bind(r.sender.as_str())
                .bind(r.recipient.as_str())
                .bind(r.content.urgent)
                .bind(r.content.green_channel())
                .bind(sealed.content.as_str())
                .bind(micros(r.submitted_at))
                .bind(micros(r.updated_at))
                .bind(started_at)
                .bind(version);
            query.params.extend(sealed_values(sealed));
            out.push(Statement::row(query).on_unique(Unique::OpenReferral(r.recipient.clone())));
        }
        // A new referral is sealed whole; `SealedCommit` makes no other.
        (None, SealedReferral::Texts { .. }) => unreachable!("a new referral sealed in part"),
        (Some(expected), SealedReferral::Whole(sealed)) => {
            let mut query = Query::new(UPDATE_REFERRAL.as_str())
                .bind(r.state.code())
                .bind(micros(r.updated_at))
                .bind(started_at)
                .bind(version)
                .bind(sealed.content.as_str());
            query.params.extend(sealed_values(sealed));
            out.push(Statement::one_row(query.bind(id).bind(i64::from(expected))));
        }
        (Some(expected), SealedReferral::Texts { conclusion, feedback, closing_reason }) => {
            let query = Query::new(UPDATE_REFERRAL_TEXTS)
                .bind(r.state.code())
                .bind(micros(r.updated_at))
                .bind(started_at)
                .bind(version)
                .bind(conclusion.clone())
                .bind(feedback.clone())
                .bind(closing_reason.clone())
                .bind(id.as_str())
                .bind(i64::from(expected))
                .bind(key);
            let at_version = Query::new(SELECT_VERSION_KEY).bind(id).bind(i64::from(expected));
            out.push(Statement { one_row: Some(NotOne::ConflictUnlessFound(at_version)), ..Statement::any(query) });
        }
    }
    for (entry, note) in change.entries.iter().zip(&written.entries) {
        out.push(Statement::row(
            Query::new(INSERT_ENTRY)
                .bind(entry.referral_id.to_string())
                .bind(i64::from(entry.version))
                .bind(entry.kind.code())
                .bind(entry.actor.as_str())
                .bind(micros(entry.at))
                .bind(entry.state.code())
                .bind(note.as_str())
                .bind(key)
                .bind(entry.clerk.as_str()),
        ));
    }
}

fn upsert_deadline(d: &Deadline, referral: &Referral) -> Statement {
    Statement::row(
        Query::new(UPSERT_DEADLINE)
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
            .bind(i64::from(d.pauses_allowed)),
    )
}

/// Changes a deadline only if it is still as it was read.
fn update_deadline(update: &DeadlineUpdate) -> Statement {
    let (d, was) = (&update.deadline, &update.was);
    Statement::one_row(
        Query::new(UPDATE_DEADLINE)
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
            .bind(i64::from(was.pauses_allowed)),
    )
}

/// The audit chain's head: the last entry's number and hash.
#[derive(Debug, Clone, Copy)]
pub struct Head {
    pub seq: i64,
    pub hash: Hash,
}

impl Head {
    /// Chains `record`, made at `at`, after the head, which moves to it: the statement
    /// that writes the entry.
    pub fn append(&mut self, record: &AuditRecord, at: chrono::DateTime<chrono::Utc>) -> Query {
        let seq = self.seq + 1;
        let hash = chain_hash(&self.hash, seq as u64, at, record);
        let referrals: Vec<String> = record.referrals.iter().map(Uuid::to_string).collect();
        let query = Query::new(INSERT_AUDIT)
            .bind(seq)
            .bind(micros(at))
            .bind(record.actor.as_str())
            .bind(record.certificate.as_str())
            .bind(record.action.as_str())
            .bind(referrals.join(","))
            .bind(record.detail.as_str())
            .bind(hex::lower(&self.hash))
            .bind(hex::lower(&hash));
        *self = Head { seq, hash };
        query
    }

    /// The statement that writes the head back.
    pub fn write(&self) -> Query {
        Query::new(SET_AUDIT_HEAD).bind(self.seq).bind(hex::lower(&self.hash))
    }
}

/// The head from its row (`seq`, `hash`).
pub fn head(seq: i64, hash: &str) -> Result<Head, crate::store::StoreError> {
    let hash = crate::domain::audit::parse_hex(hash)
        .ok_or_else(|| crate::store::StoreError::Corrupt("audit head hash".into()))?;
    Ok(Head { seq, hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::MemberCode,
        store::{Commit, Numbering},
    };

    /// A commit numbering one letter, as a submit's, sealed (it holds no person).
    fn numbered() -> SealedCommit {
        let numbering = Numbering {
            referral_id: Uuid::nil(),
            sender: MemberCode::parse("jcy").unwrap(),
            year: 2026,
            seq: 12,
            prefix: "晋检八部社救移".into(),
        };
        SealedCommit {
            commit: Commit { numbering: vec![numbering], ..Commit::default() },
            key: "k1".into(),
            changes: Vec::new(),
            notices: Vec::new(),
            response: None,
            upload_names: Vec::new(),
            staging_name: None,
        }
    }

    fn touching(statements: &[Statement], table: &str) -> usize {
        statements.iter().filter(|s| s.query.sql.contains(table)).count()
    }

    #[test]
    fn a_number_written_drops_its_claim_only_where_other_processes_write_too() {
        let one = statements(&numbered(), Writers::One);
        let many = statements(&numbered(), Writers::Many);
        assert_eq!((touching(&one, "letter_numbers"), touching(&many, "letter_numbers")), (1, 1));
        assert_eq!(touching(&one, "letter_number_claims"), 0);
        assert_eq!(touching(&many, "letter_number_claims"), 1);
        assert_eq!(many.len(), one.len() + 1);
    }
}
