//! The DirectoryService: the members of the joint meeting, recipient suggestions, and
//! the directory changed at run time.

use tonic::{Request, Response, Status};

use super::{convert::timestamp, identity};
use crate::app::{AppError, Hub};
use crate::{
    app,
    domain::{
        directory::{Contacts, ContactsInput, DirectoryChange, Member, MemberInput, Touches},
        draft,
        error::Violations,
        notification::Notify,
        vocabulary::Need,
        Caller, Role,
    },
    proto::{self as pb, directory_service_server::DirectoryService},
};

pub struct DirectoryApi {
    hub: Hub,
}

impl DirectoryApi {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }

    /// Makes `change`, once per the request's id.
    async fn change<Q: prost::Message>(
        &self,
        request: &Request<Q>,
        request_id: &str,
        actor: app::Actor,
        change: DirectoryChange,
    ) -> Result<Response<pb::DirectoryChangeResponse>, Status> {
        let code = change.member().cloned();
        let key = super::key(app::directory::method(&change), request_id, request);
        let caller = actor.caller.clone();
        let changed = app::directory::change(&self.hub, &actor, &key, change).await?;
        Ok(Response::new(pb::DirectoryChangeResponse {
            version: changed.directory.version(),
            member: code.and_then(|code| changed.directory.get(&code).map(|m| member(m, &caller))),
            description: changed.description,
        }))
    }
}

fn contacts_input(c: Option<&pb::Contacts>) -> ContactsInput<'_> {
    c.map_or_else(ContactsInput::default, |c| ContactsInput {
        leader: &c.leader,
        department: &c.department,
        liaison: &c.liaison,
        office_phone: &c.office_phone,
        mobile: &c.mobile,
        email: &c.email,
    })
}

fn contacts(c: &Contacts) -> pb::Contacts {
    pb::Contacts {
        leader: c.leader.clone(),
        department: c.department.clone(),
        liaison: c.liaison.clone(),
        office_phone: c.office_phone.clone(),
        mobile: c.mobile.clone(),
        email: c.email.clone(),
    }
}

fn notify(n: &Notify) -> pb::Notify {
    pb::Notify {
        channels: n.channels.iter().map(|c| c.code().to_owned()).collect(),
        events: n.events.iter().map(|e| e.code().to_owned()).collect(),
        webhook_url: n.webhook_url.clone(),
        webhook_format: n.webhook_format.code().to_owned(),
    }
}

fn change_kind(change: &DirectoryChange) -> &'static str {
    match change {
        DirectoryChange::Seeded => "seeded",
        DirectoryChange::Added { .. } => "added",
        DirectoryChange::Renamed { .. } => "renamed",
        DirectoryChange::Suspended { .. } => "suspended",
        DirectoryChange::Resumed { .. } => "resumed",
        DirectoryChange::Contacts { .. } => "contacts",
        DirectoryChange::Notify { .. } => "notify",
    }
}

/// `m` as `caller` sees it.
fn member(m: &Member, caller: &Caller) -> pb::Member {
    pb::Member {
        code: m.code.to_string(),
        name: m.name.clone(),
        short_name: m.short_name.clone(),
        role: match m.role {
            Role::Procuratorate => pb::MemberRole::Procuratorate,
            _ => pb::MemberRole::Agency,
        } as i32,
        needs: m.needs.iter().map(|n| n.number()).collect(),
        articles: m.articles.clone(),
        active: m.active,
        contacts: Some(contacts(&m.contacts)),
        notify: Some(notify(&m.notify.as_seen_by(caller, &m.code))),
    }
}

#[tonic::async_trait]
impl DirectoryService for DirectoryApi {
    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> Result<Response<pb::ListMembersResponse>, Status> {
        let caller = identity::caller(&request)?;
        let directory = self.hub.directory().now();
        Ok(Response::new(pb::ListMembersResponse {
            members: directory.members().iter().map(|m| member(m, &caller)).collect(),
            version: directory.version(),
        }))
    }

    async fn suggest_recipients(
        &self,
        request: Request<pb::SuggestRecipientsRequest>,
    ) -> Result<Response<pb::SuggestRecipientsResponse>, Status> {
        let caller = identity::caller(&request)?;
        let mut violations = Violations::default();
        let needs =
            draft::terms("needs", &request.get_ref().needs, Need::ALL.len(), Need::from_number, &mut violations);
        violations.finish(|| ()).map_err(AppError::from)?;
        let directory = self.hub.directory().now();
        let suggestions = directory
            .suggest(&needs)
            .into_iter()
            .map(|(m, matched)| pb::Suggestion {
                member: Some(member(m, &caller)),
                matched: matched.iter().map(|n| n.number()).collect(),
            })
            .collect();
        Ok(Response::new(pb::SuggestRecipientsResponse { suggestions }))
    }

