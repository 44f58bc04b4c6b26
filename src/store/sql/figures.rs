//! Counting for the figures of the joint meeting: sums over the counts by day that the
//! database keeps as it writes (`0010_figures`: triggers in the transaction of each
//! write), and distinct persons through the blind index; nothing is opened, no person
//! is read.

use chrono::NaiveDate;
use serde::de::DeserializeOwned;

use super::{Backend, Query, SqlStore};
use crate::{
    domain::{
        deadline::{DeadlineKind, DeadlineState},
        extension::ExtensionState,
        figures::{Concluded, Counts, Ended, Flow, Granted, Overdue, Took, Visited},
        period::Period,
        referral::ReferralKind,
        vocabulary::{AidKind, Outcome, VisitEffect},
        MemberCode,
    },
    store::{rows::micros, StoreError},
};

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {raw:?}"))
}

fn member(raw: String) -> Result<MemberCode, StoreError> {
    MemberCode::parse(&raw).map_err(|_| corrupt("member", &raw))
}

fn date(raw: String) -> Result<NaiveDate, StoreError> {
    raw.parse().map_err(|_| corrupt("date", &raw))
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// A JSON array of terms as the database keeps it.
fn terms<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt("terms", text))
}

fn deadline_kind(raw: String) -> Result<DeadlineKind, StoreError> {
    DeadlineKind::from_code(&raw).ok_or_else(|| corrupt("deadline kind", &raw))
}

/// Rows of a table of counts by day (`column`) within `period`.
fn by_day(select: &str, column: &str, period: &Period) -> Query {
    let mut q = Query::new(select.to_owned());
    q.push(&format!(" WHERE {column} >= "))
        .push_bind(period.from.to_string())
        .push(&format!(" AND {column} <= "))
        .push_bind(period.to.to_string());
    q
}

/// Only what `party` sent or received.
fn party_of(q: &mut Query, party: Option<&MemberCode>) {
    if let Some(m) = party {
        q.push(" AND (sender = ").push_bind(m.as_str()).push(" OR recipient = ").push_bind(m.as_str()).push(")");
    }
}

/// Only what `responsible` answers for.
fn responsible(q: &mut Query, responsible: Option<&MemberCode>) {
    if let Some(m) = responsible {
        q.push(" AND responsible = ").push_bind(m.as_str());
    }
}

/// Above this many referrals in a period, distinct persons are counted by reading the
/// blind index in its order (no sort, however many); below, by the days submitted.
const MANY_REFERRALS: u64 = 20_000;

