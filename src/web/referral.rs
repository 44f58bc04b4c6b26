//! A referral's page: the person, the situation, the case's other referrals (1+N), the
//! history, the deadlines, and a form for each act the visitor may do now (the life
//! cycle's own rule decides which); the office sees it masked and acts on nothing.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use uuid::Uuid;

use super::{
    error::WebError,
    guard::{Fields, Posted, Visitor},
    page::{html, instant, member, Choice, DeadlineLine, Frame},
    refusals::Refusals,
    upload::{self, WithFiles},
    words, Web,
};
use crate::domain::Rule;
use crate::{
    app::{self, materials, referrals::Shown, AppError},
    domain::{
        audit,
        date::local_date,
        deadline::{explain::explain, Deadline, DeadlineKind, DeadlineState},
        draft::{self, ConclusionInput},
        extension::ExtensionState,
        key_case,
        lifecycle::{self, Action},
        money,
        referral::{Grant, ReferralKind, State as ReferralState},
        view::View,
        visit::{self, VisitInput},
        vocabulary::{AidKind, Outcome, RefusalGround, VisitEffect, VisitMethod},
        DomainError, FieldViolation, MemberCode, Role,
    },
};

/// A label and a value of the person or the case.
pub struct Item {
    pub label: &'static str,
    pub value: String,
}

/// An entry of the timeline.
/// A line of the access record: a read or an act of the referral.
pub struct AccessLine {
    pub at: String,
    pub member: String,
    /// 经办人: 「系统」 for a member's own certificate.
    pub clerk: String,
    pub what: String,
}

pub struct Step {
    pub at: String,
    pub what: &'static str,
    pub by: String,
    pub note: String,
    /// The names of the files that came with it.
    pub files: Vec<String>,
}

/// A file the referral carries.
pub struct FileLine {
    pub name: String,
    pub kind: String,
    pub size: String,
    pub sha256: String,
    pub by: String,
    /// Where a party downloads it; none for the office.
    pub href: Option<String>,
}

/// A version of the letter as the page lists it.
pub struct LetterLine {
    pub number: String,
    pub issued: String,
    pub sha256: String,
    pub href: String,
}

/// A follow-up visit as the page lists it.
pub struct VisitLine {
    pub visited_on: String,
    pub method: &'static str,
    pub visitor: String,
    pub aid_in_place: &'static str,
    pub effect: &'static str,
    pub another_referral: bool,
    /// What it found; empty for the office.
    pub findings: String,
    pub by: String,
}

/// A file uploaded with a refused form, carried again unless unchecked.
pub struct Kept {
    pub id: Uuid,
    pub label: String,
}

/// Another referral of the same case.
pub struct Sibling {
    pub id: Uuid,
    pub recipient: String,
    pub state: &'static str,
    pub this: bool,
    /// The visitor may open it.
    pub opens: bool,
}

/// A kind of aid on the 办结 form: ticked, and the amount typed.
pub struct AidRow {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
    pub amount: String,
    /// Its amount was refused.
    pub invalid: bool,
}

/// A form of an act, with what was typed into it and what the hub refused.
pub struct ActForm {
    pub name: &'static str,
    pub label: &'static str,
    pub request_id: Uuid,
    pub typed: HashMap<&'static str, String>,
    pub refusals: Refusals,
    pub kept: Vec<Kept>,
}

impl ActForm {
    pub fn typed(&self, field: &str) -> &str {
        self.typed.get(field).map_or("", String::as_str)
    }

    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }

    /// What was refused of `field`, joined.
    pub fn error(&self, field: &str) -> String {
        self.refusals.at(field)
    }
}

