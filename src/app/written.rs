//! The written form (Art. 19, 24): the letter (移送函) of a referral as DOCX, written
//! once when the referral is submitted (and again only as a correction, 更正, which
//! leaves the earlier version as it was), stored sealed, the same bytes for its sender,
//! its recipient and the archive; and a case's dossier (归档) an archivist can verify
//! without the hub.

use uuid::Uuid;

use sha2::{Digest, Sha256};
use tokio_stream::StreamExt;

use super::{
    identity,
    materials::{self, Pieces},
    numbering::Held,
    Actor, Answer, AppError, Hub, Plan, Recorded, RequestKey,
};
use crate::{
    documents::{
        archive::Archive,
        docx,
        dossier::{self, Manifest},
    },
    domain::{
        audit::{AuditRecord, Checkpoint},
        date::{local_date, local_time},
        hex,
        letter::{self, DocumentNumber},
        material::Attachment,
        referral::Referral,
        MemberCode,
    },
    store::{Commit, LetterRecord, Numbering, Opening, StoreError, StoredFile, Upload},
};

/// A document for a person to save: its file name and content.
#[derive(Debug)]
pub struct Document {
    pub file_name: String,
    pub body: Body,
}

/// Where a document's bytes are: in memory (a letter), or in an unnamed temporary file
/// it was written to as it was read (a dossier, a ledger), so memory does not grow with
/// it; the file is gone once the document is.
#[derive(Debug)]
pub enum Body {
    Bytes(Vec<u8>),
    Spooled(std::fs::File),
}

/// Bytes a spooled document is read back in at a time.
const PIECE_BYTES: usize = 64 * 1024;

impl Document {
    /// Its bytes in pieces of at most 64 KiB, in order.
    pub fn pieces(self) -> Pieces<'static> {
        match self.body {
            Body::Bytes(bytes) => {
                let pieces: Vec<Result<Vec<u8>, AppError>> =
                    bytes.chunks(PIECE_BYTES).map(|p| Ok(p.to_vec())).collect();
                Box::pin(tokio_stream::iter(pieces))
            }
            Body::Spooled(file) => {
                let (sender, receiver) = tokio::sync::mpsc::channel(4);
                tokio::task::spawn_blocking(move || {
                    use std::io::{Read, Seek};
                    let mut file = file;
                    if let Err(e) = file.rewind() {
                        let _ = sender.blocking_send(Err(spooling(e)));
                        return;
                    }
                    loop {
                        let mut piece = vec![0; PIECE_BYTES];
                        match file.read(&mut piece) {
                            Ok(0) => return,
                            Ok(n) => {
                                piece.truncate(n);
                                if sender.blocking_send(Ok(piece)).is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                let _ = sender.blocking_send(Err(spooling(e)));
                                return;
                            }
                        }
                    }
                });
                Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver))
            }
        }
    }
}

fn spooling(e: std::io::Error) -> AppError {
    AppError::Store(StoreError::Corrupt(format!("a document's temporary file: {e}")))
}

/// Letters issued by one act: the numbers they take (held until the act's commit is
/// decided), the files that hold them, their records, and what the act's audit entry
/// says of them (each one's SHA-256).
#[derive(Default)]
pub(super) struct Issued {
    pub numbering: Vec<Numbering>,
    pub held: Option<Held>,
    pub uploads: Vec<Upload>,
    pub letters: Vec<LetterRecord>,
    pub detail: String,
}

/// The letters of `referrals` just submitted, each numbered (its sender's next of the
/// year), composed for its recipient, written with the template in force and sealed,
/// to be stored in the submit's commit: every download returns these bytes.
pub(super) async fn issue(
    hub: &Hub,
    actor: &Actor,
    referrals: &[Referral],
    files: &[Attachment],
) -> Result<Issued, AppError> {
    let now = hub.clock.now();
    let numbers = &hub.materials.numbers;
    let mut held = numbers.hold();
    let mut issued = Issued::default();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    for referral in referrals {
        let year = chrono::Datelike::year(&local_date(referral.submitted_at));
        let seq = numbers.take(hub.store.as_ref(), now, &mut held, &referral.sender, year).await?;
        let prefix = hub.materials.prefix(&referral.sender, &hub.directory.now());
        let number = DocumentNumber { sender: referral.sender.clone(), year, seq, prefix: prefix.clone() };
        issued.numbering.push(Numbering {
            referral_id: referral.id,
            sender: referral.sender.clone(),
            year,
            seq,
            prefix,
        });
        issued.add(hub, (&actor.caller.code, actor.clerk()), referral, (1, &number.text()), &names, now)?;
    }
    issued.held = Some(held);
    Ok(issued)
}