impl<B: Backend> SqlStore<B> {
    #[tracing::instrument(skip_all)]
    pub(super) async fn figure_counts(
        &self,
        party: Option<&MemberCode>,
        period: &Period,
        today: NaiveDate,
    ) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        let mut q = by_day(
            "SELECT kind, sender, recipient, priority_groups, CAST(SUM(referrals) AS BIGINT) AS n FROM figure_flows",
            "day",
            period,
        );
        party_of(&mut q, party);
        q.push(" GROUP BY kind, sender, recipient, priority_groups HAVING SUM(referrals) > 0");
        for mut row in self.fetch(q).await? {
            let kind = row.text("kind")?;
            let flow = Flow {
                kind: ReferralKind::from_code(&kind).ok_or_else(|| corrupt("referral kind", &kind))?,
                sender: member(row.text("sender")?)?,
                recipient: member(row.text("recipient")?)?,
                count: 0,
            };
            let groups = terms(&row.text("priority_groups")?)?;
            let n = count(row.int("n")?);
            counts.priority.push((groups, n));
            match counts
                .flows
                .iter_mut()
                .find(|f| (f.kind, &f.sender, &f.recipient) == (flow.kind, &flow.sender, &flow.recipient))
            {
                Some(f) => f.count += n,
                None => counts.flows.push(Flow { count: n, ..flow }),
            }
        }
        let referrals: u64 = counts.flows.iter().map(|f| f.count).sum();
        // `+submitted_at` keeps the planner off the index by time, onto the one by person.
        let column = if referrals > MANY_REFERRALS { "+submitted_at" } else { "submitted_at" };
        let (from, to) = period.instants();
        let mut q = Query::new("SELECT COUNT(DISTINCT person_index) AS n FROM referrals WHERE ");
        q.push(column)
            .push(" >= ")
            .push_bind(micros(from))
            .push(" AND ")
            .push(column)
            .push(" < ")
            .push_bind(micros(to));
        party_of(&mut q, party);
        counts.persons = match self.fetch_one(q).await? {
            Some(mut row) => count(row.int("n")?),
            None => 0,
        };
        let mut q = by_day("SELECT COUNT(*) AS n FROM figure_cases", "day", period);
        q.push(" AND referrals > 1");
        if let Some(m) = party {
            q.push(" AND case_id IN (SELECT case_id FROM referrals WHERE sender = ")
                .push_bind(m.as_str())
                .push(" OR recipient = ")
                .push_bind(m.as_str())
                .push(")");
        }
        counts.one_plus_n = match self.fetch_one(q).await? {
            Some(mut row) => count(row.int("n")?),
            None => 0,
        };
        let mut q = by_day(
            "SELECT outcome, refusal_grounds, CAST(SUM(conclusions) AS BIGINT) AS count FROM figure_conclusions",
            "day",
            period,
        );
        party_of(&mut q, party);
        q.push(" GROUP BY outcome, refusal_grounds HAVING SUM(conclusions) > 0");
        for mut row in self.fetch(q).await? {
            let outcome = row.text("outcome")?;
            counts.concluded.push(Concluded {
                outcome: Outcome::from_code(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
                refusal_grounds: terms(&row.text("refusal_grounds")?)?,
                count: count(row.int("count")?),
            });
        }
        let mut q = by_day(
            "SELECT aid, CAST(SUM(grants) AS BIGINT) AS count, CAST(SUM(fen) AS BIGINT) AS fen FROM figure_aids",
            "day",
            period,
        );
        party_of(&mut q, party);
        q.push(" GROUP BY aid HAVING SUM(grants) > 0");
        for mut row in self.fetch(q).await? {
            let aid = row.text("aid")?;
            counts.granted.push(Granted {
                aid: AidKind::from_code(&aid).ok_or_else(|| corrupt("aid", &aid))?,
                count: count(row.int("count")?),
                fen: row.int("fen")?,
            });
        }
        let mut q = by_day(
            "SELECT responsible, kind, CASE WHEN state = 'open' THEN 'missed' ELSE state END AS ended, \
             CAST(SUM(deadlines) AS BIGINT) AS count FROM figure_deadlines",
            "due_on",
            period,
        );
        q.push(" AND (state IN ('met', 'met_late', 'missed') OR (state = 'open' AND due_on < ")
            .push_bind(today.to_string())
            .push("))");
        responsible(&mut q, party);
        q.push(" GROUP BY responsible, kind, ended HAVING SUM(deadlines) > 0");
        for mut row in self.fetch(q).await? {
            let (who, kind, state) =
                (member(row.text("responsible")?)?, deadline_kind(row.text("kind")?)?, row.text("ended")?);
            counts.ended.push(Ended {
                responsible: who,
                kind,
                state: DeadlineState::from_code(&state).ok_or_else(|| corrupt("deadline state", &state))?,
                count: count(row.int("count")?),
            });
        }
        // A deadline whose count stands still (补充材料 asked for) is not missed, whatever
        // its due date says before the pause is added.
        for (who, kind, n) in self.standing_still(Some(period), party, today).await? {
            if let Some(e) = counts
                .ended
                .iter_mut()
                .find(|e| e.responsible == who && e.kind == kind && e.state == DeadlineState::Missed)
            {
                e.count = e.count.saturating_sub(n);
            }
        }
        let mut q = by_day(
            "SELECT kind, runs_from, met_on, CAST(SUM(deadlines) AS BIGINT) AS count FROM figure_met",
            "met_on",
            period,
        );
        q.push(" AND kind IN ('start', 'feedback')");
        responsible(&mut q, party);
        q.push(" GROUP BY kind, runs_from, met_on HAVING SUM(deadlines) > 0");
        for mut row in self.fetch(q).await? {
            counts.took.push(Took {
                kind: deadline_kind(row.text("kind")?)?,
                runs_from: date(row.text("runs_from")?)?,
                met_on: date(row.text("met_on")?)?,
                count: count(row.int("count")?),
            });
        }
        let mut q = by_day(
            "SELECT effect, aid_in_place, another_referral, COUNT(*) AS count FROM visits",
            "visited_on",
            period,
        );
        if let Some(m) = party {
            q.push(" AND (by_member = ")
                .push_bind(m.as_str())
                .push(" OR referral_id IN (SELECT id FROM referrals WHERE sender = ")
                .push_bind(m.as_str())
                .push("))");
        }
        q.push(" GROUP BY effect, aid_in_place, another_referral");
        for mut row in self.fetch(q).await? {
            let effect = row.text("effect")?;
            counts.visits.push(Visited {
                effect: VisitEffect::from_code(&effect).ok_or_else(|| corrupt("visit effect", &effect))?,
                aid_in_place: row.bool("aid_in_place")?,
                another_referral: row.bool("another_referral")?,
                count: count(row.int("count")?),
            });
        }
        counts.key_cases = self.key_cases_marked(period, party).await?.len() as u64;
        // The office's 催办, by the member chased, from the reminders in its inbox.
        let mut q =
            Query::new("SELECT member, COUNT(*) AS n FROM inbox_events WHERE kind = 'reminder' AND member <> 'office'");
        q.push(" AND at >= ").push_bind(micros(from)).push(" AND at < ").push_bind(micros(to));
        if let Some(m) = party {
            q.push(" AND member = ").push_bind(m.as_str());
        }
        q.push(" GROUP BY member");
        for mut row in self.fetch(q).await? {
            counts.chased.push((member(row.text("member")?)?, count(row.int("n")?)));
        }
        // The office's 督办函, by the member they went to.
        let mut q = Query::new("SELECT member, COUNT(*) AS n FROM supervisions WHERE issued_at >= ");
        q.push_bind(micros(from)).push(" AND issued_at < ").push_bind(micros(to));
        if let Some(m) = party {
            q.push(" AND member = ").push_bind(m.as_str());
        }
        q.push(" GROUP BY member");
        for mut row in self.fetch(q).await? {
            counts.supervised.push((member(row.text("member")?)?, count(row.int("n")?)));
        }
        // Requests to extend, by the day asked, and what was granted.
        let mut q = Query::new(
            "SELECT state, COUNT(*) AS n, CAST(COALESCE(SUM(granted_days), 0) AS BIGINT) AS days FROM extensions \
             WHERE asked_at >= ",
        );
        q.push_bind(micros(from)).push(" AND asked_at < ").push_bind(micros(to));
        if let Some(m) = party {
            q.push(" AND member = ").push_bind(m.as_str());
        }
        q.push(" GROUP BY state");
        for mut row in self.fetch(q).await? {
            let state = row.text("state")?;
            let (n, days) = (count(row.int("n")?), count(row.int("days")?));
            counts.extensions.asked += n;
            if state == ExtensionState::Granted.code() {
                counts.extensions.granted += n;
                counts.extensions.granted_days += days;
            }
        }
        // Start deadlines paused for materials, by the day they ran from.
        let mut q = by_day(
            "SELECT CAST(COALESCE(SUM(pauses), 0) AS BIGINT) AS pauses, CAST(COALESCE(SUM(paused), 0) AS BIGINT) AS paused \
             FROM deadlines",
            "runs_from",
            period,
        );
        q.push(" AND kind = 'start' AND pauses > 0");
        responsible(&mut q, party);
        if let Some(mut row) = self.fetch(q).await?.into_iter().next() {
            counts.extensions.pauses = count(row.int("pauses")?);
            counts.extensions.paused_days = count(row.int("paused")?);
        }
        Ok(counts)
    }

