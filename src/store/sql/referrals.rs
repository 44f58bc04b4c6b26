//! Reading referrals, their history and cases, and the request records of answers.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{int, Backend, Query, SqlStore};
use crate::{
    domain::{
        deadline::DeadlineKind, history::HistoryEntry, person::IdNumber, referral::Referral, request_id::RequestId,
        MemberCode,
    },
    keys::key_id,
    store::{
        rows::{from_micros, micros, EntryRow, ReferralRow, REFERRAL_COLUMNS},
        sealed::response_field,
        Awaiting, Chase, Filter, ListQuery, Opening, Parties, RequestRecord, StoreError,
    },
};

/// `SELECT` of referrals, up to their `WHERE`; built once.
static SELECT_REFERRALS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE "));

/// Referrals where `condition` holds.
fn referrals(condition: &str) -> Query {
    let mut query = Query::new(SELECT_REFERRALS.as_str());
    query.push(condition);
    query
}

fn uuid(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|_| StoreError::Corrupt("a stored uuid".into()))
}

fn member(raw: &str) -> Result<MemberCode, StoreError> {
    MemberCode::parse(raw).map_err(|rule| StoreError::Corrupt(rule.to_string()))
}

impl<B: Backend> SqlStore<B> {
    pub(super) async fn recall(
        &self,
        member: &MemberCode,
        request_id: &RequestId,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let query = Query::new("SELECT fingerprint, response FROM requests WHERE member = $1 AND request_id = $2")
            .bind(member.as_str())
            .bind(request_id.as_str());
        let Some(mut row) = self.fetch_one(query).await? else { return Ok(None) };
        let (fingerprint, response) = (row.bytes("fingerprint")?, row.bytes("response")?);
        Ok(Some(RequestRecord {
            member: member.clone(),
            request_id: request_id.clone(),
            fingerprint,
            response: self.open_response(member.as_str(), request_id.as_str(), response)?,
        }))
    }

    /// Opens a request's recorded answer (kept as it was if written before sealing).
    pub(super) fn open_response(&self, member: &str, request_id: &str, stored: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        match std::str::from_utf8(&stored) {
            Ok(sealed) if key_id(sealed).is_some() => {
                let (field, row) = response_field(member, request_id);
                self.keys
                    .open_bytes(field, &row, sealed)
                    .map_err(|e| StoreError::Corrupt(format!("request {member}/{request_id}: {e}")))
            }
            _ => Ok(stored),
        }
    }

    /// Referrals read back and opened.
    async fn opened(&self, query: Query, opening: Opening) -> Result<Vec<Referral>, StoreError> {
        let rows = self.fetch(query).await?;
        rows.into_iter().map(|mut row| ReferralRow::from_cells(&mut row)?.open(&self.keys, opening)).collect()
    }

    pub(super) async fn referral(&self, id: Uuid) -> Result<Option<Referral>, StoreError> {
        Ok(self.opened(referrals("id = $1").bind(id.to_string()), Opening::Whole).await?.into_iter().next())
    }

