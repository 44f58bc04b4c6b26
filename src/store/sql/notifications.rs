//! Messages away from the workbench: the inbox events not yet routed into messages,
//! the queue of messages and their attempts: the statements a commit runs (the same on
//! both backends) and the reads.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{int, statement::Statement, Backend, Cells, Query, SqlStore};
use crate::{
    domain::{
        deadline::DeadlineKind,
        lifecycle::NoticeKind,
        notification::{Channel, Event},
    },
    store::{
        rows::{corrupt, date, deadline_kind, from_micros, kind, member, micros, state, uuid},
        Commit, Notification, Outcome, Sending, StoreError, Untold,
    },
};

/// The statements that queue a commit's messages, move its cursors, take messages for
/// sending and record attempts.
pub fn statements(commit: &Commit) -> Vec<Statement> {
    let mut out = Vec::new();
    for n in &commit.notifications {
        out.push(Statement::row(
            Query::new(
                "INSERT INTO notifications (id, member, event, channel, address, subject, body, referral_id, \
                 deadline_kind, created_at, next_at, attempts, state, last_error) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING",
            )
            .bind(n.id.as_str())
            .bind(n.member.as_str())
            .bind(n.event.code())
            .bind(n.channel.code())
            .bind(n.address.as_str())
            .bind(n.subject.as_str())
            .bind(n.body.as_str())
            .bind(n.referral_id.to_string())
            .bind(n.while_open.map(|k| k.code().to_owned()))
            .bind(micros(n.created_at))
            .bind(micros(n.next_at))
            .bind(i64::from(n.attempts))
            .bind(n.state.code())
            .bind(n.last_error.as_str()),
        ));
    }
    for (member, seq) in &commit.told {
        out.push(Statement::any(
            Query::new(
                "INSERT INTO notify_cursors (member, seq) VALUES ($1, $2) ON CONFLICT (member) \
                 DO UPDATE SET seq = excluded.seq WHERE notify_cursors.seq < excluded.seq",
            )
            .bind(member.as_str())
            .bind(int(*seq)),
        ));
    }
    for c in &commit.claims {
        out.push(Statement::one_row(
            Query::new("UPDATE notifications SET next_at = $1 WHERE id = $2 AND state = 'pending' AND next_at = $3")
                .bind(micros(c.until))
                .bind(c.id.as_str())
                .bind(micros(c.was)),
        ));
    }
    for a in &commit.attempts {
        let (state, next_at, error) = match &a.outcome {
            Outcome::Sent => (Sending::Sent, None, ""),
            Outcome::Retry { next_at, error } => (Sending::Pending, Some(micros(*next_at)), error.as_str()),
            Outcome::Failed { error } => (Sending::Failed, None, error.as_str()),
            Outcome::Void => (Sending::Void, None, ""),
        };
        let done = (state != Sending::Pending).then(|| micros(a.at));
        out.push(Statement::any(
            Query::new(
                "UPDATE notifications SET state = $1, attempts = $2, next_at = COALESCE($3, next_at), \
                 last_error = $4, done_at = $5 WHERE id = $6",
            )
            .bind(state.code())
            .bind(i64::from(a.attempt))
            .bind(next_at)
            .bind(error)
            .bind(done)
            .bind(a.id.as_str()),
        ));
        if a.outcome != Outcome::Void {
            out.push(Statement::any(
                Query::new(
                    "INSERT INTO notification_attempts (notification_id, attempt, at, ok, error) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (notification_id, attempt) DO NOTHING",
                )
                .bind(a.id.as_str())
                .bind(i64::from(a.attempt))
                .bind(micros(a.at))
                .bind(a.outcome == Outcome::Sent)
                .bind(error),
            ));
        }
    }
    out
}

const NOTIFICATION_COLUMNS: &str = "id, member, event, channel, address, subject, body, referral_id, \
     deadline_kind, created_at, next_at, attempts, state, last_error";

fn notification(row: &mut Cells) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: row.text("id")?,
        member: member(&row.text("member")?)?,
        event: {
            let raw = row.text("event")?;
            Event::from_code(&raw).ok_or_else(|| corrupt("notification event", &raw))?
        },
        channel: {
            let raw = row.text("channel")?;
            Channel::from_code(&raw).ok_or_else(|| corrupt("notification channel", &raw))?
        },
        address: row.text("address")?,
        subject: row.text("subject")?,
        body: row.text("body")?,
        referral_id: uuid(&row.text("referral_id")?)?,
        while_open: row.opt_text("deadline_kind")?.map(|raw| deadline_kind(&raw)).transpose()?,
        created_at: from_micros(row.int("created_at")?)?,
        next_at: from_micros(row.int("next_at")?)?,
        attempts: u32::try_from(row.int("attempts")?).map_err(|_| corrupt("attempts", "out of range"))?,
        state: {
            let raw = row.text("state")?;
            Sending::from_code(&raw).ok_or_else(|| corrupt("notification state", &raw))?
        },
        last_error: row.text("last_error")?,
    })
}

