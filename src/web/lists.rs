//! 已接收 / 已发送: the member's referrals, newest first, with the filters of the List
//! RPC (state, counterpart, the search) and pages of 50.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::DateTime;
use uuid::Uuid;

use super::{
    error::WebError,
    guard::{Fields, Visitor},
    page::{html, instant, member, members, Choice, Frame},
    search::Search,
    Web,
};
use crate::{
    app::{self, AppError},
    domain::{referral::State as ReferralState, MemberCode},
    store::ListQuery,
};

const PAGE: u32 = 50;

/// A line of a list.
pub struct Line {
    pub id: Uuid,
    pub submitted: String,
    pub person: String,
    pub kind: &'static str,
    pub counterpart: String,
    pub state: &'static str,
    pub urgent: bool,
    pub green_channel: bool,
}

#[derive(Template)]
#[template(path = "list.html")]
struct Page {
    frame: Frame,
    title: &'static str,
    here: &'static str,
    counterpart_heading: &'static str,
    states: Vec<Choice>,
    counterparts: Vec<Choice>,
    search: Search,
    lines: Vec<Line>,
    /// The query of the next page, if there is one.
    next: String,
}

pub async fn received(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    list(web, visitor, query, false).await
}

pub async fn sent(State(web): State<Web>, visitor: Visitor, RawQuery(query): RawQuery) -> Result<Response, WebError> {
    list(web, visitor, query, true).await
}

/// A page token: `<submitted_at micros>.<id>` of the last line shown.
fn after(raw: &str) -> Option<(chrono::DateTime<chrono::Utc>, Uuid)> {
    let (micros, id) = raw.split_once('.')?;
    Some((DateTime::from_timestamp_micros(micros.parse().ok()?)?, Uuid::parse_str(id).ok()?))
}

async fn list(web: Web, visitor: Visitor, query: Option<String>, sent: bool) -> Result<Response, WebError> {
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let state = ReferralState::from_code(fields.get("state"));
    let counterpart = match fields.get("counterpart") {
        "" => None,
        raw => Some(MemberCode::parse(raw).map_err(|rule| AppError::invalid("counterpart", rule))?),
    };
    let (search, filter) = Search::of(&fields)?;
    let listed = match filter {
        Some(filter) => {
            let query = ListQuery {
                sent,
                received: !sent,
                states: state.into_iter().collect(),
                counterpart: counterpart.clone(),
                after: after(fields.get("after")),
                limit: PAGE,
                search: filter.search,
                submitted: filter.submitted,
                ..ListQuery::default()
            };
            app::referrals::list(&web.hub, &visitor.actor, query).await?
        }
        None => app::referrals::Listed {
            referrals: Vec::new(),
            more: false,
            view: crate::domain::view::View::of(visitor.role()),
        },
    };
    let next = match (listed.more, listed.referrals.last()) {
        (true, Some(last)) => format!(
            "state={}&counterpart={}&{}&after={}.{}",
            fields.get("state"),
            fields.get("counterpart"),
            search.query(),
            last.submitted_at.timestamp_micros(),
            last.id
        ),
        _ => String::new(),
    };
    let lines = listed
        .referrals
        .iter()
        .map(|r| Line {
            id: r.id,
            submitted: instant(r.submitted_at),
            person: r.content.person.name().to_owned(),
            kind: r.kind.label(),
            counterpart: member(&web, if sent { &r.recipient } else { &r.sender }),
            state: r.state.label(),
            urgent: r.content.urgent,
            green_channel: r.content.green_channel(),
        })
        .collect();
    let states = ReferralState::ALL
        .iter()
        .map(|s| Choice { value: s.code().to_owned(), label: s.label().to_owned(), selected: Some(*s) == state })
        .collect();
    let counterparts = members(&web, Some(&visitor.caller().code), counterpart.as_ref());
    let (title, here, counterpart_heading) =
        if sent { ("已发送", "/sent", "接收单位") } else { ("已接收", "/received", "移送单位") };
    let status = if search.refusals.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = Page {
        frame: Frame::new(&web, &visitor, here).await?,
        title,
        here,
        counterpart_heading,
        states,
        counterparts,
        search,
        lines,
        next,
    };
    Ok((status, html(&page)?).into_response())
}
