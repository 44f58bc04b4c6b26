//! Referrals: submitting them, each act of their life cycle, and reading them, as the
//! parties and the office may.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::{identity, materials, written, Actor, Answer, AppError, Hub, Plan, Recorded, RequestKey};
use crate::domain::Rule;
use crate::{
    domain::{
        audit::AuditEntry,
        awaited::Awaited,
        case::CaseState,
        deadline,
        draft::MAX_NOTE,
        error::Violations,
        extension::Extension,
        history::{EntryKind, HistoryEntry},
        id::new_id,
        lifecycle::{self, Action},
        material::{self, Carried},
        period::{Period, Shape},
        person::{text, Person},
        referral::{Content, Referral, ReferralKind, Submission},
        view::{Seen, View},
        visit::VisitRecord,
        MemberCode, Role,
    },
    store::{CaseReferral, Change, Chase, Commit, Filter, ListQuery, ListedDeadline, Opening, StoreError},
};

/// What a submit asks for: referrals of one kind and content to each recipient, in a
/// new case or in one of the sender's.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: ReferralKind,
    pub content: Content,
    pub recipients: Vec<MemberCode>,
    pub case_id: Option<Uuid>,
    /// Files uploaded beforehand that every referral of the submit carries.
    pub attachments: Vec<Uuid>,
    /// What the sender tells the recipients beside the content (why a returned
    /// referral is sent on); usually empty.
    pub note: String,
}

/// The referrals a submit made: as the hub keeps them while it writes, as the sender
/// sees them once answered (`Submitted<Seen>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted<P = Person> {
    pub case_id: Uuid,
    pub referrals: Vec<Referral<P>>,
}

impl Answer for Submitted {
    fn record(&self) -> Recorded {
        Recorded {
            case: Some(self.case_id),
            referrals: self.referrals.iter().map(|r| r.id).collect(),
            versions: self.referrals.iter().map(|r| r.version).collect(),
            ..Recorded::default()
        }
    }

    async fn rebuild(hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        let mut referrals = Vec::with_capacity(record.referrals.len());
        for (id, version) in record.referrals.iter().zip(&record.versions) {
            referrals.push(answered(hub, *id, *version).await?);
        }
        Ok(Submitted { case_id: record.case.unwrap_or_default(), referrals })
    }
}

impl Answer for Referral {
    fn record(&self) -> Recorded {
        Recorded { referrals: vec![self.id], versions: vec![self.version], ..Recorded::default() }
    }

    async fn rebuild(hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        let (Some(&id), Some(&version)) = (record.referrals.first(), record.versions.first()) else {
            return Err(AppError::Store(StoreError::Corrupt("an act's record".into())));
        };
        answered(hub, id, version).await
    }
}

/// Referral `id` as an answer showed it, at `version`.
async fn answered(hub: &Hub, id: Uuid, version: u32) -> Result<Referral, AppError> {
    let now = hub.store.referral(id).await?.ok_or_else(|| AppError::NotFound(format!("referral {id}")))?;
    if now.version == version {
        return Ok(now);
    }
    let history = hub.store.history(&[id], Opening::Whole).await?;
    Ok(lifecycle::as_of(&now, &history, version))
}

/// The referral, if the caller is a party to it or the office; anyone else is told it
/// does not exist.
pub(super) async fn visible(hub: &Hub, actor: &Actor, id: Uuid) -> Result<Referral, AppError> {
    match hub.store.referral(id).await? {
        Some(r) if r.is_party(&actor.caller.code) || actor.caller.role == Role::Office => Ok(r),
        _ => Err(AppError::NotFound(format!("referral {id}"))),
    }
}

