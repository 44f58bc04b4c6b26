//! The joint-meeting office's tracking: every deadline by view, and reminders (催办).
//! The office sees referrals' metadata and deadlines, never the person.

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::{identity, Actor, Answer, AppError, Hub, Plan, Recorded, RequestKey};
use crate::{
    domain::{
        date::local_date,
        deadline::{DeadlineKind, DeadlineState},
        lifecycle::{Notice, NoticeKind},
        referral::Referral,
        DomainError, MemberCode, Role,
    },
    store::{Commit, DeadlineQuery, ListedDeadline},
};

/// How far ahead "due soon" looks before the calendar decides.
const DUE_SOON_DAYS: u64 = 7;

/// Which deadlines the office looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeadlineView {
    /// Those still waiting for an act, met or not yet due.
    #[default]
    Outstanding,
    /// Outstanding and past their due date.
    Overdue,
    /// Open, with at most one working day left.
    DueSoon,
    /// Every deadline, whatever its state.
    All,
}

/// Narrows a view.
#[derive(Debug, Clone, Default)]
pub struct DeadlineFilter {
    pub responsible: Option<MemberCode>,
    pub kind: Option<DeadlineKind>,
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    pub limit: u32,
}

/// Deadlines as of `today`: urgent clues first, then the green channel, then the most
/// overdue, then by due date.
#[derive(Debug, Clone)]
pub struct Deadlines {
    pub deadlines: Vec<ListedDeadline>,
    pub today: NaiveDate,
}

/// The deadlines of a view, for the office.
pub async fn deadlines(
    hub: &Hub,
    actor: &Actor,
    view: DeadlineView,
    filter: DeadlineFilter,
) -> Result<Deadlines, AppError> {
    identity::role(&actor.caller, Role::Office)?;
    let today = local_date(hub.clock.now());
    let calendar = hub.calendar();
    let DeadlineFilter { responsible, kind, due_from, due_to, limit } = filter;
    let mut query = DeadlineQuery { responsible, kind, due_from, due_to, limit, ..DeadlineQuery::default() };
    match view {
        DeadlineView::Overdue => {
            query.outstanding = true;
            let yesterday = today.pred_opt();
            query.due_to = query.due_to.min(yesterday).or(yesterday);
        }
        DeadlineView::DueSoon => {
            query.states = vec![DeadlineState::Open];
            query.due_from = query.due_from.max(Some(today));
            let horizon = today.checked_add_days(Days::new(DUE_SOON_DAYS));
            query.due_to = query.due_to.min(horizon).or(horizon);
        }
        DeadlineView::All => {}
        DeadlineView::Outstanding => query.outstanding = true,
    }
    let mut found = hub.store.list_deadlines(&query).await?;
    if view == DeadlineView::DueSoon {
        found.retain(|l| calendar.working_days_between(today, l.deadline.due).value <= 1);
    }
    found.sort_by_key(|l| {
        (!l.urgent, !l.green_channel, std::cmp::Reverse(l.deadline.working_days_late(today, &calendar)), l.deadline.due)
    });
    Ok(Deadlines { deadlines: found, today })
}

/// The deadline a reminder was sent about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminded {
    pub deadline: ListedDeadline,
}

impl Answer for Reminded {
    fn record(&self) -> Recorded {
        Recorded {
            referrals: vec![self.deadline.deadline.referral_id],
            deadline: Some(self.deadline.deadline.kind),
            ..Recorded::default()
        }
    }

    async fn rebuild(hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        let (Some(&id), Some(kind)) = (record.referrals.first(), record.deadline) else {
            return Err(AppError::NotFound("the deadline reminded of".into()));
        };
        Ok(Reminded { deadline: with_referral(hub, id, kind).await?.1 })
    }
}

/// Referral `id` and its `kind` deadline, with the referral's flags.
async fn with_referral(hub: &Hub, id: Uuid, kind: DeadlineKind) -> Result<(Referral, ListedDeadline), AppError> {
    let not_found = || AppError::NotFound(format!("{} deadline of referral {id}", kind.code()));
    let referral = hub.store.referral(id).await?.ok_or_else(not_found)?;
    let deadline = hub.store.deadlines(id).await?.into_iter().find(|d| d.kind == kind).ok_or_else(not_found)?;
    let listed = ListedDeadline {
        referral_kind: referral.kind,
        urgent: referral.content.urgent,
        green_channel: referral.content.green_channel(),
        deadline,
    };
    Ok((referral, listed))
}

/// Reminds the member responsible for an outstanding deadline (催办), with a note.
pub async fn remind(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    referral_id: Uuid,
    kind: DeadlineKind,
    note: String,
) -> Result<Reminded, AppError> {
    identity::role(&actor.caller, Role::Office)?;
    let note = &note;
    hub.once(actor, "Remind", key, move || {
        Box::pin(async move {
            let (referral, listed) = with_referral(hub, referral_id, kind).await?;
            if !listed.deadline.is_outstanding() {
                return Err(DomainError::WrongState { action: "remind", current: listed.deadline.state.code() }.into());
            }
            let notice = Notice::for_deadline(
                &referral,
                &listed.deadline,
                &listed.deadline.responsible,
                NoticeKind::Reminder,
                &actor.caller.code,
                hub.clock.now(),
                note.clone(),
            );
            Ok(Plan {
                commit: Commit { notices: vec![notice], ..Commit::default() },
                answer: Reminded { deadline: listed },
            })
        })
    })
    .await
}

/// The office's live stream: its inbox of missed, moved and reminded deadlines.
pub async fn watch(
    hub: &Hub,
    actor: &Actor,
    epoch: &str,
    after: Option<u64>,
) -> Result<crate::delivery::Events, AppError> {
    identity::role(&actor.caller, Role::Office)?;
    super::inbox::subscribe(hub, actor, epoch, after).await
}
