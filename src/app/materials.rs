//! Materials (Art. 22, 24): uploading a file (recognised by its content, held to the
//! limits while it streams, sealed and written ahead chunk by chunk, completed by one
//! audited commit), the files a referral carries, downloading one (opened chunk by
//! chunk, its digest checked, audited), discarding files nothing carries. The letters
//! and dossiers made of them are in [`super::written`].

use std::{
    collections::BTreeMap,
    path::PathBuf,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    time::SystemTime,
};

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, Semaphore};
use tokio_stream::{wrappers::ReceiverStream, Stream, StreamExt};
use uuid::Uuid;

use super::{identity, Actor, Answer, AppError, Hub, Plan, Recorded, RequestKey};
use crate::domain::Rule;
use crate::{
    config::MaterialsConfig,
    documents::{docx, DocumentError},
    domain::{
        audit::AuditRecord,
        directory::Directory,
        hex,
        id::new_id,
        letter,
        material::{self, Attachment, Carried, Kind, Limits},
        referral::Referral,
        supervision,
        view::View,
        DomainError, MemberCode, Role,
    },
    keys::stream::{Opener, Sealer, CHUNK_BYTES},
    store::{Commit, Discard, Link, Staging, StoreError, StoredFile, Upload},
};

/// What the hub's materials follow: the limits, how many uploads it takes at once, the
/// letter template, each member's document number prefix and how long a file nothing
/// carries is kept.
pub struct Materials {
    pub limits: Limits,
    uploads: Semaphore,
    template: Template,
    prefixes: BTreeMap<String, String>,
    /// How long a staged or never-attached file is kept.
    pub keep_unattached: chrono::Duration,
    /// When files nothing carries were last looked for.
    last_discard: Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// Document numbers as they are handed out.
    pub(super) numbers: Arc<super::numbering::Numbers>,
}

/// A county's own letter template, checked when the hub starts and again whenever its
/// file changes: a broken one is refused (logged with what is wrong) and the last good
/// one kept.
struct Template {
    path: Option<PathBuf>,
    loaded: Mutex<Loaded>,
}

struct Loaded {
    modified: Option<SystemTime>,
    bytes: Option<Arc<Vec<u8>>>,
}

impl Materials {
    /// The materials of `config`; refused when its letter template is not one every
    /// letter can be written with.
    /// `rebuilt` counts the document number pools read again from the store.
    pub fn new(config: &MaterialsConfig, rebuilt: prometheus::IntCounter) -> Result<Self, DocumentError> {
        let loaded = match &config.letter_template {
            None => Loaded { modified: None, bytes: None },
            Some(path) => {
                let failed = |why: String| DocumentError::Template(format!("{}: {why}", path.display()));
                let modified = std::fs::metadata(path).and_then(|m| m.modified()).map_err(|e| failed(e.to_string()))?;
                let bytes = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
                docx::check(&bytes).map_err(|e| failed(e.to_string()))?;
                Loaded { modified: Some(modified), bytes: Some(Arc::new(bytes)) }
            }
        };
        Ok(Self {
            limits: Limits {
                file_bytes: config.file_mib << 20,
                referral_bytes: config.referral_mib << 20,
                referral_files: config.referral_files,
            },
            uploads: Semaphore::new(config.uploads_at_once.max(1)),
            template: Template { path: config.letter_template.clone(), loaded: Mutex::new(loaded) },
            prefixes: config.document_prefixes.clone(),
            keep_unattached: chrono::Duration::hours(i64::try_from(config.keep_unattached_hours).unwrap_or(24)),
            last_discard: Mutex::new(None),
            numbers: Arc::new(super::numbering::Numbers::new(rebuilt)),
        })
    }

    /// The letter template to write with now (none: the shipped one): the county's file
    /// read again when it changed, if it passes [`docx::check`].
    pub fn template(&self) -> Option<Arc<Vec<u8>>> {
        let path = self.template.path.as_ref()?;
        let mut loaded = self.template.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if modified.is_some() && modified != loaded.modified {
            loaded.modified = modified;
            match std::fs::read(path).map_err(|e| DocumentError::Template(e.to_string())).and_then(|bytes| {
                docx::check(&bytes)?;
                Ok(bytes)
            }) {
                Ok(bytes) => {
                    tracing::info!(path = %path.display(), "letter template changed: taken up");
                    loaded.bytes = Some(Arc::new(bytes));
                }
                Err(e) => tracing::error!(
                    path = %path.display(), error = %e, "letter template changed but refused: the last good one stays"
                ),
            }
        }
        loaded.bytes.clone()
    }

