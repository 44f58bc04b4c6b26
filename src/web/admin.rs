//! For admins: the members of the joint meeting and their certificates (issue as a
//! PKCS#12 file for a browser, revoke), and every certificate ever issued with its
//! state, each revocable. No referral content.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};

use super::{
    error::WebError,
    guard::{Fields, Posted, Visitor},
    page::{html, Frame},
    refusals::Refusals,
    Web,
};
use crate::{
    app::{self, AppError},
    domain::{date::local_time, DomainError, Role},
    pki::{
        authority::{Previous, Standing},
        Clerk, Holder, Identity,
    },
};

/// A line of the first table: a member (or the office, or an admin) and its current
/// certificate.
pub struct Unit {
    pub code: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub serial: String,
    pub until: String,
    pub status: String,
    pub revoked: bool,
}

/// A line of the second table: a certificate ever issued.
pub struct Certificate {
    pub holder: String,
    /// A clerk's holder name (`mz.wangfang`), whose password can be reset, when this is
    /// the clerk's current certificate.
    pub clerk: Option<String>,
    pub serial: String,
    pub until: String,
    pub status: String,
    /// Whether it can still be revoked.
    pub revocable: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Page {
    frame: Frame,
    holders: Vec<Unit>,
    certificates: Vec<Certificate>,
    refusals: Refusals,
    /// Messages given up on, in all, and the newest of them.
    failed: u64,
    notifications: Vec<Sent>,
}

/// A message the hub gave up on, as the table shows it.
struct Sent {
    at: String,
    member: String,
    channel: &'static str,
    subject: String,
    attempts: u32,
    error: String,
}

/// How a certificate stands, in words.
fn status(standing: Standing) -> String {
    match standing {
        Standing::Revoked => "已吊销".to_owned(),
        Standing::Expired => "已过期".to_owned(),
        Standing::Superseded => "已被新证书替代（仍可使用）".to_owned(),
        Standing::ExpiresIn(days) => format!("{days} 天后到期"),
        Standing::Valid => "有效".to_owned(),
    }
}

async fn render(web: &Web, visitor: &Visitor, flash: &str, refusals: Refusals) -> Result<Response, WebError> {
    let issued = app::certificates::list(&web.hub, &visitor.actor)?;
    let now = web.hub.clock().now();
    let mut holders: Vec<Unit> = {
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
                let cert = issued.iter().find(|i| i.name == identity.name() && i.current);
                let (serial, until, status, revoked) = match cert {
                    None => (String::new(), String::new(), "未签发".to_owned(), false),
                    Some(c) => (
                        c.serial.clone(),
                        c.not_after.format("%Y-%m-%d").to_string(),
                        status(c.standing(now)),
                        c.revoked,
                    ),
                };
                Unit {
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
    let certificates = {
        let directory = web.directory();
        issued
            .iter()
            .filter(|c| c.holder.is_some())
            .map(|c| Certificate {
                holder: c.holder.as_ref().map_or_else(|| c.name.clone(), |h| h.label(&directory)),
                clerk: c.holder.as_ref().filter(|h| h.clerk.is_some() && c.current && !c.revoked).map(|h| h.name()),
                serial: c.serial.clone(),
                until: c.not_after.format("%Y-%m-%d").to_string(),
                status: status(c.standing(now)),
                revocable: !c.revoked && c.not_after > now,
            })
            .collect()
    };
    let listed = app::notifications::list(&web.hub, &visitor.actor, true, 20).await?;
    let notifications = {
        let directory = web.directory();
        listed
            .notifications
            .into_iter()
            .map(|n| Sent {
                at: local_time(n.created_at).format("%Y-%m-%d %H:%M").to_string(),
                member: directory.get(&n.member).map_or_else(|| n.member.to_string(), |m| m.short_name.clone()),
                channel: n.channel.label(),
                subject: n.subject,
                attempts: n.attempts,
                error: n.last_error,
            })
            .collect()
    };
    let frame = Frame::new(web, visitor, "/admin").await?.with_flash(flash);
    html(&Page { frame, holders, certificates, refusals, failed: listed.failed, notifications })
}

pub async fn page(State(web): State<Web>, visitor: Visitor, RawQuery(query): RawQuery) -> Result<Response, WebError> {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let flash = match query.get("done") {
        "revoked" => "证书已吊销，持有者即刻无法登录。",
        _ => "",
    };
    render(&web, &visitor, flash, Refusals::default()).await
}

/// Resets a clerk's sign-in password to the new initial one typed; the clerk's
/// sessions end, and the page says to hand it over in person.
pub async fn reset_password(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let holder = fields.get("clerk");
    match app::sign_in::reset_password(&web.hub, &visitor.actor, holder, Some(fields.get("initial_password"))).await {
        Ok(_) => {
            let flash = format!("已重置 {holder} 的登录密码：请将新的初始密码当面交给本人，本人登录后须立即修改。");
            render(&web, &visitor, &flash, Refusals::default()).await
        }
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            render(&web, &visitor, "", Refusals::of(&violations)).await
        }
        Err(e) => Err(e.into()),
    }
}

fn role(role: Role) -> &'static str {
    match role {
        Role::Procuratorate => "检察院",
        Role::Agency => "成员单位",
        Role::Office => "联席会议办公室",
        Role::Admin => "管理员",
    }
}

/// The holder a form names: a unit (`identity`), and a clerk of it when `clerk` is given,
/// with the clerk's `clerk_name`.
fn holder(fields: &Fields) -> Result<Holder, AppError> {
    let identity = Identity::parse(fields.get("identity")).map_err(|rule| AppError::invalid("identity", rule))?;
    let code = fields.get("clerk");
    if code.is_empty() {
        return Ok(Holder::from(identity));
    }
    Clerk::check_code(code).map_err(|rule| AppError::invalid("clerk", rule))?;
    let name = fields.get("clerk_name");
    Clerk::check_name(name).map_err(|rule| AppError::invalid("clerk_name", rule))?;
    Ok(Holder { identity, clerk: Some(Clerk { code: code.to_owned(), name: name.to_owned() }) })
}

/// Issues a new certificate and sends it as a PKCS#12 file.
pub async fn issue(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let who = holder(&fields)?;
    let previous = if fields.get("keep_previous") == "on" { Previous::Keep } else { Previous::Revoke };
    let initial = Some(fields.get("initial_password")).filter(|p| !p.is_empty());
    let issued =
        app::certificates::issue(&web.hub, &visitor.actor, &who, fields.get("password"), previous, initial).await;
    if issued.is_ok() {
        (web.reread_certificates)();
    }
    match issued {
        Ok(app::certificates::Issued { file, .. }) => Ok((
            [
                (header::CONTENT_TYPE, "application/x-pkcs12".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.p12\"", who.name())),
            ],
            file,
        )
            .into_response()),
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            render(&web, &visitor, "", Refusals::of(&violations)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Revokes a certificate by its serial number; the hub refuses it at once.
pub async fn revoke(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    app::certificates::revoke(&web.hub, &visitor.actor, fields.get("serial")).await?;
    (web.reread_certificates)();
    Ok(Redirect::to("/admin?done=revoked").into_response())
}
