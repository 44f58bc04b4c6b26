//! Reading members' inboxes and where each stands.

use super::{int, position, Backend, Query, SqlStore};
use crate::{
    domain::MemberCode,
    store::{rows::InboxRow, InboxEvent, InboxPosition, StoreError},
};

impl<B: Backend> SqlStore<B> {
    pub(super) async fn inbox(
        &self,
        member: &MemberCode,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<InboxEvent>, StoreError> {
        let query = Query::new(
            "SELECT member, seq, event_id, kind, referral_id, case_id, referral_kind, state, actor, at, note, \
             urgent, green_channel, deadline_kind, due_on, clerk FROM inbox_events WHERE member = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3",
        )
        .bind(member.as_str())
        .bind(int(after_seq))
        .bind(i64::from(limit));
        let rows = self.fetch(query).await?;
        rows.into_iter().map(|mut row| InboxRow::from_cells(&mut row)?.open(&self.keys)).collect()
    }

    pub(super) async fn inbox_position(&self, member: &MemberCode) -> Result<InboxPosition, StoreError> {
        let query = Query::new("SELECT acked_seq, last_seq FROM inbox_heads WHERE member = $1").bind(member.as_str());
        let row = self
            .fetch_one(query)
            .await?
            .map(|mut row| Ok::<_, StoreError>((row.int("acked_seq")?, row.int("last_seq")?)))
            .transpose()?;
        Ok(position(row))
    }

    pub(super) async fn inbox_positions(&self) -> Result<Vec<(MemberCode, InboxPosition)>, StoreError> {
        let rows =
            self.fetch(Query::new("SELECT member, acked_seq, last_seq FROM inbox_heads ORDER BY member")).await?;
        rows.into_iter()
            .map(|mut row| {
                let member =
                    MemberCode::parse(&row.text("member")?).map_err(|rule| StoreError::Corrupt(rule.to_string()))?;
                Ok((member, position(Some((row.int("acked_seq")?, row.int("last_seq")?)))))
            })
            .collect()
    }
}
