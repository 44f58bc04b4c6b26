//! The working-day calendar at a glance: a year's days off and make-up working days,
//! whether the State Council's notice for it is loaded, and for admins the form that
//! loads next year's.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{Datelike, Days, NaiveDate};
use uuid::Uuid;

use super::{
    error::WebError,
    guard::{Fields, Posted, Visitor},
    page::{html, Frame},
    refusals::Refusals,
    Web,
};
use crate::{
    app::{self, AppError},
    domain::{
        calendar::{Calendar, YearStatus},
        date::local_date,
        DomainError, Role,
    },
};

/// A day of the month's grid; `day` 0 fills the week before the first.
pub struct Day {
    pub day: u32,
    /// `work`, `rest`, `holiday` (a day off of a holiday), `makeup` (a weekend worked).
    pub class: &'static str,
    pub title: String,
}

pub struct Month {
    pub name: String,
    pub days: Vec<Day>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct Page {
    frame: Frame,
    year: i32,
    official: bool,
    months: Vec<Month>,
    holidays: Vec<String>,
    admin: bool,
    request_id: Uuid,
    refusals: Refusals,
    typed: String,
}

fn months(calendar: &Calendar, year: i32) -> Vec<Month> {
    let mut months = Vec::with_capacity(12);
    for month in 1..=12 {
        let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else { continue };
        let mut days: Vec<Day> = (0..first.weekday().num_days_from_monday())
            .map(|_| Day { day: 0, class: "blank", title: String::new() })
            .collect();
        let mut date = first;
        while date.month() == month {
            let weekend = date.weekday().num_days_from_monday() >= 5;
            let working = calendar.is_working_day(date).value;
            let holiday = calendar.holiday(date);
            let class = match (working, weekend) {
                (true, true) => "makeup",
                (true, false) => "work",
                (false, false) => "holiday",
                (false, true) if holiday.is_some() => "holiday",
                (false, true) => "rest",
            };
            let title = match (class, holiday) {
                ("makeup", Some(name)) => format!("{date} {name}调休上班"),
                ("makeup", None) => format!("{date} 调休上班"),
                (_, Some(name)) => format!("{date} {name}"),
                _ => date.to_string(),
            };
            days.push(Day { day: date.day(), class, title });
            date = date + Days::new(1);
        }
        months.push(Month { name: format!("{month} 月"), days });
    }
    months
}

async fn render(
    web: &Web,
    visitor: &Visitor,
    year: i32,
    refusals: Refusals,
    typed: String,
) -> Result<Response, WebError> {
    let calendar = web.hub.calendar();
    let holidays = calendar
        .schedule(year)
        .map(|s| {
            s.holidays
                .iter()
                .map(|h| {
                    let span = match (h.off.first(), h.off.last()) {
                        (Some(a), Some(b)) => format!("{a} 至 {b}，放假 {} 天", h.off.len()),
                        _ => String::new(),
                    };
                    let work = h.work.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("、");
                    if work.is_empty() {
                        format!("{}：{span}", h.name)
                    } else {
                        format!("{}：{span}；{work} 上班", h.name)
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let page = Page {
        frame: Frame::new(web, visitor, "/calendar").await?,
        year,
        official: calendar.year_status(year) == YearStatus::Official,
        months: months(&calendar, year),
        holidays,
        admin: visitor.role() == Role::Admin,
        request_id: web.request_id(),
        refusals,
        typed,
    };
    html(&page)
}

pub async fn page(State(web): State<Web>, visitor: Visitor, RawQuery(query): RawQuery) -> Result<Response, WebError> {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let this_year = local_date(web.hub.clock().now()).year();
    let year =
        query.get("year").parse().ok().filter(|y| (this_year - 30..=this_year + 5).contains(y)).unwrap_or(this_year);
    render(&web, &visitor, year, Refusals::default(), String::new()).await
}

/// Loads a year's schedule (admins), then shows that year.
pub async fn load(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let loaded = match app::calendar::schedule_of("schedule", fields.get("schedule")) {
        Ok(schedule) => {
            let source = "工作台上传".to_owned();
            app::calendar::load_schedule(&web.hub, &visitor.actor, &fields.key("LoadSchedule"), schedule, source).await
        }
        Err(e) => Err(e),
    };
    match loaded {
        Ok(loaded) => Ok(Redirect::to(&format!("/calendar?year={}", loaded.year)).into_response()),
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            let this_year = local_date(web.hub.clock().now()).year();
            render(&web, &visitor, this_year + 1, Refusals::of(&violations), fields.get("schedule").to_owned()).await
        }
        Err(e) => Err(e.into()),
    }
}
