//! The SQL both backends share. Each backend (`sqlite`, `postgres`) opens its own pools
//! and then states `sql_store!(Store, Database)`, which implements [`Store`] over them:
//! one text for every query (with `$1`-style parameters, which SQLite reads too), so
//! the two cannot drift apart.
//!
//! The backend provides three inherent methods: `commit_one`, which runs a commit
//! through the shared `write` path in a transaction of its own making (SQLite groups
//! concurrent commits into one; PostgreSQL also announces new inbox events to other
//! replicas), `relay`, which forwards such announcements to this process's
//! subscribers, and `close`.
//!
//! [`Store`]: crate::store::Store

/// Makes the store's inbox epoch on first open; an existing one stays.
pub const INSERT_EPOCH: &str = "INSERT INTO hub_meta (id, epoch) VALUES (1, $1) ON CONFLICT (id) DO NOTHING";
/// Replaces the inbox epoch (a restore).
pub const NEW_EPOCH: &str = "UPDATE hub_meta SET epoch = $1 WHERE id = 1";
/// The inbox epoch.
pub const SELECT_EPOCH: &str = "SELECT epoch FROM hub_meta WHERE id = 1";

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

            mod write {
                // The one write path: everything a commit holds, in its
                // transaction, or nothing.

                use sqlx::Transaction;
                use uuid::Uuid;

                use $crate::{
                    domain::{deadline::Deadline, lifecycle::Notice, referral::Referral},
                    store::{
                        rows::micros,
                        sealed::{sealed_assignments, SealedChange, SealedCommit, SealedContent, SEALED_COLUMNS},
                        Change, DeadlineUpdate, Delivered, StoreError,
                    },
                };

                type Tx<'a> = Transaction<'a, $db>;
                type Query<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>;

                /// Binds a referral's sealed columns in the order of `SEALED_COLUMNS`.
                pub fn bind_sealed<'q>(query: Query<'q>, sealed: &'q SealedContent) -> Query<'q> {
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

                fn unique_violation(error: &sqlx::Error) -> bool {
                    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
                }

                /// Writes every part of `commit`; the caller commits the transaction.
                pub async fn commit(tx: &mut Tx<'_>, sealed: &SealedCommit) -> Result<Vec<Delivered>, StoreError> {
                    let commit = &sealed.commit;
                    if let (Some(request), Some(response)) = (&commit.request, &sealed.response) {
                        sqlx::query(
                            "INSERT INTO requests (member, request_id, fingerprint, response, at, sealed_key) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                            .bind(request.member.as_str())
                            .bind(request.request_id.as_str())
                            .bind(&request.fingerprint)
                            .bind(response.as_bytes())
                            .bind(micros(commit.at))
                            .bind(&sealed.key)
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| if unique_violation(&e) { StoreError::DuplicateRequest } else { e.into() })?;
                    }
                    if let Some((case_id, owner)) = &commit.new_case {
                        sqlx::query("INSERT INTO cases (id, owner, created_at) VALUES ($1, $2, $3)")
                            .bind(case_id.to_string())
                            .bind(owner.as_str())
                            .bind(micros(commit.at))
                            .execute(&mut **tx)
                            .await?;
                    }
                    if let Some(s) = &commit.schedule {
                        sqlx::query(
                            "INSERT INTO calendar_schedules (year, version, schedule, source, loaded_by, loaded_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(i64::from(s.year))
                        .bind(i64::from(s.version))
                        .bind(&s.schedule)
                        .bind(&s.source)
                        .bind(s.loaded_by.as_str())
                        .bind(micros(s.loaded_at))
                        .execute(&mut **tx)
                        .await
                        .map_err(|e| if unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
                    }
                    let mut notices = Vec::new();
                    for (change, written) in commit.changes.iter().zip(&sealed.changes) {
                        write_change(tx, change, written, &sealed.key).await?;
                        for deadline in &change.deadlines {
                            upsert_deadline(tx, deadline, &change.referral).await?;
                        }
                        notices.extend(change.notices.iter().zip(&written.notices));
                    }
                    for update in &commit.deadline_updates {
                        update_deadline(tx, update).await?;
                    }
                    notices.extend(commit.notices.iter().zip(&sealed.notices));
                    // Inbox heads are locked in one order, by member code, whatever order
                    // the request named its recipients in: two commits to the same
                    // members cannot wait on each other (each member's events keep
                    // their order; the sort is stable).
                    notices.sort_by(|(a, _), (b, _)| a.to.as_str().cmp(b.to.as_str()));
                    let mut delivered = Vec::with_capacity(notices.len());
                    for (notice, note) in notices {
                        delivered.push(deliver(tx, notice, note, &sealed.key).await?);
                    }
                    for record in &commit.audit {
                        append_audit(tx, record, commit.at).await?;
                    }
                    if let Some(c) = &commit.checkpoint {
                        sqlx::query("INSERT INTO audit_checkpoints (seq, head, at, signature) VALUES ($1, $2, $3, $4)")
                            .bind(i64::try_from(c.seq).unwrap_or(i64::MAX))
                            .bind(&c.head)
                            .bind(micros(c.at))
                            .bind(&c.signature)
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| if unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
                    }
                    Ok(delivered)
                }

                /// Appends a record to the audit chain, holding the head row's lock until
                /// the transaction ends, so that entries of concurrent commits (of any
                /// hub) are numbered and chained one after the other.
                async fn append_audit(
                    tx: &mut Tx<'_>,
                    record: &$crate::domain::audit::AuditRecord,
                    at: chrono::DateTime<chrono::Utc>,
                ) -> Result<(), StoreError> {
                    use $crate::domain::audit::{chain_hash, hex, parse_hex};
                    let (seq, prev): (i64, String) =
                        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                            .fetch_one(&mut **tx)
                            .await?;
                    let prev = parse_hex(&prev).ok_or_else(|| StoreError::Corrupt(format!("audit head hash {prev:?}")))?;
                    let hash = chain_hash(&prev, seq as u64, at, record);
                    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(hex(&hash)).execute(&mut **tx).await?;
                    let referrals: Vec<String> = record.referrals.iter().map(Uuid::to_string).collect();
                    sqlx::query(
                        "INSERT INTO audit_log (seq, at, actor, certificate, action, referrals, detail, prev_hash, hash) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(seq)
                    .bind(micros(at))
                    .bind(record.actor.as_str())
                    .bind(&record.certificate)
                    .bind(&record.action)
                    .bind(referrals.join(","))
                    .bind(&record.detail)
                    .bind(hex(&prev))
                    .bind(hex(&hash))
                    .execute(&mut **tx)
                    .await?;
                    Ok(())
                }

                async fn write_change(
                    tx: &mut Tx<'_>,
                    change: &Change,
                    written: &SealedChange,
                    key: &str,
                ) -> Result<(), StoreError> {
                    let r = &change.referral;
                    match change.expected_version {
                        None => {
                            let placeholders: Vec<String> = (1..=13 + SEALED_COLUMNS.len()).map(|n| format!("${n}")).collect();
                            let statement = format!(
                                "INSERT INTO referrals (id, case_id, kind, state, sender, recipient, urgent, green_channel, \
                                 content, submitted_at, updated_at, started_at, version, {}) VALUES ({})",
                                SEALED_COLUMNS.join(", "),
                                placeholders.join(", "),
                            );
                            let insert = sqlx::query(&statement)
                                .bind(r.id.to_string())
                                .bind(r.case_id.to_string())
                                .bind(r.kind.code())
                                .bind(r.state.code())
                                .bind(r.sender.as_str())
                                .bind(r.recipient.as_str())
                                .bind(r.content.urgent)
                                .bind(r.content.green_channel())
                                .bind(&written.referral.content)
                                .bind(micros(r.submitted_at))
                                .bind(micros(r.updated_at))
                                .bind(r.started_at.map(micros))
                                .bind(i64::from(r.version));
                            bind_sealed(insert, &written.referral).execute(&mut **tx).await.map_err(|e| {
                                if unique_violation(&e) { StoreError::OpenReferral(r.recipient.clone()) } else { e.into() }
                            })?;
                        }
                        Some(expected) => {
                            // Everything sealed is written again, under one key, so that
                            // the row's `sealed_key` names the key of all its fields.
                            let statement = format!(
                                "UPDATE referrals SET state = $1, updated_at = $2, started_at = $3, version = $4, content = $5, \
                                 {} WHERE id = ${} AND version = ${}",
                                sealed_assignments(6),
                                6 + SEALED_COLUMNS.len(),
                                7 + SEALED_COLUMNS.len(),
                            );
                            let update = sqlx::query(&statement)
                                .bind(r.state.code())
                                .bind(micros(r.updated_at))
                                .bind(r.started_at.map(micros))
                                .bind(i64::from(r.version))
                                .bind(&written.referral.content);
                            let updated = bind_sealed(update, &written.referral)
                                .bind(r.id.to_string())
                                .bind(i64::from(expected))
                                .execute(&mut **tx)
                                .await?;
                            if updated.rows_affected() != 1 {
                                return Err(StoreError::Conflict);
                            }
                        }
                    }
                    for (entry, note) in change.entries.iter().zip(&written.entries) {
                        sqlx::query(
                            "INSERT INTO referral_events (referral_id, version, kind, actor, at, state, note, sealed_key) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(entry.referral_id.to_string())
                        .bind(i64::from(entry.version))
                        .bind(entry.kind.code())
                        .bind(entry.actor.as_str())
                        .bind(micros(entry.at))
                        .bind(entry.state.code())
                        .bind(note)
                        .bind(key)
                        .execute(&mut **tx)
                        .await?;
                    }
                    Ok(())
                }

                async fn upsert_deadline(tx: &mut Tx<'_>, d: &Deadline, referral: &Referral) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO deadlines (referral_id, kind, case_id, responsible, runs_from, due_on, provisional, state, \
                         met_on, reminded, referral_kind, urgent, green_channel, closed_on) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                         ON CONFLICT (referral_id, kind) DO UPDATE SET responsible = excluded.responsible, \
                         runs_from = excluded.runs_from, due_on = excluded.due_on, provisional = excluded.provisional, \
                         state = excluded.state, met_on = excluded.met_on, reminded = excluded.reminded, \
                         closed_on = excluded.closed_on",
                    )
                    .bind(d.referral_id.to_string())
                    .bind(d.kind.code())
                    .bind(d.case_id.to_string())
                    .bind(d.responsible.as_str())
                    .bind(d.trigger.to_string())
                    .bind(d.due.to_string())
                    .bind(d.provisional)
                    .bind(d.state.code())
                    .bind(d.met_on.map(|m| m.to_string()))
                    .bind(d.reminded)
                    .bind(referral.kind.code())
                    .bind(referral.content.urgent)
                    .bind(referral.content.green_channel())
                    .bind(d.closed_on.map(|c| c.to_string()))
                    .execute(&mut **tx)
                    .await?;
                    Ok(())
                }

                /// Changes a deadline only if it is still as it was read.
                async fn update_deadline(tx: &mut Tx<'_>, update: &DeadlineUpdate) -> Result<(), StoreError> {
                    let (d, was) = (&update.deadline, &update.was);
                    let updated = sqlx::query(
                        "UPDATE deadlines SET due_on = $1, provisional = $2, state = $3, met_on = $4, reminded = $5 \
                         WHERE referral_id = $6 AND kind = $7 AND due_on = $8 AND state = $9 AND reminded = $10 \
                         AND closed_on IS NULL",
                    )
                    .bind(d.due.to_string())
                    .bind(d.provisional)
                    .bind(d.state.code())
                    .bind(d.met_on.map(|m| m.to_string()))
                    .bind(d.reminded)
                    .bind(d.referral_id.to_string())
                    .bind(d.kind.code())
                    .bind(was.due.to_string())
                    .bind(was.state.code())
                    .bind(was.reminded)
                    .execute(&mut **tx)
                    .await?;
                    if updated.rows_affected() == 1 {
                        Ok(())
                    } else {
                        Err(StoreError::Conflict)
                    }
                }

                /// Appends a notice to its member's inbox at the next sequence number.
                async fn deliver(
                    tx: &mut Tx<'_>,
                    notice: &Notice,
                    (event_id, note): &(Uuid, String),
                    key: &str,
                ) -> Result<Delivered, StoreError> {
                    let seq: i64 = sqlx::query_scalar(
                        "INSERT INTO inbox_heads (member, last_seq, acked_seq) VALUES ($1, 1, 0) \
                         ON CONFLICT (member) DO UPDATE SET last_seq = inbox_heads.last_seq + 1 RETURNING last_seq",
                    )
                    .bind(notice.to.as_str())
                    .fetch_one(&mut **tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO inbox_events (member, seq, event_id, kind, referral_id, case_id, referral_kind, state, \
                         actor, at, note, urgent, green_channel, deadline_kind, due_on, sealed_key) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                    )
                    .bind(notice.to.as_str())
                    .bind(seq)
                    .bind(event_id.to_string())
                    .bind(notice.kind.code())
                    .bind(notice.referral_id.to_string())
                    .bind(notice.case_id.to_string())
                    .bind(notice.referral_kind.code())
                    .bind(notice.state.code())
                    .bind(notice.actor.as_str())
                    .bind(micros(notice.at))
                    .bind(note)
                    .bind(notice.urgent)
                    .bind(notice.green_channel)
                    .bind(notice.deadline.map(|(kind, _)| kind.code()))
                    .bind(notice.deadline.map(|(_, due)| due.to_string()))
                    .bind(key)
                    .execute(&mut **tx)
                    .await?;
                    Ok(Delivered { member: notice.to.clone(), seq: seq as u64 })
                }
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

                /// Writes every part of `commit` in `tx`; the caller commits it.
                pub(crate) async fn write(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    commit: &SealedCommit,
                ) -> Result<Vec<Delivered>, StoreError> {
                    write::commit(tx, commit).await
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
                    let row: Option<(i64, i64)> = sqlx::query_as(
                        "UPDATE inbox_heads SET acked_seq = CASE WHEN $1 > last_seq THEN last_seq WHEN $1 > acked_seq THEN $1 \
                         ELSE acked_seq END WHERE member = $2 RETURNING acked_seq, last_seq",
                    )
                    .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                    .bind(member.as_str())
                    .fetch_optional(&self.writer)
                    .await?;
                    Ok($crate::store::sql::position(row))
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
                        let updated = write::bind_sealed(update, &sealed)
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
