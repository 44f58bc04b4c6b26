//! The joint-meeting office's pages: every member's load (open, due soon, overdue,
//! on time this year), the deadlines to chase with the working days late, 催办 with a
//! note, and its live messages of missed and moved deadlines. Never a person.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use uuid::Uuid;

use super::{
    error::WebError,
    guard::{Fields, Posted, Visitor},
    page::{html, member, members, Choice, DeadlineLine, Frame, Issued},
    refusals::Refusals,
    todo::{message, Message},
    words, Web,
};
use crate::domain::Rule;
use crate::{
    app::{
        self,
        coordination::{DeadlineFilter, DeadlineView},
        AppError,
    },
    domain::{deadline::DeadlineKind, error::Violations, lifecycle::NoticeKind, person::text, DomainError, MemberCode},
};

/// A member's line of the overview.
pub struct Load {
    pub member: String,
    pub code: String,
    pub open: u32,
    pub due_soon: u32,
    pub overdue: u32,
    pub visits_owed: u32,
    pub visits_overdue: u32,
    pub on_time: String,
}

#[derive(Template)]
#[template(path = "office.html")]
struct Overview {
    frame: Frame,
    today: String,
    loads: Vec<Load>,
    messages: Vec<Message>,
    supervisions: Vec<Issued>,
    extensions: Vec<Asked>,
}

/// A request to extend waiting for the office's answer, with what a refused answer
/// typed and what was refused of it.
pub struct Asked {
    pub id: Uuid,
    pub referral: Uuid,
    pub said: String,
    pub request_id: Uuid,
    pub days: String,
    pub answer: String,
    pub refusals: Refusals,
}

/// An answer refused: to which request, what was typed, what was wrong.
struct Unanswered<'a> {
    id: Uuid,
    fields: &'a Fields,
    violations: Vec<crate::domain::FieldViolation>,
}

/// The 督办函 shown on a page.
const SUPERVISIONS_SHOWN: u32 = 10;

pub async fn overview(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(done): RawQuery,
) -> Result<Response, WebError> {
    let frame = Frame::new(&web, &visitor, "/office").await?;
    let frame = match query_done(&done) {
        Some(done) => frame.with_flash(words::done(done)),
        None => frame,
    };
    html(&overview_page(&web, &visitor, frame, None).await?)
}

/// The overview, with an answer to a request to extend refused if there was one.
async fn overview_page(
    web: &Web,
    visitor: &Visitor,
    frame: Frame,
    refused: Option<Unanswered<'_>>,
) -> Result<Overview, WebError> {
    let (loads, today) = app::coordination::overview(&web.hub, &visitor.actor).await?;
    let loads = loads
        .iter()
        .map(|l| Load {
            member: member(web, &l.member),
            code: l.member.to_string(),
            open: l.open,
            due_soon: l.due_soon,
            overdue: l.overdue,
            visits_owed: l.visits_owed,
            visits_overdue: l.visits_overdue,
            on_time: l.on_time_percent().map_or_else(|| "—".to_owned(), |p| format!("{p}%")),
        })
        .collect();
    let messages = app::inbox::recent(&web.hub, &visitor.actor, 30)
        .await?
        .iter()
        .filter(|e| {
            matches!(
                e.event.notice.kind,
                NoticeKind::DeadlineMissed | NoticeKind::DeadlineMoved | NoticeKind::Reminder | NoticeKind::Supervision
            )
        })
        .map(|e| message(web, e))
        .collect();
    let supervisions = issued(web, visitor).await?;
    let extensions = app::extensions::list(&web.hub, &visitor.actor, None)
        .await?
        .iter()
        .map(|e| {
            let this = refused.as_ref().filter(|r| r.id == e.id);
            Asked {
                id: e.id,
                referral: e.referral_id,
                said: words::extension(e, &member(web, &e.member)),
                request_id: web.request_id(),
                days: this.map(|r| r.fields.get("days").to_owned()).unwrap_or_default(),
                answer: this.map(|r| r.fields.get("answer").to_owned()).unwrap_or_default(),
                refusals: this.map(|r| Refusals::of(&r.violations)).unwrap_or_default(),
            }
        })
        .collect();
    Ok(Overview { frame, today: today.to_string(), loads, messages, supervisions, extensions })
}

