//! Requests to extend a deadline (延期) and the office's answers: the statements a
//! commit runs (the same on both backends) and the reads.

use uuid::Uuid;

use super::{statement::Statement, Backend, Query, SqlStore};
use crate::{
    domain::extension::{Extension, ExtensionState},
    store::{
        rows::{corrupt, date, deadline_kind, from_micros, member, micros, uuid},
        Commit, StoreError,
    },
};

/// The statement that records a commit's request, or the office's answer to one still
/// waiting (else the commit fails with `Conflict`: answered meanwhile).
pub fn statements(commit: &Commit) -> Vec<Statement> {
    let Some(e) = &commit.extension else { return Vec::new() };
    let query = if e.state == ExtensionState::Asked {
        Query::new(
            "INSERT INTO extensions (id, referral_id, deadline_kind, member, asked_at, asked_by, days, reason, state, \
             due_before) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id.to_string())
        .bind(e.referral_id.to_string())
        .bind(e.kind.code())
        .bind(e.member.as_str())
        .bind(micros(e.asked_at))
        .bind(e.asked_by.as_str())
        .bind(i64::from(e.days))
        .bind(e.reason.as_str())
        .bind(e.state.code())
        .bind(e.due_before.to_string())
    } else {
        Query::new(
            "UPDATE extensions SET state = $1, decided_at = $2, decided_by = $3, granted_days = $4, answer = $5, \
             due_after = $6 WHERE id = $7 AND state = 'asked'",
        )
        .bind(e.state.code())
        .bind(e.decided_at.map(micros))
        .bind(e.decided_by.as_str())
        .bind(i64::from(e.granted_days))
        .bind(e.answer.as_str())
        .bind(e.due_after.map(|d| d.to_string()).unwrap_or_default())
        .bind(e.id.to_string())
    };
    vec![Statement::one_row(query)]
}

impl<B: Backend> SqlStore<B> {
    /// Requests of `referral_ids` (any when empty), the one `id` when given, only those
    /// waiting when `asked_only`, the oldest first; at most `limit`.
    pub(super) async fn extensions(
        &self,
        (referral_ids, id): (&[Uuid], Option<Uuid>),
        asked_only: bool,
        limit: u32,
    ) -> Result<Vec<Extension>, StoreError> {
        let mut query = Query::new(
            "SELECT id, referral_id, deadline_kind, member, asked_at, asked_by, days, reason, state, decided_at, \
             decided_by, granted_days, answer, due_before, due_after FROM extensions WHERE 1 = 1",
        );
        query.push_one_of("referral_id", referral_ids.iter().map(Uuid::to_string));
        if let Some(id) = id {
            query.push(" AND id = ").push_bind(id.to_string());
        }
        if asked_only {
            query.push(" AND state = 'asked'");
        }
        query.push(" ORDER BY asked_at, id LIMIT ").push_bind(i64::from(limit));
        let count = |raw: i64| u32::try_from(raw).map_err(|_| corrupt("extension days", "out of range"));
        let mut found = Vec::new();
        for mut row in self.fetch(query).await? {
            found.push(Extension {
                id: uuid(&row.text("id")?)?,
                referral_id: uuid(&row.text("referral_id")?)?,
                kind: deadline_kind(&row.text("deadline_kind")?)?,
                member: member(&row.text("member")?)?,
                asked_at: from_micros(row.int("asked_at")?)?,
                asked_by: row.text("asked_by")?,
                days: count(row.int("days")?)?,
                reason: row.text("reason")?,
                state: {
                    let raw = row.text("state")?;
                    ExtensionState::from_code(&raw).ok_or_else(|| corrupt("extension state", &raw))?
                },
                decided_at: row.opt_int("decided_at")?.map(from_micros).transpose()?,
                decided_by: row.text("decided_by")?,
                granted_days: count(row.int("granted_days")?)?,
                answer: row.text("answer")?,
                due_before: date(&row.text("due_before")?)?,
                due_after: match row.text("due_after")? {
                    raw if raw.is_empty() => None,
                    raw => Some(date(&raw)?),
                },
            });
        }
        Ok(found)
    }
}
