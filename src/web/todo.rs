//! 待办: every referral awaiting the member's act, one row each, the most urgent first,
//! in pages, with the search of the lists; and the member's newest messages. The page
//! follows the member's inbox and redraws itself ([`super::events`]).

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use uuid::Uuid;

use super::{
    error::WebError,
    guard::{Fields, Visitor},
    page::{html, instant, member, DeadlineLine, Frame, Issued},
    search::Search,
    Web,
};
use crate::{
    app::{
        self,
        inbox::Told,
        referrals::{ToDo, Waiting},
    },
    domain::{date::local_date, deadline::Level, lifecycle::NoticeKind, told::Telling, MemberCode, Role},
};

/// A line of the to-do list.
pub struct Row {
    pub id: Uuid,
    pub person: String,
    pub kind: &'static str,
    pub counterpart: String,
    /// 待签收, 已退回，待改送 …
    pub awaited: &'static str,
    pub deadline: Option<DeadlineLine>,
    /// How far the office pressed it: 已被催办, 已被督办; empty when it did not.
    pub pressed: &'static str,
    /// The other party's comment is the latest entry, beside another act awaited.
    pub reply: bool,
    pub urgent: bool,
    pub green_channel: bool,
}

/// Rows on a page of the to-do list.
const PAGE: usize = 50;

/// A message of the inbox: when, what happened in a sentence, and the note.
pub struct Message {
    pub at: String,
    pub said: String,
    pub referral: Option<Uuid>,
    pub note: String,
    pub reminder: bool,
}

#[derive(Template)]
#[template(path = "todo.html")]
struct Page {
    frame: Frame,
    rows: Vec<Row>,
    total: usize,
    /// The rows shown, counted from 1: 「第 51–100 件」.
    shown: String,
    search: Search,
    previous: Option<String>,
    next: Option<String>,
    messages: Vec<Message>,
    supervisions: Vec<Issued>,
}

/// The page `?page=N` (from 1) of the rows the search finds.
async fn rows_of(web: &Web, visitor: &Visitor, fields: &Fields) -> Result<Page, WebError> {
    let hub = &web.hub;
    let (search, filter) = Search::of(fields)?;
    let page = fields.get("page").parse::<usize>().unwrap_or(1).max(1);
    let ToDo { total, rows } = match &filter {
        Some(filter) => app::referrals::to_do(hub, &visitor.actor, filter, (page - 1) * PAGE, PAGE).await?,
        None => ToDo { total: 0, rows: Vec::new() },
    };
    let (today, calendar) = (local_date(hub.clock().now()), hub.calendar());
    let shown = match rows.len() {
        0 => String::new(),
        n => format!("第 {}–{} 件", (page - 1) * PAGE + 1, (page - 1) * PAGE + n),
    };
    let rows = rows
        .into_iter()
        .map(|Waiting { referral, awaited, deadline, reply }| Row {
            id: referral.id,
            person: referral.content.person.name().to_owned(),
            kind: referral.kind.label(),
            counterpart: member(
                web,
                if referral.sender == visitor.caller().code { &referral.recipient } else { &referral.sender },
            ),
            awaited: awaited.label(),
            pressed: match deadline.as_ref().and_then(|d| d.chased).map(|c| c.level()) {
                Some(Level::Supervised) => "已被督办",
                Some(_) => "已被催办",
                None => "",
            },
            deadline: deadline.map(|d| DeadlineLine::new(web, &d, today, &calendar)),
            reply: awaited.with_reply(reply),
            urgent: referral.content.urgent,
            green_channel: referral.content.green_channel(),
        })
        .collect();
    let link = |n: usize| format!("/?{}&page={n}", search.query());
    let previous = (page > 1).then(|| link(page - 1));
    let next = (page * PAGE < total).then(|| link(page + 1));
    let messages = app::inbox::recent(hub, &visitor.actor, 20)
        .await?
        .iter()
        .filter(|told| told.event.notice.kind != NoticeKind::AuditCheckpoint)
        .map(|e| message(web, e))
        .collect();
    let supervisions = super::office::issued(web, visitor).await?;
    let frame = Frame::new(web, visitor, "/").await?;
    Ok(Page { frame, rows, total, shown, search, previous, next, messages, supervisions })
}

/// An inbox event as a line of messages: 「民政 签收了 李* 的社会救助移送」.
pub fn message(web: &Web, told: &Told) -> Message {
    let n = &told.event.notice;
    let actor = member(web, &n.actor);
    let responsible = told.responsible.as_ref().map(|m| member(web, m));
    // What the hub itself notes of a deadline repeats the sentence.
    let by_hub = n.actor == MemberCode::hub();
    Message {
        at: instant(n.at),
        said: Telling::of(n, &actor, told.person.as_deref()).owed_by(responsible.as_deref()).sentence(),
        referral: (!n.referral_id.is_nil()).then_some(n.referral_id),
        note: if by_hub { String::new() } else { n.note.clone() },
        reminder: matches!(n.kind, NoticeKind::Reminder | NoticeKind::Supervision),
    }
}

/// The to-do page; the office and admins start on their own pages.
pub async fn page(State(web): State<Web>, visitor: Visitor, RawQuery(query): RawQuery) -> Result<Response, WebError> {
    match visitor.role() {
        Role::Office => return Ok(Redirect::to("/office").into_response()),
        Role::Admin => return Ok(Redirect::to("/admin").into_response()),
        _ => {}
    }
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let page = rows_of(&web, &visitor, &fields).await?;
    let status = if page.search.refusals.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, html(&page)?).into_response())
}
