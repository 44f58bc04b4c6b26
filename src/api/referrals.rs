//! The ReferralService: submit, read and move referrals through their life cycle.

use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    convert::{self, parse_uuid},
    identity, key,
};
use crate::domain::Rule;
use crate::{
    app::{self, referrals::Draft, AppError},
    domain::{
        case::CaseState,
        date::local_date,
        deadline::{explain::explain, DeadlineKind},
        draft,
        error::Violations,
        lifecycle::Action,
        referral::{Content, Referral, ReferralKind, State, MAX_RECIPIENTS},
        DomainError, FieldViolation, MemberCode,
    },
    proto::{self as pb, referral_service_server::ReferralService},
    store::{Filter, ListQuery},
};

/// Largest page of a listing.
const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 50;

pub struct ReferralApi {
    hub: app::Hub,
}

impl ReferralApi {
    pub fn new(hub: app::Hub) -> Self {
        Self { hub }
    }

    /// Applies one life-cycle act, once per request id.
    async fn act<Q: prost::Message>(
        &self,
        request: Request<Q>,
        method: &str,
        ids: impl Fn(&Q) -> (&str, &str),
        action: impl Fn(&Q) -> Result<Action, AppError>,
    ) -> Result<Response<pb::Referral>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::member(&actor.caller)?;
        let body = request.get_ref();
        let (request_id, referral_id) = ids(body);
        let id = parse_uuid("referral_id", referral_id)?;
        let action = action(body)?;
        let key = key(method, request_id, &request);
        let referral = app::referrals::act(&self.hub, &actor, &key, id, action).await?;
        Ok(Response::new(convert::referral(&referral)))
    }
}

