//! What a party takes away from a referral's page: a file it carries (streamed as it
//! is opened; a file failing its integrity check ends the download unfinished, so the
//! browser keeps nothing), the letter (移送函) as DOCX, and the case's dossier (案卷).

use axum::{
    body::{Body, Bytes},
    extract::{Path, RawQuery, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use tokio_stream::StreamExt;
use uuid::Uuid;

use super::{error::WebError, guard::Visitor, Web};
use crate::app::{self, written::Document};

fn id(raw: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(raw).map_err(|_| WebError::NotFound)
}

/// `Content-Disposition` saving as `name`: an ASCII stand-in for old readers, the name
/// itself as RFC 6266 says (UTF-8, percent-encoded).
pub(super) fn saved_as(name: &str) -> HeaderValue {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A document the hub wrote, streamed as it is read, saved under its own name.
pub fn document(document: Document, media_type: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
        (header::CONTENT_DISPOSITION, saved_as(&document.file_name)),
    ];
    let body = Body::from_stream(document.pieces().map(|piece| piece.map(Bytes::from)));
    (headers, body).into_response()
}

/// A file of a referral, for a party to it.
pub async fn file(
    State(web): State<Web>,
    visitor: Visitor,
    Path((referral, attachment)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let download = app::materials::download(&web.hub, &visitor.actor, id(&referral)?, id(&attachment)?).await?;
    let file = &download.attachment;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(file.kind.media_type())),
        (header::CONTENT_DISPOSITION, saved_as(&file.name)),
        (header::CONTENT_LENGTH, HeaderValue::from(file.size)),
    ];
    let body = Body::from_stream(download.pieces.map(|piece| piece.map(Bytes::from)));
    Ok((headers, body).into_response())
}

/// A letter of a referral as issued, for its sender and its recipient.
pub async fn letter(
    State(web): State<Web>,
    visitor: Visitor,
    Path(referral): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    // `?version=N`; the newest without one.
    let query = super::guard::Fields::parse(query.unwrap_or_default().as_bytes());
    let version = match query.get("version") {
        "" => None,
        raw => Some(raw.parse().map_err(|_| WebError::NotFound)?),
    };
    let letter = app::written::letter(&web.hub, &visitor.actor, id(&referral)?, version).await?;
    Ok(document(letter, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
}

/// A 督办函 as issued, for the office and the member it went to.
pub async fn supervision(
    State(web): State<Web>,
    visitor: Visitor,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let letter = app::supervision::letter(&web.hub, &visitor.actor, id(&raw)?).await?;
    Ok(document(letter, app::records::DOCX))
}

/// A case's dossier, for a party to it.
pub async fn dossier(State(web): State<Web>, visitor: Visitor, Path(case): Path<String>) -> Result<Response, WebError> {
    let dossier = app::written::dossier(&web.hub, &visitor.actor, id(&case)?).await?;
    Ok(document(dossier, "application/zip"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_name_is_saved_as_itself() {
        let value = saved_as("晋检移〔2026〕1号 a.docx");
        assert_eq!(
            value.to_str().expect("ASCII"),
            "attachment; filename=\"____2026_1__a.docx\"; \
             filename*=UTF-8''%E6%99%8B%E6%A3%80%E7%A7%BB%E3%80%942026%E3%80%951%E5%8F%B7%20a.docx"
        );
    }
}
