//! Who is at the browser, and whether a form really comes from the workbench.
//!
//! Two factors: the certificate the browser presented is resolved like a gRPC
//! caller's, at every request ([`crate::app::identity::resolve`]), and must be a
//! clerk's; then the session cookie a sign-in set must be open for that certificate
//! ([`crate::app::sign_in`]). A post must come from the workbench's own origin
//! (`Sec-Fetch-Site`, `Origin`) and carry the form token, an HMAC of the session under
//! a key derived from the keyring (so that every replica, and the hub after a restart,
//! takes the forms it showed, and none after the session ends): a page of another site
//! cannot read it, so it cannot forge a form with it.

use axum::{
    body::Bytes,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, HeaderMap},
};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{
    error::{Refusal, WebError},
    Web,
};
use crate::{
    app::{
        identity::{resolve, Peer, Refused},
        sign_in::Standing,
        Actor,
    },
    domain::{Caller, Role},
    pki::{Certificate, Holder},
};

/// The largest form the workbench takes (a year's holiday schedule fits many times).
pub(super) const MAX_FORM_BYTES: usize = 256 * 1024;

/// The key of the form tokens.
pub struct FormKey([u8; 32]);

impl FormKey {
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, serial: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(b"xianjie-workbench-form\0");
        mac.update(serial.as_bytes());
        mac
    }

    /// The token of the forms shown in session `serial` (or, for the sign-in form, to
    /// the holder of a certificate).
    pub(super) fn token(&self, serial: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.mac(serial).finalize().into_bytes())
    }

    pub(super) fn verify(&self, serial: &str, token: &str) -> bool {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .is_ok_and(|bytes| self.mac(serial).verify_slice(&bytes).is_ok())
    }
}

/// The cookie that carries a workbench session.
pub const SESSION_COOKIE: &str = "xianjie_session";

/// The value of the session cookie a request carries.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
}

/// A clerk at the browser before a session: the certificate presented, resolved.
#[derive(Clone)]
pub struct Presenter {
    pub actor: Actor,
    /// How the pages name them: 晋江市民政局 (mz) · 王芳.
    pub label: String,
    /// The token of the sign-in form, bound to the certificate.
    pub token: String,
}

/// The person at the browser: the hub's caller, with the certificate presented and an
/// open session.
#[derive(Clone)]
pub struct Visitor {
    pub actor: Actor,
    /// How the pages name them: 晋江市民政局 (mz) · 王芳.
    pub label: String,
    /// The token their forms carry.
    pub token: String,
    /// The session cookie's value.
    pub session: String,
}

impl Visitor {
    pub fn caller(&self) -> &Caller {
        &self.actor.caller
    }

    pub fn role(&self) -> Role {
        self.actor.caller.role
    }
}

impl FromRequestParts<Web> for Presenter {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, WebError> {
        let peer = parts.extensions.get::<ConnectInfo<Peer>>().map(|info| &info.0);
        let (caller, verified, label) = {
            let directory = web.directory();
            let (revoked, now) = (web.hub.delivery().revoked.borrow().clone(), web.hub.clock().now());
            let caller =
                resolve(peer, &directory, &revoked, now).map_err(|refused| WebError::Refused(refusal(&refused)))?;
            // A caller is resolved only from a verified certificate.
            let Some(Peer(Ok(verified))) = peer else {
                return Err(WebError::Refused(Refusal::NoCertificate));
            };
            let holder = Holder { identity: verified.identity.clone(), clerk: verified.clerk.clone() };
            (caller, verified.clone(), holder.title(&directory))
        };
        if verified.clerk.is_none() {
            return Err(WebError::Refused(Refusal::SystemCertificate));
        }
        web.rate.take(&caller.code)?;
        let certificate = Certificate { serial: verified.serial, not_after: verified.not_after, clerk: verified.clerk };
        let token = web.forms.token(&format!("sign-in\0{}", certificate.serial));
        Ok(Presenter { actor: Actor { caller, certificate }, label, token })
    }
}

impl FromRequestParts<Web> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, WebError> {
        let Presenter { actor, label, .. } = Presenter::from_request_parts(parts, web).await?;
        let session = session_cookie(&parts.headers).ok_or(WebError::SignIn)?.to_owned();
        match crate::app::sign_in::session(&web.hub, &actor, &session).await? {
            Standing::Closed => Err(WebError::SignIn),
            Standing::Open { must_change: true } if parts.uri.path() != "/password" => Err(WebError::MustChange),
            Standing::Open { .. } => Ok(Visitor { token: web.forms.token(&session), actor, label, session }),
        }
    }
}

