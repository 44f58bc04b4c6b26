//! The DirectoryService: the members of the joint meeting and recipient suggestions.

use std::sync::PoisonError;

use tonic::{Request, Response, Status};

use super::identity;
use crate::app::{identity::SharedDirectory, AppError};
use crate::{
    domain::{directory::Member, draft, error::Violations, vocabulary::Need, Role},
    proto::{self as pb, directory_service_server::DirectoryService},
};

pub struct DirectoryApi {
    directory: SharedDirectory,
}

impl DirectoryApi {
    pub fn new(directory: SharedDirectory) -> Self {
        Self { directory }
    }
}

fn member(m: &Member) -> pb::Member {
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
    }
}

#[tonic::async_trait]
impl DirectoryService for DirectoryApi {
    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> Result<Response<pb::ListMembersResponse>, Status> {
        identity::caller(&request)?;
        let directory = self.directory.read().unwrap_or_else(PoisonError::into_inner);
        Ok(Response::new(pb::ListMembersResponse { members: directory.members().iter().map(member).collect() }))
    }

    async fn suggest_recipients(
        &self,
        request: Request<pb::SuggestRecipientsRequest>,
    ) -> Result<Response<pb::SuggestRecipientsResponse>, Status> {
        identity::caller(&request)?;
        let mut violations = Violations::default();
        let needs =
            draft::terms("needs", &request.get_ref().needs, Need::ALL.len(), Need::from_number, &mut violations);
        violations.finish(|| ()).map_err(AppError::from)?;
        let directory = self.directory.read().unwrap_or_else(PoisonError::into_inner);
        let suggestions = directory
            .suggest(&needs)
            .into_iter()
            .map(|(m, matched)| pb::Suggestion {
                member: Some(member(m)),
                matched: matched.iter().map(|n| n.number()).collect(),
            })
            .collect();
        Ok(Response::new(pb::SuggestRecipientsResponse { suggestions }))
    }

    async fn who_am_i(&self, request: Request<pb::WhoAmIRequest>) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let caller = identity::caller(&request)?;
        let directory = self.directory.read().unwrap_or_else(PoisonError::into_inner);
        let name = match directory.get(&caller.code) {
            Some(m) if caller.role.is_member() => m.name.clone(),
            _ if caller.role == Role::Office => "联席会议办公室".to_owned(),
            _ => "系统管理员".to_owned(),
        };
        Ok(Response::new(pb::WhoAmIResponse { code: caller.code.to_string(), name, role: caller.role.to_string() }))
    }
}