#[derive(Template)]
#[template(path = "referral.html")]
struct Page {
    frame: Frame,
    id: Uuid,
    title: String,
    state: &'static str,
    parties: String,
    /// The other party, as the confirmations of acts name it.
    counterpart: String,
    /// Label and style of each flag.
    flags: Vec<(&'static str, &'static str)>,
    person: Vec<Item>,
    case: Vec<Item>,
    outcome: Vec<Item>,
    siblings: Vec<Sibling>,
    steps: Vec<Step>,
    /// Who read and acted on it, for its parties.
    access: Vec<AccessLine>,
    files: Vec<FileLine>,
    /// The letter's versions as issued, for its parties.
    letters: Vec<LetterLine>,
    /// Whether the visitor sent it, and so may correct its letter.
    may_correct: bool,
    correct_id: Uuid,
    /// Where a party downloads the case's dossier.
    dossier: Option<String>,
    deadlines: Vec<DeadlineLine>,
    /// How each deadline's date was reached: its label and the lines.
    explained: Vec<(&'static str, Vec<String>)>,
    acts: Vec<ActForm>,
    visits: Vec<VisitLine>,
    /// Where the visitor starts another referral of this person, when a visit asked
    /// for one.
    again: Option<String>,
    methods: Vec<Choice>,
    effects: Vec<Choice>,
    outcomes: Vec<Choice>,
    aids: Vec<AidRow>,
    grounds: Vec<Choice>,
    /// Agencies the sender may re-route a returned referral to; empty otherwise.
    reroute: Vec<Choice>,
    reroute_id: Uuid,
    reroute_refusals: Refusals,
    /// What a refused 改送 said, kept.
    reroute_note: String,
    /// The mark of the case for the joint meeting's study: reason, by whom, when.
    key_case: Option<(String, String, String)>,
    /// Whether the visitor may mark the case (the office, the procuratorate).
    may_mark: bool,
    key_case_refusals: Refusals,
    key_case_reason: String,
    key_case_id: Uuid,
    masked: bool,
    /// What asking for materials does to the start deadline now.
    pause_hint: String,
    /// The requests to extend its deadlines and their answers, a line each.
    extensions: Vec<String>,
    /// The visitor owes an open deadline and may ask to extend it.
    extend: Option<ExtendForm>,
}

/// The form asking the office to extend a deadline the visitor owes.
pub struct ExtendForm {
    pub request_id: Uuid,
    pub kinds: Vec<Choice>,
    pub days: String,
    pub reason: String,
    pub refusals: Refusals,
}

fn join<T>(items: &[T], label: impl Fn(&T) -> &'static str) -> String {
    items.iter().map(label).collect::<Vec<_>>().join("、")
}

/// What a failed form brings back to the page: which act, what was typed, why.
struct Refused<'a> {
    act: &'a str,
    fields: &'a Fields,
    violations: Vec<FieldViolation>,
}

/// What the page says where the office was given no text.
const WITHHELD: &str = "（不向办公室显示）";

