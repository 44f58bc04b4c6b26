//! 延期 — a member asks the office to extend a deadline it owes, before it falls due;
//! the office grants (by the working days it judges) or refuses, and the member is told.
//! The request and the answer are recorded beside the deadline; granted days move its
//! due date, against which on-time is judged.

use uuid::Uuid;

use super::{
    coordination::with_referral, identity, referrals::visible, Actor, Answer, AppError, Hub, Plan, Recorded, RequestKey,
};
use crate::{
    domain::{
        date::{local_date, month_day},
        deadline::{Deadline, DeadlineKind},
        extension::{self, Extension, ExtensionState},
        id::new_id,
        lifecycle::{Notice, NoticeKind},
        referral::Referral,
        MemberCode, Role,
    },
    store::{Commit, DeadlineUpdate, ListedDeadline, StoreError},
};

/// The most requests one list returns.
pub const MAX_LIST: u32 = 500;

impl Answer for Extension {
    fn record(&self) -> Recorded {
        Recorded { referrals: vec![self.referral_id], attachment: Some(self.id), ..Recorded::default() }
    }

    async fn rebuild(hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        let (Some(&referral), Some(id)) = (record.referrals.first(), record.attachment) else {
            return Err(AppError::Store(StoreError::Corrupt("an extension's record".into())));
        };
        let found = hub.store.extensions((&[referral], Some(id)), false, 1).await?;
        found.into_iter().next().ok_or_else(|| AppError::NotFound(format!("extension request {id}")))
    }
}

/// Referral `id` as the caller may see it, and its `kind` deadline.
async fn deadline_of(hub: &Hub, actor: &Actor, id: Uuid, kind: DeadlineKind) -> Result<(Referral, Deadline), AppError> {
    let referral = visible(hub, actor, id).await?;
    let deadline = hub
        .store
        .deadlines(&[id])
        .await?
        .into_iter()
        .find(|d| d.kind == kind)
        .ok_or_else(|| AppError::NotFound(format!("{} deadline of referral {id}", kind.code())))?;
    Ok((referral, deadline))
}

/// Asks the office, once per request id, to extend the `kind` deadline of referral
/// `referral_id` by `days` working days, for `reason`; the office is told.
pub async fn ask(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    (referral_id, kind): (Uuid, DeadlineKind),
    days: u32,
    reason: &str,
) -> Result<Extension, AppError> {
    identity::member(&actor.caller)?;
    hub.once(actor, "AskExtension", key, move || {
        Box::pin(async move {
            let (referral, deadline) = deadline_of(hub, actor, referral_id, kind).await?;
            let asked = hub.store.extensions((&[referral_id], None), true, MAX_LIST).await?;
            let asked = asked.iter().any(|e| e.kind == kind);
            let now = hub.clock.now();
            let (days, reason) = extension::ask(&deadline, &actor.caller.code, (days, reason), asked, local_date(now))?;
            let request = Extension {
                id: new_id(now),
                referral_id,
                kind,
                member: actor.caller.code.clone(),
                asked_at: now,
                asked_by: actor.clerk().to_owned(),
                days,
                reason: reason.clone(),
                state: ExtensionState::Asked,
                decided_at: None,
                decided_by: String::new(),
                granted_days: 0,
                answer: String::new(),
                due_before: deadline.due,
                due_after: None,
            };
            let note = format!("申请延期{days}个工作日：{reason}");
            let notice = Notice {
                clerk: actor.clerk().to_owned(),
                ..Notice::for_deadline(
                    &referral,
                    &deadline,
                    &MemberCode::office(),
                    NoticeKind::ExtensionAsked,
                    &actor.caller.code,
                    now,
                    note,
                )
            };
            let commit = Commit { extension: Some(request.clone()), notices: vec![notice], ..Commit::default() };
            Ok(Plan::new(commit, request))
        })
    })
    .await
}

/// The office's answer, once per request id, to request `id`: granting `days` working
/// days (none: refusing) with `answer`; the member is told.
pub async fn decide(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    id: Uuid,
    grant: Option<u32>,
    answer: &str,
) -> Result<Extension, AppError> {
    identity::role(&actor.caller, Role::Office)?;
    let method = if grant.is_some() { "GrantExtension" } else { "RefuseExtension" };
    hub.once(actor, method, key, move || {
        Box::pin(async move {
            let not_found = || AppError::NotFound(format!("extension request {id}"));
            let request = hub.store.extensions((&[], Some(id)), false, 1).await?.into_iter().next();
            let request = request.ok_or_else(not_found)?;
            let (referral, deadline) = deadline_of(hub, actor, request.referral_id, request.kind).await?;
            let now = hub.clock.now();
            let today = local_date(now);
            let calendar = hub.calendar();
            let (answer, extended) =
                extension::decide(&request, &deadline, grant, answer, (&calendar, &hub.policy, today))?;
            let decided = Extension {
                state: if extended.is_some() { ExtensionState::Granted } else { ExtensionState::Refused },
                decided_at: Some(now),
                decided_by: actor.clerk().to_owned(),
                granted_days: grant.unwrap_or(0),
                answer: answer.clone(),
                due_after: extended.as_ref().map(|d| d.due),
                ..request
            };
            let note = match &extended {
                Some(d) => {
                    let said = format!("同意延期{}个工作日，期限延至{}", decided.granted_days, month_day(d.due));
                    if answer.is_empty() {
                        said
                    } else {
                        format!("{said}：{answer}")
                    }
                }
                None => format!("不同意延期：{answer}"),
            };
            let shown = extended.as_ref().unwrap_or(&deadline);
            let notice = Notice {
                clerk: actor.clerk().to_owned(),
                ..Notice::for_deadline(
                    &referral,
                    shown,
                    &decided.member,
                    NoticeKind::ExtensionDecided,
                    &actor.caller.code,
                    now,
                    note,
                )
            };
            let deadline_updates =
                extended.into_iter().map(|d| DeadlineUpdate { deadline: d, was: deadline.clone() }).collect();
            let commit = Commit {
                extension: Some(decided.clone()),
                notices: vec![notice],
                deadline_updates,
                ..Commit::default()
            };
            Ok(Plan::new(commit, decided))
        })
    })
    .await
}

/// Requests to extend: of referral `referral_id` for its parties and the office; with
/// none, those still waiting for the office (the office only).
pub async fn list(hub: &Hub, actor: &Actor, referral_id: Option<Uuid>) -> Result<Vec<Extension>, AppError> {
    identity::reader(&actor.caller)?;
    match referral_id {
        Some(id) => {
            visible(hub, actor, id).await?;
            Ok(hub.store.extensions((&[id], None), false, MAX_LIST).await?)
        }
        None => {
            identity::role(&actor.caller, Role::Office)?;
            Ok(hub.store.extensions((&[], None), true, MAX_LIST).await?)
        }
    }
}

/// The office lets the recipient of referral `referral_id` pause its start deadline once
/// more (补充材料 asked again), once per request id.
pub async fn allow_pause(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    referral_id: Uuid,
) -> Result<ListedDeadline, AppError> {
    identity::role(&actor.caller, Role::Office)?;
    hub.once(actor, "AllowPause", key, move || {
        Box::pin(async move {
            let (_, listed) = with_referral(hub, referral_id, DeadlineKind::Start).await?;
            let allowed = extension::allow_pause(&listed.deadline)?;
            let commit = Commit {
                deadline_updates: vec![DeadlineUpdate { deadline: allowed.clone(), was: listed.deadline.clone() }],
                ..Commit::default()
            };
            Ok(Plan::new(commit, ListedDeadline { deadline: allowed, ..listed }))
        })
    })
    .await
}
