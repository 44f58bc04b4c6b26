//! The CoordinationService, for the joint-meeting office (联席会议办公室) only: every
//! deadline, reminders (催办), and the office's stream of deadline events.

use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    convert, identity,
    inbox::{event_stream, EventStream},
    key,
};
use crate::domain::Rule;
use crate::{
    app::{
        self,
        coordination::{DeadlineFilter, DeadlineView},
        AppError,
    },
    domain::{date, deadline::DeadlineKind, draft, person::text, DomainError, FieldViolation, MemberCode, Role},
    proto::{self as pb, coordination_service_server::CoordinationService},
};

const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 1000;

pub struct CoordinationApi {
    hub: app::Hub,
}

impl CoordinationApi {
    pub fn new(hub: app::Hub) -> Self {
        Self { hub }
    }
}

fn optional_date(field: &str, raw: &str, violations: &mut Vec<FieldViolation>) -> Option<chrono::NaiveDate> {
    if raw.is_empty() {
        return None;
    }
    date::parse(field, raw).map_err(|v| violations.push(v)).ok()
}

#[tonic::async_trait]
impl CoordinationService for CoordinationApi {
    type WatchStream = EventStream;

    #[tracing::instrument(skip_all, fields(rpc = "ListDeadlines"))]
    async fn list_deadlines(
        &self,
        request: Request<pb::ListDeadlinesRequest>,
    ) -> Result<Response<pb::ListDeadlinesResponse>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::role(&actor.caller, Role::Office)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        let responsible = match body.responsible.as_str() {
            "" => None,
            raw => {
                MemberCode::parse(raw).map_err(|rule| violations.push(FieldViolation::new("responsible", rule))).ok()
            }
        };
        let kind = match body.kind {
            0 => None,
            n => DeadlineKind::from_number(n).or_else(|| {
                violations.push(FieldViolation::new("kind", Rule::NotADeadlineKind));
                None
            }),
        };
        let due_from = optional_date("due_from", &body.due_from, &mut violations);
        let due_to = optional_date("due_to", &body.due_to, &mut violations);
        let limit = match body.limit {
            0 => DEFAULT_LIMIT,
            n if n <= MAX_LIMIT => n,
            _ => {
                violations.push(FieldViolation::new("limit", Rule::AtMost { max: MAX_LIMIT as usize }));
                DEFAULT_LIMIT
            }
        };
        let view = match pb::DeadlineView::try_from(body.view) {
            Ok(pb::DeadlineView::Unspecified) => DeadlineView::Outstanding,
            Ok(pb::DeadlineView::Overdue) => DeadlineView::Overdue,
            Ok(pb::DeadlineView::DueSoon) => DeadlineView::DueSoon,
            Ok(pb::DeadlineView::All) => DeadlineView::All,
            Err(_) => {
                violations.push(FieldViolation::new("view", Rule::NotAView));
                DeadlineView::Outstanding
            }
        };
        let case_reference = match text("case_reference", &body.case_reference, 0, 100) {
            Ok(reference) => Some(reference).filter(|r| !r.is_empty()),
            Err(violation) => {
                violations.push(violation);
                None
            }
        };
        if !violations.is_empty() {
            return Err(AppError::from(DomainError::Invalid(violations)).into());
        }
        let filter = DeadlineFilter { responsible, kind, due_from, due_to, case_reference, limit };
        let found = app::coordination::deadlines(&self.hub, &actor, view, filter).await?;
        let calendar = self.hub.calendar();
        Ok(Response::new(pb::ListDeadlinesResponse {
            deadlines: found
                .deadlines
                .iter()
                .map(|l| convert::deadline(l, found.today, &calendar, self.hub.policy()))
                .collect(),
            today: found.today.to_string(),
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Remind"))]
    async fn remind(&self, request: Request<pb::RemindRequest>) -> Result<Response<pb::RemindResponse>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::role(&actor.caller, Role::Office)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        let referral_id = Uuid::parse_str(&body.referral_id)
            .map_err(|_| violations.push(FieldViolation::new("referral_id", Rule::NotAUuid)))
            .ok();
        let kind = DeadlineKind::from_number(body.kind);
        if kind.is_none() {
            violations.push(FieldViolation::new("kind", Rule::OneOf { choices: "SEND, START, FEEDBACK or URGENT" }));
        }
        let note = draft::note("note", &body.note).map_err(|e| {
            if let DomainError::Invalid(v) = e {
                violations.extend(v);
            }
        });
        let (Some(referral_id), Some(kind), Ok(note), true) = (referral_id, kind, note, violations.is_empty()) else {
            return Err(AppError::from(DomainError::Invalid(violations)).into());
        };
        let key = key("Remind", &body.request_id, &request);
        let reminded = app::coordination::remind(&self.hub, &actor, &key, referral_id, kind, note).await?;
        let today = date::local_date(self.hub.clock().now());
        Ok(Response::new(pb::RemindResponse {
            deadline: Some(convert::deadline(&reminded, today, &self.hub.calendar(), self.hub.policy())),
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "DecideExtension"))]
    async fn decide_extension(
        &self,
        request: Request<pb::DecideExtensionRequest>,
    ) -> Result<Response<pb::Extension>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let id = Uuid::parse_str(&body.extension_id).map_err(|_| AppError::invalid("extension_id", Rule::NotAUuid))?;
        let key = key("DecideExtension", &body.request_id, &request);
        let grant = body.grant.then_some(body.days);
        let decided = app::extensions::decide(&self.hub, &actor, &key, id, grant, &body.answer).await?;
        Ok(Response::new(convert::extension(&decided)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "AllowPause"))]
    async fn allow_pause(&self, request: Request<pb::AllowPauseRequest>) -> Result<Response<pb::Deadline>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let id = Uuid::parse_str(&body.referral_id).map_err(|_| AppError::invalid("referral_id", Rule::NotAUuid))?;
        let key = key("AllowPause", &body.request_id, &request);
        let listed = app::extensions::allow_pause(&self.hub, &actor, &key, id).await?;
        let today = date::local_date(self.hub.clock().now());
        Ok(Response::new(convert::deadline(&listed, today, &self.hub.calendar(), self.hub.policy())))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Supervise"))]
    async fn supervise(&self, request: Request<pb::SuperviseRequest>) -> Result<Response<pb::Supervision>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let key = key("Supervise", &body.request_id, &request);
        let issued = app::supervision::supervise(&self.hub, &actor, &key, &body.member, &body.note).await?;
        Ok(Response::new(super::materials::supervision(&issued)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Watch"))]
    async fn watch(&self, request: Request<pb::SubscribeRequest>) -> Result<Response<EventStream>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let events = app::coordination::watch(&self.hub, &actor, &body.epoch, body.after_seq).await?;
        Ok(Response::new(event_stream(events, self.hub.store().epoch().to_owned())))
    }
}
