//! The CalendarService: the working-day calendar for every caller, and loading a year's
//! holiday schedule for admins, which counts every open deadline again.

use std::sync::{Arc, PoisonError};

use chrono::NaiveDate;
use tonic::{Request, Response, Status};

use super::{convert, error::ApiError, identity, Hub, Plan};
use crate::{
    domain::{
        calendar::{schedule, Schedule, YearStatus},
        date,
        deadline::{Deadline, DeadlineState},
        lifecycle::{Notice, NoticeKind},
        DomainError, MemberCode, Role,
    },
    proto::{self as pb, calendar_service_server::CalendarService},
    store::{load_calendar, Commit, DeadlineQuery, DeadlineUpdate, ScheduleRecord},
};

/// Longest span AddWorkingDays counts: about ten years.
const MAX_DAYS: u32 = 3660;
/// Largest schedule file accepted.
const MAX_SCHEDULE_BYTES: usize = 64 * 1024;

pub struct CalendarApi {
    hub: Hub,
}

impl CalendarApi {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }
}

fn day(field: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    date::parse(field, raw).map_err(|v| ApiError::from(DomainError::from(v)))
}

/// Everything loading `schedule` writes: the schedule's next version, and each open
/// deadline that moves, announced to its member and to the office.
pub async fn load_plan(
    hub: &Hub,
    schedule: Schedule,
    source: &str,
    loaded_by: &MemberCode,
) -> Result<Plan<pb::LoadScheduleResponse>, ApiError> {
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
        moved.push(pb::MovedDeadline {
            referral_id: was.referral_id.to_string(),
            kind: was.kind.code().to_owned(),
            responsible: was.responsible.to_string(),
            was_due_on: was.due.to_string(),
            due_on: next.due.to_string(),
        });
        commit.deadline_updates.push(DeadlineUpdate { deadline: next, was: was.clone() });
    }
    let response = pb::LoadScheduleResponse { year: schedule.year, version, recounted: open.len() as u32, moved };
    Ok(Plan { commit, response })
}

#[tonic::async_trait]
impl CalendarService for CalendarApi {
    async fn is_working_day(
        &self,
        request: Request<pb::IsWorkingDayRequest>,
    ) -> Result<Response<pb::IsWorkingDayResponse>, Status> {
        identity::caller(&request)?;
        let date = day("date", &request.get_ref().date)?;
        let calendar = self.hub.calendar();
        let r = calendar.is_working_day(date);
        Ok(Response::new(pb::IsWorkingDayResponse {
            working: r.value,
            holiday: calendar.holiday(date).unwrap_or_default().to_owned(),
            provisional: r.provisional,
        }))
    }

    async fn add_working_days(
        &self,
        request: Request<pb::AddWorkingDaysRequest>,
    ) -> Result<Response<pb::AddWorkingDaysResponse>, Status> {
        identity::caller(&request)?;
        let body = request.get_ref();
        let date = day("date", &body.date)?;
        if body.days > MAX_DAYS {
            return Err(ApiError::invalid("days", format!("at most {MAX_DAYS}")).into());
        }
        let r = self.hub.calendar().add_working_days(date, body.days);
        Ok(Response::new(pb::AddWorkingDaysResponse { date: r.value.to_string(), provisional: r.provisional }))
    }

    async fn working_days_between(
        &self,
        request: Request<pb::WorkingDaysBetweenRequest>,
    ) -> Result<Response<pb::WorkingDaysBetweenResponse>, Status> {
        identity::caller(&request)?;
        let body = request.get_ref();
        let (from, to) = (day("from", &body.from), day("to", &body.to));
        let (from, to) = match (from, to) {
            (Ok(from), Ok(to)) if (to - from).num_days().abs() <= i64::from(MAX_DAYS) * 2 => (from, to),
            (Ok(_), Ok(_)) => return Err(ApiError::invalid("to", "at most twenty years from `from`").into()),
            (from, to) => return Err(from.and(to).err().unwrap_or(ApiError::invalid("from", "bad date")).into()),
        };
        let r = self.hub.calendar().working_days_between(from, to);
        Ok(Response::new(pb::WorkingDaysBetweenResponse { days: r.value, provisional: r.provisional }))
    }

    async fn year_status(
        &self,
        request: Request<pb::YearStatusRequest>,
    ) -> Result<Response<pb::YearStatusResponse>, Status> {
        identity::caller(&request)?;
        let year = request.get_ref().year;
        let (Some(first), Some(last)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31))
        else {
            return Err(ApiError::invalid("year", "not a year").into());
        };
        let calendar = self.hub.calendar();
        let stored = self.hub.store.schedules().await.map_err(ApiError::from)?.into_iter().find(|r| r.year == year);
        let official = calendar.year_status(year) == YearStatus::Official;
        let working_days = calendar.working_days_between(first.pred_opt().unwrap_or(first), last).value;
        let mut response = pb::YearStatusResponse {
            year,
            official,
            source: if official { "shipped".into() } else { String::new() },
            holidays: calendar.schedule(year).map_or(0, |s| s.holidays.len() as u32),
            working_days: working_days.max(0) as u32,
            ..Default::default()
        };
        if let Some(record) = stored {
            response.source = record.source;
            response.version = record.version;
            response.loaded_by = record.loaded_by.to_string();
            response.loaded_at = Some(convert::timestamp(record.loaded_at));
        }
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all, fields(rpc = "LoadSchedule"))]
    async fn load_schedule(
        &self,
        request: Request<pb::LoadScheduleRequest>,
    ) -> Result<Response<pb::LoadScheduleResponse>, Status> {
        let caller = identity::role(&request, Role::Admin)?;
        let body = request.get_ref();
        if body.content.len() > MAX_SCHEDULE_BYTES {
            return Err(ApiError::invalid("content", format!("at most {MAX_SCHEDULE_BYTES} bytes")).into());
        }
        let mut schedules = schedule::parse_any(&body.content).map_err(|e| ApiError::invalid("content", e))?;
        if schedules.len() != 1 {
            return Err(ApiError::invalid("content", format!("one year per load, not {}", schedules.len())).into());
        }
        let schedule = schedules.remove(0);
        let source = convert::note("source", &body.source).map_err(ApiError::from)?;
        let (hub, caller, schedule_ref, source) = (&self.hub, &caller, &schedule, &source);
        let answer = self
            .hub
            .once(caller, "LoadSchedule", &body.request_id, &request, move || {
                Box::pin(async move { load_plan(hub, schedule_ref.clone(), source, &caller.code).await })
            })
            .await?;
        // The store is the authority: read every year back, so that a replayed answer
        // cannot bring back a version that a later load replaced.
        let calendar = load_calendar(self.hub.store.as_ref()).await.map_err(ApiError::from)?;
        *self.hub.calendar.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(calendar);
        tracing::info!(year = answer.year, version = answer.version, moved = answer.moved.len(), "schedule loaded");
        Ok(Response::new(answer))
    }
}