    pub(super) async fn referrals(&self, ids: &[Uuid], opening: Opening) -> Result<Vec<Referral>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = referrals("1 = 1");
        query.push_one_of("id", ids.iter().map(Uuid::to_string));
        self.opened(query, opening).await
    }

    pub(super) async fn history(&self, ids: &[Uuid], opening: Opening) -> Result<Vec<HistoryEntry>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new(
            "SELECT referral_id, version, kind, actor, at, state, note, clerk FROM referral_events WHERE 1 = 1",
        );
        query.push_one_of("referral_id", ids.iter().map(Uuid::to_string)).push(" ORDER BY referral_id, version");
        let rows = self.fetch(query).await?;
        rows.into_iter().map(|mut row| EntryRow::from_cells(&mut row)?.open(&self.keys, opening)).collect()
    }

    pub(super) async fn parties(&self, ids: &[Uuid]) -> Result<Vec<Parties>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new("SELECT id, sender, recipient FROM referrals WHERE 1 = 1");
        query.push_one_of("id", ids.iter().map(Uuid::to_string));
        let rows = self.fetch(query).await?;
        rows.into_iter()
            .map(|mut row| {
                Ok(Parties {
                    referral_id: uuid(&row.text("id")?)?,
                    sender: member(&row.text("sender")?)?,
                    recipient: member(&row.text("recipient")?)?,
                })
            })
            .collect()
    }

    /// The reminders (催办) in the inboxes of the members responsible, and the 督办函
    /// that listed the deadlines.
    pub(super) async fn chases(&self, ids: &[Uuid]) -> Result<Vec<Chase>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut query = Query::new(
            "SELECT referral_id, deadline_kind, 0 AS supervised, COUNT(*) AS times, MAX(at) AS last FROM inbox_events \
             WHERE kind = 'reminder' AND member <> 'office'",
        );
        query.push_one_of("referral_id", ids.iter().map(String::as_str)).push(
            " GROUP BY referral_id, deadline_kind UNION ALL \
             SELECT i.referral_id, i.deadline_kind, 1, COUNT(*), MAX(s.issued_at) FROM supervision_items i \
             JOIN supervisions s ON s.id = i.supervision_id WHERE 1 = 1",
        );
        query
            .push_one_of("i.referral_id", ids.iter().map(String::as_str))
            .push(" GROUP BY i.referral_id, i.deadline_kind");
        let rows = self.fetch(query).await?;
        rows.into_iter()
            .map(|mut row| {
                let referral_id = uuid(&row.text("referral_id")?)?;
                let kind = row.opt_text("deadline_kind")?.unwrap_or_default();
                Ok(Chase {
                    referral_id,
                    kind: DeadlineKind::from_code(&kind)
                        .ok_or_else(|| StoreError::Corrupt("a reminder's deadline kind".into()))?,
                    supervised: row.bool("supervised")?,
                    times: u32::try_from(row.int("times")?).unwrap_or(u32::MAX),
                    last: from_micros(row.int("last")?)?,
                })
            })
            .collect()
    }

    pub(super) async fn case_owner(&self, case_id: Uuid) -> Result<Option<MemberCode>, StoreError> {
        let query = Query::new("SELECT owner FROM cases WHERE id = $1").bind(case_id.to_string());
        self.fetch_one(query).await?.map(|mut row| member(&row.text("owner")?)).transpose()
    }

    pub(super) async fn case_referrals(&self, case_id: Uuid) -> Result<Vec<Referral>, StoreError> {
        let query = referrals("case_id = $1 ORDER BY submitted_at, recipient").bind(case_id.to_string());
        self.opened(query, Opening::Whole).await
    }

    #[tracing::instrument(skip_all)]
    pub(super) async fn list(
        &self,
        member: Option<&MemberCode>,
        query: &ListQuery,
    ) -> Result<Vec<Referral>, StoreError> {
        let search = query.search.as_deref().map(|text| Searched::of(&self.keys, text, !query.by_case_only));
        self.opened(listing(member, query, search.as_ref()), query.opening).await
    }

    /// The open referral to `recipient` about the person with `id_number`, found by the
    /// blind index without opening anything.
    pub(super) async fn open_referral(
        &self,
        recipient: &MemberCode,
        id_number: &IdNumber,
    ) -> Result<Option<(Uuid, MemberCode)>, StoreError> {
        let query = Query::new(
            "SELECT id, sender FROM referrals WHERE recipient = $1 AND person_index = $2 \
             AND state IN ('submitted', 'received', 'started', 'concluded')",
        )
        .bind(recipient.as_str())
        .bind(self.keys.blind_index(id_number));
        self.fetch_one(query)
            .await?
            .map(|mut row| Ok((uuid(&row.text("id")?)?, member(&row.text("sender")?)?)))
            .transpose()
    }
}

