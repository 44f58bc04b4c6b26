//! For admins: the members of the joint meeting and their certificates (list, issue as
//! a PKCS#12 file for a browser, revoke). No referral content.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};

use super::{
    error::{violation_text, WebError},
    guard::{Fields, Posted, Visitor},
    page::{html, Frame},
    Web,
};
use crate::{
    app::{self, AppError},
    domain::{DomainError, Role},
    pki::{authority::Standing, Identity},
};

/// A line of the table: a member (or the office, or an admin) and its certificate.
pub struct Holder {
    pub code: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub serial: String,
    pub until: String,
    pub status: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Page {
    frame: Frame,
    holders: Vec<Holder>,
    error: String,
}

async fn render(web: &Web, visitor: &Visitor, flash: &str, error: String) -> Result<Response, WebError> {
    let issued = app::certificates::list(&web.hub, &visitor.actor)?;
    let now = web.hub.clock.now();
    let mut holders: Vec<Holder> = {
        let directory = web.directory();
        let mut identities: Vec<(Identity, String, bool)> = directory
            .members()
            .iter()
            .map(|m| (Identity::Member(m.code.clone()), role(m.role).to_owned(), m.active))
            .collect();
        identities.push((Identity::Office, role(Role::Office).to_owned(), true));
        identities.push((Identity::Admin, role(Role::Admin).to_owned(), true));
        identities
            .into_iter()
            .map(|(identity, role, active)| {
                let cert = issued.iter().find(|i| i.name == identity.name());
                let (serial, until, status, revoked) = match cert {
                    None => (String::new(), String::new(), "未签发".to_owned(), false),
                    Some(c) => {
                        let status = match c.standing(now) {
                            Standing::Revoked => "已吊销".to_owned(),
                            Standing::Expired => "已过期".to_owned(),
                            Standing::ExpiresIn(days) => format!("{days} 天后到期"),
                            Standing::Valid => "有效".to_owned(),
                        };
                        (c.serial.clone(), c.not_after.format("%Y-%m-%d").to_string(), status, c.revoked)
                    }
                };
                Holder {
                    code: identity.name().to_owned(),
                    name: identity.label(&directory),
                    role,
                    active,
                    serial,
                    until,
                    status,
                    revoked,
                }
            })
            .collect()
    };
    holders.sort_by_key(|h| h.code == "admin" || h.code == "office");
    html(&Page { frame: Frame::new(web, visitor, "/admin").await?.with_flash(flash), holders, error })
}

pub async fn page(State(web): State<Web>, visitor: Visitor, RawQuery(query): RawQuery) -> Result<Response, WebError> {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let flash = if query.get("done") == "revoked" { "证书已吊销，持有者即刻无法登录。" } else { "" };
    render(&web, &visitor, flash, String::new()).await
}

fn role(role: Role) -> &'static str {
    match role {
        Role::Procuratorate => "检察院",
        Role::Agency => "成员单位",
        Role::Office => "联席会议办公室",
        Role::Admin => "管理员",
    }
}

fn identity(fields: &Fields) -> Result<Identity, AppError> {
    Identity::parse(fields.get("identity")).map_err(|rule| AppError::invalid("identity", rule))
}

/// Issues a new certificate and sends it as a PKCS#12 file.
pub async fn issue(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let who = identity(&fields)?;
    match app::certificates::issue(&web.hub, &visitor.actor, &who, fields.get("password")).await {
        Ok(file) => Ok((
            [
                (header::CONTENT_TYPE, "application/x-pkcs12".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.p12\"", who.name())),
            ],
            file,
        )
            .into_response()),
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            render(&web, &visitor, "", violations.iter().map(violation_text).collect::<Vec<_>>().join("；")).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Revokes a certificate; the hub refuses it at once.
pub async fn revoke(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let who = identity(&fields)?;
    app::certificates::revoke(&web.hub, &visitor.actor, &who).await?;
    (web.reread_certificates)();
    Ok(Redirect::to("/admin?done=revoked").into_response())
}