    /// The prefix of `member`'s document numbers (the office's: of its 督办函).
    pub fn prefix(&self, member: &MemberCode, directory: &Directory) -> String {
        self.prefixes.get(member.as_str()).cloned().unwrap_or_else(|| match directory.get(member) {
            _ if *member == MemberCode::office() => supervision::default_prefix(directory),
            Some(m) => letter::default_prefix(&m.short_name),
            None => letter::default_prefix(member.as_str()),
        })
    }
}

/// The pieces of a file as a client sends them.
pub type Pieces<'a> = Pin<Box<dyn Stream<Item = Result<Vec<u8>, AppError>> + Send + 'a>>;

impl Answer for Attachment {
    fn record(&self) -> Recorded {
        Recorded { attachment: Some(self.id), ..Recorded::default() }
    }

    async fn rebuild(hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        let id = record.attachment.ok_or_else(|| AppError::Store(StoreError::Corrupt("an upload's record".into())))?;
        let stored = hub.store.attachment(id).await?;
        Ok(stored.ok_or_else(|| AppError::NotFound(format!("attachment {id}")))?.attachment)
    }
}

/// Stores a file the caller sends in pieces, named `name`, once per request id: its kind
/// is read from its first bytes, its size held to the limit as it streams, each chunk
/// sealed as it fills and written ahead, staged, a megabyte at a time. Nothing is a
/// file until the whole of it is in (what was staged of one that never is gets
/// discarded, see [`discard`]); a stream cut short of the size declared beforehand
/// (when the sender knows it) makes no file, and the same request id may send it again.
pub async fn upload(
    hub: &Hub,
    actor: &Actor,
    request_id: &str,
    name: &str,
    declared_size: Option<u64>,
    pieces: Pieces<'_>,
) -> Result<Attachment, AppError> {
    identity::member(&actor.caller)?;
    let name = material::file_name(name).map_err(DomainError::from)?;
    crate::domain::request_id::RequestId::parse(request_id).map_err(|v| AppError::Domain(v.into()))?;
    let _permit = hub.materials.uploads.acquire().await.map_err(|_| AppError::Unavailable("stopping".into()))?;
    let now = hub.clock.now();
    let id = new_id(now);
    let upload = receive(hub, id, (&actor.caller.code, name, declared_size), now, pieces).await?;
    let attachment = upload.attachment.clone();
    let mut fingerprint = attachment.name.as_bytes().to_vec();
    fingerprint.extend_from_slice(&attachment.sha256);
    fingerprint.extend_from_slice(&attachment.size.to_be_bytes());
    let key = RequestKey::new(request_id, "Upload", &fingerprint);
    let detail =
        format!("attachment {} {} sha256 {}", attachment.id, attachment.kind.code(), hex::lower(&attachment.sha256));
    let stored = hub
        .once(actor, "Upload", &key, || {
            let commit = crate::store::Commit { uploads: vec![upload.clone()], ..Default::default() };
            let plan = Plan { detail: detail.clone(), ..Plan::new(commit, attachment.clone()) };
            Box::pin(async move { Ok(plan) })
        })
        .await?;
    tracing::info!(attachment = %stored.id, kind = stored.kind.code(), size = stored.size, "uploaded");
    Ok(stored)
}

fn too_large(limits: &Limits) -> AppError {
    AppError::invalid("data", Rule::FileTooLarge { mib: limits.file_bytes >> 20 })
}

fn empty() -> AppError {
    AppError::invalid("size", Rule::EmptyFile)
}

fn refused_kind() -> AppError {
    AppError::invalid("data", Rule::NotAcceptedFile)
}

fn sealing(e: crate::keys::SealError) -> AppError {
    AppError::Store(StoreError::Corrupt(format!("sealing a file: {e}")))
}

/// Sealed chunks an upload holds before writing them ahead (1 MiB): what it keeps in
/// memory however large the file.
const STAGE_CHUNKS: usize = 16;
/// Files removed per commit; the rest in the next pass.
const DISCARD_BATCH: u32 = 500;

