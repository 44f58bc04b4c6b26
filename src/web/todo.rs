//! 待办: what awaits the member's act, soonest deadline first, and its newest messages;
//! the page follows the member's inbox and redraws itself ([`super::events`]).

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use uuid::Uuid;

use super::{
    error::WebError,
    guard::Visitor,
    page::{html, instant, member, DeadlineLine, Frame},
    Web,
};
use crate::{
    app::{self, inbox::Told, referrals::Waiting},
    domain::{date::local_date, lifecycle::NoticeKind, told::Telling, Role},
};

/// A line of the to-do list.
pub struct Row {
    pub id: Uuid,
    pub person: String,
    pub kind: &'static str,
    pub counterpart: String,
    pub state: &'static str,
    pub deadline: DeadlineLine,
}

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
    messages: Vec<Message>,
}

async fn rows_of(web: &Web, visitor: &Visitor) -> Result<(Vec<Row>, Vec<Message>), WebError> {
    let hub = &web.hub;
    let waiting = app::referrals::to_do(hub, &visitor.actor).await?;
    let (today, calendar) = (local_date(hub.clock.now()), hub.calendar());
    let rows = waiting
        .into_iter()
        .map(|Waiting { deadline, referral }| Row {
            id: referral.id,
            person: referral.content.person.name().to_owned(),
            kind: referral.kind.label(),
            counterpart: member(
                web,
                if referral.sender == visitor.caller().code { &referral.recipient } else { &referral.sender },
            ),
            state: referral.state.label(),
            deadline: DeadlineLine::new(web, &deadline, today, &calendar),
        })
        .collect();
    let messages = app::inbox::recent(hub, &visitor.actor, 20)
        .await?
        .iter()
        .filter(|told| told.event.notice.kind != NoticeKind::AuditCheckpoint)
        .map(|e| message(web, e))
        .collect();
    Ok((rows, messages))
}

/// An inbox event as a line of messages: 「民政 签收了 李* 的社会救助移送」.
pub fn message(web: &Web, told: &Told) -> Message {
    let n = &told.event.notice;
    let actor = member(web, &n.actor);
    Message {
        at: instant(n.at),
        said: Telling::of(n, &actor, told.person.as_deref()).sentence(),
        referral: (!n.referral_id.is_nil()).then_some(n.referral_id),
        note: n.note.clone(),
        reminder: n.kind == NoticeKind::Reminder,
    }
}

/// The to-do page; the office and admins start on their own pages.
pub async fn page(State(web): State<Web>, visitor: Visitor) -> Result<Response, WebError> {
    match visitor.role() {
        Role::Office => return Ok(Redirect::to("/office").into_response()),
        Role::Admin => return Ok(Redirect::to("/admin").into_response()),
        _ => {}
    }
    let frame = Frame::new(&web, &visitor, "/").await?;
    let (rows, messages) = rows_of(&web, &visitor).await?;
    html(&Page { frame, rows, messages })
}
