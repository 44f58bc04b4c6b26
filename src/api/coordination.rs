//! The CoordinationService, for the joint-meeting office (联席会议办公室) only: every
//! deadline, reminders (催办), and the office's stream of deadline events. The office sees
//! referrals' metadata and deadlines, never the person.

use chrono::Days;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    convert,
    error::ApiError,
    identity,
    inbox::{stream, EventStream},
    Hub, Plan,
};
use crate::{
    domain::{
        date::{self, local_date},
        deadline::{DeadlineKind, DeadlineState},
        lifecycle::{Notice, NoticeKind},
        DomainError, FieldViolation, MemberCode, Role,
    },
    proto::{self as pb, coordination_service_server::CoordinationService},
    store::{Commit, DeadlineQuery, ListedDeadline},
};

const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 1000;
/// How far ahead "due soon" looks before the calendar decides.
const DUE_SOON_DAYS: u64 = 7;

pub struct CoordinationApi {
    hub: Hub,
}

impl CoordinationApi {
    pub fn new(hub: Hub) -> Self {
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
        identity::role(&request, Role::Office)?;
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
                violations.push(FieldViolation::new("kind", format!("{n} is not a deadline kind")));
                None
            }),
        };
        let due_from = optional_date("due_from", &body.due_from, &mut violations);
        let due_to = optional_date("due_to", &body.due_to, &mut violations);
        let limit = match body.limit {
            0 => DEFAULT_LIMIT,
            n if n <= MAX_LIMIT => n,
            _ => {
                violations.push(FieldViolation::new("limit", format!("at most {MAX_LIMIT}")));
                DEFAULT_LIMIT
            }
        };
        let view = pb::DeadlineView::try_from(body.view).unwrap_or_else(|_| {
            violations.push(FieldViolation::new("view", "not a known view"));
            pb::DeadlineView::Unspecified
        });
        if !violations.is_empty() {
            return Err(ApiError::from(DomainError::Invalid(violations)).into());
        }
        let today = local_date(self.hub.clock.now());
        let calendar = self.hub.calendar();
        let mut query = DeadlineQuery { responsible, kind, due_from, due_to, limit, ..DeadlineQuery::default() };
        match view {
            pb::DeadlineView::Overdue => {
                query.outstanding = true;
                let yesterday = today.pred_opt();
                query.due_to = query.due_to.min(yesterday).or(yesterday);
            }
            pb::DeadlineView::DueSoon => {
                query.states = vec![DeadlineState::Open];
                query.due_from = query.due_from.max(Some(today));
                let horizon = today.checked_add_days(Days::new(DUE_SOON_DAYS));
                query.due_to = query.due_to.min(horizon).or(horizon);
            }
            pb::DeadlineView::All => {}
            pb::DeadlineView::Unspecified => query.outstanding = true,
        }
        let mut found = self.hub.store.list_deadlines(&query).await.map_err(ApiError::from)?;
        if view == pb::DeadlineView::DueSoon {
            found.retain(|l| calendar.working_days_between(today, l.deadline.due).value <= 1);
        }
        // Urgent clues first, then the green channel (as stored), then the most overdue,
        // then by due date.
        found.sort_by_key(|l| {
            (
                !l.urgent,
                !l.green_channel,
                std::cmp::Reverse(l.deadline.working_days_late(today, &calendar)),
                l.deadline.due,
            )
        });
        Ok(Response::new(pb::ListDeadlinesResponse {
            deadlines: found.iter().map(|l| convert::deadline(l, today, &calendar)).collect(),
            today: today.to_string(),
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Remind"))]
    async fn remind(&self, request: Request<pb::RemindRequest>) -> Result<Response<pb::RemindResponse>, Status> {
        let caller = identity::role(&request, Role::Office)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        let referral_id = Uuid::parse_str(&body.referral_id)
            .map_err(|_| violations.push(FieldViolation::new("referral_id", "not a UUID")))
            .ok();
        let kind = DeadlineKind::from_number(body.kind);
        if kind.is_none() {
            violations.push(FieldViolation::new("kind", "required: SEND, START, FEEDBACK or URGENT"));
        }
        let note = convert::note("note", &body.note).map_err(|e| {
            if let DomainError::Invalid(v) = e {
                violations.extend(v);
            }
        });
        let (Some(referral_id), Some(kind), Ok(note), true) = (referral_id, kind, note, violations.is_empty()) else {
            return Err(ApiError::from(DomainError::Invalid(violations)).into());
        };
        let (hub, caller, note) = (&self.hub, &caller, &note);
        let answer = self
            .hub
            .once(caller, "Remind", &body.request_id, &request, move || {
                Box::pin(async move {
                    let not_found =
                        || ApiError::NotFound(format!("{} deadline of referral {referral_id}", kind.code()));
                    let referral = hub.store.referral(referral_id).await?.ok_or_else(not_found)?;
                    let deadlines = hub.store.deadlines(referral_id).await?;
                    let deadline = deadlines.into_iter().find(|d| d.kind == kind).ok_or_else(not_found)?;
                    if !deadline.is_outstanding() {
                        return Err(DomainError::WrongState { action: "remind", current: deadline.state.code() }.into());
                    }
                    let now = hub.clock.now();
                    let notice = Notice::for_deadline(
                        &referral,
                        &deadline,
                        &deadline.responsible,
                        NoticeKind::Reminder,
                        &caller.code,
                        now,
                        note.clone(),
                    );
                    let listed = ListedDeadline {
                        referral_kind: referral.kind,
                        urgent: referral.content.urgent,
                        green_channel: referral.content.green_channel(),
                        deadline,
                    };
                    let response = pb::RemindResponse {
                        deadline: Some(convert::deadline(&listed, local_date(now), &hub.calendar())),
                    };
                    Ok(Plan { commit: Commit { notices: vec![notice], ..Commit::default() }, response })
                })
            })
            .await?;
        Ok(Response::new(answer))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Watch"))]
    async fn watch(&self, request: Request<pb::SubscribeRequest>) -> Result<Response<EventStream>, Status> {
        let caller = identity::role(&request, Role::Office)?;
        let certificate = identity::presented(&request)?;
        Ok(Response::new(stream(&self.hub, caller.code, certificate, request.get_ref()).await?))
    }
}