    pub(super) async fn overdue(
        &self,
        responsible_member: Option<&MemberCode>,
        today: NaiveDate,
    ) -> Result<Vec<Overdue>, StoreError> {
        let mut q = Query::new(
            "SELECT responsible, kind, CAST(SUM(deadlines) AS BIGINT) AS count FROM figure_deadlines \
             WHERE state IN ('open', 'missed') AND closed = FALSE AND due_on < ",
        );
        q.push_bind(today.to_string());
        responsible(&mut q, responsible_member);
        q.push(" GROUP BY responsible, kind HAVING SUM(deadlines) > 0 ORDER BY responsible, kind");
        let mut overdue = Vec::new();
        for mut row in self.fetch(q).await? {
            overdue.push(Overdue {
                responsible: member(row.text("responsible")?)?,
                kind: deadline_kind(row.text("kind")?)?,
                count: count(row.int("count")?),
            });
        }
        for (who, kind, n) in self.standing_still(None, responsible_member, today).await? {
            if let Some(o) = overdue.iter_mut().find(|o| o.responsible == who && o.kind == kind) {
                o.count = o.count.saturating_sub(n);
            }
        }
        overdue.retain(|o| o.count > 0);
        Ok(overdue)
    }

    /// Open deadlines past their due date whose count stands still (补充材料 asked
    /// for), due within `period` when given, by member and kind.
    async fn standing_still(
        &self,
        period: Option<&Period>,
        responsible_member: Option<&MemberCode>,
        today: NaiveDate,
    ) -> Result<Vec<(MemberCode, DeadlineKind, u64)>, StoreError> {
        let mut q = Query::new(
            "SELECT responsible, kind, COUNT(*) AS n FROM deadlines WHERE paused_on IS NOT NULL AND state = 'open' \
             AND due_on < ",
        );
        q.push_bind(today.to_string());
        if let Some(period) = period {
            q.push(" AND due_on >= ").push_bind(period.from.to_string()).push(" AND due_on <= ");
            q.push_bind(period.to.to_string());
        }
        responsible(&mut q, responsible_member);
        q.push(" GROUP BY responsible, kind");
        let mut found = Vec::new();
        for mut row in self.fetch(q).await? {
            found.push((member(row.text("responsible")?)?, deadline_kind(row.text("kind")?)?, count(row.int("n")?)));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_read_from_either_databases_json() {
        let sqlite: Vec<crate::domain::vocabulary::PriorityGroup> = terms(r#"["woman","minor"]"#).unwrap();
        let postgres: Vec<crate::domain::vocabulary::PriorityGroup> = terms(r#"["woman", "minor"]"#).unwrap();
        assert_eq!(sqlite, postgres);
        assert!(terms::<Outcome>("[]").unwrap().is_empty());
        assert!(terms::<Outcome>("[\"unknown\"]").is_err());
    }
}
