//! Reading deadlines: a referral's, the office's listings, and the tally for metrics.

use std::sync::LazyLock;

use chrono::NaiveDate;
use uuid::Uuid;

use super::{int, Backend, Query, SqlStore};
use crate::{
    domain::deadline::{Deadline, DeadlineKind},
    store::{
        rows::{DeadlineRow, ListedRow, DEADLINE_COLUMNS},
        DeadlineQuery, DeadlineTally, ListedDeadline, StoreError,
    },
};

/// Referrals' deadlines, up to their `WHERE`; built once.
static SELECT_DEADLINES: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {DEADLINE_COLUMNS} FROM deadlines WHERE 1 = 1"));

impl<B: Backend> SqlStore<B> {
    pub(super) async fn deadlines(&self, referral_ids: &[Uuid]) -> Result<Vec<Deadline>, StoreError> {
        if referral_ids.is_empty() {
            return Ok(Vec::new());
        }
        // Put in order here rather than by the database, which would sort the rows of
        // a whole page by their day.
        let mut query = Query::new(SELECT_DEADLINES.as_str());
        query.push_one_of("referral_id", referral_ids.iter().map(Uuid::to_string));
        let rows = self.fetch(query).await?;
        let mut deadlines = rows
            .into_iter()
            .map(|mut row| Deadline::try_from(DeadlineRow::from_cells(&mut row)?))
            .collect::<Result<Vec<_>, _>>()?;
        deadlines.sort_by_key(|d| (d.referral_id, d.due));
        Ok(deadlines)
    }

    #[tracing::instrument(skip_all)]
    pub(super) async fn list_deadlines(&self, query: &DeadlineQuery) -> Result<Vec<ListedDeadline>, StoreError> {
        let mut q = Query::new(format!(
            "SELECT {DEADLINE_COLUMNS}, referral_kind, urgent, green_channel FROM deadlines d WHERE 1 = 1"
        ));
        if query.outstanding {
            // Indexed in the order the office reads them.
            q.push(" AND d.pending = TRUE");
        }
        q.push_one_of("d.state", query.states.iter().map(|s| s.code()));
        if query.running {
            q.push(" AND d.paused_on IS NULL");
        }
        if query.provisional_only {
            q.push(" AND d.provisional = TRUE");
        }
        if let Some(responsible) = &query.responsible {
            q.push(" AND d.responsible = ").push_bind(responsible.as_str());
        }
        if let Some(kind) = query.kind {
            q.push(" AND d.kind = ").push_bind(kind.code());
        }
        if let Some(from) = query.due_from {
            q.push(" AND d.due_on >= ").push_bind(from.to_string());
        }
        if let Some(to) = query.due_to {
            q.push(" AND d.due_on <= ").push_bind(to.to_string());
        }
        if let Some(reference) = &query.case_reference {
            q.push(" AND d.referral_id IN (SELECT id FROM referrals WHERE case_reference = ")
                .push_bind(reference.as_str())
                .push(")");
        }
        q.push(" ORDER BY d.urgent DESC, d.green_channel DESC, d.due_on, d.referral_id, d.kind LIMIT ")
            .push_bind(int(u64::from(query.limit)));
        let rows = self.fetch(q).await?;
        rows.into_iter().map(|mut row| ListedDeadline::try_from(ListedRow::from_cells(&mut row)?)).collect()
    }

    /// Outstanding deadlines by kind: all, those due from `today` to `soon`, those
    /// before `today`.
    pub(super) async fn deadline_tally(
        &self,
        today: NaiveDate,
        soon: NaiveDate,
    ) -> Result<Vec<DeadlineTally>, StoreError> {
        let query = Query::new(
            "SELECT kind, COUNT(*) AS pending, \
             COALESCE(SUM(CASE WHEN state = 'open' AND due_on >= $1 AND due_on <= $2 THEN 1 ELSE 0 END), 0) AS due_soon, \
             COALESCE(SUM(CASE WHEN due_on < $1 THEN 1 ELSE 0 END), 0) AS overdue \
             FROM deadlines WHERE pending = TRUE GROUP BY kind ORDER BY kind",
        )
        .bind(today.to_string())
        .bind(soon.to_string());
        let count = |n: i64| n.max(0) as u64;
        let rows = self.fetch(query).await?;
        rows.into_iter()
            .map(|mut row| {
                let kind = row.text("kind")?;
                let kind = DeadlineKind::from_code(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("deadline kind {kind}")))?;
                Ok(DeadlineTally {
                    kind,
                    open: count(row.int("pending")?),
                    due_soon: count(row.int("due_soon")?),
                    overdue: count(row.int("overdue")?),
                })
            })
            .collect()
    }
}