/// The newest 督办函 the visitor may read: the office's, or those to the member.
pub async fn issued(web: &Web, visitor: &Visitor) -> Result<Vec<Issued>, WebError> {
    let found = app::supervision::supervisions(&web.hub, &visitor.actor, None, SUPERVISIONS_SHOWN).await?;
    Ok(found.iter().map(|s| Issued::of(web, s)).collect())
}

/// What `?done=…` confirms, if anything.
fn query_done(query: &Option<String>) -> Option<&'static str> {
    let fields = Fields::parse(query.as_deref().unwrap_or_default().as_bytes());
    ["extension_granted", "extension_refused", "pause_allowed"].into_iter().find(|d| *d == fields.get("done"))
}

/// A deadline to chase.
pub struct Chase {
    pub referral: Uuid,
    pub kind_code: &'static str,
    pub line: DeadlineLine,
    pub request_id: Uuid,
    /// A start deadline that used the pauses it had: the office may allow one more,
    /// by a request of its own.
    pub may_allow_pause: bool,
    pub pause_request_id: Uuid,
}

/// The statutory deadlines, or apart the follow-up visits.
pub struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub chases: Vec<Chase>,
}

#[derive(Template)]
#[template(path = "office_deadlines.html")]
struct Deadlines {
    frame: Frame,
    views: Vec<Choice>,
    members: Vec<Choice>,
    view: String,
    member: String,
    /// The 案号 and due days searched for, as typed, and what was refused of them.
    case_reference: String,
    due_from: String,
    due_to: String,
    refusals: Refusals,
    sections: Vec<Section>,
    /// The member chosen has deadlines past their day: the office may send a 督办函.
    supervise: Option<Supervise>,
}

/// The form that sends a 督办函 to the member chosen.
pub struct Supervise {
    pub member: String,
    pub code: String,
    pub overdue: usize,
    pub request_id: Uuid,
}

const VIEWS: [(&str, &str, DeadlineView); 3] = [
    ("overdue", "已逾期", DeadlineView::Overdue),
    ("due_soon", "即将到期", DeadlineView::DueSoon),
    ("outstanding", "全部未完成", DeadlineView::Outstanding),
];

pub async fn deadlines(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let (view_code, _, view) = VIEWS.iter().find(|(code, ..)| *code == query.get("view")).copied().unwrap_or(VIEWS[0]);
    let responsible = match query.get("member") {
        "" => None,
        raw => Some(MemberCode::parse(raw).map_err(|rule| AppError::invalid("member", rule))?),
    };
    let mut frame = Frame::new(&web, &visitor, "/office/deadlines").await?;
    // The office finds a case by its 案号, never a person by name.
    let mut v = Violations::default();
    let case_reference = v.check(text("case_reference", query.get("case_reference"), 0, 100));
    let day = |field: &str| match query.get(field) {
        "" => Ok(None),
        raw => crate::domain::date::parse(field, raw).map(Some),
    };
    let (due_from, due_to) = (v.check(day("due_from")).flatten(), v.check(day("due_to")).flatten());
    let refusals = match v.finish(|| ()) {
        Ok(()) => Refusals::default(),
        Err(DomainError::Invalid(violations)) => Refusals::of(&violations),
        Err(e) => return Err(AppError::Domain(e).into()),
    };
    let filter = DeadlineFilter {
        responsible: responsible.clone(),
        due_from,
        due_to,
        case_reference: case_reference.filter(|r| !r.is_empty()),
        limit: 500,
        ..DeadlineFilter::default()
    };
    let found = app::coordination::deadlines(&web.hub, &visitor.actor, view, filter).await?;
    let calendar = web.hub.calendar();
    let (mut statutory, mut visits) = (Vec::new(), Vec::new());
    for d in &found.deadlines {
        let chase = Chase {
            referral: d.deadline.referral_id,
            kind_code: d.deadline.kind.code(),
            line: DeadlineLine::new(&web, d, found.today, &calendar),
            request_id: web.request_id(),
            may_allow_pause: d.deadline.kind == DeadlineKind::Start
                && d.deadline.state == crate::domain::deadline::DeadlineState::Open
                && d.deadline.pauses >= d.deadline.pauses_allowed,
            pause_request_id: web.request_id(),
        };
        if d.deadline.kind.is_statutory() { &mut statutory } else { &mut visits }.push(chase);
    }
    let sections = vec![
        Section { id: "statutory", title: "法定期限", chases: statutory },
        Section { id: "visits", title: "回访（非法定期限，单列）", chases: visits },
    ];
    let views = VIEWS
        .iter()
        .map(|(code, label, _)| Choice { value: (*code).into(), label: (*label).into(), selected: *code == view_code })
        .collect();
    let members = members(&web, None, responsible.as_ref());
    if let done @ ("reminded" | "supervised") = query.get("done") {
        frame = frame.with_flash(words::done(done));
    }
    let overdue = found.deadlines.iter().filter(|d| d.deadline.kind.is_statutory() && d.deadline.due < found.today);
    let supervise = match (&responsible, overdue.count()) {
        (Some(code), overdue) if overdue > 0 && view == DeadlineView::Overdue => Some(Supervise {
            member: member(&web, code),
            code: code.to_string(),
            overdue,
            request_id: web.request_id(),
        }),
        _ => None,
    };
    let status = if refusals.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = Deadlines {
        frame,
        views,
        members,
        view: view_code.to_owned(),
        member: query.get("member").to_owned(),
        case_reference: query.get("case_reference").to_owned(),
        due_from: query.get("due_from").to_owned(),
        due_to: query.get("due_to").to_owned(),
        refusals,
        sections,
        supervise,
    };
    Ok((status, html(&page)?).into_response())
}

