//! The workbench (工作台): the hub's operations in the browser, in Chinese, for the
//! people of the joint meeting. The client certificate is the login; every page calls
//! the same hub operations as the gRPC services, so authorization, idempotency,
//! sealing, deadlines and the audit log apply unchanged. It knows HTTP and HTML, not
//! protobuf.
//!
//! Browsers send the certificate with every request, so every form carries a token
//! bound to the certificate and every post must come from the workbench's own origin
//! ([`guard`]); pages set a strict Content-Security-Policy and are never cached.

mod admin;
mod assets;
mod calendar;
mod directory;
mod error;
mod events;
mod forms;
mod guard;
mod lists;
mod materials;
mod office;
mod page;
mod records;
mod referral;
mod refusals;
mod search;
mod sign_in;
mod todo;
mod upload;
mod words;

use std::sync::Arc;

use axum::{
    extract::DefaultBodyLimit,
    http::{header, HeaderValue},
    routing::{get, post},
    Router,
};

use crate::app::{limits::RateLimiter, Hub};

/// What every page shares: the hub, the requests each member may make (the same
/// allowance as over gRPC), the key of the forms' tokens, and what to do once a
/// certificate is revoked.
#[derive(Clone)]
pub struct Web {
    pub hub: Hub,
    rate: Arc<RateLimiter>,
    forms: Arc<guard::FormKey>,
    /// Makes the hub read its CRL again, so that a certificate revoked here is refused
    /// at once.
    reread_certificates: Arc<dyn Fn() + Send + Sync>,
}

impl Web {
    pub fn new(hub: Hub, rate: Arc<RateLimiter>, reread_certificates: Arc<dyn Fn() + Send + Sync>) -> Self {
        let forms = Arc::new(guard::FormKey::new(hub.keys().derive("workbench-form-token")));
        Self { hub, rate, forms, reread_certificates }
    }
}

impl Web {
    /// The directory as it is now, for a page to name members.
    fn directory(&self) -> std::sync::Arc<crate::domain::directory::Directory> {
        self.hub.directory().now()
    }

    /// The request id a new form carries: a UUIDv7 at the hub's time, as the client
    /// library's are, so that the hub's table of answered requests grows at its end.
    fn request_id(&self) -> uuid::Uuid {
        crate::domain::id::new_id(self.hub.clock().now())
    }
}

/// Every page of the workbench.
pub fn router(web: Web) -> Router {
    // A form with files may carry a referral's worth of them.
    let with_files = DefaultBodyLimit::max((web.hub.materials().limits.referral_bytes as usize) + (1 << 20));
    Router::new()
        .route("/", get(todo::page))
        .route("/sign-in", get(sign_in::page).post(sign_in::sign_in))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/password", get(sign_in::password).post(sign_in::change_password))
        .route("/events", get(events::stream))
        .route("/received", get(lists::received))
        .route("/sent", get(lists::sent))
        .route("/referrals/{id}", get(referral::page))
        .route("/referrals/{id}/act", post(referral::act).layer(with_files))
        .route("/referrals/{id}/files/{attachment}", get(materials::file))
        .route("/referrals/{id}/letter", get(materials::letter))
        .route("/referrals/{id}/correct-letter", post(referral::correct_letter))
        .route("/cases/{id}/dossier", get(materials::dossier))
        .route("/referrals/{id}/reroute", post(referral::reroute))
        .route("/referrals/{id}/key-case", post(referral::key_case))
        .route("/referrals/{id}/extend", post(referral::extend))
        .route("/new/referral", get(forms::new_referral).post(forms::submit_referral).layer(with_files))
        .route("/new/clue", get(forms::new_clue).post(forms::submit_clue).layer(with_files))
        .route("/ledger", get(records::ledger))
        .route("/ledger/download", get(records::ledger_file))
        .route("/figures", get(records::figures))
        .route("/figures/download", get(records::figures_file))
        .route("/figures/report", get(records::report_file))
        .route("/office", get(office::overview))
        .route("/office/deadlines", get(office::deadlines))
        .route("/office/remind", post(office::remind))
        .route("/office/supervise", post(office::supervise))
        .route("/office/extensions", post(office::decide))
        .route("/office/allow-pause", post(office::allow_pause))
        .route("/supervisions/{id}", get(materials::supervision))
        .route("/calendar", get(calendar::page).post(calendar::load))
        .route("/directory", get(directory::page))
        .route("/directory/contacts", post(directory::contacts_form))
        .route("/directory/notify", post(directory::notify_form))
        .route("/directory/add", post(directory::add))
        .route("/directory/activity", post(directory::activity))
        .route("/admin", get(admin::page))
        .route("/admin/issue", post(admin::issue))
        .route("/admin/revoke", post(admin::revoke))
        .route("/admin/password", post(admin::reset_password))
        .route("/assets/{file}", get(assets::file))
        .route("/favicon.ico", get(assets::favicon))
        .fallback(error::not_found)
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(web)
}

/// The Content-Security-Policy of every response: nothing inline, nothing from
/// elsewhere, never in a frame.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn secure_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Nothing of a page's address leaves the workbench; within it, browsers then send
    // the real Origin with a form (with `no-referrer` they send `null`).
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    // Pages may show a person; only the embedded assets may be kept.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