/// A submit request's draft and recipients as domain values, every field at fault
/// named at once. Who may send what to whom is the hub's to check.
pub fn submission(
    body: &pb::SubmitRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(ReferralKind, Content, Vec<MemberCode>), AppError> {
    match (convert::draft(body.draft.as_ref(), now), recipients(&body.recipients)) {
        (Ok((kind, content)), Ok(codes)) => Ok((kind, content, codes)),
        (draft, codes) => {
            let mut violations = Vec::new();
            if let Err(DomainError::Invalid(v)) = draft {
                violations.extend(v);
            }
            violations.extend(codes.err().unwrap_or_default());
            Err(DomainError::Invalid(violations).into())
        }
    }
}

fn recipients(raw: &[String]) -> Result<Vec<MemberCode>, Vec<FieldViolation>> {
    if raw.len() > MAX_RECIPIENTS {
        // Refused whole, before any code is looked at.
        return Err(vec![FieldViolation::new("recipients", Rule::AtMostRecipients { max: MAX_RECIPIENTS })]);
    }
    let mut violations = Vec::new();
    let mut codes = Vec::with_capacity(raw.len());
    for (i, code) in raw.iter().enumerate() {
        match MemberCode::parse(code) {
            Ok(code) => codes.push(code),
            Err(rule) => violations.push(FieldViolation::new(format!("recipients[{i}]"), rule)),
        }
    }
    if violations.is_empty() {
        Ok(codes)
    } else {
        Err(violations)
    }
}

/// Page tokens are `<submitted_at micros>.<id>` of the last referral of a page.
fn page_token<P>(r: &Referral<P>) -> String {
    format!("{}.{}", r.submitted_at.timestamp_micros(), r.id)
}

fn parse_page_token(raw: &str) -> Result<Option<(chrono::DateTime<chrono::Utc>, Uuid)>, FieldViolation> {
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || FieldViolation::new("page_token", Rule::PageToken);
    let (micros, id) = raw.split_once('.').ok_or_else(bad)?;
    let at = micros.parse().ok().and_then(chrono::DateTime::from_timestamp_micros).ok_or_else(bad)?;
    Ok(Some((at, Uuid::parse_str(id).map_err(|_| bad())?)))
}

#[tonic::async_trait]
impl ReferralService for ReferralApi {
    #[tracing::instrument(skip_all, fields(rpc = "Submit"))]
    async fn submit(&self, request: Request<pb::SubmitRequest>) -> Result<Response<pb::SubmitResponse>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::member(&actor.caller)?;
        let body = request.get_ref();
        let (kind, content, recipients) = submission(body, self.hub.clock().now())?;
        let case_id = match body.case_id.as_str() {
            "" => None,
            raw => Some(parse_uuid("case_id", raw)?),
        };
        let attachments = super::materials::attachment_ids(&body.attachment_ids)?;
        let draft = Draft { kind, content, recipients, case_id, attachments, note: String::new() };
        let key = key("Submit", &body.request_id, &request);
        let submitted = app::referrals::submit(&self.hub, &actor, &key, draft).await?;
        Ok(Response::new(pb::SubmitResponse {
            case_id: submitted.case_id.to_string(),
            referrals: submitted.referrals.iter().map(convert::referral).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Get"))]
    async fn get(&self, request: Request<pb::GetReferralRequest>) -> Result<Response<pb::GetReferralResponse>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::reader(&actor.caller)?;
        let id = parse_uuid("id", &request.get_ref().id)?;
        let shown = app::referrals::get(&self.hub, &actor, id).await?;
        let (calendar, today) = (self.hub.calendar(), local_date(self.hub.clock().now()));
        Ok(Response::new(pb::GetReferralResponse {
            referral: Some(convert::referral(&shown.referral)),
            history: shown.history.iter().map(convert::entry).collect(),
            deadlines: shown
                .deadlines
                .iter()
                .map(|d| pb::Deadline {
                    explanation: explain(&d.deadline, d.referral_kind, &calendar, self.hub.policy()),
                    ..convert::deadline(d, today, &calendar, self.hub.policy())
                })
                .collect(),
            attachments: shown.files.iter().map(|c| super::materials::carried(c, shown.view)).collect(),
            visits: shown.visits.iter().map(|v| convert::visit_record(v, &shown.history)).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "List"))]
    async fn list(
        &self,
        request: Request<pb::ListReferralsRequest>,
    ) -> Result<Response<pb::ListReferralsResponse>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::reader(&actor.caller)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        let direction = pb::Direction::try_from(body.direction).unwrap_or_else(|_| {
            violations.push(FieldViolation::new("direction", Rule::NotADirection));
            pb::Direction::Unspecified
        });
        let mut terms = Violations::default();
        let states = draft::terms("states", &body.states, State::ALL.len(), State::from_number, &mut terms);
        if let Err(DomainError::Invalid(v)) = terms.finish(|| ()) {
            violations.extend(v);
        }
        let counterpart = match body.counterpart.as_str() {
            "" => None,
            raw => {
                MemberCode::parse(raw).map_err(|rule| violations.push(FieldViolation::new("counterpart", rule))).ok()
            }
        };
        let case_id = match body.case_id.as_str() {
            "" => None,
            raw => {
                Uuid::parse_str(raw).map_err(|_| violations.push(FieldViolation::new("case_id", Rule::NotAUuid))).ok()
            }
        };
        let limit = match body.page_size {
            0 => DEFAULT_PAGE,
            n if n <= MAX_PAGE => n,
            _ => {
                violations.push(FieldViolation::new("page_size", Rule::AtMost { max: MAX_PAGE as usize }));
                DEFAULT_PAGE
            }
        };
        let after = parse_page_token(&body.page_token).unwrap_or_else(|v| {
            violations.push(v);
            None
        });
        let filter = filtered(&body.search, &body.submitted_from, &body.submitted_to, &mut violations)?;
        if !violations.is_empty() {
            return Err(AppError::from(DomainError::Invalid(violations)).into());
        }
        let query = ListQuery {
            sent: direction == pb::Direction::Sent,
            received: direction == pb::Direction::Received,
            states,
            counterpart,
            case_id,
            after,
            limit,
            search: filter.search,
            submitted: filter.submitted,
            ..ListQuery::default()
        };
        let listed = app::referrals::list(&self.hub, &actor, query).await?;
        let next_page_token = match listed.referrals.last() {
            Some(last) if listed.more => page_token(last),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListReferralsResponse {
            referrals: listed.referrals.iter().map(convert::referral).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ToDo"))]
    async fn to_do(&self, request: Request<pb::ToDoRequest>) -> Result<Response<pb::ToDoResponse>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        let filter = filtered(&body.search, &body.submitted_from, &body.submitted_to, &mut violations)?;
        let limit = match body.page_size {
            0 => DEFAULT_PAGE as usize,
            n if n as usize <= app::referrals::MAX_TO_DO_PAGE => n as usize,
            _ => {
                let max = app::referrals::MAX_TO_DO_PAGE;
                violations.push(FieldViolation::new("page_size", Rule::AtMost { max }));
                0
            }
        };
        if !violations.is_empty() {
            return Err(AppError::from(DomainError::Invalid(violations)).into());
        }
        let to_do = app::referrals::to_do(&self.hub, &actor, &filter, body.offset as usize, limit).await?;
        let (today, calendar) = (local_date(self.hub.clock().now()), self.hub.calendar());
        Ok(Response::new(pb::ToDoResponse {
            total: u32::try_from(to_do.total).unwrap_or(u32::MAX),
            items: to_do
                .rows
                .iter()
                .map(|w| pb::ToDoItem {
                    referral: Some(convert::referral(&w.referral)),
                    awaits: w.awaited.code().to_owned(),
                    deadline: w.deadline.as_ref().map(|d| convert::deadline(d, today, &calendar, self.hub.policy())),
                    reminded: w.deadline.as_ref().is_some_and(|d| d.chased.is_some()),
                    reply: w.reply,
                })
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "GetCase"))]
    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> Result<Response<pb::GetCaseResponse>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::reader(&actor.caller)?;
        let case_id = parse_uuid("case_id", &request.get_ref().case_id)?;
        let case = app::referrals::case(&self.hub, &actor, case_id).await?;
        Ok(Response::new(pb::GetCaseResponse {
            case_id: case.case_id.to_string(),
            complete: case.state != CaseState::Open,
            state: case.state as i32,
            referrals: case.referrals.iter().map(convert::referral).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Receive"))]
    async fn receive(&self, request: Request<pb::TransitionRequest>) -> Result<Response<pb::Referral>, Status> {
        self.act(request, "Receive", |q| (&q.request_id, &q.referral_id), |_| Ok(Action::Receive)).await
    }

    #[tracing::instrument(skip_all, fields(rpc = "Start"))]
    async fn start(&self, request: Request<pb::TransitionRequest>) -> Result<Response<pb::Referral>, Status> {
        self.act(request, "Start", |q| (&q.request_id, &q.referral_id), |_| Ok(Action::Start)).await
    }

    #[tracing::instrument(skip_all, fields(rpc = "Conclude"))]
    async fn conclude(&self, request: Request<pb::ConcludeRequest>) -> Result<Response<pb::Referral>, Status> {
        self.act(
            request,
            "Conclude",
            |q| (&q.request_id, &q.referral_id),
            |q| {
                let conclusion = convert::conclusion(q.conclusion.as_ref());
                let feedback = match q.feedback.as_str() {
                    "" => Ok(None),
                    raw => draft::note("feedback", raw).map(Some),
                };
                Ok(Action::Conclude { conclusion: conclusion?, feedback: feedback? })
            },
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(rpc = "Feedback"))]
    async fn feedback(&self, request: Request<pb::FeedbackRequest>) -> Result<Response<pb::Referral>, Status> {
        self.act(
            request,
            "Feedback",
            |q| (&q.request_id, &q.referral_id),
            |q| Ok(Action::Feedback(draft::note("feedback", &q.feedback)?)),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(rpc = "Return"))]
    async fn r#return(&self, request: Request<pb::ReturnRequest>) -> Result<Response<pb::Referral>, Status> {
        self.act(
            request,
            "Return",
            |q| (&q.request_id, &q.referral_id),
            |q| Ok(Action::Return(draft::note("reason", &q.reason)?)),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(rpc = "Withdraw"))]
    async fn withdraw(&self, request: Request<pb::WithdrawRequest>) -> Result<Response<pb::Referral>, Status> {
        self.act(
            request,
            "Withdraw",
            |q| (&q.request_id, &q.referral_id),
            |q| Ok(Action::Withdraw(draft::note("reason", &q.reason)?)),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(rpc = "Comment"))]
    async fn comment(&self, request: Request<pb::CommentRequest>) -> Result<Response<pb::Referral>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::member(&actor.caller)?;
        let body = request.get_ref();
        let id = parse_uuid("referral_id", &body.referral_id)?;
        let text = draft::note("text", &body.text).map_err(AppError::from)?;
        let action = if body.asks_materials { Action::AskMaterials(text) } else { Action::Comment(text) };
        let attachments = super::materials::attachment_ids(&body.attachment_ids)?;
        let key = key("Comment", &body.request_id, &request);
        let referral = app::referrals::act_with(&self.hub, &actor, &key, id, action, &attachments).await?;
        Ok(Response::new(convert::referral(&referral)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "AskExtension"))]
    async fn ask_extension(
        &self,
        request: Request<pb::AskExtensionRequest>,
    ) -> Result<Response<pb::Extension>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let id = parse_uuid("referral_id", &body.referral_id)?;
        let kind = DeadlineKind::from_number(body.kind).ok_or_else(|| {
            AppError::invalid("kind", Rule::OneOf { choices: "SEND, START, FEEDBACK, URGENT or VISIT" })
        })?;
        let key = key("AskExtension", &body.request_id, &request);
        let asked = app::extensions::ask(&self.hub, &actor, &key, (id, kind), body.days, &body.reason).await?;
        Ok(Response::new(convert::extension(&asked)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ListExtensions"))]
    async fn list_extensions(
        &self,
        request: Request<pb::ListExtensionsRequest>,
    ) -> Result<Response<pb::ListExtensionsResponse>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let id = match body.referral_id.as_str() {
            "" => None,
            raw => Some(parse_uuid("referral_id", raw)?),
        };
        let found = app::extensions::list(&self.hub, &actor, id).await?;
        Ok(Response::new(pb::ListExtensionsResponse { extensions: found.iter().map(convert::extension).collect() }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Visit"))]
    async fn visit(&self, request: Request<pb::VisitRequest>) -> Result<Response<pb::Referral>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::member(&actor.caller)?;
        let body = request.get_ref();
        let id = parse_uuid("referral_id", &body.referral_id)?;
        let (visit, findings) = convert::visit(&body.visit.clone().unwrap_or_default()).map_err(AppError::from)?;
        let key = key("Visit", &body.request_id, &request);
        let referral = app::referrals::act(&self.hub, &actor, &key, id, Action::Visit { visit, findings }).await?;
        Ok(Response::new(convert::referral(&referral)))
    }
}

/// The search and days of a list or the to-do list, by the application's one filter;
/// what it refuses joins `violations`.
fn filtered(search: &str, from: &str, to: &str, violations: &mut Vec<FieldViolation>) -> Result<Filter, Status> {
    match app::referrals::filter(search, from, to) {
        Ok(filter) => Ok(filter),
        Err(AppError::Domain(DomainError::Invalid(v))) => {
            violations.extend(v);
            Ok(Filter::default())
        }
        Err(e) => Err(e.into()),
    }
}
