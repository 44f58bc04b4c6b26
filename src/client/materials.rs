//! Files and documents: uploading a file in pieces (sent again whole, under the same
//! request id, if the hub was briefly unreachable), downloading one to disk (kept only
//! when it arrived whole and matches its digest), and saving a letter, a dossier or a
//! ledger.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::StreamExt;
use tonic::{Code, Status};

use super::{request_id, retryable, Client, TRIES};
use crate::proto as pb;

/// The size of the pieces a file is sent in.
const PIECE_BYTES: usize = 64 * 1024;

/// A document saved to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub path: PathBuf,
    /// The name the hub gave it.
    pub file_name: String,
    pub bytes: u64,
}

fn local(what: &Path, e: std::io::Error) -> Status {
    Status::new(Code::FailedPrecondition, format!("{}: {e}", what.display()))
}

/// A file written beside `out` and moved into place only when complete: an error
/// leaves no trace of it.
struct Partial {
    path: PathBuf,
    out: PathBuf,
    file: tokio::fs::File,
}

impl Partial {
    async fn create(out: &Path) -> Result<Self, Status> {
        let mut name = out.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        let path = out.with_file_name(name);
        let file = tokio::fs::File::create(&path).await.map_err(|e| local(&path, e))?;
        Ok(Self { path, out: out.to_owned(), file })
    }

    async fn write(&mut self, data: &[u8]) -> Result<(), Status> {
        self.file.write_all(data).await.map_err(|e| local(&self.path, e))
    }

    async fn keep(self) -> Result<(), Status> {
        self.file.sync_all().await.map_err(|e| local(&self.path, e))?;
        tokio::fs::rename(&self.path, &self.out).await.map_err(|e| local(&self.out, e))
    }

    async fn discard(self) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

impl Client {
    /// Uploads the file at `path` under its own name; returns the stored file, whose
    /// id a submit or a comment names.
    pub async fn upload_file(&self, path: &Path) -> Result<pb::Attachment, Status> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let id = request_id();
        let mut tried = 0;
        loop {
            tried += 1;
            let mut file = tokio::fs::File::open(path).await.map_err(|e| local(path, e))?;
            let size = file.metadata().await.map_err(|e| local(path, e))?.len();
            let (sender, receiver) = tokio::sync::mpsc::channel(4);
            let header = pb::UploadHeader { request_id: id.clone(), name: name.clone(), size };
            let _ = sender.send(pb::UploadRequest { part: Some(pb::upload_request::Part::Header(header)) }).await;
            let reading = tokio::spawn(async move {
                loop {
                    let mut piece = vec![0; PIECE_BYTES];
                    let n = file.read(&mut piece).await?;
                    if n == 0 {
                        return Ok::<(), std::io::Error>(());
                    }
                    piece.truncate(n);
                    let message = pb::UploadRequest { part: Some(pb::upload_request::Part::Data(piece)) };
                    if sender.send(message).await.is_err() {
                        return Ok(());
                    }
                }
            });
            let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
            let result = self.materials.clone().upload(stream).await;
            if let Ok(Err(e)) = reading.await {
                return Err(local(path, e));
            }
            match result {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if retryable(&status) && tried < TRIES => {
                    tokio::time::sleep(std::time::Duration::from_millis(100 << tried)).await;
                }
                Err(status) => return Err(status),
            }
        }
    }

