//! The member client: a member opens it with its certificate and gets its operations as
//! typed methods. Mutating calls carry a fresh request id and are retried with that same
//! id when the hub is briefly unreachable, so a retry never acts twice.

mod inbox;
mod materials;
mod profile;

use std::time::Duration;

pub use inbox::{beyond_head, changed_epoch, Cursor, Inbox};
pub use materials::Saved;
pub use profile::Profile;
use tonic::{
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity},
    Code, Response, Status, Streaming,
};

use crate::proto::{
    self as pb, calendar_service_client::CalendarServiceClient, coordination_service_client::CoordinationServiceClient,
    directory_service_client::DirectoryServiceClient, inbox_service_client::InboxServiceClient,
    material_service_client::MaterialServiceClient, records_service_client::RecordsServiceClient,
    referral_service_client::ReferralServiceClient,
};

/// Largest message the client accepts.
const MAX_MESSAGE_BYTES: usize = 16 << 20;
/// Tries of a mutating call before giving up on a transient failure.
const TRIES: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A file of the profile (its certificate, key or CA), which says itself what went
    /// wrong once rather than again as a cause.
    #[error("{}: {error}", path.display())]
    Read { path: std::path::PathBuf, error: std::io::Error },
    #[error("profile {}: {reason}", path.display())]
    Profile { path: std::path::PathBuf, reason: String },
    /// The hub was not reached: `reason` is the innermost cause (the layers above it
    /// each say only "transport error").
    #[error("cannot reach the hub at {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
}

/// A connection to the hub as one member (or the office, or an admin).
#[derive(Clone)]
pub struct Client {
    referrals: ReferralServiceClient<Channel>,
    inbox: InboxServiceClient<Channel>,
    directory: DirectoryServiceClient<Channel>,
    coordination: CoordinationServiceClient<Channel>,
    calendar: CalendarServiceClient<Channel>,
    materials: MaterialServiceClient<Channel>,
    records: RecordsServiceClient<Channel>,
}

fn retryable(status: &Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::Aborted)
}

/// A client-side request id: a UUIDv7 made at this machine's time, so that the hub's
/// table of answered requests grows at its end, as its own ids do, instead of taking
/// each on a random page (at 64 submits in flight a tenth of the pages a commit wrote).
pub fn request_id() -> String {
    crate::domain::id::new_id(chrono::Utc::now()).to_string()
}

