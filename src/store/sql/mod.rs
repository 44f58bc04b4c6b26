//! The SQL both backends share. Each backend (`sqlite`, `postgres`) opens its own pools
//! and then states `sql_store!(Store, Database)`, which implements [`Store`] over them:
//! one text for every query (with `$1`-style parameters, which SQLite reads too), so
//! the two cannot drift apart.
//!
//! The backend provides four inherent methods: `commit_one`, which writes a commit
//! durably (SQLite on its writer thread, which groups concurrent commits into one
//! transaction; PostgreSQL through the shared `write` path, also announcing new inbox
//! events to other replicas), `ack_one`, `relay`, which forwards such announcements to
//! this process's subscribers, and `close`.
//!
//! [`Store`]: crate::store::Store

pub mod writes;

/// Makes the store's inbox epoch on first open; an existing one stays.
pub const INSERT_EPOCH: &str = "INSERT INTO hub_meta (id, epoch) VALUES (1, $1) ON CONFLICT (id) DO NOTHING";
/// Replaces the inbox epoch (a restore).
pub const NEW_EPOCH: &str = "UPDATE hub_meta SET epoch = $1 WHERE id = 1";
/// The inbox epoch.
pub const SELECT_EPOCH: &str = "SELECT epoch FROM hub_meta WHERE id = 1";

/// Binds a referral's sealed columns in the order of `SEALED_COLUMNS`.
pub fn bind_sealed<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    sealed: &'q super::sealed::SealedContent,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sealed
        .sealed
        .iter()
        .fold(query, |q, value| q.bind(value))
        .bind(&sealed.sealed_key)
        .bind(&sealed.person_index)
        .bind(&sealed.conclusion)
        .bind(&sealed.feedback)
        .bind(&sealed.closing_reason)
}

/// `(acked_seq, last_seq)` of an inbox as a position.
pub fn position(row: Option<(i64, i64)>) -> super::InboxPosition {
    let (acked, head) = row.unwrap_or_default();
    super::InboxPosition { acked_seq: acked.max(0) as u64, head_seq: head.max(0) as u64 }
}

