//! 登录: the clerk's password, the second factor beside the certificate; the change of
//! an initial password; signing out. The session lives in a cookie that only this
//! site's pages send (`Secure; HttpOnly; SameSite=Strict`).

use askama::Template;
use axum::{
    extract::State,
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    error::WebError,
    guard::{session_cookie, Fields, Posted, Presenter, Visitor, MAX_FORM_BYTES, SESSION_COOKIE},
    page::{html, Frame},
    refusals::Refusals,
    Web,
};
use crate::{
    app::{
        sign_in::{self, Refused, Standing},
        AppError,
    },
    domain::{date::local_time, sign_in::MIN_PASSWORD, DomainError, FieldViolation, Rule},
};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    who: String,
    token: String,
    error: String,
    attempts: u32,
    lockout: i64,
    idle: i64,
}

fn sign_in_page(web: &Web, presenter: &Presenter, error: String) -> Result<String, WebError> {
    let policy = web.hub.sign_in();
    Ok(SignInPage {
        who: presenter.label.clone(),
        token: presenter.token.clone(),
        error,
        attempts: policy.attempts,
        lockout: policy.lockout.num_minutes(),
        idle: policy.idle.num_minutes(),
    }
    .render()?)
}

/// The sign-in page; a clerk signed in already goes on to 待办.
pub async fn page(State(web): State<Web>, mut parts: Parts) -> Result<Response, WebError> {
    let presenter = <Presenter as axum::extract::FromRequestParts<Web>>::from_request_parts(&mut parts, &web).await?;
    if let Some(token) = session_cookie(&parts.headers) {
        if let Standing::Open { .. } = sign_in::session(&web.hub, &presenter.actor, token).await? {
            return Ok(Redirect::to("/").into_response());
        }
    }
    Ok((no_store(), axum::response::Html(sign_in_page(&web, &presenter, String::new())?)).into_response())
}

fn no_store() -> [(header::HeaderName, &'static str); 1] {
    [(header::CACHE_CONTROL, "no-store")]
}

/// The cookie of a new session, or the one that ends it (empty, expired).
fn cookie(token: &str) -> String {
    let age = if token.is_empty() { "; Max-Age=0" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict{age}")
}

/// Signs in with the password: a session, then 待办 (or the change of an initial
/// password); a refusal on the same page, saying why.
pub async fn sign_in(State(web): State<Web>, request: axum::extract::Request) -> Result<Response, WebError> {
    let (mut parts, body) = request.into_parts();
    let presenter = <Presenter as axum::extract::FromRequestParts<Web>>::from_request_parts(&mut parts, &web).await?;
    if !super::guard::same_origin(&parts.headers, parts.uri.authority().map(|a| a.as_str())) {
        return Err(WebError::Forged);
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| WebError::TooLarge)?;
    let fields = Fields::parse(&bytes);
    if !web.forms.verify(&format!("sign-in\0{}", presenter.actor.certificate.serial), fields.get("token")) {
        return Err(WebError::Forged);
    }
    let refused = match sign_in::sign_in(&web.hub, &presenter.actor, fields.get("password")).await? {
        Ok(opened) => {
            let next = if opened.must_change { "/password" } else { "/" };
            return Ok(([(header::SET_COOKIE, cookie(&opened.token))], Redirect::to(next)).into_response());
        }
        Err(refused) => refused,
    };
    let (status, error) = match refused {
        Refused::NotAClerk => return Err(WebError::Refused(super::error::Refusal::SystemCertificate)),
        Refused::NoPassword => (StatusCode::FORBIDDEN, "尚未为您设置登录密码，请联系系统管理员。".to_owned()),
        Refused::WrongPassword { left } => (
            StatusCode::UNAUTHORIZED,
            format!("密码不正确。再输错 {left} 次，将锁定 {} 分钟。", web.hub.sign_in().lockout.num_minutes()),
        ),
        Refused::Locked { until } => (
            StatusCode::FORBIDDEN,
            format!(
                "连续输错密码次数过多，已锁定至 {}。请稍后再试，或联系系统管理员重置密码。",
                local_time(until).format("%H:%M")
            ),
        ),
    };
    Ok((status, no_store(), axum::response::Html(sign_in_page(&web, &presenter, error)?)).into_response())
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    frame: Frame,
    must_change: bool,
    refusals: Refusals,
    min: usize,
}

async fn password_page(web: &Web, visitor: &Visitor, refusals: Refusals) -> Result<Response, WebError> {
    let must_change = matches!(
        sign_in::session(&web.hub, &visitor.actor, &visitor.session).await?,
        Standing::Open { must_change: true }
    );
    let status = if refusals.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = PasswordPage { frame: Frame::new(web, visitor, "").await?, must_change, refusals, min: MIN_PASSWORD };
    Ok((status, html(&page)?).into_response())
}

pub async fn password(State(web): State<Web>, visitor: Visitor) -> Result<Response, WebError> {
    password_page(&web, &visitor, Refusals::default()).await
}

/// Changes the password; a refusal names the field.
pub async fn change_password(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    let Posted { visitor, fields } = posted;
    let new = fields.get("new_password");
    if new != fields.get("repeat_password") {
        return password_page(
            &web,
            &visitor,
            Refusals::of(&[FieldViolation::new("new_password_again", Rule::PasswordsDiffer)]),
        )
        .await;
    }
    match sign_in::change_password(&web.hub, &visitor.actor, fields.get("current_password"), new).await {
        Ok(()) => Ok(Redirect::to("/?done=password").into_response()),
        Err(AppError::Domain(DomainError::Invalid(violations))) => {
            password_page(&web, &visitor, Refusals::of(&violations)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs out: the session ends here and now, and the cookie with it.
pub async fn sign_out(State(web): State<Web>, posted: Posted) -> Result<Response, WebError> {
    sign_in::sign_out(&web.hub, &posted.visitor.actor, &posted.visitor.session).await?;
    Ok(([(header::SET_COOKIE, cookie(""))], Redirect::to("/sign-in")).into_response())
}
