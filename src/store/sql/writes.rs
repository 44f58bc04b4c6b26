//! The statements of the write path, as both backends run them: each text once, built
//! once (`$n` parameters, which SQLite reads too).

use std::sync::LazyLock;

use crate::store::sealed::{sealed_assignments, SEALED_COLUMNS};

pub const INSERT_REQUEST: &str = "INSERT INTO requests (member, request_id, fingerprint, response, at, sealed_key) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub const INSERT_CASE: &str = "INSERT INTO cases (id, owner, created_at) VALUES ($1, $2, $3)";

pub const INSERT_SCHEDULE: &str =
    "INSERT INTO calendar_schedules (year, version, schedule, source, loaded_by, loaded_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub const INSERT_DIRECTORY: &str =
    "INSERT INTO directory_versions (version, at, actor, change, description, directory) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub const INSERT_VISIT: &str = "INSERT INTO visits (referral_id, version, visited_on, method, visitor, \
     aid_in_place, effect, another_referral, by_member, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

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

/// The next sequence number of a member's inbox.
pub const ADVANCE_INBOX_HEAD: &str = "INSERT INTO inbox_heads (member, last_seq, acked_seq) VALUES ($1, 1, 0) \
     ON CONFLICT (member) DO UPDATE SET last_seq = inbox_heads.last_seq + 1 RETURNING last_seq";

pub const INSERT_INBOX_EVENT: &str = "INSERT INTO inbox_events (member, seq, event_id, kind, referral_id, case_id, \
     referral_kind, state, actor, at, note, urgent, green_channel, deadline_kind, due_on, sealed_key, clerk) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

/// Raises an acknowledgement (never lowers it), capped at the head.
pub const ACK: &str = "UPDATE inbox_heads SET acked_seq = CASE WHEN $1 > last_seq THEN last_seq \
     WHEN $1 > acked_seq THEN $1 ELSE acked_seq END WHERE member = $2 RETURNING acked_seq, last_seq";
