//! Counting for the figures of the joint meeting: grouped counts over the columns the
//! database derives from each referral's recorded JSON (`0010_figures`), read through
//! indexes that cover them; nothing is opened, no person is read.

use chrono::NaiveDate;
use serde::de::DeserializeOwned;

use super::{Backend, Query, SqlStore};
use crate::{
    domain::{
        deadline::{DeadlineKind, DeadlineState},
        figures::{Concluded, Counts, Ended, Flow, Overdue, Took},
        period::Period,
        referral::ReferralKind,
        vocabulary::{AidKind, Outcome},
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

/// A JSON array of terms as the database keeps it (none: empty).
fn terms<T: DeserializeOwned>(raw: Option<String>) -> Result<Vec<T>, StoreError> {
    match raw {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|_| corrupt("terms", &text)),
    }
}

fn deadline_kind(raw: String) -> Result<DeadlineKind, StoreError> {
    DeadlineKind::from_code(&raw).ok_or_else(|| corrupt("deadline kind", &raw))
}

/// `WHERE` over referrals submitted in `period`, of which `party` (if any) is a party.
fn submitted(select: &str, period: &Period, party: Option<&MemberCode>) -> Query {
    let (from, to) = period.instants();
    let mut q = Query::new(select);
    q.push(" WHERE submitted_at >= ").push_bind(micros(from)).push(" AND submitted_at < ").push_bind(micros(to));
    if let Some(m) = party {
        q.push(" AND (sender = ").push_bind(m.as_str()).push(" OR recipient = ").push_bind(m.as_str()).push(")");
    }
    q
}

/// `WHERE` over deadlines of which `responsible` (if any) is in charge.
fn responsible(q: &mut Query, responsible: Option<&MemberCode>) {
    if let Some(m) = responsible {
        q.push(" AND responsible = ").push_bind(m.as_str());
    }
}

impl<B: Backend> SqlStore<B> {
    #[tracing::instrument(skip_all)]
    pub(super) async fn figure_counts(
        &self,
        party: Option<&MemberCode>,
        period: &Period,
        today: NaiveDate,
    ) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        let mut q = submitted("SELECT kind, sender, recipient, COUNT(*) FROM referrals", period, party);
        q.push(" GROUP BY kind, sender, recipient");
        for mut row in self.fetch(q).await? {
            let kind = row.text()?;
            counts.flows.push(Flow {
                kind: ReferralKind::from_code(&kind).ok_or_else(|| corrupt("referral kind", &kind))?,
                sender: member(row.text()?)?,
                recipient: member(row.text()?)?,
                count: count(row.int()?),
            });
        }
        let q = submitted("SELECT COUNT(DISTINCT person_index) FROM referrals", period, party);
        counts.persons = match self.fetch_one(q).await? {
            Some(mut row) => count(row.int()?),
            None => 0,
        };
        let mut q = submitted("SELECT COUNT(*) FROM (SELECT case_id FROM referrals", period, None);
        q.push(" GROUP BY case_id HAVING COUNT(*) > 1");
        if let Some(m) = party {
            q.push(" AND SUM(CASE WHEN sender = ")
                .push_bind(m.as_str())
                .push(" OR recipient = ")
                .push_bind(m.as_str())
                .push(" THEN 1 ELSE 0 END) > 0");
        }
        q.push(") AS cases");
        counts.one_plus_n = match self.fetch_one(q).await? {
            Some(mut row) => count(row.int()?),
            None => 0,
        };
        let mut q = Query::new(
            "SELECT outcome, aid, refusal_grounds, COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) \
             FROM referrals WHERE concluded_on >= ",
        );
        q.push_bind(period.from.to_string()).push(" AND concluded_on <= ").push_bind(period.to.to_string());
        if let Some(m) = party {
            q.push(" AND (sender = ").push_bind(m.as_str()).push(" OR recipient = ").push_bind(m.as_str()).push(")");
        }
        q.push(" GROUP BY outcome, aid, refusal_grounds");
        for mut row in self.fetch(q).await? {
            let outcome = row.text()?;
            let aid = row.opt_text()?;
            counts.concluded.push(Concluded {
                outcome: Outcome::from_code(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
                aid: aid.map(|a| AidKind::from_code(&a).ok_or_else(|| corrupt("aid", &a))).transpose()?,
                refusal_grounds: terms(row.opt_text()?)?,
                count: count(row.int()?),
                fen: row.int()?,
            });
        }
        let mut q = Query::new(
            "SELECT responsible, kind, CASE WHEN state = 'open' THEN 'missed' ELSE state END AS ended, COUNT(*) \
             FROM deadlines WHERE due_on >= ",
        );
        q.push_bind(period.from.to_string())
            .push(" AND due_on <= ")
            .push_bind(period.to.to_string())
            .push(" AND (state IN ('met', 'met_late', 'missed') OR (state = 'open' AND due_on < ")
            .push_bind(today.to_string())
            .push("))");
        responsible(&mut q, party);
        q.push(" GROUP BY responsible, kind, ended");
        for mut row in self.fetch(q).await? {
            let (who, kind, state) = (member(row.text()?)?, deadline_kind(row.text()?)?, row.text()?);
            counts.ended.push(Ended {
                responsible: who,
                kind,
                state: DeadlineState::from_code(&state).ok_or_else(|| corrupt("deadline state", &state))?,
                count: count(row.int()?),
            });
        }
        let mut q = Query::new("SELECT kind, runs_from, met_on, COUNT(*) FROM deadlines WHERE met_on >= ");
        q.push_bind(period.from.to_string())
            .push(" AND met_on <= ")
            .push_bind(period.to.to_string())
            .push(" AND kind IN ('start', 'feedback')");
        responsible(&mut q, party);
        q.push(" GROUP BY kind, runs_from, met_on");
        for mut row in self.fetch(q).await? {
            counts.took.push(Took {
                kind: deadline_kind(row.text()?)?,
                runs_from: date(row.text()?)?,
                met_on: date(row.text()?)?,
                count: count(row.int()?),
            });
        }
        let mut q = submitted("SELECT priority_groups, COUNT(*) FROM referrals", period, party);
        q.push(" GROUP BY priority_groups");
        for mut row in self.fetch(q).await? {
            let groups = terms(row.opt_text()?)?;
            counts.priority.push((groups, count(row.int()?)));
        }
        Ok(counts)
    }

    pub(super) async fn overdue(
        &self,
        responsible_member: Option<&MemberCode>,
        today: NaiveDate,
    ) -> Result<Vec<Overdue>, StoreError> {
        let mut q = Query::new("SELECT responsible, kind, COUNT(*) FROM deadlines WHERE pending = TRUE AND due_on < ");
        q.push_bind(today.to_string());
        responsible(&mut q, responsible_member);
        q.push(" GROUP BY responsible, kind ORDER BY responsible, kind");
        let mut overdue = Vec::new();
        for mut row in self.fetch(q).await? {
            overdue.push(Overdue {
                responsible: member(row.text()?)?,
                kind: deadline_kind(row.text()?)?,
                count: count(row.int()?),
            });
        }
        Ok(overdue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_read_from_either_databases_json() {
        let sqlite: Vec<crate::domain::vocabulary::PriorityGroup> = terms(Some(r#"["woman","minor"]"#.into())).unwrap();
        let postgres: Vec<crate::domain::vocabulary::PriorityGroup> =
            terms(Some(r#"["woman", "minor"]"#.into())).unwrap();
        assert_eq!(sqlite, postgres);
        assert!(terms::<Outcome>(None).unwrap().is_empty());
    }
}
