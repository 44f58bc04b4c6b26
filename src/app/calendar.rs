//! The working-day calendar at run time: loading a year's holiday schedule, which
//! counts every outstanding deadline again and tells each member whose deadline moved.

use std::sync::{Arc, PoisonError};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{identity, Actor, Answer, AppError, Hub, Plan, Recorded, RequestKey};
use crate::domain::Rule;
use crate::{
    domain::{
        calendar::{schedule, Schedule},
        date,
        deadline::{Deadline, DeadlineKind, DeadlineState},
        lifecycle::{Notice, NoticeKind},
        MemberCode, Role,
    },
    store::{load_calendar, Commit, DeadlineQuery, DeadlineUpdate, ScheduleRecord, StoreError},
};

/// A deadline that a loaded schedule moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub referral_id: Uuid,
    pub kind: DeadlineKind,
    pub responsible: MemberCode,
    pub was_due: NaiveDate,
    pub due: NaiveDate,
}

/// What loading a schedule did: its year's new version, how many deadlines were
/// counted again and which moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loaded {
    pub year: i32,
    pub version: u32,
    pub recounted: u32,
    pub moved: Vec<Moved>,
}

impl Answer for Loaded {
    fn record(&self) -> Recorded {
        Recorded {
            referrals: self.moved.iter().map(|m| m.referral_id).collect(),
            schedule: Some(self.clone()),
            ..Recorded::default()
        }
    }

    async fn rebuild(_hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        record.schedule.ok_or_else(|| AppError::Store(StoreError::Corrupt("a schedule load's record".into())))
    }
}

/// Everything loading `schedule` writes: the schedule's next version, and each
/// outstanding deadline that moves, announced to its member and to the office.
async fn plan(hub: &Hub, schedule: Schedule, source: &str, loaded_by: &MemberCode) -> Result<Plan<Loaded>, AppError> {
    let now = hub.clock.now();
    let version = hub.store.schedules().await?.iter().find(|r| r.year == schedule.year).map_or(0, |r| r.version) + 1;
    let calendar = hub.calendar().with(schedule.clone());
    // Every deadline still waiting for its act, open or missed, and those met while
    // provisional: a met one may turn out met late, or a missed one still open.
    let outstanding = DeadlineQuery { outstanding: true, limit: u32::MAX, ..DeadlineQuery::default() };
    let provisional_met = DeadlineQuery {
        states: vec![DeadlineState::Met, DeadlineState::MetLate],
        provisional_only: true,
        limit: u32::MAX,
        ..DeadlineQuery::default()
    };
    let mut open = hub.store.list_deadlines(&outstanding).await?;
    open.extend(hub.store.list_deadlines(&provisional_met).await?);
    let today = date::local_date(now);
    let mut commit = Commit {
        schedule: Some(ScheduleRecord {
            year: schedule.year,
            version,
            schedule: schedule.to_open_json(),
            source: source.to_owned(),
            loaded_by: loaded_by.clone(),
            loaded_at: now,
        }),
        ..Commit::default()
    };
    let mut moved = Vec::new();
    for listed in &open {
        let was: &Deadline = &listed.deadline;
        let Some(next) = was.recounted(&calendar, &hub.policy, today) else { continue };
        let Some(referral) = hub.store.referral(was.referral_id).await? else { continue };
        let note = format!("{}由 {} 调整为 {}（{} 年节假日安排）", was.kind.label(), was.due, next.due, schedule.year);
        for to in [&was.responsible, &MemberCode::office()] {
            commit.notices.push(Notice::for_deadline(
                &referral,
                &next,
                to,
                NoticeKind::DeadlineMoved,
                &MemberCode::hub(),
                now,
                note.clone(),
            ));
        }
        moved.push(Moved {
            referral_id: was.referral_id,
            kind: was.kind,
            responsible: was.responsible.clone(),
            was_due: was.due,
            due: next.due,
        });
        commit.deadline_updates.push(DeadlineUpdate { deadline: next, was: was.clone() });
    }
    let answer = Loaded { year: schedule.year, version, recounted: open.len() as u32, moved };
    Ok(Plan::new(commit, answer))
}

/// Largest schedule file accepted.
const MAX_SCHEDULE_BYTES: usize = 64 * 1024;

/// The one year's schedule an admin uploads as `field` (the open JSON format, or the
/// hub's TOML).
pub fn schedule_of(field: &str, content: &str) -> Result<Schedule, AppError> {
    if content.len() > MAX_SCHEDULE_BYTES {
        return Err(AppError::invalid(field, Rule::ScheduleTooLarge { max: MAX_SCHEDULE_BYTES }));
    }
    let mut schedules =
        schedule::parse_any(content).map_err(|problem| AppError::invalid(field, Rule::Schedule { problem }))?;
    if schedules.len() != 1 {
        return Err(AppError::invalid(field, Rule::OneYearPerLoad { count: schedules.len() }));
    }
    Ok(schedules.remove(0))
}

/// Loads a year's holiday schedule (admins only), once per request id, and counts
/// every outstanding deadline again.
pub async fn load_schedule(
    hub: &Hub,
    actor: &Actor,
    key: &RequestKey,
    schedule: Schedule,
    source: String,
) -> Result<Loaded, AppError> {
    identity::role(&actor.caller, Role::Admin)?;
    let (schedule, source) = (&schedule, &source);
    let loaded = hub
        .once(actor, "LoadSchedule", key, move || {
            Box::pin(async move { plan(hub, schedule.clone(), source, &actor.caller.code).await })
        })
        .await?;
    // The store is the authority: every year is read back, so that a replayed answer
    // cannot bring back a version that a later load replaced.
    reload(hub).await?;
    tracing::info!(year = loaded.year, version = loaded.version, moved = loaded.moved.len(), "schedule loaded");
    Ok(loaded)
}

/// Reads the calendar again from the store: the shipped years with every loaded
/// schedule laid over them.
pub async fn reload(hub: &Hub) -> Result<(), StoreError> {
    let calendar = load_calendar(hub.store.as_ref()).await?;
    *hub.calendar.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(calendar);
    Ok(())
}