impl Issued {
    /// Writes `referral`'s letter as `(version, number)`, listing `files`, issued by
    /// `(member, clerk)`, and adds it.
    fn add(
        &mut self,
        hub: &Hub,
        (by, clerk): (&MemberCode, &str),
        referral: &Referral,
        (version, number): (u32, &str),
        files: &[&str],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), AppError> {
        let composed = {
            let directory = hub.directory.now();
            letter::compose(referral, number, files, &directory, local_date(referral.submitted_at))
        };
        let template = hub.materials.template();
        let bytes = docx::render(template.as_deref().map(Vec::as_slice), &composed, local_time(now))?;
        let name = format!("{number}-{}.docx", composed.title);
        let upload = materials::sealed(hub, &referral.sender, name, &bytes, now)?;
        if !self.detail.is_empty() {
            self.detail.push_str("; ");
        }
        self.detail.push_str(&format!(
            "letter {} v{version} {number} sha256 {}",
            referral.id,
            hex::lower(&upload.attachment.sha256)
        ));
        self.letters.push(LetterRecord {
            referral_id: referral.id,
            version,
            number: number.to_owned(),
            attachment_id: upload.attachment.id,
            issued_at: now,
            by: by.clone(),
            clerk: clerk.to_owned(),
        });
        self.uploads.push(upload);
        Ok(())
    }
}

/// A letter as issued, as its parties list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedLetter {
    pub referral_id: Uuid,
    pub version: u32,
    pub number: String,
    pub file_name: String,
    pub sha256: [u8; 32],
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub by: MemberCode,
    pub clerk: String,
}

impl Answer for IssuedLetter {
    fn record(&self) -> Recorded {
        Recorded { referrals: vec![self.referral_id], versions: vec![self.version], ..Recorded::default() }
    }

    async fn rebuild(hub: &Hub, record: Recorded) -> Result<Self, AppError> {
        let (Some(&id), Some(&version)) = (record.referrals.first(), record.versions.first()) else {
            return Err(AppError::Store(StoreError::Corrupt("a correction's record".into())));
        };
        stored(hub, id).await?.into_iter().find(|(l, _)| l.version == version).map(|(l, _)| l).ok_or_else(|| {
            AppError::Store(StoreError::Corrupt(format!("letter v{version} of referral {id} is not stored")))
        })
    }
}

/// The letters issued for referral `referral_id`, oldest first, each with its stored
/// file.
async fn stored(hub: &Hub, referral_id: Uuid) -> Result<Vec<(IssuedLetter, StoredFile)>, AppError> {
    let mut letters = Vec::new();
    for record in hub.store.letters(&[referral_id]).await? {
        let file = hub.store.attachment(record.attachment_id).await?.ok_or_else(|| {
            AppError::Store(StoreError::Corrupt(format!("the file of letter v{} of {referral_id}", record.version)))
        })?;
        letters.push((
            IssuedLetter {
                referral_id,
                version: record.version,
                number: record.number,
                file_name: file.attachment.name.clone(),
                sha256: file.attachment.sha256,
                issued_at: record.issued_at,
                by: record.by,
                clerk: record.clerk,
            },
            file,
        ));
    }
    Ok(letters)
}