/// A deadline as `kind|due_on`, as the subqueries below give it.
fn owed(raw: Option<String>) -> Result<Option<(DeadlineKind, chrono::NaiveDate)>, StoreError> {
    raw.map(|raw| {
        let (kind, due) = raw.split_once('|').ok_or_else(|| corrupt("owed deadline", &raw))?;
        Ok((deadline_kind(kind)?, date(due)?))
    })
    .transpose()
}

impl<B: Backend> SqlStore<B> {
    pub(super) async fn untold(&self, limit: u32) -> Result<Vec<Untold>, StoreError> {
        // Few rows (one per member); each member's events are then read by its key.
        let behind = self
            .fetch(Query::new(
                "SELECT h.member, COALESCE(c.seq, 0) AS told FROM inbox_heads h \
                 LEFT JOIN notify_cursors c ON c.member = h.member WHERE h.last_seq > COALESCE(c.seq, 0) \
                 ORDER BY h.member",
            ))
            .await?;
        let mut untold = Vec::new();
        for mut row in behind {
            let (member_code, after) = (row.text("member")?, row.int("told")?);
            let query = Query::new(
                "SELECT e.member, e.seq, e.event_id, e.kind, e.state, e.referral_id, e.referral_kind, e.actor, \
                 e.urgent, e.deadline_kind, e.due_on, \
                 (SELECT d.responsible FROM deadlines d WHERE d.referral_id = e.referral_id \
                  AND d.kind = e.deadline_kind) AS responsible, \
                 (SELECT d.kind || '|' || d.due_on FROM deadlines d WHERE d.referral_id = e.referral_id \
                  AND d.responsible = e.member AND d.met_on IS NULL AND d.closed_on IS NULL \
                  AND d.state <> 'cancelled' ORDER BY d.due_on LIMIT 1) AS owed \
                 FROM inbox_events e WHERE e.member = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3",
            )
            .bind(member_code.as_str())
            .bind(after)
            .bind(i64::from(limit));
            for mut e in self.fetch(query).await? {
                untold.push(Untold {
                    member: member(&e.text("member")?)?,
                    seq: u64::try_from(e.int("seq")?).map_err(|_| corrupt("seq", "negative"))?,
                    event_id: uuid(&e.text("event_id")?)?,
                    kind: {
                        let raw = e.text("kind")?;
                        NoticeKind::from_code(&raw).ok_or_else(|| corrupt("notice kind", &raw))?
                    },
                    state: state(&e.text("state")?)?,
                    referral_id: uuid(&e.text("referral_id")?)?,
                    referral_kind: kind(&e.text("referral_kind")?)?,
                    actor: member(&e.text("actor")?)?,
                    urgent: e.bool("urgent")?,
                    deadline: match (e.opt_text("deadline_kind")?, e.opt_text("due_on")?) {
                        (Some(kind), Some(due)) => Some((deadline_kind(&kind)?, date(&due)?)),
                        _ => None,
                    },
                    responsible: e.opt_text("responsible")?.map(|raw| member(&raw)).transpose()?,
                    owed: owed(e.opt_text("owed")?)?,
                });
            }
        }
        Ok(untold)
    }

    pub(super) async fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let query = Query::new(format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE state = 'pending' AND next_at <= $1 \
             ORDER BY next_at LIMIT $2"
        ))
        .bind(micros(now))
        .bind(i64::from(limit));
        self.fetch(query).await?.iter_mut().map(notification).collect()
    }

    pub(super) async fn notifications(&self, failed: bool, limit: u32) -> Result<(Vec<Notification>, u64), StoreError> {
        let only = if failed { "WHERE state = 'failed' " } else { "" };
        let query = Query::new(format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications {only}ORDER BY created_at DESC, id LIMIT $1"
        ))
        .bind(i64::from(limit));
        let listed = self.fetch(query).await?.iter_mut().map(notification).collect::<Result<Vec<_>, _>>()?;
        // Every failed one listed: the count is the list's, read in the same statement
        // (a second read could count one that failed after the list was read).
        if failed && listed.len() < limit as usize {
            let count = listed.len() as u64;
            return Ok((listed, count));
        }
        let count = self.fetch(Query::new("SELECT COUNT(*) AS n FROM notifications WHERE state = 'failed'")).await?;
        let failed = match count.into_iter().next() {
            Some(mut row) => u64::try_from(row.int("n")?).unwrap_or(0),
            None => 0,
        };
        Ok((listed, failed))
    }

    pub(super) async fn deadline_open(&self, referral_id: Uuid, kind: DeadlineKind) -> Result<bool, StoreError> {
        let query = Query::new(
            "SELECT COUNT(*) AS n FROM deadlines WHERE referral_id = $1 AND kind = $2 AND state = 'open' \
             AND met_on IS NULL AND closed_on IS NULL",
        )
        .bind(referral_id.to_string())
        .bind(kind.code());
        let rows = self.fetch(query).await?;
        Ok(match rows.into_iter().next() {
            Some(mut row) => row.int("n")? > 0,
            None => false,
        })
    }
}