    async fn who_am_i(&self, request: Request<pb::WhoAmIRequest>) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let caller = identity::caller(&request)?;
        let directory = self.hub.directory().now();
        let name = match directory.get(&caller.code) {
            Some(m) if caller.role.is_member() => m.name.clone(),
            _ if caller.role == Role::Office => "联席会议办公室".to_owned(),
            _ => "系统管理员".to_owned(),
        };
        Ok(Response::new(pb::WhoAmIResponse { code: caller.code.to_string(), name, role: caller.role.to_string() }))
    }

    async fn add_member(
        &self,
        request: Request<pb::AddMemberRequest>,
    ) -> Result<Response<pb::DirectoryChangeResponse>, Status> {
        let actor = identity::actor(&request)?;
        Touches::Membership.permitted(&actor.caller).map_err(AppError::from)?;
        let r = request.get_ref();
        let mut violations = Violations::default();
        let needs = draft::terms("needs", &r.needs, Need::ALL.len(), Need::from_number, &mut violations);
        violations.finish(|| ()).map_err(AppError::from)?;
        let change = DirectoryChange::add(MemberInput {
            code: &r.code,
            name: &r.name,
            short_name: &r.short_name,
            articles: &r.articles,
            needs: &needs,
            contacts: contacts_input(r.contacts.as_ref()),
        })
        .map_err(AppError::from)?;
        self.change(&request, &r.request_id, actor, change).await
    }

    async fn rename_member(
        &self,
        request: Request<pb::RenameMemberRequest>,
    ) -> Result<Response<pb::DirectoryChangeResponse>, Status> {
        let actor = identity::actor(&request)?;
        Touches::Membership.permitted(&actor.caller).map_err(AppError::from)?;
        let r = request.get_ref();
        let change = DirectoryChange::rename(&r.code, &r.name, &r.short_name).map_err(AppError::from)?;
        self.change(&request, &r.request_id, actor, change).await
    }

    async fn set_member_active(
        &self,
        request: Request<pb::SetMemberActiveRequest>,
    ) -> Result<Response<pb::DirectoryChangeResponse>, Status> {
        let actor = identity::actor(&request)?;
        Touches::Membership.permitted(&actor.caller).map_err(AppError::from)?;
        let r = request.get_ref();
        let change = DirectoryChange::activity(&r.code, r.active).map_err(AppError::from)?;
        self.change(&request, &r.request_id, actor, change).await
    }

    async fn update_contacts(
        &self,
        request: Request<pb::UpdateContactsRequest>,
    ) -> Result<Response<pb::DirectoryChangeResponse>, Status> {
        let actor = identity::actor(&request)?;
        let r = request.get_ref();
        Touches::Contacts(&r.code).permitted(&actor.caller).map_err(AppError::from)?;
        let change = DirectoryChange::contacts(&r.code, contacts_input(r.contacts.as_ref())).map_err(AppError::from)?;
        self.change(&request, &r.request_id, actor, change).await
    }

    async fn set_notify(
        &self,
        request: Request<pb::SetNotifyRequest>,
    ) -> Result<Response<pb::DirectoryChangeResponse>, Status> {
        let actor = identity::actor(&request)?;
        let r = request.get_ref();
        Touches::Contacts(&r.code).permitted(&actor.caller).map_err(AppError::from)?;
        let n = r.notify.clone().unwrap_or_default();
        let channels: Vec<&str> = n.channels.iter().map(String::as_str).collect();
        let events: Vec<&str> = n.events.iter().map(String::as_str).collect();
        let chosen = Notify::parse(&channels, &events, &n.webhook_url, &n.webhook_format).map_err(AppError::from)?;
        let change = DirectoryChange::notify(&r.code, chosen).map_err(AppError::from)?;
        self.change(&request, &r.request_id, actor, change).await
    }

    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        let actor = identity::actor(&request)?;
        let r = request.get_ref();
        let listed = app::notifications::list(&self.hub, &actor, r.failed, r.limit).await?;
        Ok(Response::new(pb::ListNotificationsResponse {
            notifications: listed
                .notifications
                .into_iter()
                .map(|n| pb::Notification {
                    id: n.id,
                    member: n.member.to_string(),
                    event: n.event.code().to_owned(),
                    channel: n.channel.code().to_owned(),
                    state: n.state.code().to_owned(),
                    attempts: n.attempts,
                    last_error: n.last_error,
                    created_at: Some(timestamp(n.created_at)),
                    next_at: Some(timestamp(n.next_at)),
                    subject: n.subject,
                })
                .collect(),
            failed: listed.failed,
        }))
    }

    async fn list_directory_changes(
        &self,
        request: Request<pb::ListDirectoryChangesRequest>,
    ) -> Result<Response<pb::ListDirectoryChangesResponse>, Status> {
        identity::caller(&request)?;
        let changes = app::directory::history(&self.hub)
            .await?
            .into_iter()
            .map(|e| pb::DirectoryChange {
                version: e.version,
                at: Some(timestamp(e.at)),
                actor: e.actor.to_string(),
                kind: change_kind(&e.change).to_owned(),
                member: e.change.member().map(ToString::to_string).unwrap_or_default(),
                description: e.description,
            })
            .collect();
        Ok(Response::new(pb::ListDirectoryChangesResponse { changes }))
    }
}
