//! The ReferralService: submit, read and move referrals through their life cycle.

use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    convert::{self, View},
    error::ApiError,
    identity, Hub, Plan,
};
use crate::{
    domain::{
        case::CaseState,
        date::local_date,
        deadline,
        directory::Directory,
        error::Violations,
        lifecycle::{self, Action, EntryKind},
        referral::{Referral, State, Submission, MAX_RECIPIENTS},
        Caller, DomainError, FieldViolation, MemberCode, Role,
    },
    proto::{self as pb, referral_service_server::ReferralService},
    store::{Change, Commit, ListQuery, ListedDeadline},
};

/// Largest page of a listing.
const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 50;

pub struct ReferralApi {
    hub: Hub,
}

impl ReferralApi {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }

    /// The referral, if the caller is a party to it or the office; anyone else is told
    /// it does not exist.
    async fn visible(&self, caller: &Caller, id: Uuid) -> Result<Referral, ApiError> {
        match self.hub.store.referral(id).await? {
            Some(r) if r.is_party(&caller.code) || caller.role == Role::Office => Ok(r),
            _ => Err(ApiError::NotFound(format!("referral {id}"))),
        }
    }

    /// Applies one life-cycle act, once per request id.
    async fn act<Q: prost::Message>(
        &self,
        request: Request<Q>,
        method: &str,
        ids: impl Fn(&Q) -> (&str, &str),
        action: impl Fn(&Q) -> Result<Action, ApiError>,
    ) -> Result<Response<pb::Referral>, Status> {
        let caller = identity::member(&request)?;
        let body = request.get_ref();
        let (request_id, referral_id) = ids(body);
        let id = parse_uuid("referral_id", referral_id)?;
        let action = action(body)?;
        let (api, caller, action) = (self, &caller, &action);
        let answer = self
            .hub
            .once(caller, method, request_id, &request, move || {
                Box::pin(async move {
                    let current = api.visible(caller, id).await?;
                    let now = api.hub.clock.now();
                    let t = lifecycle::apply(&current, caller, action.clone(), now)?;
                    let existing = api.hub.store.deadlines(id).await?;
                    let acts: Vec<EntryKind> = t.entries.iter().map(|e| e.kind).collect();
                    let calendar = api.hub.calendar();
                    let deadlines = deadline::on_act(&t.referral, &acts, &existing, &calendar, &api.hub.policy, now);
                    let response = convert::referral(&t.referral);
                    let change = Change {
                        expected_version: Some(current.version),
                        referral: t.referral,
                        entries: t.entries,
                        notices: t.notices,
                        deadlines,
                    };
                    Ok(Plan { commit: Commit { changes: vec![change], ..Commit::default() }, response })
                })
            })
            .await?;
        Ok(Response::new(answer))
    }
}

fn parse_uuid(field: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::invalid(field, "not a UUID"))
}

/// Every rule a submit must pass before anything is read or written: the draft's
/// fields, the recipients, and who may send what to whom.
pub fn check_submit(
    caller: &Caller,
    body: &pb::SubmitRequest,
    now: chrono::DateTime<chrono::Utc>,
    directory: &Directory,
) -> Result<Submission, ApiError> {
    let (kind, content, codes) = match (convert::draft(body.draft.as_ref(), now), recipients(&body.recipients)) {
        (Ok((kind, content)), Ok(codes)) => (kind, content, codes),
        (draft, codes) => {
            let mut violations = Vec::new();
            if let Err(DomainError::Invalid(v)) = draft {
                violations.extend(v);
            }
            violations.extend(codes.err().unwrap_or_default());
            return Err(DomainError::Invalid(violations).into());
        }
    };
    Ok(Submission::check(caller, kind, content, codes, directory)?)
}

