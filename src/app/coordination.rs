//! The joint-meeting office's tracking: every deadline by view, and reminders (催办).
//! The office sees referrals' metadata and deadlines, never the person.

use chrono::{Datelike, Days, NaiveDate};
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
    store::{Chase, Commit, DeadlineQuery, ListedDeadline},
};

/// How far ahead "due soon" looks, beyond twice the working days of 临期, before the
/// calendar decides: long enough for the longest holiday.
const DUE_SOON_DAYS: u64 = 10;

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
    /// Only those of the referrals with this case reference (案号).
    pub case_reference: Option<String>,
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
    let DeadlineFilter { responsible, kind, due_from, due_to, case_reference, limit } = filter;
    let mut query =
        DeadlineQuery { responsible, kind, due_from, due_to, case_reference, limit, ..DeadlineQuery::default() };
    match view {
        DeadlineView::Overdue => {
            query.outstanding = true;
            query.running = true;
            let yesterday = today.pred_opt();
            query.due_to = query.due_to.min(yesterday).or(yesterday);
        }
        DeadlineView::DueSoon => {
            query.states = vec![DeadlineState::Open];
            query.due_from = query.due_from.max(Some(today));
            let horizon = today.checked_add_days(Days::new(DUE_SOON_DAYS + 2 * u64::from(hub.policy.warn_days)));
            query.due_to = query.due_to.min(horizon).or(horizon);
        }
        DeadlineView::All => {}
        DeadlineView::Outstanding => query.outstanding = true,
    }
    let mut found = hub.store.list_deadlines(&query).await?;
    if view == DeadlineView::DueSoon {
        found.retain(|l| l.deadline.near(today, &calendar, &hub.policy));
    }
    found.sort_by_key(|l| {
        (!l.urgent, !l.green_channel, std::cmp::Reverse(l.deadline.working_days_late(today, &calendar)), l.deadline.due)
    });
    Ok(Deadlines { deadlines: with_chases(hub, found).await?, today })
}