/// Submits a draft (社会救助移送 or 司法救助线索) to its recipients, once per request id.
pub async fn submit(hub: &Hub, actor: &Actor, key: &RequestKey, draft: Draft) -> Result<Submitted<Seen>, AppError> {
    identity::member(&actor.caller)?;
    let caller = &actor.caller;
    let submission = {
        let directory = hub.directory.now();
        let checked = Submission::check(caller, draft.kind, draft.content, draft.recipients, &directory)?;
        Submission { note: draft.note, ..checked }
    };
    let existing_case = match draft.case_id {
        None => None,
        Some(case_id) => match hub.store.case_owner(case_id).await? {
            Some(owner) if owner == caller.code => Some(case_id),
            _ => return Err(AppError::NotFound(format!("case {case_id}"))),
        },
    };
    let files = materials::uploaded(hub, &draft.attachments).await?;
    material::check_additions(&[], &files, &caller.code, &hub.materials.limits)?;
    let (submission, files) = (&submission, &files);
    // One open referral per person and recipient: the store's unique index refuses a
    // second one as it is written, so a submit reads nothing first; only a refusal
    // looks up the open referral, to name it to its sender.
    let submitted = hub
        .once(actor, "Submit", key, move || {
            Box::pin(async move {
                let now = hub.clock.now();
                let case_id = existing_case.unwrap_or_else(|| new_id(now));
                let ids: Vec<Uuid> = submission.recipients.iter().map(|_| new_id(now)).collect();
                let made: Vec<_> = lifecycle::submit(submission, caller, case_id, &ids, now)
                    .into_iter()
                    .map(|t| t.by_clerk(actor.clerk()))
                    .collect();
                let answer = Submitted { case_id, referrals: made.iter().map(|t| t.referral.clone()).collect() };
                let calendar = hub.calendar();
                let changes = made
                    .into_iter()
                    .map(|t| Change {
                        deadlines: deadline::on_submit(&t.referral, &calendar, &hub.policy),
                        expected_version: None,
                        referral: t.referral,
                        entries: t.entries,
                        notices: t.notices,
                    })
                    .collect();
                let new_case = existing_case.is_none().then(|| (case_id, caller.code.clone()));
                let links = materials::links(files, &ids, 1, &caller.code);
                let letters = written::issue(hub, actor, &answer.referrals, files).await?;
                let commit = Commit {
                    new_case,
                    changes,
                    links,
                    numbering: letters.numbering,
                    uploads: letters.uploads,
                    letters: letters.letters,
                    ..Commit::default()
                };
                let detail = [materials::detail(files), letters.detail].into_iter().filter(|d| !d.is_empty());
                let detail = detail.collect::<Vec<_>>().join("; ");
                Ok(Plan { detail, numbers: letters.held, ..Plan::new(commit, answer) })
            })
        })
        .await;
    let submitted = match submitted {
        Err(AppError::Store(StoreError::OpenReferral(recipient))) => {
            let open = hub.store.open_referral(&recipient, &submission.content.person.id_number).await?;
            let existing = open.and_then(|(id, sender)| (sender == caller.code).then_some(id));
            return Err(AppError::OpenReferral { recipient, existing });
        }
        submitted => submitted?,
    };
    tracing::info!(case = %submitted.case_id, referrals = submitted.referrals.len(), urgent = submission.content.urgent, "submitted");
    let view = View::of(caller.role);
    Ok(Submitted {
        case_id: submitted.case_id,
        referrals: submitted.referrals.into_iter().map(|r| view.referral(r)).collect(),
    })
}

/// The name of an act in the audit log.
pub fn method(action: &Action) -> &'static str {
    match action {
        Action::Receive => "Receive",
        Action::Start => "Start",
        Action::Conclude { .. } => "Conclude",
        Action::Feedback(_) => "Feedback",
        Action::Return(_) => "Return",
        Action::Withdraw(_) => "Withdraw",
        Action::Comment(_) => "Comment",
        Action::AskMaterials(_) => "AskMaterials",
        Action::Visit { .. } => "Visit",
    }
}

/// Applies one life-cycle act to referral `id`, once per request id.
pub async fn act(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    id: Uuid,
    action: Action,
) -> Result<Referral<Seen>, AppError> {
    act_with(hub, actor, key, id, action, &[]).await
}

