//! 督办 — the office's 督办函 to a member's leader in charge, listing the member's
//! overdue deadlines: the step of the ladder after 催办. Numbered in the office's own
//! series, written once with the letter template in force and stored sealed (every
//! download returns those bytes, its SHA-256 in the audit entry of the act), told to
//! the member and kept in the office's own inbox (期限动态). The office sees no person:
//! the letter names each referral by its document number and case reference only.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    coordination::with_chases,
    identity, materials,
    written::{Body, Document},
    Actor, Answer, AppError, Hub, Plan, Recorded, RequestKey,
};
use crate::{
    documents::docx,
    domain::{
        date::{local_date, local_time},
        deadline::DeadlineKind,
        hex,
        id::new_id,
        letter::DocumentNumber,
        lifecycle::Notice,
        person::text,
        supervision::{self, Overdue},
        DomainError, FieldViolation, MemberCode, Role, Rule,
    },
    store::{Commit, DeadlineQuery, Opening, StoreError, SupervisionRecord},
};

/// The most overdue deadlines one 督办函 lists (the oldest first); a member with more
/// is sent another.
pub const MAX_ITEMS: u32 = 100;
/// The longest note the office adds to a 督办函.
pub const MAX_NOTE: usize = 2_000;
/// The most 督办函 one list returns.
pub const MAX_LIST: u32 = 500;

/// A 督办函 as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervision {
    pub id: Uuid,
    pub member: MemberCode,
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub clerk: String,
    /// The deadlines it listed, in its order.
    pub items: Vec<(Uuid, DeadlineKind)>,
    pub file_name: String,
    pub sha256: [u8; 32],
}

impl Answer for Supervision {
    fn record(&self) -> Recorded {
        Recorded { attachment: Some(self.id), ..Recorded::default() }
    }

    async fn rebuild(hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        let id = record.attachment.ok_or_else(|| AppError::Store(StoreError::Corrupt("a 督办函's record".into())))?;
        let found = hub.store.supervisions(None, Some(id), 1).await?;
        Ok(described(hub, found).await?.pop().ok_or_else(|| AppError::NotFound(format!("督办函 {id}")))?.0)
    }
}

/// `records` with their files' names and digests, each with its stored file's id.
async fn described(hub: &Hub, records: Vec<SupervisionRecord>) -> Result<Vec<(Supervision, Uuid)>, AppError> {
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let file = hub
            .store
            .attachment(r.attachment_id)
            .await?
            .ok_or_else(|| AppError::Store(StoreError::Corrupt(format!("the file of 督办函 {}", r.number))))?;
        out.push((
            Supervision {
                id: r.id,
                member: r.member,
                number: r.number,
                issued_at: r.issued_at,
                clerk: r.clerk,
                items: r.items,
                file_name: file.attachment.name,
                sha256: file.attachment.sha256,
            },
            r.attachment_id,
        ));
    }
    Ok(out)
}

/// The member a 督办函 goes to, from field `member`: a member of the directory.
fn addressee(hub: &Hub, raw: &str) -> Result<MemberCode, AppError> {
    let invalid = |rule| AppError::Domain(FieldViolation::new("member", rule).into());
    let code = MemberCode::parse(raw.trim()).map_err(invalid)?;
    if hub.directory.now().get(&code).is_none() {
        return Err(invalid(Rule::NotAMember));
    }
    Ok(code)
}

