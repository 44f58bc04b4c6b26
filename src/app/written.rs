//! The written form (Art. 19, 24): the letter (移送函) of a referral as DOCX, the same
//! for its sender and its recipient, and a case's dossier (归档) an archivist can verify
//! without the hub.

use uuid::Uuid;

use super::{identity, materials, Actor, AppError, Hub};
use crate::{
    documents::{docx, dossier},
    domain::{
        date::local_date,
        letter::{self, DocumentNumber},
        material::Carried,
        referral::Referral,
    },
    store::Numbering,
};

/// The document numbers new referrals take: their sender's next of the year.
pub(super) fn numbering(hub: &Hub, referrals: &[Referral]) -> Vec<Numbering> {
    let directory = hub.directory.now();
    referrals
        .iter()
        .map(|r| Numbering {
            referral_id: r.id,
            sender: r.sender.clone(),
            year: chrono::Datelike::year(&local_date(r.submitted_at)),
            prefix: hub.materials.prefix(&r.sender, &directory),
        })
        .collect()
}

/// A document for a person to save: its file name and bytes.
#[derive(Debug, Clone)]
pub struct Document {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The letter (移送函) of a referral as DOCX, for its sender and its recipient alike;
/// audited as a read.
pub async fn letter(hub: &Hub, actor: &Actor, referral_id: Uuid) -> Result<Document, AppError> {
    identity::member(&actor.caller)?;
    let referral = materials::party(hub, actor, referral_id, false).await?;
    hub.audit(&actor.caller.code, &actor.certificate.serial, "Letter", vec![referral_id], "").await?;
    let carried = hub.store.carried(&[referral_id]).await?;
    render_letter(hub, &referral, &carried).await
}

async fn render_letter(hub: &Hub, referral: &Referral, carried: &[Carried]) -> Result<Document, AppError> {
    let number: DocumentNumber = hub
        .store
        .document_numbers(&[referral.id])
        .await?
        .pop()
        .map(|(_, number)| number)
        .ok_or_else(|| AppError::NotFound(format!("a document number for referral {}", referral.id)))?;
    let submitted_on = local_date(referral.submitted_at);
    let composed = {
        let directory = hub.directory.now();
        letter::compose(referral, &number, carried, &directory, submitted_on)
    };
    let template = match &hub.materials.template {
        Some(path) => Some(
            tokio::fs::read(path)
                .await
                .map_err(|e| crate::documents::DocumentError::Template(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let at = crate::domain::date::local_time(referral.submitted_at);
    let bytes = docx::render(template.as_deref(), &composed, at)?;
    Ok(Document { file_name: format!("{}-{}.docx", number.text(), composed.title), bytes })
}

/// Audit entries read at a time while assembling a dossier.
const AUDIT_PAGE: u32 = 1000;

/// A case's dossier (归档) for a party: a zip with the letters of its referrals the
/// caller sent or received, every file they carry, their history and deadlines as a
/// readable document, and the audit log from the case's first entry up to the newest
/// signed checkpoint (every entry between, so the chain can be checked: they hold no
/// personal data) with the case's later entries; audited as a read.
pub async fn dossier(hub: &Hub, actor: &Actor, case_id: Uuid) -> Result<Document, AppError> {
    identity::member(&actor.caller)?;
    let referrals: Vec<Referral> =
        hub.store.case_referrals(case_id).await?.into_iter().filter(|r| r.is_party(&actor.caller.code)).collect();
    if referrals.is_empty() {
        return Err(AppError::NotFound(format!("case {case_id}")));
    }
    let ids: Vec<Uuid> = referrals.iter().map(|r| r.id).collect();
    hub.audit(&actor.caller.code, &actor.certificate.serial, "Dossier", ids.clone(), "").await?;
    let now = hub.clock.now();
    let mut archive = crate::documents::archive::Archive::new(crate::domain::date::local_time(now));
    let carried = hub.store.carried(&ids).await?;
    let mut record = dossier::Record::new(case_id, now);
    let directory = hub.directory.now();
    for referral in &referrals {
        let letter = render_letter(hub, referral, &carried).await?;
        archive.add(&format!("移送函/{}", letter.file_name), &letter.bytes, true)?;
        let history = hub.store.history(&[referral.id]).await?;
        let deadlines = hub.store.deadlines(&[referral.id]).await?;
        record.referral(referral, &letter.file_name, &history, &deadlines, &directory);
    }
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
        let bytes = materials::whole(hub, stored).await?;
        archive.add(&dossier::file_path(seen.len(), &c.attachment), &bytes, false)?;
    }
    let checkpoint = hub.store.newest_checkpoint().await?;
    let covered = checkpoint.as_ref().map_or(0, |c| c.seq);
    let mut entries = Vec::new();
    let mut after = 0;
    loop {
        let page = hub.store.audit_log(after, AUDIT_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for entry in page {
            let names_case = entry.record.referrals.iter().any(|id| ids.contains(id));
            if names_case || (!entries.is_empty() && entry.seq <= covered) {
                entries.push(entry);
            }
        }
    }
    archive.add("审计/entries.jsonl", dossier::audit_lines(&entries).as_bytes(), true)?;
    if let Some(checkpoint) = &checkpoint {
        let json = serde_json::to_string_pretty(checkpoint).unwrap_or_default();
        archive.add("审计/checkpoint.json", json.as_bytes(), true)?;
    }
    archive.add("办理经过.txt", record.text(&entries, checkpoint.as_ref()).as_bytes(), true)?;
    let short = case_id.simple().to_string();
    Ok(Document { file_name: format!("案卷-{}.zip", &short[..8]), bytes: archive.finish()? })
}