/// Applies one life-cycle act to referral `id` with files uploaded beforehand (only a
/// comment carries files), once per request id.
pub async fn act_with(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    id: Uuid,
    action: Action,
    attachments: &[Uuid],
) -> Result<Referral<Seen>, AppError> {
    identity::member(&actor.caller)?;
    if !attachments.is_empty() && !matches!(action, Action::Comment(_)) {
        return Err(AppError::invalid("attachments", Rule::FilesWithActs));
    }
    let files = &materials::uploaded(hub, attachments).await?;
    let action = &action;
    hub.once(actor, method(action), key, move || {
        Box::pin(async move {
            let current = visible(hub, actor, id).await?;
            let now = hub.clock.now();
            let t = lifecycle::apply(&current, &actor.caller, action.clone(), now)?.by_clerk(actor.clerk());
            let existing = hub.store.deadlines(&[id]).await?;
            let acts: Vec<EntryKind> = t.entries.iter().map(|e| e.kind).collect();
            let calendar = hub.calendar();
            let deadlines =
                deadline::on_act(&t.referral, &acts, &actor.caller.code, &existing, &calendar, &hub.policy, now);
            let answer = t.referral.clone();
            let links = if files.is_empty() {
                Vec::new()
            } else {
                let carried = hub.store.carried(&[id]).await?;
                material::check_additions(&carried, files, &actor.caller.code, &hub.materials.limits)?;
                materials::links(files, &[id], t.referral.version, &actor.caller.code)
            };
            let change = Change {
                expected_version: Some(current.version),
                referral: t.referral,
                entries: t.entries,
                notices: t.notices,
                deadlines,
            };
            let visits = match action {
                Action::Visit { visit, .. } => vec![VisitRecord {
                    referral_id: id,
                    version: change.referral.version,
                    by: actor.caller.code.clone(),
                    at: now,
                    visit: visit.clone(),
                }],
                _ => Vec::new(),
            };
            let commit = Commit { changes: vec![change], links, visits, ..Commit::default() };
            Ok(Plan { detail: materials::detail(files), ..Plan::new(commit, answer) })
        })
    })
    .await
    .map(|r: Referral| View::of(actor.caller.role).referral(r))
}

/// A referral as one reader sees it, with its history and deadlines.
#[derive(Debug, Clone)]
pub struct Shown {
    pub referral: Referral<Seen>,
    /// Its history, each note as the reader may read it.
    pub history: Vec<HistoryEntry>,
    pub deadlines: Vec<ListedDeadline>,
    /// The files it carries, as the reader sees them.
    pub files: Vec<Carried>,
    /// Its follow-up visits, in the order made (what each found is its history
    /// entry's note).
    pub visits: Vec<VisitRecord>,
    /// The requests to extend its deadlines (延期), and the office's answers.
    pub extensions: Vec<Extension>,
    pub view: View,
}

/// Reads a referral (the parties in full, the office masked); audited.
pub async fn get(hub: &Hub, actor: &Actor, id: Uuid) -> Result<Shown, AppError> {
    identity::reader(&actor.caller)?;
    let referral = visible(hub, actor, id).await?;
    hub.audit_read(actor, "Get", vec![id]).await?;
    let view = View::of(actor.caller.role);
    let history = hub.store.history(&[id], Opening::Whole).await?.into_iter().map(|e| view.entry(e)).collect();
    let deadlines = hub
        .store
        .deadlines(&[id])
        .await?
        .into_iter()
        .map(|deadline| ListedDeadline {
            deadline,
            referral_kind: referral.kind,
            urgent: referral.content.urgent,
            green_channel: referral.content.green_channel(),
            chased: None,
        })
        .collect::<Vec<_>>();
    let deadlines = super::coordination::with_chases(hub, deadlines).await?;
    let files = materials::shown(hub.store.carried(&[id]).await?, view);
    let visits = hub.store.visits(&[id]).await?;
    let extensions = hub.store.extensions((&[id], None), false, super::extensions::MAX_LIST).await?;
    Ok(Shown { referral: view.referral(referral), history, deadlines, files, visits, extensions, view })
}

/// A read or an act of a referral, and the clerk (经办人) who made it.
#[derive(Debug, Clone)]
pub struct Access {
    pub entry: AuditEntry,
    /// The clerk whose certificate it was made with; none for a unit's own system
    /// certificate (or one the hub's authority did not issue).
    pub clerk: Option<String>,
}

/// Who has read or acted on referral `id` (访问记录), from the audit log, oldest first:
/// for its two parties alone; audited as a read.
pub async fn access(hub: &Hub, actor: &Actor, id: Uuid) -> Result<Vec<Access>, AppError> {
    identity::member(&actor.caller)?;
    let referral = visible(hub, actor, id).await?;
    if !referral.is_party(&actor.caller.code) {
        return Err(AppError::NotFound(format!("referral {id}")));
    }
    hub.audit_read(actor, "Access", vec![id]).await?;
    let clerks = super::certificates::clerks(hub)?;
    let entries = hub.store.audit_of(id).await?;
    Ok(entries
        .into_iter()
        .map(|entry| Access { clerk: clerks.get(&entry.record.certificate).cloned(), entry })
        .collect())
}