    /// Uploads a file of `size` bytes named `name` under `request_id` in one stream of
    /// `pieces` (for tests of interrupted uploads: an `Err` piece cuts the stream short
    /// there, the call abandoned as a client that lost its connection abandons it).
    pub async fn upload_pieces(
        &self,
        request_id: &str,
        (name, size): (&str, u64),
        pieces: Vec<Result<Vec<u8>, Status>>,
    ) -> Result<pb::Attachment, Status> {
        let header = pb::UploadHeader { request_id: request_id.to_owned(), name: name.to_owned(), size };
        let first = pb::UploadRequest { part: Some(pb::upload_request::Part::Header(header)) };
        let cut = pieces.iter().position(Result::is_err);
        let data: Vec<pb::UploadRequest> = pieces
            .into_iter()
            .take(cut.unwrap_or(usize::MAX))
            .filter_map(Result::ok)
            .map(|piece| pb::UploadRequest { part: Some(pb::upload_request::Part::Data(piece)) })
            .collect();
        let stream = tokio_stream::iter(std::iter::once(first).chain(data));
        if cut.is_some() {
            // Never ends: the call is abandoned with the stream open, as a client
            // that lost its connection would leave it.
            let stream = stream.chain(tokio_stream::pending());
            let mut materials = self.materials.clone();
            let call = materials.upload(stream);
            return match tokio::time::timeout(std::time::Duration::from_millis(500), call).await {
                Ok(result) => Ok(result?.into_inner()),
                Err(_) => Err(Status::cancelled("the upload was cut short")),
            };
        }
        Ok(self.materials.clone().upload(stream).await?.into_inner())
    }

    /// The files a referral carries.
    pub async fn attachments(&self, referral_id: &str) -> Result<Vec<pb::Attachment>, Status> {
        let request = pb::ListAttachmentsRequest { referral_id: referral_id.to_owned() };
        Ok(self.materials.clone().list_attachments(request).await?.into_inner().attachments)
    }

    /// Downloads a file of a referral to `out`: written beside it and moved into place
    /// only when it came whole and its SHA-256 is the one the hub recorded; otherwise
    /// nothing is left at `out` or beside it.
    pub async fn download(&self, referral_id: &str, attachment_id: &str, out: &Path) -> Result<pb::Attachment, Status> {
        let request =
            pb::DownloadRequest { referral_id: referral_id.to_owned(), attachment_id: attachment_id.to_owned() };
        let mut stream = self.materials.clone().download(request).await?.into_inner();
        let attachment = match stream.message().await? {
            Some(pb::DownloadResponse { part: Some(pb::download_response::Part::Attachment(a)) }) => a,
            _ => return Err(Status::internal("the download did not start with the file's description")),
        };
        let mut partial = Partial::create(out).await?;
        let mut digest = Sha256::new();
        let received = async {
            while let Some(message) = stream.next().await {
                match message?.part {
                    Some(pb::download_response::Part::Data(data)) => {
                        digest.update(&data);
                        partial.write(&data).await?;
                    }
                    _ => return Err(Status::internal("a second description in a download")),
                }
            }
            if crate::domain::hex::lower(&digest.finalize()) != attachment.sha256 {
                return Err(Status::data_loss("the file received does not match its recorded SHA-256"));
            }
            Ok(())
        }
        .await;
        match received {
            Ok(()) => {
                partial.keep().await?;
                Ok(attachment)
            }
            Err(status) => {
                partial.discard().await;
                Err(status)
            }
        }
    }

    /// Saves a referral's letter (DOCX) to `out`, or into directory `out` under the
    /// hub's name for it.
    pub async fn save_letter(&self, referral_id: &str, out: &Path) -> Result<Saved, Status> {
        self.save_letter_version(referral_id, 0, out).await
    }

    /// Saves version `version` of a referral's letter (0: the newest) to `out`, or into
    /// directory `out`.
    pub async fn save_letter_version(&self, referral_id: &str, version: u32, out: &Path) -> Result<Saved, Status> {
        let request = pb::GetLetterRequest { referral_id: referral_id.to_owned(), version };
        let stream = self.materials.clone().get_letter(request).await?.into_inner();
        save(stream, out).await
    }

    /// The versions of a referral's letter as issued.
    pub async fn letters(&self, referral_id: &str) -> Result<Vec<pb::Letter>, Status> {
        let request = pb::ListLettersRequest { referral_id: referral_id.to_owned() };
        Ok(self.materials.clone().list_letters(request).await?.into_inner().letters)
    }

    /// Issues a correction (更正) of a referral's letter.
    pub async fn correct_letter(&self, referral_id: &str) -> Result<pb::Letter, Status> {
        let request = pb::CorrectLetterRequest { request_id: request_id(), referral_id: referral_id.to_owned() };
        Ok(self.materials.clone().correct_letter(request).await?.into_inner())
    }