/// Why [`resolve`] refused a peer, as the page that says so.
fn refusal(refused: &Refused) -> Refusal {
    match refused {
        Refused::Missing => Refusal::NoCertificate,
        Refused::Foreign(_) => Refusal::NotOurs,
        Refused::Revoked(_) => Refusal::Revoked,
        Refused::Expired(_) => Refusal::Expired,
        Refused::Suspended(_) | Refused::NotMember(_) => Refusal::NotMember,
    }
}

/// The fields of a form or a query string, in order; a field named twice (check
/// boxes) keeps every value.
#[derive(Debug, Clone, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(encoded: &[u8]) -> Self {
        Fields(form_urlencoded::parse(encoded).into_owned().collect())
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).collect()
    }

    /// Adds a value of `name` after the others.
    pub fn add(&mut self, name: &str, value: &str) {
        self.0.push((name.to_owned(), value.to_owned()));
    }

    /// Sets `name` to `value`, in place of every value it had.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_owned(), value.to_owned()));
    }

    pub fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    /// What the form asks, without its token and request id: what a request id is
    /// bound to, so that the same id with other content is refused.
    pub fn fingerprint(&self) -> Vec<u8> {
        let asked = self.0.iter().filter(|(k, _)| k != "token" && k != "request_id");
        form_urlencoded::Serializer::new(String::new()).extend_pairs(asked).finish().into_bytes()
    }

    /// The hub's key of the request this form makes with `method`.
    pub fn key(&self, method: &str) -> crate::app::RequestKey {
        crate::app::RequestKey::new(self.get("request_id"), method, &self.fingerprint())
    }
}

/// A form posted from the workbench's own page by the visitor.
pub struct Posted {
    pub visitor: Visitor,
    pub fields: Fields,
}

/// Whether a request comes from the workbench's own pages: a browser says so in
/// `Sec-Fetch-Site`, and an `Origin` it sends must be the workbench's (the `Host`,
/// or the authority of an HTTP/2 request).
pub(super) fn same_origin(headers: &HeaderMap, authority: Option<&str>) -> bool {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        if site != "same-origin" {
            return false;
        }
    }
    match (text(header::ORIGIN), text(header::HOST).or(authority)) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin.strip_prefix("https://") == Some(host),
        (Some(_), None) => false,
    }
}

impl Posted {
    /// The visitor of a post that comes from the workbench's own origin.
    pub(super) async fn visitor(parts: &mut Parts, web: &Web) -> Result<Visitor, WebError> {
        let visitor = Visitor::from_request_parts(parts, web).await?;
        if !same_origin(&parts.headers, parts.uri.authority().map(|a| a.as_str())) {
            return Err(WebError::Forged);
        }
        Ok(visitor)
    }

    /// Whether `fields` carry the token of the visitor's forms.
    pub(super) fn check_token(web: &Web, visitor: &Visitor, fields: &Fields) -> Result<(), WebError> {
        if web.forms.verify(&visitor.session, fields.get("token")) {
            Ok(())
        } else {
            Err(WebError::Forged)
        }
    }
}

impl FromRequest<Web> for Posted {
    type Rejection = WebError;

    async fn from_request(request: Request, web: &Web) -> Result<Self, WebError> {
        let (mut parts, body) = request.into_parts();
        let visitor = Posted::visitor(&mut parts, web).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), &()).await.map_err(|_| WebError::TooLarge)?;
        if bytes.len() > MAX_FORM_BYTES {
            return Err(WebError::TooLarge);
        }
        let fields = Fields::parse(&bytes);
        Posted::check_token(web, &visitor, &fields)?;
        Ok(Posted { visitor, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_belongs_to_one_certificate_and_one_key() {
        let (key, other) = (FormKey::new([1; 32]), FormKey::new([2; 32]));
        let token = key.token("0a1b");
        assert!(key.verify("0a1b", &token));
        assert!(!key.verify("0a1c", &token), "another certificate");
        assert!(!other.verify("0a1b", &token), "another keyring");
        assert!(!key.verify("0a1b", ""), "none");
    }

    #[test]
    fn a_post_from_another_site_is_told_apart() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, value.parse().expect("header"));
            }
            map
        };
        assert!(same_origin(&headers(&[("host", "hub:7445"), ("origin", "https://hub:7445")]), None));
        assert!(same_origin(&headers(&[("host", "hub:7445"), ("sec-fetch-site", "same-origin")]), None));
        assert!(!same_origin(&headers(&[("host", "hub:7445"), ("origin", "https://evil.example")]), None));
        assert!(!same_origin(&headers(&[("host", "hub:7445"), ("origin", "http://hub:7445")]), None));
        assert!(!same_origin(&headers(&[("host", "hub:7445"), ("sec-fetch-site", "cross-site")]), None));
        assert!(!same_origin(&headers(&[("host", "hub:7445"), ("sec-fetch-site", "same-site")]), None));
        assert!(same_origin(&headers(&[("origin", "https://hub:7445")]), Some("hub:7445")), "HTTP/2");
    }
}