fn recipients(raw: &[String]) -> Result<Vec<MemberCode>, Vec<FieldViolation>> {
    if raw.len() > MAX_RECIPIENTS {
        // Refused whole, before any code is looked at.
        return Err(vec![FieldViolation::new("recipients", format!("at most {MAX_RECIPIENTS} recipients"))]);
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
fn page_token(r: &Referral) -> String {
    format!("{}.{}", r.submitted_at.timestamp_micros(), r.id)
}

fn parse_page_token(raw: &str) -> Result<Option<(chrono::DateTime<chrono::Utc>, Uuid)>, FieldViolation> {
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || FieldViolation::new("page_token", "not a token from a previous response");
    let (micros, id) = raw.split_once('.').ok_or_else(bad)?;
    let at = micros.parse().ok().and_then(chrono::DateTime::from_timestamp_micros).ok_or_else(bad)?;
    Ok(Some((at, Uuid::parse_str(id).map_err(|_| bad())?)))
}

#[tonic::async_trait]
impl ReferralService for ReferralApi {
    #[tracing::instrument(skip_all, fields(rpc = "Submit"))]
    async fn submit(&self, request: Request<pb::SubmitRequest>) -> Result<Response<pb::SubmitResponse>, Status> {
        let caller = identity::member(&request)?;
        let body = request.get_ref();
        let submission = {
            let directory = self.hub.directory.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            check_submit(&caller, body, self.hub.clock.now(), &directory)?
        };
        let existing_case = match body.case_id.as_str() {
            "" => None,
            raw => {
                let case_id = parse_uuid("case_id", raw)?;
                match self.hub.store.case_owner(case_id).await.map_err(ApiError::from)? {
                    Some(owner) if owner == caller.code => Some(case_id),
                    _ => return Err(ApiError::NotFound(format!("case {case_id}")).into()),
                }
            }
        };
        let (hub, caller, submission) = (&self.hub, &caller, &submission);
        let answer = self
            .hub
            .once(caller, "Submit", &body.request_id, &request, move || {
                Box::pin(async move {
                    for recipient in &submission.recipients {
                        let open = hub.store.open_referral(recipient, &submission.content.person.id_number).await?;
                        if let Some((existing, sender)) = open {
                            let existing = (sender == caller.code).then_some(existing);
                            return Err(ApiError::OpenReferral { recipient: recipient.clone(), existing });
                        }
                    }
                    let case_id = existing_case.unwrap_or_else(Uuid::new_v4);
                    let ids: Vec<Uuid> = submission.recipients.iter().map(|_| Uuid::new_v4()).collect();
                    let made = lifecycle::submit(submission, caller, case_id, &ids, hub.clock.now());
                    let response = pb::SubmitResponse {
                        case_id: case_id.to_string(),
                        referrals: made.iter().map(|t| convert::referral(&t.referral)).collect(),
                    };
                    let calendar = hub.calendar();
                    let changes = made
                        .into_iter()
                        .map(|t| Change {
                            deadlines: deadline::on_submit(&t.referral, &calendar, &hub.policy),
                            expected_version: None,
                            referral: t.referral,
                            entries: t.entries,
                            notices: t.notices,
                        })
                        .collect();
                    let new_case = existing_case.is_none().then(|| (case_id, caller.code.clone()));
                    Ok(Plan { commit: Commit { new_case, changes, ..Commit::default() }, response })
                })
            })
            .await?;
        tracing::info!(case = %answer.case_id, referrals = answer.referrals.len(), urgent = submission.content.urgent, "submitted");
        Ok(Response::new(answer))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Get"))]
    async fn get(&self, request: Request<pb::GetReferralRequest>) -> Result<Response<pb::GetReferralResponse>, Status> {
        let caller = identity::reader(&request)?;
        let view = View::of(&caller);
        let id = parse_uuid("id", &request.get_ref().id)?;
        let referral = self.visible(&caller, id).await?;
        self.hub.audit_read(&request, &caller, "Get", vec![id]).await?;
        let history = self.hub.store.history(id).await.map_err(ApiError::from)?;
        let deadlines = self.hub.store.deadlines(id).await.map_err(ApiError::from)?;
        let (calendar, today) = (self.hub.calendar(), local_date(self.hub.clock.now()));
        let deadlines = deadlines
            .into_iter()
            .map(|deadline| {
                let listed = ListedDeadline {
                    deadline,
                    referral_kind: referral.kind,
                    urgent: referral.content.urgent,
                    green_channel: referral.content.green_channel(),
                };
                convert::deadline(&listed, today, &calendar)
            })
            .collect();
        Ok(Response::new(pb::GetReferralResponse {
            referral: Some(convert::referral_as(&referral, view)),
            history: history.iter().map(|e| convert::entry_as(e, view)).collect(),
            deadlines,
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "List"))]
    async fn list(
        &self,
        request: Request<pb::ListReferralsRequest>,
    ) -> Result<Response<pb::ListReferralsResponse>, Status> {
        let caller = identity::reader(&request)?;
        let view = View::of(&caller);
        let body = request.get_ref();
        let mut violations = Vec::new();
        let direction = pb::Direction::try_from(body.direction).unwrap_or_else(|_| {
            violations.push(FieldViolation::new("direction", "not a known direction"));
            pb::Direction::Unspecified
        });
        let mut terms = Violations::default();
        let states = convert::terms("states", &body.states, State::ALL.len(), State::from_number, &mut terms);
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
            raw => Uuid::parse_str(raw).map_err(|_| violations.push(FieldViolation::new("case_id", "not a UUID"))).ok(),
        };
        let limit = match body.page_size {
            0 => DEFAULT_PAGE,
            n if n <= MAX_PAGE => n,
            _ => {
                violations.push(FieldViolation::new("page_size", format!("at most {MAX_PAGE}")));
                DEFAULT_PAGE
            }
        };
        let after = parse_page_token(&body.page_token).unwrap_or_else(|v| {
            violations.push(v);
            None
        });
        if !violations.is_empty() {
            return Err(ApiError::from(DomainError::Invalid(violations)).into());
        }
        let query = ListQuery {
            sent: direction == pb::Direction::Sent,
            received: direction == pb::Direction::Received,
            states,
            counterpart,
            case_id,
            after,
            limit: limit + 1,
        };
        let party = (view == View::Full).then_some(&caller.code);
        let mut found = self.hub.store.list(party, &query).await.map_err(ApiError::from)?;
        let next_page_token = if found.len() > limit as usize {
            found.truncate(limit as usize);
            found.last().map(page_token).unwrap_or_default()
        } else {
            String::new()
        };
        if !found.is_empty() {
            self.hub.audit_read(&request, &caller, "List", found.iter().map(|r| r.id).collect()).await?;
        }
        Ok(Response::new(pb::ListReferralsResponse {
            referrals: found.iter().map(|r| convert::referral_as(r, view)).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "GetCase"))]
    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> Result<Response<pb::GetCaseResponse>, Status> {
        let caller = identity::reader(&request)?;
        let view = View::of(&caller);
        let case_id = parse_uuid("case_id", &request.get_ref().case_id)?;
        let referrals: Vec<Referral> = self
            .hub
            .store
            .case_referrals(case_id)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .filter(|r| view == View::Masked || r.is_party(&caller.code))
            .collect();
        if referrals.is_empty() {
            return Err(ApiError::NotFound(format!("case {case_id}")).into());
        }
        self.hub.audit_read(&request, &caller, "GetCase", referrals.iter().map(|r| r.id).collect()).await?;
        let state = CaseState::of(referrals.iter().map(|r| r.state));
        Ok(Response::new(pb::GetCaseResponse {
            case_id: case_id.to_string(),
            complete: state != CaseState::Open,
            state: state as i32,
            referrals: referrals.iter().map(|r| convert::referral_as(r, view)).collect(),
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
                    raw => convert::note("feedback", raw).map(Some),
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
            |q| Ok(Action::Feedback(convert::note("feedback", &q.feedback)?)),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(rpc = "Return"))]
    async fn r#return(&self, request: Request<pb::ReturnRequest>) -> Result<Response<pb::Referral>, Status> {
        self.act(
            request,
            "Return",
            |q| (&q.request_id, &q.referral_id),
            |q| Ok(Action::Return(convert::note("reason", &q.reason)?)),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(rpc = "Withdraw"))]
    async fn withdraw(&self, request: Request<pb::WithdrawRequest>) -> Result<Response<pb::Referral>, Status> {
        self.act(
            request,
            "Withdraw",
            |q| (&q.request_id, &q.referral_id),
            |q| Ok(Action::Withdraw(convert::note("reason", &q.reason)?)),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(rpc = "Comment"))]
    async fn comment(&self, request: Request<pb::CommentRequest>) -> Result<Response<pb::Referral>, Status> {
        self.act(
            request,
            "Comment",
            |q| (&q.request_id, &q.referral_id),
            |q| Ok(Action::Comment(convert::note("text", &q.text)?)),
        )
        .await
    }
}