    /// The office's 督办函: for the office, to `member` (every member when empty); for a
    /// member, its own.
    pub async fn supervisions(&self, member: &str) -> Result<Vec<pb::Supervision>, Status> {
        let request = pb::ListSupervisionsRequest { member: member.to_owned() };
        Ok(self.materials.clone().list_supervisions(request).await?.into_inner().supervisions)
    }

    /// Saves a 督办函 as issued to `out`, or into directory `out`.
    pub async fn save_supervision(&self, id: &str, out: &Path) -> Result<Saved, Status> {
        let request = pb::GetSupervisionLetterRequest { id: id.to_owned() };
        let stream = self.materials.clone().get_supervision_letter(request).await?.into_inner();
        save(stream, out).await
    }

    /// Saves a case's dossier (zip) to `out`, or into directory `out`.
    pub async fn save_dossier(&self, case_id: &str, out: &Path) -> Result<Saved, Status> {
        let request = pb::GetDossierRequest { case_id: case_id.to_owned() };
        let stream = self.materials.clone().get_dossier(request).await?.into_inner();
        save(stream, out).await
    }

    /// The figures of `period` beside the year before.
    pub async fn figures(&self, period: pb::Period) -> Result<pb::Figures, Status> {
        let request = pb::GetFiguresRequest { period: Some(period) };
        Ok(self.records.clone().get_figures(request).await?.into_inner())
    }

    /// The office, or the procuratorate for its own cases: marks a case for the joint
    /// meeting's study (重点救助对象) with the reason.
    pub async fn mark_key_case(&self, case_id: &str, reason: &str) -> Result<pb::KeyCase, Status> {
        self.once(
            |request_id| pb::MarkKeyCaseRequest { request_id, case_id: case_id.to_owned(), reason: reason.to_owned() },
            |c, q| async move { c.records.clone().mark_key_case(q).await },
        )
        .await
    }

    /// Removes a case's mark.
    pub async fn unmark_key_case(&self, case_id: &str) -> Result<(), Status> {
        self.once(
            |request_id| pb::UnmarkKeyCaseRequest { request_id, case_id: case_id.to_owned() },
            |c, q| async move { c.records.clone().unmark_key_case(q).await },
        )
        .await
        .map(drop)
    }

    /// Saves the figures of `period` as a table (`format`) to `out`, or into directory `out`.
    pub async fn save_figures(&self, period: pb::Period, format: pb::TableFormat, out: &Path) -> Result<Saved, Status> {
        let request = pb::ExportFiguresRequest { period: Some(period), format: format as i32 };
        let stream = self.records.clone().export_figures(request).await?.into_inner();
        save(stream, out).await
    }

    /// Saves the ledger (台账) of `period` as `format` to `out`, or into directory `out`.
    pub async fn save_ledger(&self, period: pb::Period, format: pb::TableFormat, out: &Path) -> Result<Saved, Status> {
        let request = pb::ExportLedgerRequest { period: Some(period), format: format as i32 };
        let stream = self.records.clone().export_ledger(request).await?.into_inner();
        save(stream, out).await
    }
}

async fn save(mut stream: tonic::Streaming<pb::DocumentChunk>, out: &Path) -> Result<Saved, Status> {
    let first = stream.message().await?.ok_or_else(|| Status::internal("an empty document"))?;
    let file_name = first.file_name.clone();
    let path = if out.is_dir() { out.join(file_name.replace(['/', '\\'], "_")) } else { out.to_owned() };
    let mut partial = Partial::create(&path).await?;
    let mut bytes = first.data.len() as u64;
    let received = async {
        partial.write(&first.data).await?;
        while let Some(piece) = stream.message().await? {
            bytes += piece.data.len() as u64;
            partial.write(&piece.data).await?;
        }
        Ok::<(), Status>(())
    }
    .await;
    match received {
        Ok(()) => partial.keep().await.map(|()| Saved { path, file_name, bytes }),
        Err(status) => {
            partial.discard().await;
            Err(status)
        }
    }
}