impl<B: Backend> SqlStore<B> {
    #[tracing::instrument(skip_all)]
    pub(super) async fn awaiting(&self, member: &MemberCode, filter: &Filter) -> Result<Vec<Awaiting>, StoreError> {
        let search = filter.search.as_deref().map(|text| Searched::of(&self.keys, text, true));
        let found = |q: &mut Query| {
            if let Some(search) = &search {
                search.push(q);
            }
            let (from, to) = filter.submitted.unzip();
            submitted_within(q, from, to);
        };
        // The member's running deadlines, of the referrals found.
        let mut q = Query::new(
            "SELECT d.referral_id, d.due_on, d.urgent, FALSE AS reply, 0 AS updated_at FROM deadlines d \
             WHERE d.pending = TRUE AND d.responsible = ",
        );
        q.push_bind(member.as_str()).push(" AND d.referral_id IN (SELECT id FROM referrals WHERE 1 = 1");
        found(&mut q);
        // Started, to conclude (no deadline runs until the conclusion).
        q.push(") UNION ALL SELECT id, NULL, urgent, FALSE, updated_at FROM referrals WHERE recipient = ")
            .push_bind(member.as_str())
            .push(" AND state = 'started'");
        found(&mut q);
        // Returned, to re-route: nothing submitted in its case since.
        q.push(" UNION ALL SELECT id, NULL, urgent, FALSE, updated_at FROM referrals r WHERE sender = ")
            .push_bind(member.as_str())
            .push(
                " AND state = 'returned' AND NOT EXISTS (SELECT 1 FROM referrals o \
                 WHERE o.case_id = r.case_id AND o.submitted_at > r.updated_at)",
            );
        found(&mut q);
        // Open, the other party's comment the latest entry.
        q.push(" UNION ALL SELECT id, NULL, urgent, TRUE, updated_at FROM referrals r WHERE (sender = ")
            .push_bind(member.as_str())
            .push(" OR recipient = ")
            .push_bind(member.as_str())
            .push(
                ") AND state IN ('submitted', 'received', 'started', 'concluded') AND EXISTS (SELECT 1 \
                 FROM referral_events e WHERE e.referral_id = r.id AND e.version = r.version \
                 AND e.kind IN ('commented', 'materials_asked') AND e.actor <> ",
            )
            .push_bind(member.as_str())
            .push(")");
        found(&mut q);
        let mut by_referral: std::collections::HashMap<Uuid, Awaiting> = std::collections::HashMap::new();
        for mut row in self.fetch(q).await? {
            let referral_id = uuid(&row.text("referral_id")?)?;
            let due =
                row.opt_text("due_on")?.map(|d| d.parse().map_err(|_| StoreError::Corrupt("a stored due date".into())));
            let seen = Awaiting {
                referral_id,
                due: due.transpose()?,
                urgent: row.bool("urgent")?,
                reply: row.bool("reply")?,
                updated_at: from_micros(row.int("updated_at")?)?,
            };
            let entry = by_referral.entry(referral_id).or_insert_with(|| seen.clone());
            entry.due = match (entry.due, seen.due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            entry.urgent |= seen.urgent;
            entry.reply |= seen.reply;
            entry.updated_at = entry.updated_at.max(seen.updated_at);
        }
        Ok(by_referral.into_values().collect())
    }
}

/// The page of referrals `query` lists of `member`'s (every member's when none), in
/// the listing's order.
fn listing(member: Option<&MemberCode>, query: &ListQuery, search: Option<&Searched>) -> Query {
    let mut q = Query::new("");
    let select = |q: &mut Query, side: Option<(&str, &MemberCode)>| {
        q.push(SELECT_REFERRALS.as_str());
        match side {
            Some((side, member)) => q.push(side).push(" = ").push_bind(member.as_str()),
            None => q.push("1 = 1"),
        };
        filtered(q, query, search);
    };
    match (member, query.sent, query.received) {
        (None, _, _) => select(&mut q, None),
        (Some(member), true, false) => select(&mut q, Some(("sender", member))),
        (Some(member), false, true) => select(&mut q, Some(("recipient", member))),
        // Each side in order from its own index, the two merged as they are read: an
        // OR of the two sides reads and sorts every row still to come.
        (Some(member), _, _) => {
            select(&mut q, Some(("sender", member)));
            q.push(" UNION ALL ");
            select(&mut q, Some(("recipient", member)));
        }
    }
    let order = if query.oldest_first { "" } else { " DESC" };
    q.push(&format!(" ORDER BY submitted_at{order}, id{order} LIMIT ")).push_bind(int(u64::from(query.limit)));
    q
}

/// What a search looks for: a full name or ID number through their blind indexes, or a
/// case reference (案号) as written.
pub(super) struct Searched {
    id_index: Option<String>,
    name_index: Option<String>,
    case_reference: String,
}

impl Searched {
    /// The search for `text`: for a person too when `person`.
    pub(super) fn of(keys: &crate::keys::Keys, text: &str, person: bool) -> Self {
        let text = text.trim();
        Self {
            id_index: IdNumber::parse(text).ok().filter(|_| person).map(|id| keys.blind_index(&id)),
            name_index: person.then(|| keys.name_index(text)),
            case_reference: text.to_owned(),
        }
    }

