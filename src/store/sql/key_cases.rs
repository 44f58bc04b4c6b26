//! Reading the cases marked for the joint meeting's study, and where their referrals
//! stand (without their content).

use uuid::Uuid;

use super::{Backend, Cells, Query, SqlStore};
use crate::{
    domain::{key_case::KeyCase, period::Period, referral::State, MemberCode},
    store::{
        rows::{from_micros, micros},
        CaseReferral, StoreError,
    },
};

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::Corrupt(format!("key case {what} {raw:?}"))
}

fn case_id(raw: String) -> Result<Uuid, StoreError> {
    Uuid::parse_str(&raw).map_err(|_| corrupt("case", &raw))
}

fn member(raw: String) -> Result<MemberCode, StoreError> {
    MemberCode::parse(&raw).map_err(|_| corrupt("member", &raw))
}

fn mark(mut row: Cells) -> Result<KeyCase, StoreError> {
    Ok(KeyCase {
        case_id: case_id(row.text("case_id")?)?,
        reason: row.text("reason")?,
        marked_by: member(row.text("marked_by")?)?,
        marked_at: from_micros(row.int("marked_at")?)?,
    })
}

const MARKS: &str = "SELECT case_id, reason, marked_by, marked_at FROM key_cases WHERE ";

impl<B: Backend> SqlStore<B> {
    pub(super) async fn key_cases(&self, case_ids: &[Uuid]) -> Result<Vec<KeyCase>, StoreError> {
        if case_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new(MARKS);
        query.push("1 = 1").push_one_of("case_id", case_ids.iter().map(Uuid::to_string));
        self.fetch(query).await?.into_iter().map(mark).collect()
    }

    pub(super) async fn key_cases_marked(
        &self,
        period: &Period,
        party: Option<&MemberCode>,
    ) -> Result<Vec<KeyCase>, StoreError> {
        let (from, to) = period.instants();
        let mut query = Query::new(MARKS);
        query.push("marked_at >= ").push_bind(micros(from)).push(" AND marked_at < ").push_bind(micros(to));
        if let Some(m) = party {
            query
                .push(" AND case_id IN (SELECT case_id FROM referrals WHERE sender = ")
                .push_bind(m.as_str())
                .push(" OR recipient = ")
                .push_bind(m.as_str())
                .push(")");
        }
        query.push(" ORDER BY marked_at, case_id");
        self.fetch(query).await?.into_iter().map(mark).collect()
    }

    pub(super) async fn case_parties(&self, case_ids: &[Uuid]) -> Result<Vec<CaseReferral>, StoreError> {
        if case_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new("SELECT id, case_id, sender, recipient, state FROM referrals WHERE 1 = 1");
        query.push_one_of("case_id", case_ids.iter().map(Uuid::to_string)).push(" ORDER BY case_id, submitted_at");
        let rows = self.fetch(query).await?;
        rows.into_iter()
            .map(|mut row| {
                let id = row.text("id")?;
                let id = Uuid::parse_str(&id).map_err(|_| corrupt("referral", &id))?;
                let case_id = case_id(row.text("case_id")?)?;
                let (sender, recipient) = (member(row.text("sender")?)?, member(row.text("recipient")?)?);
                let state = row.text("state")?;
                Ok(CaseReferral {
                    id,
                    case_id,
                    sender,
                    recipient,
                    state: State::from_code(&state).ok_or_else(|| corrupt("state", &state))?,
                })
            })
            .collect()
    }
}