/// `listed` with the office's 催办 of each: how often, and the last time.
pub async fn with_chases(hub: &Hub, mut listed: Vec<ListedDeadline>) -> Result<Vec<ListedDeadline>, AppError> {
    let mut ids: Vec<Uuid> = listed.iter().map(|l| l.deadline.referral_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let chases = hub.store.chases(&ids).await?;
    for l in &mut listed {
        l.chased = Chase::of(&chases, &l.deadline);
    }
    Ok(listed)
}

/// A deadline an act of the office was about (a 催办, another pause allowed), as listed.
impl Answer for ListedDeadline {
    fn record(&self) -> Recorded {
        Recorded {
            referrals: vec![self.deadline.referral_id],
            deadline: Some(self.deadline.kind),
            ..Recorded::default()
        }
    }

    async fn rebuild(hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        let (Some(&id), Some(kind)) = (record.referrals.first(), record.deadline) else {
            return Err(AppError::NotFound("the deadline acted on".into()));
        };
        Ok(with_referral(hub, id, kind).await?.1)
    }
}

/// Referral `id` and its `kind` deadline, with the referral's flags.
pub(super) async fn with_referral(
    hub: &Hub,
    id: Uuid,
    kind: DeadlineKind,
) -> Result<(Referral, ListedDeadline), AppError> {
    let not_found = || AppError::NotFound(format!("{} deadline of referral {id}", kind.code()));
    let referral = hub.store.referral(id).await?.ok_or_else(not_found)?;
    let deadline = hub.store.deadlines(&[id]).await?.into_iter().find(|d| d.kind == kind).ok_or_else(not_found)?;
    let listed = ListedDeadline {
        referral_kind: referral.kind,
        urgent: referral.content.urgent,
        green_channel: referral.content.green_channel(),
        deadline,
        chased: None,
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
) -> Result<ListedDeadline, AppError> {
    identity::role(&actor.caller, Role::Office)?;
    let note = &note;
    hub.once(actor, "Remind", key, move || {
        Box::pin(async move {
            let (referral, listed) = with_referral(hub, referral_id, kind).await?;
            if !listed.deadline.is_outstanding() {
                return Err(DomainError::WrongState { action: "remind", current: listed.deadline.state.code() }.into());
            }
            let notice = Notice {
                clerk: actor.clerk().to_owned(),
                ..Notice::for_deadline(
                    &referral,
                    &listed.deadline,
                    &listed.deadline.responsible,
                    NoticeKind::Reminder,
                    &actor.caller.code,
                    hub.clock.now(),
                    note.clone(),
                )
            };
            // A copy for the office's own record of what it chased (期限动态).
            let copy = Notice { to: MemberCode::office(), ..notice.clone() };
            let notices = vec![notice, copy];
            Ok(Plan::new(Commit { notices, ..Commit::default() }, listed))
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

/// One member's line of the office's overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLoad {
    pub member: MemberCode,
    /// Statutory deadlines still waiting for its act.
    pub open: u32,
    /// Of those, with at most one working day left.
    pub due_soon: u32,
    /// Of those, past their day.
    pub overdue: u32,
    /// Deadlines due this year so far and settled: met in time, met late, missed.
    pub met: u32,
    pub met_late: u32,
    pub missed: u32,
    /// Follow-up visits owed (listed apart: not a statutory period), and of those past
    /// their day.
    pub visits_owed: u32,
    pub visits_overdue: u32,
}

impl MemberLoad {
    fn of(member: MemberCode) -> Self {
        Self {
            member,
            open: 0,
            due_soon: 0,
            overdue: 0,
            met: 0,
            met_late: 0,
            missed: 0,
            visits_owed: 0,
            visits_overdue: 0,
        }
    }

    /// Met in time, in percent of those settled; none when nothing was due yet.
    pub fn on_time_percent(&self) -> Option<u32> {
        let settled = self.met + self.met_late + self.missed;
        (settled > 0).then(|| (self.met * 100 + settled / 2) / settled)
    }
}

/// The office's overview: every member's open, due-soon and overdue statutory
/// deadlines, how many it met in time this year, and apart its follow-up visits owed
/// and overdue; in the directory's order.
pub async fn overview(hub: &Hub, actor: &Actor) -> Result<(Vec<MemberLoad>, NaiveDate), AppError> {
    identity::role(&actor.caller, Role::Office)?;
    let today = local_date(hub.clock.now());
    let calendar = hub.calendar();
    let members: Vec<MemberCode> = {
        let directory = hub.directory.now();
        directory.members().iter().map(|m| m.code.clone()).collect()
    };
    let mut loads: Vec<MemberLoad> = members.into_iter().map(MemberLoad::of).collect();
    let line = |loads: &mut Vec<MemberLoad>, member: &MemberCode| -> usize {
        match loads.iter().position(|l| &l.member == member) {
            Some(i) => i,
            None => {
                loads.push(MemberLoad::of(member.clone()));
                loads.len() - 1
            }
        }
    };
    let outstanding = DeadlineQuery { outstanding: true, limit: u32::MAX, ..DeadlineQuery::default() };
    for listed in hub.store.list_deadlines(&outstanding).await? {
        let d = &listed.deadline;
        let i = line(&mut loads, &d.responsible);
        if !d.kind.is_statutory() {
            loads[i].visits_owed += 1;
            loads[i].visits_overdue += u32::from(today > d.due);
            continue;
        }
        loads[i].open += 1;
        if d.is_paused() {
            continue;
        }
        if today > d.due {
            loads[i].overdue += 1;
        } else if d.near(today, &calendar, &hub.policy) {
            loads[i].due_soon += 1;
        }
    }
    let settled = DeadlineQuery {
        states: vec![DeadlineState::Met, DeadlineState::MetLate, DeadlineState::Missed],
        due_from: NaiveDate::from_ymd_opt(today.year(), 1, 1),
        due_to: Some(today),
        limit: u32::MAX,
        ..DeadlineQuery::default()
    };
    for listed in hub.store.list_deadlines(&settled).await? {
        let d = &listed.deadline;
        if !d.kind.is_statutory() {
            continue;
        }
        let i = line(&mut loads, &d.responsible);
        match d.state {
            DeadlineState::Met => loads[i].met += 1,
            DeadlineState::MetLate => loads[i].met_late += 1,
            _ => loads[i].missed += 1,
        }
    }
    Ok((loads, today))
}