/// A page of referrals, and whether more follow.
#[derive(Debug, Clone)]
pub struct Listed {
    pub referrals: Vec<Referral<Seen>>,
    pub more: bool,
    pub view: View,
}

/// The referrals the caller sent or received (every member's, masked, for the
/// office), newest first, `query.limit` at most; audited.
pub async fn list(hub: &Hub, actor: &Actor, mut query: ListQuery) -> Result<Listed, AppError> {
    identity::reader(&actor.caller)?;
    let view = View::of(actor.caller.role);
    // The office sees no person: it finds referrals by case reference, not by name.
    query.by_case_only = view != View::Full;
    let limit = query.limit as usize;
    query.limit += 1;
    let party = (view == View::Full).then_some(&actor.caller.code);
    let mut referrals = hub.store.list(party, &query).await?;
    let more = referrals.len() > limit;
    referrals.truncate(limit);
    if !referrals.is_empty() {
        hub.audit_read(actor, "List", referrals.iter().map(|r| r.id).collect()).await?;
    }
    Ok(Listed { referrals: referrals.into_iter().map(|r| view.referral(r)).collect(), more, view })
}

/// A case (1+N): its referrals the caller may see, and where it stands.
#[derive(Debug, Clone)]
pub struct Case {
    pub case_id: Uuid,
    pub referrals: Vec<Referral<Seen>>,
    pub state: CaseState,
    pub view: View,
}

/// Reads a case: a party sees its own referrals in it, the office all, masked; audited.
pub async fn case(hub: &Hub, actor: &Actor, case_id: Uuid) -> Result<Case, AppError> {
    identity::reader(&actor.caller)?;
    let view = View::of(actor.caller.role);
    let referrals: Vec<Referral> = hub
        .store
        .case_referrals(case_id)
        .await?
        .into_iter()
        .filter(|r| view == View::Masked || r.is_party(&actor.caller.code))
        .collect();
    if referrals.is_empty() {
        return Err(AppError::NotFound(format!("case {case_id}")));
    }
    hub.audit_read(actor, "GetCase", referrals.iter().map(|r| r.id).collect()).await?;
    let state = CaseState::of(referrals.iter().map(|r| r.state));
    Ok(Case { case_id, referrals: referrals.into_iter().map(|r| view.referral(r)).collect(), state, view })
}

/// Who took part in case `case_id` (1+N) and where each referral stands, without the
/// person: for any party to one of its referrals, and the office.
pub async fn case_members(hub: &Hub, actor: &Actor, case_id: Uuid) -> Result<Vec<CaseReferral>, AppError> {
    identity::reader(&actor.caller)?;
    let referrals = hub.store.case_parties(&[case_id]).await?;
    let party = referrals.iter().any(|r| r.is_party(&actor.caller.code));
    if referrals.is_empty() || (actor.caller.role != Role::Office && !party) {
        return Err(AppError::NotFound(format!("case {case_id}")));
    }
    Ok(referrals)
}

/// The most characters a search may have.
const MAX_SEARCH: usize = 100;

/// Which referrals to find, as typed: a full name, ID number or case reference (empty:
/// any), and the first and last day they were submitted (each may be empty). Each
/// refusal names its field: `search`, `submitted_from`, `submitted_to`.
pub fn filter(search: &str, from: &str, to: &str) -> Result<Filter, AppError> {
    let mut v = Violations::default();
    let search = v.check(text("search", search, 0, MAX_SEARCH)).filter(|s| !s.is_empty());
    let day = |field: &str, raw: &str| match raw.trim() {
        "" => Ok(None),
        raw => crate::domain::date::parse(field, raw).map(Some),
    };
    let from = v.check(day("submitted_from", from)).flatten();
    let to = v.check(day("submitted_to", to)).flatten();
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            v.add("submitted_to", Rule::EndBeforeStart);
        }
    }
    v.finish(|| ())?;
    // Open on either side: from the first day there is, or up to the last.
    let submitted = (from.is_some() || to.is_some()).then(|| {
        let span = Period {
            from: from.unwrap_or(NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date")),
            to: to.unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 30).expect("a date")),
            shape: Shape::Span,
        };
        span.instants()
    });
    Ok(Filter { search, submitted })
}