/// Issues a 督办函 to `member`'s leader in charge, once per request id, listing the
/// member's statutory deadlines past their day and still waiting for its act (at most
/// [`MAX_ITEMS`], the oldest first), with the office's `note`.
pub async fn supervise(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    member: &str,
    note: &str,
) -> Result<Supervision, AppError> {
    identity::role(&actor.caller, Role::Office)?;
    let member = addressee(hub, member)?;
    let note = text("note", note, 0, MAX_NOTE).map_err(|v| AppError::Domain(v.into()))?;
    let (member, note) = (&member, &note);
    hub.once(actor, "Supervise", key, move || {
        Box::pin(async move {
            let now = hub.clock.now();
            let today = local_date(now);
            let calendar = hub.calendar();
            let query = DeadlineQuery {
                responsible: Some(member.clone()),
                outstanding: true,
                running: true,
                due_to: today.pred_opt(),
                limit: MAX_ITEMS,
                ..DeadlineQuery::default()
            };
            let mut overdue: Vec<_> = hub.store.list_deadlines(&query).await?;
            overdue.retain(|l| l.deadline.kind.is_statutory());
            if overdue.is_empty() {
                return Err(DomainError::from(FieldViolation::new("member", Rule::NothingOverdue)).into());
            }
            let overdue = with_chases(hub, overdue).await?;
            let mut ids: Vec<Uuid> = overdue.iter().map(|l| l.deadline.referral_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let numbers = hub.store.document_numbers(&ids).await?;
            // Read once, opening only what a list shows: the letter needs no person.
            let referrals = hub.store.referrals(&ids, Opening::Listed).await?;
            let mut found = Vec::with_capacity(overdue.len());
            for listed in overdue {
                let id = listed.deadline.referral_id;
                let referral = referrals.iter().find(|r| r.id == id);
                let referral = referral.cloned().ok_or_else(|| AppError::NotFound(format!("referral {id}")))?;
                found.push((listed, referral));
            }
            let number_of = |id: Uuid| numbers.iter().find(|(of, _)| *of == id).map(|(_, n)| n);
            // The oldest first: by due day, then as they were sent (by their numbers).
            found.sort_by_key(|(l, r)| (l.deadline.due, r.submitted_at, number_of(r.id).map(|n| n.seq), r.id));
            let items: Vec<Overdue> = found
                .iter()
                .map(|(listed, referral)| {
                    let d = &listed.deadline;
                    Overdue {
                        referral_kind: referral.kind,
                        sender: referral.sender.clone(),
                        submitted_on: local_date(referral.submitted_at),
                        number: number_of(d.referral_id).map(|n| n.text()).unwrap_or_default(),
                        case_reference: referral.content.case_reference.clone(),
                        kind: d.kind,
                        due: d.due,
                        working_days_late: d.working_days_late(today, &calendar),
                        chased: listed.chased.and_then(|c| c.reminded).map_or(0, |(times, _)| times),
                    }
                })
                .collect();
            let office = MemberCode::office();
            let directory = hub.directory.now();
            let year = chrono::Datelike::year(&today);
            let mut held = hub.materials.numbers.hold();
            let seq = hub.materials.numbers.take(hub.store.as_ref(), now, &mut held, &office, year).await?;
            let prefix = hub.materials.prefix(&office, &directory);
            let number = DocumentNumber { sender: office.clone(), year, seq, prefix }.text();
            let issuer = directory.office_name();
            let short = directory.get(member).map_or_else(|| member.to_string(), |m| m.short_name.clone());
            let letter = supervision::compose(member, &items, note, (&issuer, &number, today), &directory);
            let template = hub.materials.template();
            let bytes = docx::render(template.as_deref().map(Vec::as_slice), &letter, local_time(now))?;
            let name = format!("{number}-督办函-{short}.docx");
            let upload = materials::sealed(hub, &office, name, &bytes, now)?;
            let record = SupervisionRecord {
                id: new_id(now),
                member: member.clone(),
                year,
                seq,
                number: number.clone(),
                attachment_id: upload.attachment.id,
                issued_at: now,
                clerk: actor.clerk().to_owned(),
                items: found.iter().map(|(l, _)| (l.deadline.referral_id, l.deadline.kind)).collect(),
            };
            let told = format!("{number}，致{short}（{}件逾期事项）", items.len());
            let notice = Notice::for_supervision(member, now, told, actor.clerk());
            // A copy for the office's own record of what it pressed (期限动态).
            let copy = Notice { to: office, ..notice.clone() };
            let detail = format!(
                "supervision {} {number} to {member}: {} deadlines; sha256 {}",
                record.id,
                record.items.len(),
                hex::lower(&upload.attachment.sha256)
            );
            let answer = Supervision {
                id: record.id,
                member: member.clone(),
                number,
                issued_at: now,
                clerk: record.clerk.clone(),
                items: record.items.clone(),
                file_name: upload.attachment.name.clone(),
                sha256: upload.attachment.sha256,
            };
            let commit = Commit {
                uploads: vec![upload],
                supervision: Some(record),
                notices: vec![notice, copy],
                ..Commit::default()
            };
            Ok(Plan { detail, numbers: Some(held), ..Plan::new(commit, answer) })
        })
    })
    .await
}

/// The 督办函 issued, newest first (at most `limit`, and [`MAX_LIST`]): the office's to
/// `to` or to every member; a member's own, whatever it asks.
pub async fn supervisions(
    hub: &Hub,
    actor: &Actor,
    to: Option<&str>,
    limit: u32,
) -> Result<Vec<Supervision>, AppError> {
    identity::reader(&actor.caller)?;
    let to = match actor.caller.role {
        Role::Office => to.filter(|raw| !raw.trim().is_empty()).map(|raw| addressee(hub, raw)).transpose()?,
        _ => Some(actor.caller.code.clone()),
    };
    let found = hub.store.supervisions(to.as_ref(), None, limit.min(MAX_LIST)).await?;
    Ok(described(hub, found).await?.into_iter().map(|(s, _)| s).collect())
}

/// A 督办函 as DOCX, exactly as issued, for the office and the member it went to;
/// audited as a read with its digest.
pub async fn letter(hub: &Hub, actor: &Actor, id: Uuid) -> Result<Document, AppError> {
    identity::reader(&actor.caller)?;
    let not_found = || AppError::NotFound(format!("督办函 {id}"));
    let found = hub.store.supervisions(None, Some(id), 1).await?;
    let (supervision, file_id) = described(hub, found).await?.pop().ok_or_else(not_found)?;
    if actor.caller.role != Role::Office && actor.caller.code != supervision.member {
        // Another member's 督办函 is as unknown to it as one never issued.
        return Err(not_found());
    }
    let file = hub.store.attachment(file_id).await?.ok_or_else(not_found)?;
    let detail = format!("supervision {id} {} sha256 {}", supervision.number, hex::lower(&supervision.sha256));
    hub.audit(&actor.caller.code, &actor.certificate.serial, "SupervisionLetter", Vec::new(), &detail).await?;
    Ok(Document { file_name: supervision.file_name, body: Body::Bytes(materials::whole(hub, file).await?) })
}
