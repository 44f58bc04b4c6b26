//! The forms that start a referral: 社会救助移送 for the procuratorate (several
//! recipients at once, suggested from the needs; an advance referral with its reason)
//! and 司法救助线索 for agencies (the urgent flag). Parsed by the same rules as the
//! API; every refusal shows beside the field it names, with what was typed kept.

use std::collections::HashMap;

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
    page::{html, Frame},
    refusals::Refusals,
    upload::{self, WithFiles},
    Web,
};
use crate::domain::Rule;
use crate::{
    app::{self, referrals::Draft, AppError},
    domain::{
        directory::Directory,
        draft::{self, DraftInput},
        person::PersonInput,
        referral::ReferralKind,
        vocabulary::{Need, PriorityGroup, Situation},
        DomainError, FieldViolation, MemberCode, Role,
    },
};

/// A check box of a list of terms or members.
pub struct Check {
    pub name: &'static str,
    pub value: String,
    pub label: String,
    pub checked: bool,
    /// For needs: the members that serve it, which the page suggests as recipients.
    pub serves: String,
}

#[derive(Template)]
#[template(path = "form.html")]
struct Page {
    frame: Frame,
    clue: bool,
    title: &'static str,
    action: &'static str,
    request_id: String,
    typed: HashMap<String, String>,
    refusals: Refusals,
    situations: Vec<Check>,
    groups: Vec<Check>,
    needs: Vec<Check>,
    recipients: Vec<Check>,
    /// Files uploaded with a refused form, carried again unless unchecked.
    files: Vec<Check>,
    advance: bool,
    urgent: bool,
}

impl Page {
    fn typed(&self, field: &str) -> &str {
        self.typed.get(field).map_or("", String::as_str)
    }

    /// The refusals of `field`, joined.
    fn error(&self, field: &str) -> String {
        self.refusals.at(field)
    }
}

/// The text fields of the form, kept after a refusal.
const TEXTS: [&str; 10] = [
    "person.name",
    "person.id_number",
    "person.phone",
    "person.address",
    "person.household",
    "narrative",
    "case_reference",
    "investigation_ended_on",
    "advance_reason",
    "discovered_on",
];

fn checks<T: Copy>(
    name: &'static str,
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    fields: &Fields,
) -> Vec<Check> {
    let chosen = fields.all(name);
    all.iter()
        .map(|&t| Check {
            name,
            value: code(t).to_owned(),
            label: label(t).to_owned(),
            checked: chosen.contains(&code(t)),
            serves: String::new(),
        })
        .collect()
}

async fn form(
    web: &Web,
    visitor: &Visitor,
    kind: ReferralKind,
    fields: &Fields,
    violations: &[FieldViolation],
) -> Result<Response, WebError> {
    let clue = kind == ReferralKind::JudicialClue;
    let wanted = if clue { Role::Agency } else { Role::Procuratorate };
    if visitor.role() != wanted {
        return Err(AppError::PermissionDenied("this form is for another role".into()).into());
    }
    let (needs, recipients) = {
        let directory = web.directory();
        let mut needs = checks("needs", Need::ALL, Need::code, Need::label, fields);
        for (check, need) in needs.iter_mut().zip(Need::ALL) {
            check.serves = serving(&directory, *need);
        }
        let chosen = fields.all("recipients");
        let recipients = directory
            .members()
            .iter()
            .filter(|m| m.active && m.role == kind.recipient_role())
            .map(|m| Check {
                name: "recipients",
                value: m.code.to_string(),
                label: m.short_name.clone(),
                checked: chosen.contains(&m.code.as_str()) || clue,
                serves: String::new(),
            })
            .collect();
        (needs, recipients)
    };
    let (kept, _) = upload::attachment_ids(fields);
    let files = app::materials::own_uploads(&web.hub, &visitor.actor, &kept)
        .await?
        .iter()
        .map(|file| Check {
            name: "attachments",
            value: file.id.to_string(),
            label: upload::described(file),
            checked: true,
            serves: String::new(),
        })
        .collect();
    let page = Page {
        frame: Frame::new(web, visitor, if clue { "/new/clue" } else { "/new/referral" }).await?,
        clue,
        title: if clue { "移送司法救助线索" } else { "社会救助移送" },
        action: if clue { "/new/clue" } else { "/new/referral" },
        request_id: match fields.get("request_id") {
            "" => web.request_id().to_string(),
            kept => kept.to_owned(),
        },
        typed: TEXTS.iter().map(|&f| (f.to_owned(), fields.get(f).to_owned())).collect(),
        refusals: Refusals::of(violations),
        situations: checks("situations", Situation::ALL, Situation::code, Situation::label, fields),
        groups: checks("priority_groups", PriorityGroup::ALL, PriorityGroup::code, PriorityGroup::label, fields),
        needs,
        recipients,
        files,
        advance: fields.checked("advance"),
        urgent: fields.checked("urgent"),
    };
    let status = if violations.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, html(&page)?).into_response())
}

/// The codes of the members that serve `need`, space-separated.
fn serving(directory: &Directory, need: Need) -> String {
    directory.suggest(&[need]).iter().map(|(m, _)| m.code.to_string()).collect::<Vec<_>>().join(" ")
}

pub async fn new_referral(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let fields = prefilled(&web, &visitor, query).await?;
    form(&web, &visitor, ReferralKind::SocialAssistance, &fields, &[]).await
}

pub async fn new_clue(
    State(web): State<Web>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let fields = prefilled(&web, &visitor, query).await?;
    form(&web, &visitor, ReferralKind::JudicialClue, &fields, &[]).await
}

