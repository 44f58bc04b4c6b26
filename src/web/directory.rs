//! 成员单位 — the directory as every user reads it (Art. 22): each member's leader,
//! responsible office and liaison with phones, and its status; a member keeps its own
//! contacts here, the office any member's; the administrator adds members and suspends
//! or resumes them. Every change goes through the hub's one directory operation.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    error::WebError,
    guard::{Fields, Posted, Visitor},
    page::{html, Choice, Frame},
    refusals::Refusals,
    Web,
};
use crate::{
    app::{self, AppError},
    domain::{
        directory::{ContactsInput, DirectoryChange, MemberInput, Touches},
        notification::{Channel, Event, Notify, WebhookFormat},
        vocabulary::Need,
        DomainError, Role,
    },
};

/// A member as the table shows it.
pub struct Line {
    pub code: String,
    pub name: String,
    pub role: &'static str,
    pub active: bool,
    pub leader: String,
    pub department: String,
    pub liaison: String,
    pub office_phone: String,
    pub mobile: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct Page {
    frame: Frame,
    version: u64,
    lines: Vec<Line>,
    /// Whose contacts the visitor may change: its own, or (office, admin) any member's;
    /// the one the form is about selected.
    editable: Vec<Choice>,
    /// What the contacts form shows: typed after a refusal, or the chosen member's.
    typed: Fields,
    admin: bool,
    needs: Vec<Choice>,
    /// The notification form: channels, events and webhook formats, as chosen.
    channels: Vec<Choice>,
    events: Vec<Choice>,
    formats: Vec<Choice>,
    /// What the chosen member's liaison lacks for a channel chosen: said beside it.
    missing: Vec<&'static str>,
    /// One for every form of the page: only one is sent.
    request_id: uuid::Uuid,
    /// The form refused, and why.
    refused: &'static str,
    refusals: Refusals,
}

impl Page {
    fn typed(&self, field: &str) -> &str {
        self.typed.get(field)
    }
}

async fn render(
    web: &Web,
    visitor: &Visitor,
    flash: &str,
    chosen: &str,
    refused: Option<(&'static str, &Fields, Refusals)>,
) -> Result<Response, WebError> {
    let frame = Frame::new(web, visitor, "/directory").await?.with_flash(flash);
    let directory = web.directory();
    let caller = visitor.caller();
    let lines = directory
        .members()
        .iter()
        .map(|m| Line {
            code: m.code.to_string(),
            name: m.name.clone(),
            role: if m.role == Role::Procuratorate { "检察院" } else { "成员单位" },
            active: m.active,
            leader: m.contacts.leader.clone(),
            department: m.contacts.department.clone(),
            liaison: m.contacts.liaison.clone(),
            office_phone: m.contacts.office_phone.clone(),
            mobile: m.contacts.mobile.clone(),
            email: m.contacts.email.clone(),
        })
        .collect();
    let editable: Vec<Choice> = directory
        .members()
        .iter()
        .filter(|m| Touches::Contacts(m.code.as_str()).permitted(caller).is_ok())
        .map(|m| Choice { value: m.code.to_string(), label: m.name.clone(), selected: false })
        .collect();
    let (form, typed, refusals) = match refused {
        Some((form, fields, refusals)) => (form, fields.clone(), refusals),
        None => {
            // The contacts form starts with the member chosen, the visitor's own, or the
            // first it may change.
            let mut typed = Fields::default();
            let may = |code: &str| editable.iter().any(|e| e.value == code);
            let code = [chosen, caller.code.as_str()]
                .into_iter()
                .find(|c| may(c))
                .or(editable.first().map(|e| e.value.as_str()));
            if let Some(m) = directory.members().iter().find(|m| Some(m.code.as_str()) == code) {
                typed.set("code", m.code.as_str());
                typed.set("leader", &m.contacts.leader);
                typed.set("department", &m.contacts.department);
                typed.set("liaison", &m.contacts.liaison);
                typed.set("office_phone", &m.contacts.office_phone);
                typed.set("mobile", &m.contacts.mobile);
                typed.set("email", &m.contacts.email);
            }
            ("", typed, Refusals::default())
        }
    };
    // The notification form shows what was typed into it, or the member's choice.
    let mut typed = typed;
    if form != "notify" {
        if let Some(m) = directory.members().iter().find(|m| m.code.as_str() == typed.get("code")) {
            let notify = m.notify.as_seen_by(caller, &m.code);
            for c in &notify.channels {
                typed.add("channels", c.code());
            }
            for e in &notify.events {
                typed.add("events", e.code());
            }
            typed.set("webhook_url", &notify.webhook_url);
            typed.set("webhook_format", notify.webhook_format.code());
        }
    }
    let editable = editable.into_iter().map(|c| Choice { selected: c.value == typed.get("code"), ..c }).collect();
    let chosen = typed.all("needs");
    let needs = Need::ALL
        .iter()
        .map(|n| Choice { value: n.code().into(), label: n.label().into(), selected: chosen.contains(&n.code()) })
        .collect();
    let choices = |picked: Vec<&str>, all: Vec<(&'static str, &'static str)>| -> Vec<Choice> {
        all.into_iter()
            .map(|(code, label)| Choice { value: code.into(), label: label.into(), selected: picked.contains(&code) })
            .collect()
    };
    let channels = choices(typed.all("channels"), Channel::ALL.iter().map(|c| (c.code(), c.label())).collect());
    let events = choices(typed.all("events"), Event::ALL.iter().map(|e| (e.code(), e.label())).collect());
    let formats =
        choices(vec![typed.get("webhook_format")], WebhookFormat::ALL.iter().map(|f| (f.code(), f.label())).collect());
    let chosen_member = directory.members().iter().find(|m| m.code.as_str() == typed.get("code"));
    let missing = chosen_member
        .map(|m| {
            let mut missing = Vec::new();
            if m.notify.channels.contains(&Channel::Email) && m.contacts.email.is_empty() {
                missing.push("已选电子邮件，但联络信息中未填写电子邮箱：电子邮件不会发出。");
            }
            if m.notify.channels.contains(&Channel::Sms) && m.contacts.mobile.is_empty() {
                missing.push("已选短信，但联络信息中未填写手机：短信不会发出。");
            }
            missing
        })
        .unwrap_or_default();
    let page = Page {
        frame,
        version: directory.version(),
        lines,
        editable,
        typed,
        admin: caller.role == Role::Admin,
        needs,
        channels,
        events,
        formats,
        missing,
        request_id: web.request_id(),
        refused: form,
        refusals,
    };
    html(&page)
}

pub async fn page(State(web): State<Web>, visitor: Visitor, RawQuery(query): RawQuery) -> Result<Response, WebError> {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let flash = if query.get("done") == "changed" {
        "已更新，并已通知各成员单位和联席会议办公室。"
    } else {
        ""
    };
    render(&web, &visitor, flash, query.get("member"), None).await
}

fn contacts(fields: &Fields) -> ContactsInput<'_> {
    ContactsInput {
        leader: fields.get("leader"),
        department: fields.get("department"),
        liaison: fields.get("liaison"),
        office_phone: fields.get("office_phone"),
        mobile: fields.get("mobile"),
        email: fields.get("email"),
    }
}

/// Makes the change a form describes; a refusal shows beside that form.
async fn change(
    web: Web,
    posted: Posted,
    form: &'static str,
    describe: impl FnOnce(&Fields) -> Result<DirectoryChange, DomainError>,
) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let done = match describe(&fields) {
        Ok(change) => {
            let key = fields.key(app::directory::method(&change));
            app::directory::change(&web.hub, &visitor.actor, &key, change).await.map(drop)
        }
        Err(e) => Err(e.into()),
    };
    match done {
        Ok(()) => Ok(Redirect::to("/directory?done=changed").into_response()),
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            render(&web, &visitor, "", "", Some((form, &fields, Refusals::of(&violations)))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// 分管领导, 内设机构 and 联络员 of a member.
pub async fn contacts_form(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    change(web, posted, "contacts", |f| DirectoryChange::contacts(f.get("code"), contacts(f))).await
}

/// 通知方式: by which channels, of which events, and the webhook.
pub async fn notify_form(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    change(web, posted, "notify", |f| {
        let notify =
            Notify::parse(&f.all("channels"), &f.all("events"), f.get("webhook_url"), f.get("webhook_format"))?;
        DirectoryChange::notify(f.get("code"), notify)
    })
    .await
}

/// The administrator adds a member unit.
pub async fn add(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    change(web, posted, "add", |f| {
        let needs: Vec<Need> = f.all("needs").iter().filter_map(|c| Need::from_code(c)).collect();
        DirectoryChange::add(MemberInput {
            code: f.get("code"),
            name: f.get("name"),
            short_name: f.get("short_name"),
            articles: f.get("articles"),
            needs: &needs,
            contacts: contacts(f),
        })
    })
    .await
}

/// The administrator suspends or resumes a member.
pub async fn activity(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    change(web, posted, "activity", |f| DirectoryChange::activity(f.get("code"), f.get("active") == "true")).await
}
