//! Forms that carry files (a new referral's, a comment's), read as
//! `multipart/form-data`: each file streams into the hub's upload as it arrives, held to
//! the limits and sealed like a file sent over the API, and the form then names it by
//! its id, like a file uploaded beforehand (`attachments`). The file inputs come last in
//! a form, so that what was typed is read before any file, and the token is checked
//! before the first byte of a file is taken.

use axum::{
    extract::{FromRequest, Multipart, Request},
    http::header,
};
use tokio_stream::StreamExt;
use uuid::Uuid;

use super::{
    error::WebError,
    guard::{Fields, Posted, MAX_FORM_BYTES},
    Web,
};
use crate::domain::Rule;
use crate::{
    app::{self, AppError},
    domain::{DomainError, FieldViolation},
};

/// The name of a form's file inputs.
const FILES: &str = "files";

/// A form posted with files: the form, whose `attachments` now name every file it
/// carries, and why any file it sent was not taken (`files[2]`: the third chosen).
pub struct WithFiles {
    pub posted: Posted,
    pub refused: Vec<FieldViolation>,
}

/// A part of the form that cannot be read (not `multipart/form-data` as browsers
/// write it).
fn malformed(_: impl std::fmt::Display) -> WebError {
    WebError::Malformed
}

impl FromRequest<Web> for WithFiles {
    type Rejection = WebError;

    async fn from_request(request: Request, web: &Web) -> Result<Self, WebError> {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !content_type.starts_with("multipart/form-data") {
            return Ok(WithFiles { posted: Posted::from_request(request, web).await?, refused: Vec::new() });
        }
        let (mut parts, body) = request.into_parts();
        let visitor = Posted::visitor(&mut parts, web).await?;
        let mut form = Multipart::from_request(Request::from_parts(parts, body), &()).await.map_err(malformed)?;
        let (mut fields, mut refused) = (Fields::default(), Vec::new());
        let (mut typed, mut files, mut checked) = (0usize, 0usize, false);
        loop {
            let field = match form.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                // The body outgrew the limit of a form with files: what came before stands.
                Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    let limit = web.hub.materials().limits.referral_bytes >> 20;
                    refused.push(FieldViolation::new("files", Rule::FormTooLarge { mib: limit }));
                    break;
                }
                Err(e) => return Err(malformed(e)),
            };
            let name = field.name().unwrap_or_default().to_owned();
            let Some(file_name) = field.file_name().map(str::to_owned) else {
                let text = field.text().await.map_err(malformed)?;
                typed += name.len() + text.len();
                if typed > MAX_FORM_BYTES {
                    return Err(WebError::TooLarge);
                }
                fields.add(&name, &text);
                continue;
            };
            // A file input left empty sends a part without a name or bytes.
            if name != FILES || file_name.is_empty() {
                continue;
            }
            if !checked {
                Posted::check_token(web, &visitor, &fields)?;
                checked = true;
            }
            let place = files;
            files += 1;
            let request_id = format!("{}.{place}", fields.get("request_id"));
            let pieces = field.map(|piece| {
                piece.map(|bytes| bytes.to_vec()).map_err(|_| AppError::invalid("data", Rule::NotReadToEnd))
            });
            match app::materials::upload(&web.hub, &visitor.actor, &request_id, &file_name, None, Box::pin(pieces))
                .await
            {
                Ok(file) => fields.add("attachments", &file.id.to_string()),
                Err(AppError::Domain(DomainError::Invalid(violations))) => refused
                    .extend(violations.into_iter().map(|v| FieldViolation::new(format!("files[{place}]"), v.rule))),
                Err(e) => return Err(e.into()),
            }
        }
        Posted::check_token(web, &visitor, &fields)?;
        Ok(WithFiles { posted: Posted { visitor, fields }, refused })
    }
}

/// The files a form names (`attachments`), each refused by its place when it is not an id.
pub fn attachment_ids(fields: &Fields) -> (Vec<Uuid>, Vec<FieldViolation>) {
    let (mut ids, mut refused) = (Vec::new(), Vec::new());
    for (i, raw) in fields.all("attachments").iter().enumerate() {
        match Uuid::parse_str(raw) {
            Ok(id) => ids.push(id),
            Err(_) => refused.push(FieldViolation::new(format!("attachments[{i}]"), Rule::NotAFileId)),
        }
    }
    (ids, refused)
}

/// A file as a form lists it: its name, kind and size.
pub fn described(file: &crate::domain::material::Attachment) -> String {
    format!("{}（{}，{}）", file.name, file.kind.code().to_uppercase(), size(file.size))
}

/// A size as people read it: 850 KB, 2.4 MB.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} 字节"),
        b if b < 1 << 20 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
    }
}