    /// ` AND (…)`: the referral is the one searched for.
    pub(super) fn push(&self, q: &mut Query) {
        q.push(" AND (case_reference = ").push_bind(self.case_reference.as_str());
        if let Some(index) = &self.name_index {
            q.push(" OR name_index = ").push_bind(index.as_str());
        }
        if let Some(index) = &self.id_index {
            q.push(" OR person_index = ").push_bind(index.as_str());
        }
        q.push(")");
    }
}

/// ` AND …`: submitted from `from` up to, not including, `to`, each when given.
fn submitted_within(q: &mut Query, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) {
    if let Some(from) = from {
        q.push(" AND submitted_at >= ").push_bind(micros(from));
    }
    if let Some(to) = to {
        q.push(" AND submitted_at < ").push_bind(micros(to));
    }
}

/// ` AND …` for each of `query`'s conditions on a referral other than whose it is.
fn filtered(q: &mut Query, query: &ListQuery, search: Option<&Searched>) {
    if let Some(search) = search {
        search.push(q);
    }
    q.push_one_of("state", query.states.iter().map(|s| s.code()));
    if let Some(counterpart) = &query.counterpart {
        q.push(" AND (sender = ")
            .push_bind(counterpart.as_str())
            .push(" OR recipient = ")
            .push_bind(counterpart.as_str())
            .push(")");
    }
    if let Some(case_id) = query.case_id {
        q.push(" AND case_id = ").push_bind(case_id.to_string());
    }
    // A page after the first starts where the last ended, and that bound replaces the
    // period's on its side when it is the tighter: given two lower (or upper) bounds on
    // one column, SQLite starts the index range at either, and when it took the
    // period's, every page walked the index from the period's start (a year's ledger
    // over a million read 17 GB from the file, quadratic).
    let (mut from, mut to) = query.submitted.unzip();
    if let Some((at, id)) = query.after {
        let (beyond, bound) = if query.oldest_first { (">", ">=") } else { ("<", "<=") };
        if query.oldest_first && from.is_none_or(|from| from <= at) {
            from = None;
        } else if !query.oldest_first && to.is_none_or(|to| at < to) {
            to = None;
        }
        q.push(&format!(" AND submitted_at {bound} ")).push_bind(micros(at));
        q.push(&format!(" AND (submitted_at {beyond} "))
            .push_bind(micros(at))
            .push(" OR (submitted_at = ")
            .push_bind(micros(at))
            .push(&format!(" AND id {beyond} "))
            .push_bind(id.to_string())
            .push("))");
    }
    submitted_within(q, from, to);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::query::Value;

    /// The bounds a listing puts on `submitted_at`, each with the instant bound to it.
    fn bounds(query: &ListQuery) -> Vec<(String, i64)> {
        let q = listing(None, query, None);
        let mut found = Vec::new();
        for bound in ["submitted_at >= $", "submitted_at < $", "submitted_at <= $", "submitted_at > $"] {
            for (at, _) in q.sql.match_indices(bound) {
                let n: String = q.sql[at + bound.len()..].chars().take_while(char::is_ascii_digit).collect();
                match &q.params[n.parse::<usize>().unwrap() - 1] {
                    Value::Int(Some(v)) => found.push((bound.trim_end_matches(" $").to_owned(), *v)),
                    other => panic!("{bound} bound to {other:?}"),
                }
            }
        }
        found
    }

    #[test]
    fn a_page_after_the_first_starts_its_index_range_at_the_last_page_alone() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let (from, to, last) = (at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), at("2026-06-01T00:00:00Z"));
        let year = ListQuery { submitted: Some((from, to)), oldest_first: true, limit: 2, ..ListQuery::default() };
        assert_eq!(
            bounds(&year),
            [("submitted_at >=".to_owned(), micros(from)), ("submitted_at <".to_owned(), micros(to))]
        );
        let next = ListQuery { after: Some((last, Uuid::nil())), ..year.clone() };
        let lower: Vec<_> = bounds(&next).into_iter().filter(|(b, _)| b.contains('>')).collect();
        assert_eq!(lower, [("submitted_at >=".to_owned(), micros(last)), ("submitted_at >".to_owned(), micros(last))]);
        assert!(bounds(&next).contains(&("submitted_at <".to_owned(), micros(to))));
        let newest = ListQuery { oldest_first: false, ..next.clone() };
        let upper: Vec<_> = bounds(&newest).into_iter().filter(|(b, _)| b.contains('<')).collect();
        assert_eq!(upper, [("submitted_at <".to_owned(), micros(last)), ("submitted_at <=".to_owned(), micros(last))]);
        // A cursor from outside the period leaves the period's bound in place.
        let early = ListQuery { after: Some((at("2025-06-01T00:00:00Z"), Uuid::nil())), ..year };
        assert!(bounds(&early).contains(&("submitted_at >=".to_owned(), micros(from))));
    }
}