/// Implements `Store` for `$store`, whose `writer` and `reader` are pools of `$db`.
macro_rules! sql_store {
    ($store:ident, $db:path) => {
        // In a block of its own, so that these imports stay out of the backend's module.
        const _: () = {
            use async_trait::async_trait;
            use uuid::Uuid;

            use $crate::store::{
                rows::{micros, DeadlineRow, EntryRow, InboxRow, ListedRow, ReferralRow, ScheduleRow, DEADLINE_COLUMNS},
                sealed::SealedCommit,
                Commit, DeadlineQuery, Delivered, InboxEvent, InboxPosition, ListQuery, ListedDeadline, RequestRecord,
                ScheduleRecord, StoreError,
            };
            use $crate::domain::{
                deadline::Deadline, history::HistoryEntry, referral::Referral, request_id::RequestId, MemberCode,
            };

            const REFERRAL_COLUMNS: &str = "id, case_id, kind, state, sender, recipient, content, person_name, \
                 person_id_number, person_phone, person_address, person_household, narrative, sealed_key, submitted_at, \
                 updated_at, started_at, conclusion, feedback, closing_reason, version";

            /// ` AND column IN (…)` over `codes`; nothing when there are none.
            fn push_one_of(
                q: &mut sqlx::QueryBuilder<'_, $db>,
                column: &str,
                codes: impl ExactSizeIterator<Item = &'static str>,
            ) {
                if codes.len() == 0 {
                    return;
                }
                q.push(format!(" AND {column} IN ("));
                let mut list = q.separated(", ");
                for code in codes {
                    list.push_bind(code);
                }
                list.push_unseparated(")");
            }


            impl $store {
                /// Seals again, under `active`, up to `limit` history notes and as many
                /// inbox notes sealed under another key or written in clear.
                async fn reseal_notes(&self, active: &str, limit: u32) -> Result<u64, StoreError> {
                    use $crate::store::sealed::{entry_note, inbox_note, reseal_note};
                    let mut resealed = 0;
                    let entries: Vec<(String, i64, String, Option<String>)> = sqlx::query_as(
                        "SELECT referral_id, version, note, sealed_key FROM referral_events \
                         WHERE sealed_key IS NULL OR sealed_key <> $1 LIMIT $2",
                    )
                    .bind(active)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                    for (referral_id, version, note, was) in entries {
                        let (field, row) = entry_note(&referral_id, version);
                        let updated = sqlx::query(
                            "UPDATE referral_events SET note = $1, sealed_key = $2 \
                             WHERE referral_id = $3 AND version = $4 AND sealed_key IS NOT DISTINCT FROM $5",
                        )
                        .bind(reseal_note(&self.keys, field, &row, &note)?)
                        .bind(active)
                        .bind(&referral_id)
                        .bind(version)
                        .bind(was)
                        .execute(&self.writer)
                        .await?;
                        resealed += updated.rows_affected();
                    }
                    let events: Vec<(String, String, Option<String>)> = sqlx::query_as(
                        "SELECT event_id, note, sealed_key FROM inbox_events \
                         WHERE sealed_key IS NULL OR sealed_key <> $1 LIMIT $2",
                    )
                    .bind(active)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                    for (event_id, note, was) in events {
                        let (field, row) = inbox_note(&event_id);
                        let updated = sqlx::query(
                            "UPDATE inbox_events SET note = $1, sealed_key = $2 \
                             WHERE event_id = $3 AND sealed_key IS NOT DISTINCT FROM $4",
                        )
                        .bind(reseal_note(&self.keys, field, &row, &note)?)
                        .bind(active)
                        .bind(&event_id)
                        .bind(was)
                        .execute(&self.writer)
                        .await?;
                        resealed += updated.rows_affected();
                    }
                    Ok(resealed)
                }

                /// Opens a request's recorded answer (kept as it was if written before
                /// sealing).
                fn open_response(&self, member: &str, request_id: &str, stored: Vec<u8>) -> Result<Vec<u8>, StoreError> {
                    match std::str::from_utf8(&stored) {
                        Ok(sealed) if $crate::keys::key_id(sealed).is_some() => {
                            let (field, row) = $crate::store::sealed::response_field(member, request_id);
                            self.keys
                                .open_bytes(field, &row, sealed)
                                .map_err(|e| StoreError::Corrupt(format!("request {member}/{request_id}: {e}")))
                        }
                        _ => Ok(stored),
                    }
                }

            }

            #[async_trait]
            impl $crate::store::Store for $store {
                #[tracing::instrument(skip_all)]
                async fn recall(&self, member: &MemberCode, request_id: &RequestId) -> Result<Option<RequestRecord>, StoreError> {
                    let row: Option<(Vec<u8>, Vec<u8>)> =
                        sqlx::query_as("SELECT fingerprint, response FROM requests WHERE member = $1 AND request_id = $2")
                            .bind(member.as_str())
                            .bind(request_id.as_str())
                            .fetch_optional(&self.reader)
                            .await?;
                    row.map(|(fingerprint, response)| {
                        Ok(RequestRecord {
                            member: member.clone(),
                            request_id: request_id.clone(),
                            fingerprint,
                            response: self.open_response(member.as_str(), request_id.as_str(), response)?,
                        })
                    })
                    .transpose()
                }

                #[tracing::instrument(skip_all, fields(changes = commit.changes.len()))]
                async fn commit(&self, commit: Commit) -> Result<Vec<Delivered>, StoreError> {
                    self.commit_one(SealedCommit::new(commit, &self.keys)?).await
                }

                async fn referral(&self, id: Uuid) -> Result<Option<Referral>, StoreError> {
                    let row: Option<ReferralRow> =
                        sqlx::query_as(&format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = $1"))
                            .bind(id.to_string())
                            .fetch_optional(&self.reader)
                            .await?;
                    row.map(|row| row.open(&self.keys)).transpose()
                }

                async fn history(&self, id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
                    let rows: Vec<EntryRow> = sqlx::query_as(
                        "SELECT referral_id, version, kind, actor, at, state, note FROM referral_events \
                         WHERE referral_id = $1 ORDER BY version",
                    )
                    .bind(id.to_string())
                    .fetch_all(&self.reader)
                    .await?;
                    rows.into_iter().map(|row| row.open(&self.keys)).collect()
                }

                async fn case_owner(&self, case_id: Uuid) -> Result<Option<MemberCode>, StoreError> {
                    let owner: Option<String> = sqlx::query_scalar("SELECT owner FROM cases WHERE id = $1")
                        .bind(case_id.to_string())
                        .fetch_optional(&self.reader)
                        .await?;
                    owner.map(|o| MemberCode::parse(&o).map_err(StoreError::Corrupt)).transpose()
                }

                async fn case_referrals(&self, case_id: Uuid) -> Result<Vec<Referral>, StoreError> {
                    let rows: Vec<ReferralRow> = sqlx::query_as(&format!(
                        "SELECT {REFERRAL_COLUMNS} FROM referrals WHERE case_id = $1 ORDER BY submitted_at, recipient"
                    ))
                    .bind(case_id.to_string())
                    .fetch_all(&self.reader)
                    .await?;
                    rows.into_iter().map(|row| row.open(&self.keys)).collect()
                }

                #[tracing::instrument(skip_all)]
                async fn list(&self, member: Option<&MemberCode>, query: &ListQuery) -> Result<Vec<Referral>, StoreError> {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE ("));
                    match (member, query.sent, query.received) {
                        (None, _, _) => q.push("1 = 1"),
                        (Some(member), true, false) => q.push("sender = ").push_bind(member.as_str()),
                        (Some(member), false, true) => q.push("recipient = ").push_bind(member.as_str()),
                        (Some(member), _, _) => {
                            q.push("sender = ").push_bind(member.as_str()).push(" OR recipient = ").push_bind(member.as_str())
                        }
                    };
                    q.push(")");
                    push_one_of(&mut q, "state", query.states.iter().map(|s| s.code()));
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
                    if let Some((at, id)) = query.after {
                        q.push(" AND (submitted_at < ")
                            .push_bind(micros(at))
                            .push(" OR (submitted_at = ")
                            .push_bind(micros(at))
                            .push(" AND id < ")
                            .push_bind(id.to_string())
                            .push("))");
                    }
                    q.push(" ORDER BY submitted_at DESC, id DESC LIMIT ").push_bind(i64::from(query.limit));
                    let rows: Vec<ReferralRow> = q.build_query_as().fetch_all(&self.reader).await?;
                    rows.into_iter().map(|row| row.open(&self.keys)).collect()
                }

                async fn inbox(&self, member: &MemberCode, after_seq: u64, limit: u32) -> Result<Vec<InboxEvent>, StoreError> {
                    let rows: Vec<InboxRow> = sqlx::query_as(
                        "SELECT member, seq, event_id, kind, referral_id, case_id, referral_kind, state, actor, at, note, \
                         urgent, green_channel, deadline_kind, due_on FROM inbox_events WHERE member = $1 AND seq > $2 \
                         ORDER BY seq LIMIT $3",
                    )
                    .bind(member.as_str())
                    .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                    rows.into_iter().map(|row| row.open(&self.keys)).collect()
                }

                async fn inbox_position(&self, member: &MemberCode) -> Result<InboxPosition, StoreError> {
                    let row: Option<(i64, i64)> = sqlx::query_as("SELECT acked_seq, last_seq FROM inbox_heads WHERE member = $1")
                        .bind(member.as_str())
                        .fetch_optional(&self.reader)
                        .await?;
                    Ok($crate::store::sql::position(row))
                }

                async fn inbox_positions(&self) -> Result<Vec<(MemberCode, InboxPosition)>, StoreError> {
                    let rows: Vec<(String, i64, i64)> =
                        sqlx::query_as("SELECT member, acked_seq, last_seq FROM inbox_heads ORDER BY member")
                            .fetch_all(&self.reader)
                            .await?;
                    rows.into_iter()
                        .map(|(member, acked, head)| {
                            let member = MemberCode::parse(&member).map_err(StoreError::Corrupt)?;
                            Ok((member, $crate::store::sql::position(Some((acked, head)))))
                        })
                        .collect()
                }

                async fn deadline_tally(
                    &self,
                    today: chrono::NaiveDate,
                    soon: chrono::NaiveDate,
                ) -> Result<Vec<$crate::store::DeadlineTally>, StoreError> {
                    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                        "SELECT kind, COUNT(*), \
                         COALESCE(SUM(CASE WHEN state = 'open' AND due_on >= $1 AND due_on <= $2 THEN 1 ELSE 0 END), 0), \
                         COALESCE(SUM(CASE WHEN due_on < $1 THEN 1 ELSE 0 END), 0) \
                         FROM deadlines WHERE pending = TRUE GROUP BY kind ORDER BY kind",
                    )
                    .bind(today.to_string())
                    .bind(soon.to_string())
                    .fetch_all(&self.reader)
                    .await?;
                    rows.into_iter()
                        .map(|(kind, open, due_soon, overdue)| {
                            let kind = $crate::domain::deadline::DeadlineKind::from_code(&kind)
                                .ok_or_else(|| StoreError::Corrupt(format!("deadline kind {kind}")))?;
                            let count = |n: i64| n.max(0) as u64;
                            Ok($crate::store::DeadlineTally {
                                kind,
                                open: count(open),
                                due_soon: count(due_soon),
                                overdue: count(overdue),
                            })
                        })
                        .collect()
                }

                async fn newest_checkpoint(&self) -> Result<Option<$crate::domain::audit::Checkpoint>, StoreError> {
                    let row: Option<(i64, String, i64, String)> = sqlx::query_as(
                        "SELECT seq, head, at, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
                    )
                    .fetch_optional(&self.reader)
                    .await?;
                    row.map(|(seq, head, at, signature)| {
                        Ok($crate::domain::audit::Checkpoint {
                            seq: seq.max(0) as u64,
                            head,
                            at: $crate::store::rows::from_micros(at)?,
                            signature,
                        })
                    })
                    .transpose()
                }

                async fn ack(&self, member: &MemberCode, seq: u64) -> Result<InboxPosition, StoreError> {
                    self.ack_one(member, seq).await
                }

                async fn deadlines(&self, referral_id: Uuid) -> Result<Vec<Deadline>, StoreError> {
                    let rows: Vec<DeadlineRow> =
                        sqlx::query_as(&format!("SELECT {DEADLINE_COLUMNS} FROM deadlines WHERE referral_id = $1 ORDER BY due_on"))
                            .bind(referral_id.to_string())
                            .fetch_all(&self.reader)
                            .await?;
                    rows.into_iter().map(Deadline::try_from).collect()
                }

                #[tracing::instrument(skip_all)]
                async fn list_deadlines(&self, query: &DeadlineQuery) -> Result<Vec<ListedDeadline>, StoreError> {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT referral_id, kind, case_id, responsible, runs_from, due_on, provisional, state, met_on, \
                         reminded, closed_on, referral_kind, urgent, green_channel FROM deadlines d WHERE 1 = 1",
                    );
                    if query.outstanding {
                        // Indexed in the order the office reads them.
                        q.push(" AND d.pending = TRUE");
                    }
                    push_one_of(&mut q, "d.state", query.states.iter().map(|s| s.code()));
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
                    q.push(" ORDER BY d.urgent DESC, d.green_channel DESC, d.due_on, d.referral_id, d.kind LIMIT ")
                        .push_bind(i64::from(query.limit));
                    let rows: Vec<ListedRow> = q.build_query_as().fetch_all(&self.reader).await?;
                    rows.into_iter().map(ListedDeadline::try_from).collect()
                }

                async fn close(&self) {
                    <$store>::close(self).await
                }

                fn epoch(&self) -> &str {
                    &self.epoch
                }

                fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
                    self.metrics.collectors()
                }

                async fn listen(
                    &self,
                    to: std::sync::Arc<dyn $crate::store::Announcements>,
                    stopping: tokio::sync::watch::Receiver<bool>,
                ) -> Result<(), StoreError> {
                    self.relay(to, stopping).await
                }

                async fn open_referral(
                    &self,
                    recipient: &MemberCode,
                    id_number: &$crate::domain::person::IdNumber,
                ) -> Result<Option<(Uuid, MemberCode)>, StoreError> {
                    let row: Option<(String, String)> = sqlx::query_as(
                        "SELECT id, sender FROM referrals WHERE recipient = $1 AND person_index = $2 \
                         AND state IN ('submitted', 'received', 'started', 'concluded')",
                    )
                    .bind(recipient.as_str())
                    .bind(self.keys.blind_index(id_number))
                    .fetch_optional(&self.reader)
                    .await?;
                    row.map(|(id, sender)| {
                        let id = Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(format!("uuid {id}: {e}")))?;
                        Ok((id, MemberCode::parse(&sender).map_err(StoreError::Corrupt)?))
                    })
                    .transpose()
                }

                #[tracing::instrument(skip(self))]
                async fn reseal(&self, limit: u32) -> Result<u64, StoreError> {
                    let active = self.keys.current().active().to_owned();
                    let rows: Vec<ReferralRow> = sqlx::query_as(&format!(
                        "SELECT {REFERRAL_COLUMNS} FROM referrals WHERE sealed_key IS NULL OR sealed_key <> $1 LIMIT $2"
                    ))
                    .bind(&active)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                    let mut resealed = 0;
                    for row in rows {
                        let was = row.sealed_key.clone();
                        let referral = row.open(&self.keys)?;
                        let sealed = $crate::store::sealed::SealedContent::new(&referral, &self.keys)?;
                        let statement = format!(
                            "UPDATE referrals SET content = $1, {} WHERE id = ${} AND sealed_key IS NOT DISTINCT FROM ${}",
                            $crate::store::sealed::sealed_assignments(2),
                            2 + $crate::store::sealed::SEALED_COLUMNS.len(),
                            3 + $crate::store::sealed::SEALED_COLUMNS.len(),
                        );
                        let update = sqlx::query(&statement).bind(&sealed.content);
                        let updated = $crate::store::sql::bind_sealed(update, &sealed)
                        .bind(referral.id.to_string())
                        .bind(was)
                        .execute(&self.writer)
                        .await?;
                        resealed += updated.rows_affected();
                    }
                    let requests: Vec<(String, String, Vec<u8>, Option<String>)> = sqlx::query_as(
                        "SELECT member, request_id, response, sealed_key FROM requests \
                         WHERE sealed_key IS NULL OR sealed_key <> $1 LIMIT $2",
                    )
                    .bind(&active)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                    for (member, request_id, response, was) in requests {
                        let plain = self.open_response(&member, &request_id, response)?;
                        let keyring = self.keys.current();
                        let (field, row) = $crate::store::sealed::response_field(&member, &request_id);
                        let sealed = $crate::keys::seal_bytes(&keyring, field, &row, &plain);
                        let updated = sqlx::query(
                            "UPDATE requests SET response = $1, sealed_key = $2 \
                             WHERE member = $3 AND request_id = $4 AND sealed_key IS NOT DISTINCT FROM $5",
                        )
                        .bind(sealed.as_bytes())
                        .bind(keyring.active())
                        .bind(&member)
                        .bind(&request_id)
                        .bind(was)
                        .execute(&self.writer)
                        .await?;
                        resealed += updated.rows_affected();
                    }
                    resealed += self.reseal_notes(&active, limit).await?;
                    Ok(resealed)
                }

                async fn key_usage(&self) -> Result<Vec<(Option<String>, u64)>, StoreError> {
                    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
                        "SELECT sealed_key, COUNT(*) FROM (SELECT sealed_key FROM referrals \
                         UNION ALL SELECT sealed_key FROM requests UNION ALL SELECT sealed_key FROM referral_events \
                         UNION ALL SELECT sealed_key FROM inbox_events) AS sealed GROUP BY sealed_key ORDER BY sealed_key",
                    )
                    .fetch_all(&self.reader)
                    .await?;
                    Ok(rows.into_iter().map(|(key, count)| (key, count.max(0) as u64)).collect())
                }

                async fn audit_log(
                    &self,
                    after_seq: u64,
                    limit: u32,
                ) -> Result<Vec<$crate::domain::audit::AuditEntry>, StoreError> {
                    let rows: Vec<$crate::store::rows::AuditRow> = sqlx::query_as(
                        "SELECT seq, at, actor, certificate, action, referrals, detail, prev_hash, hash FROM audit_log \
                         WHERE seq > $1 ORDER BY seq LIMIT $2",
                    )
                    .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                    rows.into_iter().map(TryFrom::try_from).collect()
                }

                async fn audit_checkpoints(&self) -> Result<Vec<$crate::domain::audit::Checkpoint>, StoreError> {
                    let rows: Vec<(i64, String, i64, String)> =
                        sqlx::query_as("SELECT seq, head, at, signature FROM audit_checkpoints ORDER BY seq")
                            .fetch_all(&self.reader)
                            .await?;
                    rows.into_iter()
                        .map(|(seq, head, at, signature)| {
                            Ok($crate::domain::audit::Checkpoint {
                                seq: seq.max(0) as u64,
                                head,
                                at: $crate::store::rows::from_micros(at)?,
                                signature,
                            })
                        })
                        .collect()
                }

                async fn audit_head(&self) -> Result<(u64, String), StoreError> {
                    let (seq, hash): (i64, String) =
                        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.reader).await?;
                    Ok((seq.max(0) as u64, hash))
                }

                async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
                    let rows: Vec<ScheduleRow> = sqlx::query_as(
                        "SELECT year, version, schedule, source, loaded_by, loaded_at FROM calendar_schedules s \
                         WHERE version = (SELECT MAX(version) FROM calendar_schedules WHERE year = s.year) ORDER BY year",
                    )
                    .fetch_all(&self.reader)
                    .await?;
                    rows.into_iter().map(ScheduleRecord::try_from).collect()
                }
            }

        };
    };
}

pub(crate) use sql_store;
