//! The MaterialService: files uploaded and downloaded in pieces, a referral's letter and
//! a case's dossier, all through the hub's operations in [`crate::app::materials`].

use std::pin::Pin;

use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use super::{
    convert::{self, parse_uuid},
    identity,
};
use crate::domain::Rule;
use crate::{
    app::{
        self,
        supervision::Supervision,
        written::{Document, IssuedLetter},
        AppError,
    },
    domain::{
        material::{Attachment, Carried, Kind},
        view::View,
    },
    proto::{self as pb, material_service_server::MaterialService},
};

pub struct MaterialApi {
    hub: app::Hub,
}

impl MaterialApi {
    pub fn new(hub: app::Hub) -> Self {
        Self { hub }
    }
}

/// The files named by a request's `attachment_ids`, each a UUID.
pub fn attachment_ids(raw: &[String]) -> Result<Vec<Uuid>, AppError> {
    raw.iter()
        .enumerate()
        .map(|(i, id)| {
            Uuid::parse_str(id).map_err(|_| AppError::invalid(format!("attachment_ids[{i}]"), Rule::NotAUuid))
        })
        .collect()
}

fn kind(kind: Kind) -> pb::AttachmentKind {
    match kind {
        Kind::Pdf => pb::AttachmentKind::Pdf,
        Kind::Ofd => pb::AttachmentKind::Ofd,
        Kind::Jpeg => pb::AttachmentKind::Jpeg,
        Kind::Png => pb::AttachmentKind::Png,
        Kind::Docx => pb::AttachmentKind::Docx,
        Kind::Xlsx => pb::AttachmentKind::Xlsx,
    }
}

/// A file as uploaded, not yet attached.
pub fn attachment(a: &Attachment) -> pb::Attachment {
    pb::Attachment {
        id: a.id.to_string(),
        name: a.name.clone(),
        kind: kind(a.kind).into(),
        size: a.size,
        sha256: crate::domain::hex::lower(&a.sha256),
        uploaded_at: Some(convert::timestamp(a.uploaded_at)),
        ..Default::default()
    }
}

/// A file a referral carries, as `view` shows it (its name masked already).
pub fn carried(c: &Carried, view: View) -> pb::Attachment {
    pb::Attachment {
        attached_by: c.by.to_string(),
        version: c.version,
        masked: view == View::Masked,
        ..attachment(&c.attachment)
    }
}

/// A version of a letter as issued.
pub fn letter(l: &IssuedLetter) -> pb::Letter {
    pb::Letter {
        referral_id: l.referral_id.to_string(),
        version: l.version,
        number: l.number.clone(),
        file_name: l.file_name.clone(),
        sha256: crate::domain::hex::lower(&l.sha256),
        issued_at: Some(convert::timestamp(l.issued_at)),
        issued_by: l.by.to_string(),
        clerk: l.clerk.clone(),
    }
}

/// A 督办函 as the API gives it.
pub fn supervision(s: &Supervision) -> pb::Supervision {
    pb::Supervision {
        id: s.id.to_string(),
        member: s.member.to_string(),
        number: s.number.clone(),
        issued_at: Some(convert::timestamp(s.issued_at)),
        clerk: s.clerk.clone(),
        deadlines: s
            .items
            .iter()
            .map(|(referral_id, kind)| pb::SupervisedDeadline {
                referral_id: referral_id.to_string(),
                kind: *kind as i32,
            })
            .collect(),
        file_name: s.file_name.clone(),
        sha256: crate::domain::hex::lower(&s.sha256),
    }
}

pub type Pieces<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A document sent in pieces, the first naming it (no document the hub writes is
/// empty: a DOCX, a zip, a table with its header).
pub fn document(document: Document) -> Pieces<pb::DocumentChunk> {
    let mut file_name = Some(document.file_name.clone());
    Box::pin(document.pieces().map(move |piece| {
        let data = piece.map_err(Status::from)?;
        Ok(pb::DocumentChunk { file_name: file_name.take().unwrap_or_default(), data })
    }))
}

/// A document sent once `making` has made it, the answer begun at once: a ledger of a
/// long period takes longer than a request may, and a client that goes away stops
/// the making. What goes wrong on the way ends the stream with its status.
pub fn document_made(
    making: impl std::future::Future<Output = Result<Document, AppError>> + Send + 'static,
) -> Pieces<pb::DocumentChunk> {
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let made = tokio::select! {
            made = making => made,
            () = sender.closed() => return,
        };
        let mut pieces = match made {
            Ok(made) => document(made),
            Err(e) => Box::pin(tokio_stream::once(Err(Status::from(e)))),
        };
        while let Some(piece) = pieces.next().await {
            if sender.send(piece).await.is_err() {
                return;
            }
        }
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver))
}

#[tonic::async_trait]
impl MaterialService for MaterialApi {
    type DownloadStream = Pieces<pb::DownloadResponse>;
    type GetLetterStream = Pieces<pb::DocumentChunk>;
    type GetSupervisionLetterStream = Pieces<pb::DocumentChunk>;
    type GetDossierStream = Pieces<pb::DocumentChunk>;