async fn receive(
    hub: &Hub,
    id: Uuid,
    (owner, name, declared): (&MemberCode, String, Option<u64>),
    now: chrono::DateTime<chrono::Utc>,
    mut pieces: Pieces<'_>,
) -> Result<Upload, AppError> {
    let limits = hub.materials.limits;
    match declared {
        Some(size) if size > limits.file_bytes => return Err(too_large(&limits)),
        Some(0) => return Err(empty()),
        _ => {}
    }
    let mut sealer = Sealer::new(&hub.keys.current(), &id.to_string());
    let header = sealer.header().clone();
    let mut pending: Vec<u8> = Vec::with_capacity(2 * CHUNK_BYTES);
    let mut chunks = Vec::with_capacity(STAGE_CHUNKS);
    let mut staged = 0u32;
    let (mut size, mut digest, mut kind) = (0u64, Sha256::new(), None);
    while let Some(piece) = pieces.next().await {
        let piece = piece?;
        size += piece.len() as u64;
        if size > limits.file_bytes {
            return Err(too_large(&limits));
        }
        if declared.is_some_and(|declared| size > declared) {
            return Err(AppError::invalid("data", Rule::MoreBytesThanHeader));
        }
        digest.update(&piece);
        pending.extend_from_slice(&piece);
        // A full chunk is sealed once more follows, so the last is never empty
        // (unless the file is).
        while pending.len() > CHUNK_BYTES {
            if kind.is_none() {
                kind = Some(Kind::sniff(&pending).ok_or_else(refused_kind)?);
            }
            let rest = pending.split_off(CHUNK_BYTES);
            chunks.push(sealer.chunk(&pending).map_err(sealing)?);
            pending = rest;
            if chunks.len() == STAGE_CHUNKS {
                let staging = Staging {
                    attachment_id: id,
                    owner: owner.clone(),
                    name: name.clone(),
                    header: header.clone(),
                    first: staged,
                    chunks: std::mem::replace(&mut chunks, Vec::with_capacity(STAGE_CHUNKS)),
                    at: now,
                };
                hub.store.commit(Commit { staging: Some(staging), at: now, ..Commit::default() }).await?;
                staged += STAGE_CHUNKS as u32;
            }
        }
    }
    if declared.is_some_and(|declared| size < declared) {
        // A client that went away mid-file may end its stream cleanly: what came is
        // not the file.
        return Err(AppError::invalid("data", Rule::CutShort));
    }
    if size == 0 {
        return Err(empty());
    }
    let kind = match kind {
        Some(kind) => kind,
        None => Kind::sniff(&pending).ok_or_else(refused_kind)?,
    };
    chunks.push(sealer.last(&pending).map_err(sealing)?);
    let attachment =
        Attachment { id, owner: owner.clone(), name, kind, size, sha256: digest.finalize().into(), uploaded_at: now };
    Ok(Upload { attachment, header, chunks, staged, issued: false, replaces_key: None })
}

/// The files of `ids`, each one uploaded (by anyone: [`links`] checks whose).
pub(super) async fn uploaded(hub: &Hub, ids: &[Uuid]) -> Result<Vec<Attachment>, AppError> {
    let mut files = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        match hub.store.attachment(*id).await? {
            Some(stored) => files.push(stored.attachment),
            None => return Err(AppError::invalid(format!("attachments[{i}]"), Rule::NoSuchUpload)),
        }
    }
    Ok(files)
}

/// Of the files `ids`, those the caller uploaded: what a form shows again as carried
/// when it comes back refused.
pub async fn own_uploads(hub: &Hub, actor: &Actor, ids: &[Uuid]) -> Result<Vec<Attachment>, AppError> {
    identity::member(&actor.caller)?;
    let mut files = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(stored) = hub.store.attachment(*id).await? {
            if stored.attachment.owner == actor.caller.code {
                files.push(stored.attachment);
            }
        }
    }
    Ok(files)
}

/// Links of `files` to each of `referrals`, attached by `by` with its entry `version`
/// (checked beforehand with [`material::check_additions`]).
pub(super) fn links(files: &[Attachment], referrals: &[Uuid], version: u32, by: &MemberCode) -> Vec<Link> {
    referrals
        .iter()
        .flat_map(|&referral_id| {
            files.iter().zip(0..).map(move |(file, ordinal)| Link {
                referral_id,
                attachment_id: file.id,
                version,
                ordinal,
                by: by.clone(),
            })
        })
        .collect()
}

