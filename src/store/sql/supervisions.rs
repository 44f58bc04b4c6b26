//! 督办函 as issued: the statements a commit runs (the same on both backends), to run
//! after its files, and the reads.

use uuid::Uuid;

use super::{statement::Statement, writes::Writers, Backend, Query, SqlStore};
use crate::{
    domain::MemberCode,
    store::{
        rows::{corrupt, deadline_kind, from_micros, member, micros, uuid},
        Commit, StoreError, SupervisionRecord,
    },
};

/// The statements that record a commit's 督办函 and the deadlines it lists.
pub fn statements(commit: &Commit, writers: Writers) -> Vec<Statement> {
    let Some(s) = &commit.supervision else { return Vec::new() };
    let id = s.id.to_string();
    let mut out = vec![Statement::row(
        Query::new(
            "INSERT INTO supervisions (id, member, year, seq, number, attachment_id, issued_at, clerk) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(s.member.as_str())
        .bind(i64::from(s.year))
        .bind(i64::from(s.seq))
        .bind(s.number.as_str())
        .bind(s.attachment_id.to_string())
        .bind(micros(s.issued_at))
        .bind(s.clerk.as_str()),
    )];
    // Its number is the office's.
    out.extend(super::materials::unclaim(writers, &MemberCode::office(), s.year, s.seq));
    for (ordinal, (referral_id, kind)) in (0_i64..).zip(&s.items) {
        out.push(Statement::row(
            Query::new(
                "INSERT INTO supervision_items (referral_id, deadline_kind, supervision_id, ordinal) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(referral_id.to_string())
            .bind(kind.code())
            .bind(id.as_str())
            .bind(ordinal),
        ));
    }
    out
}

impl<B: Backend> SqlStore<B> {
    /// The 督办函 issued, newest first: to `to` only when given, the one `id` only when
    /// given; at most `limit`.
    pub(super) async fn supervisions(
        &self,
        to: Option<&MemberCode>,
        id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<SupervisionRecord>, StoreError> {
        let mut query = Query::new(
            "SELECT id, member, year, seq, number, attachment_id, issued_at, clerk FROM supervisions WHERE 1 = 1",
        );
        if let Some(to) = to {
            query.push(" AND member = ").push_bind(to.as_str());
        }
        if let Some(id) = id {
            query.push(" AND id = ").push_bind(id.to_string());
        }
        query.push(" ORDER BY issued_at DESC, seq DESC LIMIT ").push_bind(i64::from(limit));
        let mut found = Vec::new();
        for mut row in self.fetch(query).await? {
            found.push(SupervisionRecord {
                id: uuid(&row.text("id")?)?,
                member: member(&row.text("member")?)?,
                year: i32::try_from(row.int("year")?).map_err(|_| corrupt("year", "out of range"))?,
                seq: u32::try_from(row.int("seq")?).map_err(|_| corrupt("document number", "out of range"))?,
                number: row.text("number")?,
                attachment_id: uuid(&row.text("attachment_id")?)?,
                issued_at: from_micros(row.int("issued_at")?)?,
                clerk: row.text("clerk")?,
                items: Vec::new(),
            });
        }
        if found.is_empty() {
            return Ok(found);
        }
        let mut query =
            Query::new("SELECT supervision_id, referral_id, deadline_kind FROM supervision_items WHERE 1 = 1");
        query.push_one_of("supervision_id", found.iter().map(|s| s.id.to_string())).push(" ORDER BY ordinal");
        for mut row in self.fetch(query).await? {
            let of = uuid(&row.text("supervision_id")?)?;
            let item = (uuid(&row.text("referral_id")?)?, deadline_kind(&row.text("deadline_kind")?)?);
            if let Some(s) = found.iter_mut().find(|s| s.id == of) {
                s.items.push(item);
            }
        }
        Ok(found)
    }
}