/// The letters of a referral as stored, oldest first, for a party to it; a referral
/// submitted before letters were stored has its letter issued now, once.
async fn kept(hub: &Hub, referral: &Referral) -> Result<Vec<(IssuedLetter, StoredFile)>, AppError> {
    let letters = stored(hub, referral.id).await?;
    if !letters.is_empty() {
        return Ok(letters);
    }
    let number = hub
        .store
        .document_numbers(&[referral.id])
        .await?
        .pop()
        .map(|(_, number)| number.text())
        .ok_or_else(|| AppError::NotFound(format!("a document number for referral {}", referral.id)))?;
    let carried = hub.store.carried(&[referral.id]).await?;
    let names: Vec<&str> = carried.iter().filter(|c| c.version == 1).map(|c| c.attachment.name.as_str()).collect();
    let mut issued = Issued::default();
    issued.add(hub, (&referral.sender, ""), referral, (1, &number), &names, hub.clock.now())?;
    let audit = AuditRecord {
        actor: MemberCode::hub(),
        certificate: String::new(),
        action: "IssueLetter".into(),
        referrals: vec![referral.id],
        detail: issued.detail.clone(),
    };
    let commit = Commit {
        uploads: issued.uploads,
        letters: issued.letters,
        audit: vec![audit],
        at: hub.clock.now(),
        ..Commit::default()
    };
    match hub.store.commit(commit).await {
        // Another download issued it meanwhile.
        Ok(_) | Err(StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    stored(hub, referral.id).await
}

/// The letters (移送函) of a referral as issued, for its sender and its recipient alike.
pub async fn letters(hub: &Hub, actor: &Actor, referral_id: Uuid) -> Result<Vec<IssuedLetter>, AppError> {
    identity::member(&actor.caller)?;
    let referral = materials::party(hub, actor, referral_id, false).await?;
    Ok(kept(hub, &referral).await?.into_iter().map(|(letter, _)| letter).collect())
}

/// A letter (移送函) of a referral as DOCX, exactly as it was issued: version `version`,
/// or the newest; for its sender and its recipient alike, audited as a read with its
/// digest.
pub async fn letter(hub: &Hub, actor: &Actor, referral_id: Uuid, version: Option<u32>) -> Result<Document, AppError> {
    identity::member(&actor.caller)?;
    let referral = materials::party(hub, actor, referral_id, false).await?;
    let mut letters = kept(hub, &referral).await?;
    let at = match version {
        None => letters.len().checked_sub(1),
        Some(v) => letters.iter().position(|(l, _)| l.version == v),
    };
    let Some(at) = at else {
        return Err(AppError::NotFound(format!("letter version {} of referral {referral_id}", version.unwrap_or(1))));
    };
    let (issued, file) = letters.swap_remove(at);
    let detail = format!("letter v{} sha256 {}", issued.version, hex::lower(&issued.sha256));
    hub.audit(&actor.caller.code, &actor.certificate.serial, "Letter", vec![referral_id], &detail).await?;
    Ok(Document { file_name: issued.file_name, body: Body::Bytes(materials::whole(hub, file).await?) })
}

/// Issues a correction (更正) of a referral's letter, once per request id: its sender
/// writes it again from the referral and the directory as they are now, numbered as
/// the original with 「（更正N）」; every earlier version stays as it was.
pub async fn correct(hub: &Hub, actor: &Actor, key: &RequestKey, referral_id: Uuid) -> Result<IssuedLetter, AppError> {
    identity::member(&actor.caller)?;
    let referral = materials::party(hub, actor, referral_id, false).await?;
    if referral.sender != actor.caller.code {
        return Err(AppError::PermissionDenied("only the sender of a referral corrects its letter".into()));
    }
    let original = kept(hub, &referral).await?;
    let carried = hub.store.carried(&[referral_id]).await?;
    let names: Vec<&str> = carried.iter().filter(|c| c.version == 1).map(|c| c.attachment.name.as_str()).collect();
    let (referral, names) = (&referral, &names);
    let first = original.first().map(|(l, _)| l.number.clone()).unwrap_or_default();
    let first = &first;
    hub.once(actor, "CorrectLetter", key, move || {
        Box::pin(async move {
            let version = hub.store.letters(&[referral.id]).await?.iter().map(|l| l.version).max().unwrap_or(0) + 1;
            let number = letter::corrected_number(first, version);
            let mut issued = Issued::default();
            let by = (&actor.caller.code, actor.clerk());
            issued.add(hub, by, referral, (version, &number), names, hub.clock.now())?;
            let record = &issued.letters[0];
            let upload = &issued.uploads[0];
            let answer = IssuedLetter {
                referral_id: referral.id,
                version,
                number: number.clone(),
                file_name: upload.attachment.name.clone(),
                sha256: upload.attachment.sha256,
                issued_at: record.issued_at,
                by: record.by.clone(),
                clerk: record.clerk.clone(),
            };
            let commit = Commit { uploads: issued.uploads, letters: issued.letters, ..Commit::default() };
            Ok(Plan { detail: issued.detail, ..Plan::new(commit, answer) })
        })
    })
    .await
}

/// A case's dossier (归档) for a party: a zip with every version of the letters of the
/// case's referrals the caller sent or received, every file they carry, their history
/// and deadlines as a readable record, a manifest of all of these with their digests,
/// and the case's own audit entries, each with its proof of inclusion in the log a
/// checkpoint signed at export. The export is audited with the manifest's digest, so
/// the manifest (and through it every part) is anchored in the signed log; an
/// archivist verifies it alone with `xianjie audit verify-dossier`. Written to a
/// temporary file as it is read: memory does not grow with the dossier.
pub async fn dossier(hub: &Hub, actor: &Actor, case_id: Uuid) -> Result<Document, AppError> {
    identity::member(&actor.caller)?;
    let referrals: Vec<Referral> =
        hub.store.case_referrals(case_id).await?.into_iter().filter(|r| r.is_party(&actor.caller.code)).collect();
    if referrals.is_empty() {
        return Err(AppError::NotFound(format!("case {case_id}")));
    }
    let ids: Vec<Uuid> = referrals.iter().map(|r| r.id).collect();
    let now = hub.clock.now();
    let spool = tempfile::tempfile().map_err(spooling)?;
    let mut archive =
        Archive::to(std::io::BufWriter::with_capacity(crate::documents::WRITTEN_AT_ONCE, spool), local_time(now));
    let mut manifest = Manifest { case_id, exported_at: now, parts: Vec::new(), entries: Vec::new() };
    let mut record = dossier::Record::new(case_id, now);
    let directory = hub.directory.now();
    for referral in &referrals {
        let mut names = Vec::new();
        for (issued, file) in kept(hub, referral).await? {
            let name = format!("移送函/{}", issued.file_name);
            copy(hub, &mut archive, &name, file).await?;
            manifest.part(&name, issued.sha256);
            names.push(issued.file_name);
        }
        let history = hub.store.history(&[referral.id], Opening::Whole).await?;
        let deadlines = hub.store.deadlines(&[referral.id]).await?;
        record.referral(referral, &names.join("、"), &history, &deadlines, &directory);
    }
    let carried = hub.store.carried(&ids).await?;
    let mut seen = Vec::new();
    for c in &carried {
        record.file(c);
        if seen.contains(&c.attachment.id) {
            continue;
        }
        seen.push(c.attachment.id);
        let stored = hub
            .store
            .attachment(c.attachment.id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("attachment {}", c.attachment.id)))?;
        let name = dossier::file_path(seen.len(), &c.attachment);
        copy(hub, &mut archive, &name, stored).await?;
        manifest.part(&name, c.attachment.sha256);
    }
    // The case's own entries, from the index of the log by referral.
    let mut entries = Vec::new();
    for id in &ids {
        entries.extend(hub.store.audit_of(*id).await?);
    }
    entries.sort_by_key(|e| e.seq);
    entries.dedup_by_key(|e| e.seq);
    manifest.entries = entries.iter().map(|e| e.seq).collect();
    let text = record.text(entries.len());
    archive.add(dossier::RECORD, text.as_bytes(), true)?;
    manifest.part(dossier::RECORD, Sha256::digest(text.as_bytes()).into());
    let manifest =
        serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::Store(StoreError::Corrupt(e.to_string())))?;
    archive.add(dossier::MANIFEST, &manifest, true)?;
    // The export, with the manifest's digest, then a checkpoint that covers it.
    let detail = dossier::manifest_detail(&Sha256::digest(&manifest).into());
    hub.audit(&actor.caller.code, &actor.certificate.serial, "Dossier", ids.clone(), &detail).await?;
    let exported = hub
        .store
        .audit_of(ids[0])
        .await?
        .into_iter()
        .rev()
        .find(|e| e.record.action == "Dossier" && e.record.detail == detail)
        .ok_or_else(|| AppError::Store(StoreError::Corrupt("the export's audit entry".into())))?;
    let checkpoint = covering(hub, exported.seq).await?;
    entries.push(exported);
    let mut lines = String::new();
    for entry in &entries {
        let proof = super::audit_log::inclusion(hub, entry.seq, checkpoint.seq).await?;
        lines.push_str(&dossier::AuditLine::of(entry).with_proof(&proof).to_line());
    }
    archive.add(dossier::ENTRIES, lines.as_bytes(), true)?;
    let json =
        serde_json::to_vec_pretty(&checkpoint).map_err(|e| AppError::Store(StoreError::Corrupt(e.to_string())))?;
    archive.add(dossier::CHECKPOINT, &json, true)?;
    let spool = archive.close()?.into_inner().map_err(|e| spooling(e.into_error()))?;
    let short = case_id.simple().to_string();
    Ok(Document { file_name: format!("案卷-{}.zip", &short[..8]), body: Body::Spooled(spool) })
}

/// A signed checkpoint with a tree root covering entry `seq`: signed now if the newest
/// does not.
async fn covering(hub: &Hub, seq: u64) -> Result<Checkpoint, AppError> {
    for _ in 0..super::ATTEMPTS {
        if let Some(checkpoint) = super::audit_log::checkpoint(hub).await? {
            if checkpoint.seq >= seq {
                return Ok(checkpoint);
            }
        }
        if let Some(newest) = hub.store.newest_checkpoint().await? {
            if newest.seq >= seq && !newest.root.is_empty() {
                return Ok(newest);
            }
        }
    }
    Err(AppError::Contended)
}

/// Copies a stored file into the archive as `name`, piece by piece as it is opened
/// and checked.
async fn copy<W: std::io::Write + std::io::Seek>(
    hub: &Hub,
    archive: &mut Archive<W>,
    name: &str,
    file: StoredFile,
) -> Result<(), AppError> {
    archive.start(name, file.attachment.size, false)?;
    let mut pieces = materials::opened(hub, file);
    while let Some(piece) = pieces.next().await {
        archive.write(&piece?)?;
    }
    Ok(())
}
