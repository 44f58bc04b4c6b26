//! The follow-up visits of referrals: the columns read, the row decoded, the row
//! written. A column of `visits` is added here (and in the migrations, and in
//! `domain::visit`), nowhere else.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{statement::Statement, Backend, Cells, Query, SqlStore};
use crate::{
    domain::{
        visit::{Visit, VisitRecord},
        vocabulary::{VisitEffect, VisitMethod},
        MemberCode,
    },
    store::{
        rows::{from_micros, micros},
        StoreError,
    },
};

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::Corrupt(format!("visit {what} {raw:?}"))
}

fn record(mut row: Cells) -> Result<VisitRecord, StoreError> {
    let referral_id = row.text("referral_id")?;
    let version = row.int("version")?;
    let (visited_on, method, visitor) = (row.text("visited_on")?, row.text("method")?, row.text("visitor")?);
    let aid_in_place = row.bool("aid_in_place")?;
    let effect = row.text("effect")?;
    let another_referral = row.bool("another_referral")?;
    let by = row.text("by_member")?;
    Ok(VisitRecord {
        referral_id: Uuid::parse_str(&referral_id).map_err(|_| corrupt("referral", &referral_id))?,
        version: u32::try_from(version).map_err(|_| corrupt("version", &version.to_string()))?,
        by: MemberCode::parse(&by).map_err(|_| corrupt("member", &by))?,
        at: from_micros(row.int("at")?)?,
        visit: Visit {
            visited_on: visited_on.parse::<NaiveDate>().map_err(|_| corrupt("date", &visited_on))?,
            method: VisitMethod::from_code(&method).ok_or_else(|| corrupt("method", &method))?,
            visitor,
            aid_in_place,
            effect: VisitEffect::from_code(&effect).ok_or_else(|| corrupt("effect", &effect))?,
            another_referral,
        },
    })
}

const COLUMNS: &str =
    "referral_id, version, visited_on, method, visitor, aid_in_place, effect, another_referral, by_member, at";

/// The statement that writes a visit.
pub(super) fn insert(v: &VisitRecord) -> Statement {
    let visit = &v.visit;
    Statement::row(
        Query::new(format!("INSERT INTO visits ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
            .bind(v.referral_id.to_string())
            .bind(i64::from(v.version))
            .bind(visit.visited_on.to_string())
            .bind(visit.method.code())
            .bind(visit.visitor.as_str())
            .bind(visit.aid_in_place)
            .bind(visit.effect.code())
            .bind(visit.another_referral)
            .bind(v.by.as_str())
            .bind(micros(v.at)),
    )
}

impl<B: Backend> SqlStore<B> {
    pub(super) async fn visits(&self, ids: &[Uuid]) -> Result<Vec<VisitRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new(format!("SELECT {COLUMNS} FROM visits WHERE 1 = 1"));
        query.push_one_of("referral_id", ids.iter().map(Uuid::to_string)).push(" ORDER BY referral_id, version");
        self.fetch(query).await?.into_iter().map(record).collect()
    }
}