impl Client {
    /// Connects with the profile's certificate.
    pub async fn connect(profile: &Profile) -> Result<Self, ClientError> {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|error| ClientError::Read { path: path.to_owned(), error })
        };
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(&profile.ca)?))
            .identity(Identity::from_pem(read(&profile.cert)?, read(&profile.key)?))
            .domain_name(profile.server_name());
        let connect_error = |error: tonic::transport::Error| {
            let mut cause: &dyn std::error::Error = &error;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            ClientError::Connect { endpoint: profile.endpoint.clone(), reason: cause.to_string() }
        };
        let channel = Endpoint::from_shared(profile.endpoint.clone())
            .map_err(connect_error)?
            .tls_config(tls)
            .map_err(connect_error)?
            .connect_timeout(Duration::from_secs(10))
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(connect_error)?;
        Ok(Self::from_channel(channel))
    }

    pub fn from_channel(channel: Channel) -> Self {
        Self {
            referrals: ReferralServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES),
            inbox: InboxServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES),
            directory: DirectoryServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES),
            coordination: CoordinationServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES),
            calendar: CalendarServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES),
            materials: MaterialServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES),
            records: RecordsServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES),
        }
    }

    /// The generated stub, for requests the typed methods do not cover (such as
    /// choosing the request id).
    pub fn referral_service(&self) -> ReferralServiceClient<Channel> {
        self.referrals.clone()
    }

    /// The generated inbox stub, for requests the typed methods do not cover.
    pub fn inbox_service(&self) -> InboxServiceClient<Channel> {
        self.inbox.clone()
    }

    /// Sends `make(request_id)` until it succeeds, fails for good, or the tries run out;
    /// every try carries the same request id.
    async fn once<Q, R, F, Fut>(&self, make: impl Fn(String) -> Q, call: F) -> Result<R, Status>
    where
        F: Fn(Self, Q) -> Fut,
        Fut: std::future::Future<Output = Result<Response<R>, Status>>,
    {
        let id = request_id();
        let mut tried = 0;
        loop {
            tried += 1;
            match call(self.clone(), make(id.clone())).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if retryable(&status) && tried < TRIES => {
                    tokio::time::sleep(Duration::from_millis(100 << tried)).await;
                }
                Err(status) => return Err(status),
            }
        }
    }

    pub async fn submit(
        &self,
        draft: pb::ReferralDraft,
        recipients: Vec<String>,
        case_id: Option<String>,
    ) -> Result<pb::SubmitResponse, Status> {
        self.submit_with(draft, recipients, case_id, Vec::new()).await
    }

    /// Submits with files uploaded beforehand ([`Client::upload_file`]).
    pub async fn submit_with(
        &self,
        draft: pb::ReferralDraft,
        recipients: Vec<String>,
        case_id: Option<String>,
        attachment_ids: Vec<String>,
    ) -> Result<pb::SubmitResponse, Status> {
        self.once(
            |request_id| pb::SubmitRequest {
                request_id,
                draft: Some(draft.clone()),
                recipients: recipients.clone(),
                case_id: case_id.clone().unwrap_or_default(),
                attachment_ids: attachment_ids.clone(),
            },
            |c, q| async move { c.referrals.clone().submit(q).await },
        )
        .await
    }

    pub async fn get(&self, id: &str) -> Result<pb::GetReferralResponse, Status> {
        let request = pb::GetReferralRequest { id: id.to_owned() };
        Ok(self.referrals.clone().get(request).await?.into_inner())
    }

    pub async fn list(&self, request: pb::ListReferralsRequest) -> Result<pb::ListReferralsResponse, Status> {
        Ok(self.referrals.clone().list(request).await?.into_inner())
    }

    /// 待办: what awaits the caller's act.
    pub async fn to_do(&self, request: pb::ToDoRequest) -> Result<pb::ToDoResponse, Status> {
        Ok(self.referrals.clone().to_do(request).await?.into_inner())
    }

    pub async fn case(&self, case_id: &str) -> Result<pb::GetCaseResponse, Status> {
        let request = pb::GetCaseRequest { case_id: case_id.to_owned() };
        Ok(self.referrals.clone().get_case(request).await?.into_inner())
    }

    fn transition(request_id: String, referral_id: &str) -> pb::TransitionRequest {
        pb::TransitionRequest { request_id, referral_id: referral_id.to_owned() }
    }

    /// 签收.
    pub async fn receive(&self, referral_id: &str) -> Result<pb::Referral, Status> {
        self.once(|id| Self::transition(id, referral_id), |c, q| async move { c.referrals.clone().receive(q).await })
            .await
    }

    /// 启动程序.
    pub async fn start(&self, referral_id: &str) -> Result<pb::Referral, Status> {
        self.once(|id| Self::transition(id, referral_id), |c, q| async move { c.referrals.clone().start(q).await })
            .await
    }

    /// 办结, with the feedback in the same step when given.
    pub async fn conclude(
        &self,
        referral_id: &str,
        conclusion: pb::Conclusion,
        feedback: Option<String>,
    ) -> Result<pb::Referral, Status> {
        self.once(
            |request_id| pb::ConcludeRequest {
                request_id,
                referral_id: referral_id.to_owned(),
                conclusion: Some(conclusion.clone()),
                feedback: feedback.clone().unwrap_or_default(),
            },
            |c, q| async move { c.referrals.clone().conclude(q).await },
        )
        .await
    }

    /// 反馈.
    pub async fn feedback(&self, referral_id: &str, text: &str) -> Result<pb::Referral, Status> {
        self.once(
            |request_id| pb::FeedbackRequest {
                request_id,
                referral_id: referral_id.to_owned(),
                feedback: text.to_owned(),
            },
            |c, q| async move { c.referrals.clone().feedback(q).await },
        )
        .await
    }

    /// 退回.
    pub async fn return_referral(&self, referral_id: &str, reason: &str) -> Result<pb::Referral, Status> {
        self.once(
            |request_id| pb::ReturnRequest {
                request_id,
                referral_id: referral_id.to_owned(),
                reason: reason.to_owned(),
            },
            |c, q| async move { c.referrals.clone().r#return(q).await },
        )
        .await
    }

    /// 撤回.
    pub async fn withdraw(&self, referral_id: &str, reason: &str) -> Result<pb::Referral, Status> {
        self.once(
            |request_id| pb::WithdrawRequest {
                request_id,
                referral_id: referral_id.to_owned(),
                reason: reason.to_owned(),
            },
            |c, q| async move { c.referrals.clone().withdraw(q).await },
        )
        .await
    }

    /// 补充材料.
    pub async fn comment(&self, referral_id: &str, text: &str) -> Result<pb::Referral, Status> {
        self.comment_with(referral_id, text, Vec::new()).await
    }

    /// 补充材料 with files uploaded beforehand.
    pub async fn comment_with(
        &self,
        referral_id: &str,
        text: &str,
        attachment_ids: Vec<String>,
    ) -> Result<pb::Referral, Status> {
        self.once(
            |request_id| pb::CommentRequest {
                request_id,
                referral_id: referral_id.to_owned(),
                text: text.to_owned(),
                attachment_ids: attachment_ids.clone(),
                asks_materials: false,
            },
            |c, q| async move { c.referrals.clone().comment(q).await },
        )
        .await
    }

    /// 请求补充材料 — the recipient asks the sender for more materials; its start
    /// deadline stands still until the sender comments.
    pub async fn ask_materials(&self, referral_id: &str, text: &str) -> Result<pb::Referral, Status> {
        self.once(
            |request_id| pb::CommentRequest {
                request_id,
                referral_id: referral_id.to_owned(),
                text: text.to_owned(),
                attachment_ids: Vec::new(),
                asks_materials: true,
            },
            |c, q| async move { c.referrals.clone().comment(q).await },
        )
        .await
    }

    /// 回访 — a follow-up visit by the member that granted aid.
    pub async fn visit(&self, referral_id: &str, visit: pb::Visit) -> Result<pb::Referral, Status> {
        self.once(
            |request_id| pb::VisitRequest {
                request_id,
                referral_id: referral_id.to_owned(),
                visit: Some(visit.clone()),
            },
            |c, q| async move { c.referrals.clone().visit(q).await },
        )
        .await
    }

    /// The inbox after `after_seq` (after the last acknowledgement when `None`), then
    /// live events.
    pub async fn subscribe(&self, after_seq: Option<u64>) -> Result<Streaming<pb::InboxEvent>, Status> {
        let request = pb::SubscribeRequest { after_seq, epoch: String::new() };
        Ok(self.inbox.clone().subscribe(request).await?.into_inner())
    }

    /// Follows the inbox from `cursor`: every event once, in order, across a restart
    /// of the hub and a restore of its database (see [`Inbox`]).
    pub fn follow(&self, cursor: Cursor) -> Inbox {
        Inbox::new(self.clone(), cursor)
    }

    pub async fn ack(&self, seq: u64) -> Result<pb::AckResponse, Status> {
        self.ack_in(seq, "").await
    }

    /// Acknowledges up to `seq` as read in inbox `epoch` (refused with INBOX_EPOCH when
    /// the hub's is another; not checked when empty).
    pub async fn ack_in(&self, seq: u64, epoch: &str) -> Result<pb::AckResponse, Status> {
        Ok(self.inbox.clone().ack(pb::AckRequest { seq, epoch: epoch.to_owned() }).await?.into_inner())
    }

    /// The hub's newest checkpoint and the proof that its log extends the one `kept`
    /// signed (check both with [`crate::audit::consistent`]).
    pub async fn prove_consistency(
        &self,
        kept: &crate::domain::audit::Checkpoint,
    ) -> Result<(crate::domain::audit::Checkpoint, Vec<crate::domain::audit::Hash>), Status> {
        let answer =
            self.inbox.clone().prove_consistency(pb::ProveConsistencyRequest { seq: kept.seq }).await?.into_inner();
        let malformed = || Status::internal("the hub answered with a malformed proof");
        let c = answer.checkpoint.ok_or_else(malformed)?;
        let newest = crate::domain::audit::Checkpoint {
            seq: c.seq,
            head: c.head,
            at: c.at.parse().map_err(|_| malformed())?,
            signature: c.signature,
            root: c.root,
        };
        let proof: Result<Vec<_>, Status> =
            answer.proof.iter().map(|h| crate::domain::audit::parse_hex(h).ok_or_else(malformed)).collect();
        Ok((newest, proof?))
    }

    pub async fn members(&self) -> Result<Vec<pb::Member>, Status> {
        Ok(self.directory.clone().list_members(pb::ListMembersRequest {}).await?.into_inner().members)
    }

    /// The directory as it is now, with its version.
    pub async fn directory(&self) -> Result<pb::ListMembersResponse, Status> {
        Ok(self.directory.clone().list_members(pb::ListMembersRequest {}).await?.into_inner())
    }

    /// An admin: adds a member unit (an agency); `request_id` is filled in.
    pub async fn add_member(&self, request: pb::AddMemberRequest) -> Result<pb::DirectoryChangeResponse, Status> {
        self.once(
            |request_id| pb::AddMemberRequest { request_id, ..request.clone() },
            |c, q| async move { c.directory.clone().add_member(q).await },
        )
        .await
    }

    /// An admin: renames a member unit.
    pub async fn rename_member(
        &self,
        code: &str,
        name: &str,
        short_name: &str,
    ) -> Result<pb::DirectoryChangeResponse, Status> {
        self.once(
            |request_id| pb::RenameMemberRequest {
                request_id,
                code: code.to_owned(),
                name: name.to_owned(),
                short_name: short_name.to_owned(),
            },
            |c, q| async move { c.directory.clone().rename_member(q).await },
        )
        .await
    }

    /// An admin: suspends (`active` false) or resumes a member unit.
    pub async fn set_member_active(&self, code: &str, active: bool) -> Result<pb::DirectoryChangeResponse, Status> {
        self.once(
            |request_id| pb::SetMemberActiveRequest { request_id, code: code.to_owned(), active },
            |c, q| async move { c.directory.clone().set_member_active(q).await },
        )
        .await
    }

    /// A member its own, the office or an admin any: 分管领导, 内设机构 and 联络员.
    /// 通知方式 of `code`: channels, events and the webhook.
    pub async fn set_notify(&self, code: &str, notify: pb::Notify) -> Result<pb::DirectoryChangeResponse, Status> {
        self.once(
            |request_id| pb::SetNotifyRequest { request_id, code: code.to_owned(), notify: Some(notify.clone()) },
            |c, q| async move { c.directory.clone().set_notify(q).await },
        )
        .await
    }

    /// An admin: the messages sent or tried, newest first (only those given up on,
    /// with `failed`).
    pub async fn notifications(&self, failed: bool, limit: u32) -> Result<pb::ListNotificationsResponse, Status> {
        let request = pb::ListNotificationsRequest { failed, limit };
        Ok(self.directory.clone().list_notifications(request).await?.into_inner())
    }

    pub async fn update_contacts(
        &self,
        code: &str,
        contacts: pb::Contacts,
    ) -> Result<pb::DirectoryChangeResponse, Status> {
        self.once(
            |request_id| pb::UpdateContactsRequest {
                request_id,
                code: code.to_owned(),
                contacts: Some(contacts.clone()),
            },
            |c, q| async move { c.directory.clone().update_contacts(q).await },
        )
        .await
    }

    /// Every version of the directory, oldest first.
    pub async fn directory_changes(&self) -> Result<Vec<pb::DirectoryChange>, Status> {
        let request = pb::ListDirectoryChangesRequest {};
        Ok(self.directory.clone().list_directory_changes(request).await?.into_inner().changes)
    }

    pub async fn suggest(&self, needs: Vec<i32>) -> Result<Vec<pb::Suggestion>, Status> {
        let request = pb::SuggestRecipientsRequest { needs };
        Ok(self.directory.clone().suggest_recipients(request).await?.into_inner().suggestions)
    }

    pub async fn who_am_i(&self) -> Result<pb::WhoAmIResponse, Status> {
        Ok(self.directory.clone().who_am_i(pb::WhoAmIRequest {}).await?.into_inner())
    }

    /// The office: deadlines by view, member, kind and period.
    pub async fn list_deadlines(&self, request: pb::ListDeadlinesRequest) -> Result<pb::ListDeadlinesResponse, Status> {
        Ok(self.coordination.clone().list_deadlines(request).await?.into_inner())
    }

    /// The office: 催办 — a reminder with a note to the member responsible.
    pub async fn remind(&self, referral_id: &str, kind: pb::DeadlineKind, note: &str) -> Result<pb::Deadline, Status> {
        let response = self
            .once(
                |request_id| pb::RemindRequest {
                    request_id,
                    referral_id: referral_id.to_owned(),
                    kind: kind as i32,
                    note: note.to_owned(),
                },
                |c, q| async move { c.coordination.clone().remind(q).await },
            )
            .await?;
        Ok(response.deadline.unwrap_or_default())
    }

    /// 延期 — asks the office to extend a deadline by `days` working days.
    pub async fn ask_extension(
        &self,
        referral_id: &str,
        kind: pb::DeadlineKind,
        days: u32,
        reason: &str,
    ) -> Result<pb::Extension, Status> {
        self.once(
            |request_id| pb::AskExtensionRequest {
                request_id,
                referral_id: referral_id.to_owned(),
                kind: kind as i32,
                days,
                reason: reason.to_owned(),
            },
            |c, q| async move { c.referrals.clone().ask_extension(q).await },
        )
        .await
    }

    /// Requests to extend: a referral's, or (the office, `""`) those waiting.
    pub async fn extensions(&self, referral_id: &str) -> Result<Vec<pb::Extension>, Status> {
        let request = pb::ListExtensionsRequest { referral_id: referral_id.to_owned() };
        Ok(self.referrals.clone().list_extensions(request).await?.into_inner().extensions)
    }

    /// The office: grants `days` working days (`Some`) or refuses, with `answer`.
    pub async fn decide_extension(&self, id: &str, grant: Option<u32>, answer: &str) -> Result<pb::Extension, Status> {
        self.once(
            |request_id| pb::DecideExtensionRequest {
                request_id,
                extension_id: id.to_owned(),
                grant: grant.is_some(),
                days: grant.unwrap_or(0),
                answer: answer.to_owned(),
            },
            |c, q| async move { c.coordination.clone().decide_extension(q).await },
        )
        .await
    }

    /// The office: lets a referral's start deadline pause once more.
    pub async fn allow_pause(&self, referral_id: &str) -> Result<pb::Deadline, Status> {
        self.once(
            |request_id| pb::AllowPauseRequest { request_id, referral_id: referral_id.to_owned() },
            |c, q| async move { c.coordination.clone().allow_pause(q).await },
        )
        .await
    }

    /// The office: issues a 督办函 to `member`'s leader in charge, listing its overdue
    /// deadlines, with `note`.
    pub async fn supervise(&self, member: &str, note: &str) -> Result<pb::Supervision, Status> {
        self.once(
            |request_id| pb::SuperviseRequest { request_id, member: member.to_owned(), note: note.to_owned() },
            |c, q| async move { c.coordination.clone().supervise(q).await },
        )
        .await
    }

    /// The office: its deadline events, after `after_seq` (its acknowledgement when
    /// `None`), then live.
    pub async fn watch(&self, after_seq: Option<u64>) -> Result<Streaming<pb::InboxEvent>, Status> {
        let request = pb::SubscribeRequest { after_seq, epoch: String::new() };
        Ok(self.coordination.clone().watch(request).await?.into_inner())
    }

    pub async fn is_working_day(&self, date: &str) -> Result<pb::IsWorkingDayResponse, Status> {
        let request = pb::IsWorkingDayRequest { date: date.to_owned() };
        Ok(self.calendar.clone().is_working_day(request).await?.into_inner())
    }

    pub async fn add_working_days(&self, date: &str, days: u32) -> Result<pb::AddWorkingDaysResponse, Status> {
        let request = pb::AddWorkingDaysRequest { date: date.to_owned(), days };
        Ok(self.calendar.clone().add_working_days(request).await?.into_inner())
    }

    pub async fn year_status(&self, year: i32) -> Result<pb::YearStatusResponse, Status> {
        Ok(self.calendar.clone().year_status(pb::YearStatusRequest { year }).await?.into_inner())
    }

    /// An admin: loads a year's holiday schedule (open JSON or the hub's TOML).
    pub async fn load_schedule(&self, content: &str, source: &str) -> Result<pb::LoadScheduleResponse, Status> {
        self.once(
            |request_id| pb::LoadScheduleRequest { request_id, content: content.to_owned(), source: source.to_owned() },
            |c, q| async move { c.calendar.clone().load_schedule(q).await },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::request_id;

    /// Request ids are UUIDv7: one made later sorts after, so the hub's table of
    /// answered requests takes them at its end.
    #[test]
    fn request_ids_are_uuids_ordered_by_time() {
        let first = uuid::Uuid::parse_str(&request_id()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = request_id();
        assert_eq!(first.get_version_num(), 7);
        assert!(second > first.to_string(), "a later id sorts after an earlier one");
    }
}