async fn render(
    web: &Web,
    visitor: &Visitor,
    id: Uuid,
    flash: &str,
    refused: Option<Refused<'_>>,
) -> Result<Response, WebError> {
    let hub = &web.hub;
    let Shown { referral: r, history, deadlines, files, visits, extensions: requests, view } =
        app::referrals::get(hub, &visitor.actor, id).await?;
    // What the office was given holds no person; the page says so where a text was withheld.
    let masked = view == View::Masked;
    let c = &r.content;
    let mut person = vec![
        Item { label: "姓名", value: c.person.name().to_owned() },
        Item { label: "公民身份号码", value: c.person.id_number().to_owned() },
        Item { label: "联系电话", value: c.person.phone().to_owned() },
        Item { label: "住址", value: c.person.address().to_owned() },
    ];
    if !masked {
        person.push(Item { label: "家庭情况", value: c.person.household().to_owned() });
    }
    let mut case = vec![
        Item { label: "救助情形", value: join(&c.situations, |s| s.label()) },
        Item { label: "重点群体", value: join(&c.priority_groups, |g| g.label()) },
        Item { label: "救助需求", value: join(&c.needs, |n| n.label()) },
        Item { label: "案号", value: c.case_reference.clone() },
    ];
    if let Some(day) = c.investigation_ended_on {
        case.push(Item { label: "调查核实结束", value: day.to_string() });
    }
    if let Some(day) = c.discovered_on {
        case.push(Item { label: "发现日期", value: day.to_string() });
    }
    if c.advance {
        case.push(Item {
            label: "先行移送理由",
            value: if masked { WITHHELD.into() } else { c.advance_reason.clone() },
        });
    }
    case.push(Item { label: "基本案情", value: if masked { WITHHELD.into() } else { c.narrative.clone() } });
    let mut outcome = Vec::new();
    if let Some(k) = &r.conclusion {
        outcome.push(Item { label: "办结结果", value: k.outcome.label().to_owned() });
        outcome.push(Item { label: "办结日期", value: k.concluded_on.to_string() });
        if !k.aids.is_empty() {
            outcome.push(Item { label: "救助种类及金额", value: Grant::all_said(&k.aids) });
        }
        if k.aids.len() > 1 {
            outcome.push(Item { label: "救助金额合计", value: format!("{} 元", money::yuan(k.amount_fen())) });
        }
        if !k.refusal_grounds.is_empty() {
            outcome.push(Item { label: "不予救助理由", value: join(&k.refusal_grounds, |g| g.label()) });
        }
        if !masked {
            outcome.push(Item { label: "办理情况", value: k.summary.clone() });
        }
    }
    if let Some(feedback) = &r.feedback {
        outcome.push(Item { label: "反馈意见", value: feedback.clone() });
    }
    if let Some(reason) = &r.closing_reason {
        outcome.push(Item { label: "退回/撤回理由", value: reason.clone() });
    }
    let code = &visitor.caller().code;
    let siblings = app::referrals::case_members(hub, &visitor.actor, r.case_id)
        .await?
        .iter()
        .map(|s| Sibling {
            id: s.id,
            recipient: member(web, &s.recipient),
            state: s.state.label(),
            this: s.id == r.id,
            opens: s.is_party(code) || visitor.role() == Role::Office,
        })
        .collect();
    let steps = history
        .iter()
        .map(|e| Step {
            at: instant(e.at),
            what: words::entry(e.kind),
            by: if e.clerk.is_empty() {
                member(web, &e.actor)
            } else {
                format!("{} · {}", member(web, &e.actor), e.clerk)
            },
            note: e.note.clone(),
            files: files.iter().filter(|f| f.version == e.version).map(|f| f.attachment.name.clone()).collect(),
        })
        .collect();
    let party = visitor.role().is_member();
    let access = if party {
        app::referrals::access(hub, &visitor.actor, r.id)
            .await?
            .into_iter()
            .rev()
            .map(|app::referrals::Access { entry: e, clerk }| AccessLine {
                at: instant(e.at),
                member: member(web, &e.record.actor),
                clerk: clerk.unwrap_or_else(|| "系统".to_owned()),
                what: match e.record.detail.as_str() {
                    "masked" => format!("{}（已脱敏）", audit::action_label(&e.record.action)),
                    _ => audit::action_label(&e.record.action).to_owned(),
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    let again = (party && visits.iter().any(|v| v.visit.another_referral)).then(|| {
        let form = if visitor.role() == Role::Procuratorate { "referral" } else { "clue" };
        format!("/new/{form}?from={}", r.id)
    });
    let visits = visits
        .iter()
        .map(|v| VisitLine {
            visited_on: v.visit.visited_on.to_string(),
            method: v.visit.method.label(),
            visitor: v.visit.visitor.clone(),
            aid_in_place: if v.visit.aid_in_place { "到位" } else { "未到位" },
            effect: v.visit.effect.label(),
            another_referral: v.visit.another_referral,
            findings: v.findings(&history).to_owned(),
            by: member(web, &v.by),
        })
        .collect();
    let file_lines = files
        .iter()
        .map(|f| FileLine {
            name: f.attachment.name.clone(),
            kind: f.attachment.kind.code().to_uppercase(),
            size: upload::size(f.attachment.size),
            sha256: crate::domain::hex::lower(&f.attachment.sha256),
            by: member(web, &f.by),
            href: party.then(|| format!("/referrals/{}/files/{}", r.id, f.attachment.id)),
        })
        .collect();
    // Files a refused comment uploaded, offered again on its form.
    let mut kept = match &refused {
        Some(refused) if refused.act == "comment" => {
            let (ids, _) = upload::attachment_ids(refused.fields);
            materials::own_uploads(hub, &visitor.actor, &ids)
                .await?
                .iter()
                .map(|file| Kept { id: file.id, label: upload::described(file) })
                .collect()
        }
        _ => Vec::new(),
    };
    let (today, calendar) = (local_date(hub.clock().now()), hub.calendar());
    let explained = deadlines
        .iter()
        .map(|d| (d.deadline.kind.label(), explain(&d.deadline, d.referral_kind, &calendar, hub.policy())))
        .collect();
    let start = deadlines.iter().find(|d| d.deadline.kind == DeadlineKind::Start).map(|d| &d.deadline);
    let pause_hint = match start {
        Some(d) if d.may_pause(today) => format!(
            "提交后，本件启动期限暂停计时，至对方补充材料为止，暂停的工作日顺延（本件可暂停 {} 次，已用 {} 次）。",
            d.pauses_allowed, d.pauses
        ),
        _ => "本件启动期限不再因此暂停计时；确需暂停的，请联系联席会议办公室。".to_owned(),
    };
    let extensions = requests.iter().map(|e| words::extension(e, &member(web, &e.member))).collect();
    let owed: Vec<&Deadline> = deadlines
        .iter()
        .map(|d| &d.deadline)
        .filter(|d| {
            d.responsible == visitor.caller().code
                && d.state == DeadlineState::Open
                && today <= d.due
                && !requests.iter().any(|e| e.kind == d.kind && e.state == ExtensionState::Asked)
        })
        .collect();
    let extend = (!owed.is_empty()).then(|| {
        let typed = |field: &str| match &refused {
            Some(refused) if refused.act == "extend" => refused.fields.get(field).to_owned(),
            _ => String::new(),
        };
        let wanted = typed("kind");
        ExtendForm {
            request_id: web.request_id(),
            kinds: owed
                .iter()
                .map(|d| Choice {
                    value: d.kind.code().into(),
                    label: format!("{}（{}到期）", d.kind.label(), d.due),
                    selected: wanted == d.kind.code(),
                })
                .collect(),
            days: typed("days"),
            reason: typed("reason"),
            refusals: match &refused {
                Some(refused) if refused.act == "extend" => Refusals::of(&refused.violations),
                _ => Refusals::default(),
            },
        }
    });
    let deadlines = deadlines.iter().map(|d| DeadlineLine::new(web, d, today, &calendar)).collect();
    let allowed = if party { lifecycle::allowed(&r, visitor.caller()) } else { Vec::new() };
    let acts = allowed
        .into_iter()
        .map(|name| {
            let (typed, refusals) = match &refused {
                Some(refused) if refused.act == name => (
                    TYPED.iter().map(|&f| (f, refused.fields.get(f).to_owned())).collect(),
                    Refusals::of(&refused.violations),
                ),
                // A day's acts are mostly recorded that day.
                _ => (
                    ["concluded_on", "visited_on"].into_iter().map(|f| (f, today.to_string())).collect(),
                    Refusals::default(),
                ),
            };
            let kept = if name == "comment" { std::mem::take(&mut kept) } else { Vec::new() };
            ActForm { name, label: words::act(name), request_id: web.request_id(), typed, refusals, kept }
        })
        .collect();
    let chosen = |field: &str, value: &str| refused.as_ref().is_some_and(|f| f.fields.all(field).contains(&value));
    let methods = VisitMethod::ALL
        .iter()
        .map(|m| Choice { value: m.code().into(), label: m.label().into(), selected: chosen("method", m.code()) })
        .collect();
    let effects = VisitEffect::ALL
        .iter()
        .map(|e| Choice { value: e.code().into(), label: e.label().into(), selected: chosen("effect", e.code()) })
        .collect();
    let outcomes = Outcome::ALL
        .iter()
        .map(|o| Choice { value: o.code().into(), label: o.label().into(), selected: chosen("outcome", o.code()) })
        .collect();
    let aids = AidKind::ALL
        .iter()
        .map(|a| {
            let amount = refused.as_ref().map_or("", |f| f.fields.get(&amount_field(*a)));
            AidRow {
                code: a.code(),
                label: a.label(),
                checked: chosen("aid", a.code()),
                amount: amount.to_owned(),
                invalid: refused
                    .as_ref()
                    .is_some_and(|f| f.violations.iter().any(|v| v.field == format!("conclusion.aids[{}]", a.code()))),
            }
        })
        .collect();
    // The grounds of Art. 6 refuse 司法救助 only: a social-assistance referral has none.
    let grounds = RefusalGround::ALL
        .iter()
        .filter(|_| r.kind == ReferralKind::JudicialClue)
        .map(|g| Choice {
            value: g.code().into(),
            label: g.label().into(),
            selected: chosen("refusal_grounds", g.code()),
        })
        .collect();
    let reroute = if r.state == ReferralState::Returned && r.sender == visitor.caller().code {
        let directory = web.directory();
        let wanted = r.kind.recipient_role();
        directory
            .members()
            .iter()
            .filter(|m| m.active && m.role == wanted && m.code != r.recipient)
            .map(|m| Choice { value: m.code.to_string(), label: m.short_name.clone(), selected: false })
            .collect()
    } else {
        Vec::new()
    };
    let key_case = app::key_cases::of_case(hub, r.case_id)
        .await?
        .map(|k| (k.reason, member(web, &k.marked_by), local_date(k.marked_at).to_string()));
    let may_mark = key_case::may_mark(visitor.caller()).is_ok();
    let (key_case_refusals, key_case_reason) = match &refused {
        Some(refused) if refused.act == "key_case" => {
            (Refusals::of(&refused.violations), refused.fields.get("reason").to_owned())
        }
        _ => (Refusals::default(), String::new()),
    };
    let mut flags = Vec::new();
    if key_case.is_some() {
        flags.push(("重点救助对象", "key"));
    }
    if c.urgent {
        flags.push(("紧急", "urgent"));
    }
    if c.green_channel() {
        flags.push(("绿色通道", "green"));
    }
    if c.advance {
        flags.push(("先行移送", ""));
    }
    let letters = if party {
        app::written::letters(hub, &visitor.actor, r.id)
            .await?
            .into_iter()
            .map(|l| LetterLine {
                href: format!("/referrals/{}/letter?version={}", r.id, l.version),
                issued: format!(
                    "{} {}",
                    crate::domain::date::local_time(l.issued_at).format("%Y-%m-%d %H:%M"),
                    if l.clerk.is_empty() { "系统".to_owned() } else { l.clerk }
                ),
                sha256: crate::domain::hex::lower(&l.sha256),
                number: l.number,
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = Page {
        frame: Frame::new(web, visitor, "").await?.with_flash(flash),
        id: r.id,
        title: format!("{} · {}", r.kind.label(), c.person.name()),
        state: r.state.label(),
        parties: format!("{} → {}", member(web, &r.sender), member(web, &r.recipient)),
        counterpart: member(web, if r.sender == visitor.caller().code { &r.recipient } else { &r.sender }),
        flags,
        person,
        case,
        outcome,
        siblings,
        steps,
        access,
        files: file_lines,
        letters,
        may_correct: r.sender == visitor.caller().code,
        correct_id: web.request_id(),
        dossier: party.then(|| format!("/cases/{}/dossier", r.case_id)),
        deadlines,
        explained,
        acts,
        visits,
        again,
        methods,
        effects,
        outcomes,
        aids,
        grounds,
        reroute,
        reroute_id: web.request_id(),
        reroute_refusals: match &refused {
            Some(refused) if refused.act == "reroute" => Refusals::of(&refused.violations),
            _ => Refusals::default(),
        },
        reroute_note: match &refused {
            Some(refused) if refused.act == "reroute" => refused.fields.get("note").to_owned(),
            _ => String::new(),
        },
        key_case,
        may_mark,
        key_case_refusals,
        key_case_reason,
        key_case_id: web.request_id(),
        masked,
        pause_hint,
        extensions,
        extend,
    };
    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, html(&page)?).into_response())
}

/// The fields of the act forms that are shown again after a refusal.
const TYPED: [&str; 8] = ["concluded_on", "summary", "feedback", "reason", "text", "visited_on", "visitor", "findings"];

/// The page; `?done=ACT` confirms an act just done.
pub async fn page(
    State(web): State<Web>,
    visitor: Visitor,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let id = referral_id(&id)?;
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let flash = match query.get("done") {
        "" => "",
        done => words::done(done),
    };
    render(&web, &visitor, id, flash, None).await
}

/// The referral an address names; an address that names none is a page not found.
fn referral_id(raw: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(raw).map_err(|_| WebError::NotFound)
}

/// The 办结 form's field for the amount of one kind of aid.
fn amount_field(kind: AidKind) -> String {
    format!("amount_{}", kind.code())
}

/// The act a form asks for, parsed by the same rules as the API's.
fn action(fields: &Fields) -> Result<Action, DomainError> {
    match fields.get("act") {
        "receive" => Ok(Action::Receive),
        "start" => Ok(Action::Start),
        "conclude" => {
            // A kind is granted when ticked or when an amount is typed beside it.
            let mut aids = Vec::new();
            for kind in AidKind::ALL {
                let amount = fields.get(&amount_field(*kind));
                if fields.all("aid").contains(&kind.code()) || !amount.trim().is_empty() {
                    aids.push((
                        kind.number(),
                        money::parse_yuan(&format!("conclusion.aids[{}]", kind.code()), amount)?,
                    ));
                }
            }
            let grounds: Vec<i32> = fields
                .all("refusal_grounds")
                .iter()
                .map(|code| RefusalGround::from_code(code).map_or(0, RefusalGround::number))
                .collect();
            let conclusion = draft::conclusion(ConclusionInput {
                outcome: Outcome::from_code(fields.get("outcome")).map_or(0, Outcome::number),
                concluded_on: fields.get("concluded_on"),
                summary: fields.get("summary"),
                refusal_grounds: &grounds,
                aids: &aids,
            })?;
            let feedback = match fields.get("feedback") {
                "" => None,
                raw => Some(draft::note("feedback", raw)?),
            };
            Ok(Action::Conclude { conclusion, feedback })
        }
        "feedback" => Ok(Action::Feedback(draft::note("feedback", fields.get("feedback"))?)),
        "return" => Ok(Action::Return(draft::note("reason", fields.get("reason"))?)),
        "withdraw" => Ok(Action::Withdraw(draft::note("reason", fields.get("reason"))?)),
        "comment" => Ok(Action::Comment(draft::note("text", fields.get("text"))?)),
        "ask_materials" => Ok(Action::AskMaterials(draft::note("text", fields.get("text"))?)),
        "visit" => {
            let (visit, findings) = visit::parse(VisitInput {
                visited_on: fields.get("visited_on"),
                method: VisitMethod::from_code(fields.get("method")).map_or(0, VisitMethod::number),
                visitor: fields.get("visitor"),
                findings: fields.get("findings"),
                aid_in_place: fields.checked("aid_in_place"),
                effect: VisitEffect::from_code(fields.get("effect")).map_or(0, VisitEffect::number),
                another_referral: fields.checked("another_referral"),
            })?;
            Ok(Action::Visit { visit, findings })
        }
        _ => Err(FieldViolation::new("act", Rule::NotAnAct).into()),
    }
}

/// Does an act (a comment with the files it carries), then shows the page again saying
/// what was done; a refusal of the form shows beside it, with what was typed.
pub async fn act(State(web): State<Web>, Path(id): Path<String>, posted: WithFiles) -> Result<Response, WebError> {
    let id = referral_id(&id)?;
    let WithFiles { posted: Posted { visitor, fields }, mut refused } = posted;
    let (files, unreadable) = upload::attachment_ids(&fields);
    refused.extend(unreadable);
    let done = match action(&fields) {
        Ok(_) if !refused.is_empty() => Err(DomainError::Invalid(refused).into()),
        Ok(action) => {
            let method = app::referrals::method(&action);
            app::referrals::act_with(&web.hub, &visitor.actor, &fields.key(method), id, action, &files).await.map(drop)
        }
        Err(DomainError::Invalid(mut found)) => {
            found.extend(refused);
            Err(DomainError::Invalid(found).into())
        }
        Err(e) => Err(AppError::Domain(e)),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/referrals/{id}?done={}", fields.get("act"))).into_response()),
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            let refused = Refused { act: fields.get("act"), fields: &fields, violations };
            render(&web, &visitor, id, "", Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Refers the person of a returned referral to other agencies, in the same case.
pub async fn reroute(State(web): State<Web>, Path(id): Path<String>, posted: Posted) -> Result<Response, WebError> {
    let id = referral_id(&id)?;
    let Posted { visitor, fields } = posted;
    let recipients = fields
        .all("recipients")
        .iter()
        .map(|code| MemberCode::parse(code).map_err(|rule| AppError::invalid("recipients", rule)))
        .collect::<Result<Vec<_>, _>>()?;
    let submitted: Result<_, AppError> =
        app::referrals::reroute(&web.hub, &visitor.actor, &fields.key("Submit"), id, recipients, fields.get("note"))
            .await;
    match submitted {
        Ok(s) => {
            let first = s.referrals.first().map_or(id, |r| r.id);
            Ok(Redirect::to(&format!("/referrals/{first}?done=reroute")).into_response())
        }
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            let refused = Refused { act: "reroute", fields: &fields, violations };
            render(&web, &visitor, id, "", Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Marks the case of referral `id` for the joint meeting's study, with the reason, or
/// removes the mark (`act=unmark`); back to the referral's page.
pub async fn key_case(State(web): State<Web>, Path(id): Path<String>, posted: Posted) -> Result<Response, WebError> {
    let id = referral_id(&id)?;
    let Posted { visitor, fields } = posted;
    let shown = app::referrals::get(&web.hub, &visitor.actor, id).await?;
    let case_id = shown.referral.case_id;
    let done = if fields.get("act") == "unmark" {
        app::key_cases::unmark(&web.hub, &visitor.actor, &fields.key("UnmarkKeyCase"), case_id)
            .await
            .map(|_| "unmarked")
    } else {
        match key_case::reason(fields.get("reason")) {
            Ok(reason) => {
                let key = fields.key("MarkKeyCase");
                app::key_cases::mark(&web.hub, &visitor.actor, &key, case_id, reason).await.map(|_| "marked")
            }
            Err(e) => Err(e.into()),
        }
    };
    match done {
        Ok(done) => Ok(Redirect::to(&format!("/referrals/{id}?done={done}")).into_response()),
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            let refused = Refused { act: "key_case", fields: &fields, violations };
            render(&web, &visitor, id, "", Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// 延期: asks the office to extend a deadline the visitor owes.
pub async fn extend(State(web): State<Web>, Path(id): Path<String>, posted: Posted) -> Result<Response, WebError> {
    let id = referral_id(&id)?;
    let Posted { visitor, fields } = posted;
    let kind =
        DeadlineKind::from_code(fields.get("kind")).ok_or_else(|| AppError::invalid("kind", Rule::NotADeadlineKind))?;
    // A number that is none is refused as out of range, at its field.
    let days = fields.get("days").trim().parse::<u32>().unwrap_or(0);
    let key = fields.key("AskExtension");
    match app::extensions::ask(&web.hub, &visitor.actor, &key, (id, kind), days, fields.get("reason")).await {
        Ok(_) => Ok(Redirect::to(&format!("/referrals/{id}?done=extension_asked")).into_response()),
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            let refused = Refused { act: "extend", fields: &fields, violations };
            render(&web, &visitor, id, "", Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Issues a correction (更正) of the referral's letter, for its sender.
pub async fn correct_letter(
    State(web): State<Web>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, WebError> {
    let id = referral_id(&id)?;
    let Posted { visitor, fields } = posted;
    app::written::correct(&web.hub, &visitor.actor, &fields.key("CorrectLetter"), id).await?;
    Ok(Redirect::to(&format!("/referrals/{id}?done=corrected")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_act_is_parsed_with_the_rules_of_the_api() {
        let fields = Fields::parse(b"act=return&reason=");
        assert!(matches!(action(&fields), Err(DomainError::Invalid(v)) if v[0].field == "reason"));
        // An amount typed beside a kind grants it, ticked or not; a ticked kind without an
        // amount is aid that is not money.
        let fields = Fields::parse(
            "act=conclude&outcome=granted&concluded_on=2026-11-02&summary=%E5%B7%B2%E7%BA%B3%E5%85%A5\
             &aid=subsistence&amount_subsistence=3000%E5%85%83&amount_temporary=500&aid=legal_aid&amount_medical="
                .as_bytes(),
        );
        let Ok(Action::Conclude { conclusion, .. }) = action(&fields) else { panic!("refused") };
        let granted = |aid, fen| Grant { aid, fen };
        assert_eq!(
            conclusion.aids,
            [
                granted(AidKind::Subsistence, 300_000),
                granted(AidKind::Temporary, 50_000),
                granted(AidKind::LegalAid, 0)
            ]
        );
        let fields =
            Fields::parse(b"act=conclude&outcome=granted&concluded_on=2026-11-02&summary=x&amount_medical=3.001");
        assert!(matches!(action(&fields), Err(DomainError::Invalid(v)) if v[0].field == "conclusion.aids[medical]"));
    }
}