/// A new form, or with `?from=ID` one filled from referral `ID` and its last visit
/// that asked for another referral: the person, the situation and priority groups, the
/// needs, the case number, and what the visit found.
async fn prefilled(web: &Web, visitor: &Visitor, query: Option<String>) -> Result<Fields, WebError> {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let mut fields = Fields::default();
    let from = match query.get("from") {
        _ if !visitor.role().is_member() => return Ok(fields),
        "" => return Ok(fields),
        raw => Uuid::parse_str(raw).map_err(|_| WebError::NotFound)?,
    };
    let shown = app::referrals::get(&web.hub, &visitor.actor, from).await?;
    let c = &shown.referral.content;
    fields.set("person.name", c.person.name());
    fields.set("person.id_number", c.person.id_number());
    fields.set("person.phone", c.person.phone());
    fields.set("person.address", c.person.address());
    fields.set("person.household", c.person.household());
    fields.set("case_reference", &c.case_reference);
    for s in &c.situations {
        fields.add("situations", s.code());
    }
    for g in &c.priority_groups {
        fields.add("priority_groups", g.code());
    }
    for n in &c.needs {
        fields.add("needs", n.code());
    }
    if let Some(visit) = shown.visits.iter().rev().find(|v| v.visit.another_referral) {
        let on = visit.visit.visited_on;
        fields.set("narrative", &format!("{on}回访发现需再次移送：{}", visit.findings(&shown.history)));
        fields.set("discovered_on", &on.to_string());
    }
    Ok(fields)
}

pub async fn submit_referral(State(web): State<Web>, posted: WithFiles) -> Result<Response, WebError> {
    submit(web, posted, ReferralKind::SocialAssistance).await
}

pub async fn submit_clue(State(web): State<Web>, posted: WithFiles) -> Result<Response, WebError> {
    submit(web, posted, ReferralKind::JudicialClue).await
}

/// The numbers of the terms checked in `field`; an unknown code is 0, which the
/// parser refuses by name.
fn numbers(fields: &Fields, field: &str, number: impl Fn(&str) -> Option<i32>) -> Vec<i32> {
    fields.all(field).iter().map(|code| number(code).unwrap_or(0)).collect()
}

/// The draft a form describes, parsed by the API's rules.
fn parse(web: &Web, fields: &Fields, kind: ReferralKind) -> Result<Draft, DomainError> {
    let situations = numbers(fields, "situations", |c| Situation::from_code(c).map(Situation::number));
    let groups = numbers(fields, "priority_groups", |c| PriorityGroup::from_code(c).map(PriorityGroup::number));
    let needs = numbers(fields, "needs", |c| Need::from_code(c).map(Need::number));
    let parsed = draft::draft(
        DraftInput {
            kind: Some(kind),
            person: Some(PersonInput {
                name: fields.get("person.name"),
                id_number: fields.get("person.id_number"),
                phone: fields.get("person.phone"),
                address: fields.get("person.address"),
                household: fields.get("person.household"),
            }),
            situations: &situations,
            priority_groups: &groups,
            needs: &needs,
            narrative: fields.get("narrative"),
            case_reference: fields.get("case_reference"),
            investigation_ended_on: fields.get("investigation_ended_on"),
            advance: fields.checked("advance"),
            advance_reason: fields.get("advance_reason"),
            discovered_on: fields.get("discovered_on"),
            urgent: fields.checked("urgent"),
        },
        web.hub.clock().now(),
    );
    let mut violations = Vec::new();
    let mut recipients = Vec::new();
    for (i, code) in fields.all("recipients").iter().enumerate() {
        match MemberCode::parse(code) {
            Ok(code) => recipients.push(code),
            Err(rule) => violations.push(FieldViolation::new(format!("recipients[{i}]"), rule)),
        }
    }
    let (attachments, refused) = upload::attachment_ids(fields);
    violations.extend(refused);
    match parsed {
        Ok((kind, content)) if violations.is_empty() => {
            Ok(Draft { kind, content, recipients, case_id: None, attachments, note: String::new() })
        }
        Ok(_) => Err(DomainError::Invalid(violations)),
        Err(DomainError::Invalid(mut found)) => {
            found.extend(violations);
            Err(DomainError::Invalid(found))
        }
        Err(e) => Err(e),
    }
}

async fn submit(web: Web, posted: WithFiles, kind: ReferralKind) -> Result<Response, WebError> {
    let WithFiles { posted, refused } = posted;
    let (visitor, fields) = (posted.visitor, posted.fields);
    // A file refused stops the submit: the person sees why, with the rest kept.
    let submitted = match (parse(&web, &fields, kind), refused.is_empty()) {
        (Ok(draft), true) => app::referrals::submit(&web.hub, &visitor.actor, &fields.key("Submit"), draft).await,
        (Ok(_), false) => Err(DomainError::Invalid(refused).into()),
        (Err(DomainError::Invalid(mut found)), _) => {
            found.extend(refused);
            Err(DomainError::Invalid(found).into())
        }
        (Err(e), _) => Err(e.into()),
    };
    let violations = match submitted {
        Ok(s) => {
            let first = s.referrals.first().map(|r| r.id).unwrap_or_default();
            return Ok(Redirect::to(&format!("/referrals/{first}?done=submitted")).into_response());
        }
        Err(AppError::Domain(DomainError::Invalid(violations))) => violations,
        Err(AppError::OpenReferral { recipient, .. }) => {
            vec![FieldViolation::new(
                "recipients",
                Rule::OpenReferral { recipient: super::page::member(&web, &recipient) },
            )]
        }
        Err(e) => return Err(e.into()),
    };
    // A new request id: the refused one stays bound to what was refused.
    let mut fields = fields;
    fields.set("request_id", &web.request_id().to_string());
    form(&web, &visitor, kind, &fields, &violations).await
}