/// A referral awaiting the member's act (待办): what it awaits, and the soonest of the
/// member's deadlines on it with the office's 催办 of it.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub referral: Referral<Seen>,
    pub awaited: Awaited,
    pub deadline: Option<ListedDeadline>,
    /// The other party's comment is the latest entry.
    pub reply: bool,
}

/// One page of the to-do list and how many there are in all.
#[derive(Debug, Clone)]
pub struct ToDo {
    pub total: usize,
    pub rows: Vec<Waiting>,
}

/// The most rows of the to-do list on one page.
pub const MAX_TO_DO_PAGE: usize = 200;

/// The caller's to-do list (待办): every referral awaiting its act that `filter`
/// finds, one row each, the most urgent first: the soonest deadline (overdue ones
/// first), urgent clues before others due the same day, then what awaits without a
/// deadline, longest waiting first. Rows `offset..offset + limit`; audited as a read of
/// those referrals.
pub async fn to_do(hub: &Hub, actor: &Actor, filter: &Filter, offset: usize, limit: usize) -> Result<ToDo, AppError> {
    identity::member(&actor.caller)?;
    let member = &actor.caller.code;
    let mut awaiting = hub.store.awaiting(member, filter).await?;
    awaiting.sort_by_key(|a| (a.due.is_none(), a.due, !a.urgent, a.updated_at, a.referral_id));
    let total = awaiting.len();
    let page: Vec<_> = awaiting.into_iter().skip(offset).take(limit.min(MAX_TO_DO_PAGE)).collect();
    let ids: Vec<Uuid> = page.iter().map(|a| a.referral_id).collect();
    let mut referrals: HashMap<Uuid, Referral> =
        hub.store.referrals(&ids, Opening::Listed).await?.into_iter().map(|r| (r.id, r)).collect();
    let deadlines = hub.store.deadlines(&ids).await?;
    let chases = hub.store.chases(&ids).await?;
    let view = View::of(actor.caller.role);
    let mut rows = Vec::with_capacity(page.len());
    for a in page {
        let Some(referral) = referrals.remove(&a.referral_id) else { continue };
        let Some(awaited) = Awaited::of(&referral, member, a.reply) else { continue };
        let deadline = deadlines
            .iter()
            .filter(|d| d.referral_id == referral.id && &d.responsible == member && d.is_outstanding())
            .min_by_key(|d| d.due)
            .map(|d| ListedDeadline {
                deadline: d.clone(),
                referral_kind: referral.kind,
                urgent: referral.content.urgent,
                green_channel: referral.content.green_channel(),
                chased: Chase::of(&chases, d),
            });
        rows.push(Waiting { referral: view.referral(referral), awaited, deadline, reply: a.reply });
    }
    if !rows.is_empty() {
        hub.audit_read(actor, "ToDo", rows.iter().map(|w| w.referral.id).collect()).await?;
    }
    Ok(ToDo { total, rows })
}

/// Refers the person of a returned referral (退回) to other recipients, in the same
/// case and with the same content, with the sender's `note` to them (why; may be
/// empty): the sender's re-route, once per request id.
pub async fn reroute(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    id: Uuid,
    recipients: Vec<MemberCode>,
    note: &str,
) -> Result<Submitted<Seen>, AppError> {
    let note = text("note", note, 0, MAX_NOTE).map_err(|v| AppError::Domain(v.into()))?;
    let returned = visible(hub, actor, id).await?;
    if returned.sender != actor.caller.code {
        return Err(
            crate::domain::DomainError::Forbidden("only the sender re-routes a returned referral".into()).into()
        );
    }
    if returned.state != crate::domain::referral::State::Returned {
        return Err(crate::domain::DomainError::WrongState { action: "reroute", current: returned.state.code() }.into());
    }
    // The person's materials go with them: the files the returned referral was
    // submitted with.
    let carried = hub.store.carried(&[id]).await?;
    let attachments = carried.iter().filter(|c| c.version == 1).map(|c| c.attachment.id).collect();
    let draft = Draft {
        kind: returned.kind,
        content: returned.content,
        recipients,
        case_id: Some(returned.case_id),
        attachments,
        note,
    };
    submit(hub, actor, key, draft).await
}