    #[tracing::instrument(skip_all, fields(rpc = "Upload"))]
    async fn upload(&self, request: Request<Streaming<pb::UploadRequest>>) -> Result<Response<pb::Attachment>, Status> {
        let actor = identity::actor(&request)?;
        app::identity::member(&actor.caller)?;
        let mut stream = request.into_inner();
        let header = match stream.message().await? {
            Some(pb::UploadRequest { part: Some(pb::upload_request::Part::Header(header)) }) => header,
            _ => return Err(AppError::invalid("header", Rule::HeaderFirst).into()),
        };
        let pieces = stream.map(|message| match message {
            Ok(pb::UploadRequest { part: Some(pb::upload_request::Part::Data(data)) }) => Ok(data),
            Ok(_) => Err(AppError::invalid("data", Rule::OneHeader)),
            Err(status) => Err(AppError::Unavailable(format!("the upload was cut short: {}", status.message()))),
        });
        let stored = app::materials::upload(
            &self.hub,
            &actor,
            &header.request_id,
            &header.name,
            Some(header.size),
            Box::pin(pieces),
        )
        .await?;
        Ok(Response::new(attachment(&stored)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ListAttachments"))]
    async fn list_attachments(
        &self,
        request: Request<pb::ListAttachmentsRequest>,
    ) -> Result<Response<pb::ListAttachmentsResponse>, Status> {
        let actor = identity::actor(&request)?;
        let id = parse_uuid("referral_id", &request.get_ref().referral_id)?;
        let files = app::materials::attachments(&self.hub, &actor, id).await?;
        let view = View::of(actor.caller.role);
        Ok(Response::new(pb::ListAttachmentsResponse { attachments: files.iter().map(|c| carried(c, view)).collect() }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Download"))]
    async fn download(&self, request: Request<pb::DownloadRequest>) -> Result<Response<Self::DownloadStream>, Status> {
        let actor = identity::actor(&request)?;
        let body = request.get_ref();
        let referral_id = parse_uuid("referral_id", &body.referral_id)?;
        let attachment_id = parse_uuid("attachment_id", &body.attachment_id)?;
        let download = app::materials::download(&self.hub, &actor, referral_id, attachment_id).await?;
        let first = pb::DownloadResponse {
            part: Some(pb::download_response::Part::Attachment(self::attachment(&download.attachment))),
        };
        let rest = download.pieces.map(|piece| match piece {
            Ok(data) => Ok(pb::DownloadResponse { part: Some(pb::download_response::Part::Data(data)) }),
            Err(e) => Err(Status::from(e)),
        });
        Ok(Response::new(Box::pin(tokio_stream::once(Ok(first)).chain(rest))))
    }

    #[tracing::instrument(skip_all, fields(rpc = "GetLetter"))]
    async fn get_letter(
        &self,
        request: Request<pb::GetLetterRequest>,
    ) -> Result<Response<Self::GetLetterStream>, Status> {
        let actor = identity::actor(&request)?;
        let id = parse_uuid("referral_id", &request.get_ref().referral_id)?;
        let version = Some(request.get_ref().version).filter(|v| *v > 0);
        Ok(Response::new(document(app::written::letter(&self.hub, &actor, id, version).await?)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ListSupervisions"))]
    async fn list_supervisions(
        &self,
        request: Request<pb::ListSupervisionsRequest>,
    ) -> Result<Response<pb::ListSupervisionsResponse>, Status> {
        let actor = identity::actor(&request)?;
        let found = app::supervision::supervisions(
            &self.hub,
            &actor,
            Some(&request.get_ref().member),
            app::supervision::MAX_LIST,
        )
        .await?;
        Ok(Response::new(pb::ListSupervisionsResponse { supervisions: found.iter().map(supervision).collect() }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "GetSupervisionLetter"))]
    async fn get_supervision_letter(
        &self,
        request: Request<pb::GetSupervisionLetterRequest>,
    ) -> Result<Response<Self::GetSupervisionLetterStream>, Status> {
        let actor = identity::actor(&request)?;
        let id = parse_uuid("id", &request.get_ref().id)?;
        Ok(Response::new(document(app::supervision::letter(&self.hub, &actor, id).await?)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ListLetters"))]
    async fn list_letters(
        &self,
        request: Request<pb::ListLettersRequest>,
    ) -> Result<Response<pb::ListLettersResponse>, Status> {
        let actor = identity::actor(&request)?;
        let id = parse_uuid("referral_id", &request.get_ref().referral_id)?;
        let letters = app::written::letters(&self.hub, &actor, id).await?;
        Ok(Response::new(pb::ListLettersResponse { letters: letters.iter().map(letter).collect() }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "CorrectLetter"))]
    async fn correct_letter(&self, request: Request<pb::CorrectLetterRequest>) -> Result<Response<pb::Letter>, Status> {
        let actor = identity::actor(&request)?;
        let key = super::key("CorrectLetter", &request.get_ref().request_id, &request);
        let id = parse_uuid("referral_id", &request.get_ref().referral_id)?;
        Ok(Response::new(letter(&app::written::correct(&self.hub, &actor, &key, id).await?)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "GetDossier"))]
    async fn get_dossier(
        &self,
        request: Request<pb::GetDossierRequest>,
    ) -> Result<Response<Self::GetDossierStream>, Status> {
        let actor = identity::actor(&request)?;
        let id = parse_uuid("case_id", &request.get_ref().case_id)?;
        Ok(Response::new(document(app::written::dossier(&self.hub, &actor, id).await?)))
    }
}