/// 催办: reminds the member responsible for a deadline, with a note.
pub async fn remind(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let referral =
        Uuid::parse_str(fields.get("referral")).map_err(|_| AppError::invalid("referral", Rule::NotAUuid))?;
    let kind =
        DeadlineKind::from_code(fields.get("kind")).ok_or_else(|| AppError::invalid("kind", Rule::NotADeadlineKind))?;
    let note = crate::domain::draft::note("note", fields.get("note")).map_err(AppError::from)?;
    app::coordination::remind(&web.hub, &visitor.actor, &fields.key("Remind"), referral, kind, note).await?;
    let back = Fields::parse(fields.get("back").as_bytes());
    let view = VIEWS.iter().find(|(code, ..)| *code == back.get("view")).map_or("overdue", |(code, ..)| code);
    let member = MemberCode::parse(back.get("member")).map(|c| c.to_string()).unwrap_or_default();
    Ok(Redirect::to(&format!("/office/deadlines?view={view}&member={member}&done=reminded")).into_response())
}

/// 督办: sends a 督办函 to the member's leader in charge, listing its overdue deadlines.
pub async fn supervise(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let (member, note) = (fields.get("member"), fields.get("note"));
    app::supervision::supervise(&web.hub, &visitor.actor, &fields.key("Supervise"), member, note).await?;
    let member = MemberCode::parse(member).map(|c| c.to_string()).unwrap_or_default();
    Ok(Redirect::to(&format!("/office/deadlines?view=overdue&member={member}&done=supervised")).into_response())
}

/// Answers a request to extend: grants the working days typed, or refuses with an answer.
pub async fn decide(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let id = Uuid::parse_str(fields.get("extension")).map_err(|_| AppError::invalid("extension", Rule::NotAUuid))?;
    let grant = (fields.get("decision") == "grant").then(|| fields.get("days").trim().parse::<u32>().unwrap_or(0));
    let method = if grant.is_some() { "GrantExtension" } else { "RefuseExtension" };
    match app::extensions::decide(&web.hub, &visitor.actor, &fields.key(method), id, grant, fields.get("answer")).await
    {
        Ok(_) => {
            let done = if grant.is_some() { "extension_granted" } else { "extension_refused" };
            Ok(Redirect::to(&format!("/office?done={done}")).into_response())
        }
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            let frame = Frame::new(&web, &visitor, "/office").await?;
            let page =
                overview_page(&web, &visitor, frame, Some(Unanswered { id, fields: &fields, violations })).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Lets a referral's recipient pause its start deadline once more.
pub async fn allow_pause(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let referral =
        Uuid::parse_str(fields.get("referral")).map_err(|_| AppError::invalid("referral", Rule::NotAUuid))?;
    app::extensions::allow_pause(&web.hub, &visitor.actor, &fields.key("AllowPause"), referral).await?;
    Ok(Redirect::to("/office?done=pause_allowed").into_response())
}
