//! The CalendarService: the working-day calendar for every caller, and loading a year's
//! holiday schedule for admins, which counts every open deadline again.

use chrono::NaiveDate;
use tonic::{Request, Response, Status};

use super::{convert, identity, key};
use crate::domain::Rule;
use crate::{
    app::{self, AppError, Hub},
    domain::{calendar::YearStatus, date, draft, DomainError, Role},
    proto::{self as pb, calendar_service_server::CalendarService},
};

/// Longest span AddWorkingDays counts: about ten years.
const MAX_DAYS: u32 = 3660;

pub struct CalendarApi {
    hub: Hub,
}

impl CalendarApi {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }
}

fn day(field: &str, raw: &str) -> Result<NaiveDate, AppError> {
    date::parse(field, raw).map_err(|v| AppError::from(DomainError::from(v)))
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
            return Err(AppError::invalid("days", Rule::AtMost { max: MAX_DAYS as usize }).into());
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
            (Ok(_), Ok(_)) => return Err(AppError::invalid("to", Rule::TwentyYears).into()),
            (from, to) => return Err(from.and(to).err().unwrap_or(AppError::invalid("from", Rule::NotADate)).into()),
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
            return Err(AppError::invalid("year", Rule::NotAYear).into());
        };
        let calendar = self.hub.calendar();
        let stored = self.hub.store().schedules().await.map_err(AppError::from)?.into_iter().find(|r| r.year == year);
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
        let actor = identity::actor(&request)?;
        app::identity::role(&actor.caller, Role::Admin)?;
        let body = request.get_ref();
        let schedule = app::calendar::schedule_of("content", &body.content)?;
        let source = draft::note("source", &body.source).map_err(AppError::from)?;
        let key = key("LoadSchedule", &body.request_id, &request);
        let loaded = app::calendar::load_schedule(&self.hub, &actor, &key, schedule, source).await?;
        Ok(Response::new(convert::loaded(&loaded)))
    }
}