/// What the audit record of an act says of the files it attached.
pub(super) fn detail(files: &[Attachment]) -> String {
    files.iter().map(|f| format!("attachment {} sha256 {}", f.id, hex::lower(&f.sha256))).collect::<Vec<_>>().join("; ")
}

/// The referral, if the caller is a party to it (or the office, when `office`).
pub(super) async fn party(hub: &Hub, actor: &Actor, id: Uuid, office: bool) -> Result<Referral, AppError> {
    match hub.store.referral(id).await? {
        Some(r) if r.is_party(&actor.caller.code) => Ok(r),
        Some(_) if office && actor.caller.role == Role::Office => {
            Err(AppError::PermissionDenied("the office sees the list of a referral's files, not their content".into()))
        }
        _ => Err(AppError::NotFound(format!("referral {id}"))),
    }
}

/// The files a referral carries, each with the history entry it came with; for the
/// office, names masked. Audited as a read.
pub async fn attachments(hub: &Hub, actor: &Actor, referral_id: Uuid) -> Result<Vec<Carried>, AppError> {
    identity::reader(&actor.caller)?;
    super::referrals::visible(hub, actor, referral_id).await?;
    hub.audit_read(actor, "Attachments", vec![referral_id]).await?;
    Ok(shown(hub.store.carried(&[referral_id]).await?, View::of(actor.caller.role)))
}

/// Files as `view` shows them.
pub fn shown(carried: Vec<Carried>, view: View) -> Vec<Carried> {
    carried.into_iter().map(|c| view.file(c)).collect()
}

/// A file being downloaded: what it is, and its content as it is opened.
pub struct Download {
    pub attachment: Attachment,
    /// The file's pieces in order; an error (and nothing after it) if a chunk does not
    /// open or the whole does not match its digest.
    pub pieces: Pieces<'static>,
}

/// Chunks read from the store at a time.
const READ_CHUNKS: u32 = 16;

/// Opens file `attachment_id` of referral `referral_id` for a party to it; audited as
/// a read of the person's data. The office and anyone else are refused.
pub async fn download(hub: &Hub, actor: &Actor, referral_id: Uuid, attachment_id: Uuid) -> Result<Download, AppError> {
    identity::reader(&actor.caller)?;
    party(hub, actor, referral_id, true).await?;
    let carried = hub.store.carried(&[referral_id]).await?;
    if !carried.iter().any(|c| c.attachment.id == attachment_id) {
        return Err(AppError::NotFound(format!("attachment {attachment_id} of referral {referral_id}")));
    }
    let stored = hub
        .store
        .attachment(attachment_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("attachment {attachment_id}")))?;
    let detail = format!("attachment {attachment_id} sha256 {}", hex::lower(&stored.attachment.sha256));
    hub.audit(&actor.caller.code, &actor.certificate.serial, "Download", vec![referral_id], &detail).await?;
    let attachment = stored.attachment.clone();
    Ok(Download { attachment, pieces: opened(hub, stored) })
}

/// The pieces of a stored file as they are opened, chunk by chunk, its digest checked
/// at the end; an error, and nothing after it, at the first thing wrong.
pub(super) fn opened(hub: &Hub, stored: StoredFile) -> Pieces<'static> {
    let attachment_id = stored.attachment.id;
    let (sender, receiver) = mpsc::channel(4);
    let (store, keyring) = (hub.store.clone(), hub.keys.current());
    tokio::spawn(async move {
        let broken = |what: &str| {
            AppError::Integrity(format!(
                "attachment {attachment_id} failed its integrity check ({what}): the stored file was altered, \
                 reordered or cut short; nothing of it should be kept"
            ))
        };
        let file = attachment_id.to_string();
        let mut opener = match Opener::new(&keyring, &file, &stored.header) {
            Ok(opener) => Some(opener),
            Err(e) => {
                let _ = sender.send(Err(broken(&e.to_string()))).await;
                return;
            }
        };
        let mut digest = Sha256::new();
        let mut position = 0u32;
        while position < stored.chunks {
            let batch = match store.chunks(attachment_id, position, READ_CHUNKS).await {
                Ok(batch) if !batch.is_empty() => batch,
                Ok(_) => {
                    let _ = sender.send(Err(broken("a chunk is missing"))).await;
                    return;
                }
                Err(e) => {
                    let _ = sender.send(Err(e.into())).await;
                    return;
                }
            };
            for sealed in batch {
                position += 1;
                let opened = match opener.take() {
                    Some(o) if position == stored.chunks => o.last(&sealed),
                    Some(mut o) => {
                        let opened = o.chunk(&sealed);
                        opener = Some(o);
                        opened
                    }
                    None => Err(crate::keys::SealError::Forged),
                };
                let piece = match opened {
                    Ok(piece) => piece,
                    Err(_) => {
                        let _ = sender.send(Err(broken("a chunk does not open"))).await;
                        return;
                    }
                };
                digest.update(&piece);
                if position == stored.chunks && <[u8; 32]>::from(digest.clone().finalize()) != stored.attachment.sha256
                {
                    let _ = sender.send(Err(broken("its SHA-256 differs from the one recorded"))).await;
                    return;
                }
                if sender.send(Ok(piece)).await.is_err() {
                    return;
                }
            }
        }
    });
    Box::pin(ReceiverStream::new(receiver))
}

/// The whole of a stored file, opened and checked: the bytes, or the error that stopped
/// them (for documents that carry files whole, like the dossier).
pub(super) async fn whole(hub: &Hub, stored: StoredFile) -> Result<Vec<u8>, AppError> {
    let mut bytes = Vec::with_capacity(stored.attachment.size as usize);
    let mut pieces = opened(hub, stored);
    while let Some(piece) = pieces.next().await {
        bytes.extend(piece?);
    }
    Ok(bytes)
}

/// A document the hub issued (a letter, a 督办函) as a file to store: sealed chunk by
/// chunk like an upload, owned by `owner`, and marked as issued.
pub(super) fn sealed(
    hub: &Hub,
    owner: &MemberCode,
    name: String,
    bytes: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Upload, AppError> {
    let id = new_id(now);
    let mut sealer = Sealer::new(&hub.keys.current(), &id.to_string());
    let header = sealer.header().clone();
    let pieces: Vec<&[u8]> = bytes.chunks(CHUNK_BYTES).collect();
    let (last, rest) = pieces.split_last().ok_or_else(empty)?;
    let mut chunks = Vec::with_capacity(pieces.len());
    for piece in rest {
        chunks.push(sealer.chunk(piece).map_err(sealing)?);
    }
    chunks.push(sealer.last(last).map_err(sealing)?);
    let kind = Kind::sniff(bytes).ok_or_else(refused_kind)?;
    let attachment = Attachment {
        id,
        owner: owner.clone(),
        name,
        kind,
        size: bytes.len() as u64,
        sha256: Sha256::digest(bytes).into(),
        uploaded_at: now,
    };
    Ok(Upload { attachment, header, chunks, staged: 0, issued: true, replaces_key: None })
}

/// Removes files staged and never completed, and files nothing carries, once they are
/// older than `keep_unattached`; at most once an hour of the hub's clock. The number
/// removed is audited and counted.
pub async fn discard(hub: &Hub) -> Result<u64, AppError> {
    let now = hub.clock.now();
    {
        let mut last = hub.materials.last_discard.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|last| now - last < chrono::Duration::hours(1)) {
            return Ok(0);
        }
        *last = Some(now);
    }
    let before = now - hub.materials.keep_unattached;
    let doomed = hub.store.doomed_files(before, before, DISCARD_BATCH).await?;
    if doomed.is_empty() {
        return Ok(0);
    }
    let removed = doomed.len() as u64;
    // The files go and the audit log says so in one commit.
    let audit = AuditRecord {
        actor: MemberCode::hub(),
        certificate: String::new(),
        action: "DiscardFiles".into(),
        referrals: Vec::new(),
        detail: format!("{removed} files staged or never attached, uploaded before {before}"),
    };
    let discards =
        doomed.into_iter().map(|id| Discard { id, staged_before: before, unattached_before: before }).collect();
    match hub.write(Commit { discards, audit: vec![audit], at: now, ..Commit::default() }).await {
        Ok(()) => {}
        // A file was attached after it was read: the next pass reads again.
        Err(StoreError::Conflict) => {
            *hub.materials.last_discard.lock().unwrap_or_else(PoisonError::into_inner) = None;
            return Ok(0);
        }
        Err(e) => return Err(e.into()),
    }
    hub.metrics.files_discarded.inc_by(removed);
    tracing::info!(removed, "files nothing carries discarded");
    Ok(removed)
}
