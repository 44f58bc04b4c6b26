//! Sealing a referral's rows for writing: which columns and fields are sealed, under
//! which field and row each is bound, and opening free text again. The cipher and the
//! keys are in `crate::keys`; the rows themselves in `rows`.

use uuid::Uuid;

use super::{rows::corrupt, Commit, Opening, StoreError};
use crate::{
    domain::{
        id::new_id,
        lifecycle::Notice,
        referral::{Conclusion, Referral},
    },
    keys::{Keyring, Keys},
};

/// The sealed columns of a referral, in the order they are bound: the person's fields,
/// the key, the blind index, then the free text.
pub const SEALED_COLUMNS: [&str; 12] = [
    "person_name",
    "person_id_number",
    "person_phone",
    "person_address",
    "person_household",
    "narrative",
    "sealed_key",
    "person_index",
    "name_index",
    "conclusion",
    "feedback",
    "closing_reason",
];

/// `column = $n, …` over [`SEALED_COLUMNS`], numbered from `first`.
pub fn sealed_assignments(first: usize) -> String {
    SEALED_COLUMNS.iter().enumerate().map(|(i, c)| format!("{c} = ${}", first + i)).collect::<Vec<_>>().join(", ")
}

/// The columns of a referral's sealed fields, and where each sits in its content.
pub const SEALED_FIELDS: [(&str, Option<&str>, &str); 6] = [
    ("person_name", Some("person"), "name"),
    ("person_id_number", Some("person"), "id_number"),
    ("person_phone", Some("person"), "phone"),
    ("person_address", Some("person"), "address"),
    ("person_household", Some("person"), "household"),
    ("narrative", None, "narrative"),
];

/// Free text kept inside the content's JSON, sealed there.
pub(super) const ADVANCE_REASON: &str = "advance_reason";

/// The name a sealed field is bound to: `person.name`, `narrative`.
pub(super) fn field_name(parent: Option<&str>, key: &str) -> String {
    parent.map_or_else(|| key.to_owned(), |parent| format!("{parent}.{key}"))
}

/// Opens free text sealed as `field` of `row`; text written before sealing is read as
/// it is.
pub(super) fn open_text(keys: &Keys, field: &str, row: &str, stored: &str) -> Result<String, StoreError> {
    if crate::keys::key_id(stored).is_none() {
        return Ok(stored.to_owned());
    }
    keys.open(field, row, stored).map_err(|e| StoreError::Corrupt(format!("{field} of {row}: {e}")))
}

/// A sealed text opened when `opening` opens everything; empty otherwise.
pub(super) fn whole(opening: Opening, open: impl FnOnce() -> Result<String, StoreError>) -> Result<String, StoreError> {
    match opening {
        Opening::Whole => open(),
        Opening::Listed => Ok(String::new()),
    }
}

/// A conclusion whose summary is sealed (`conclusion.summary`) inside its JSON; the
/// summary read as empty unless `opening` opens everything.
pub(super) fn open_conclusion(
    keys: &Keys,
    row: &str,
    stored: &str,
    opening: Opening,
) -> Result<Conclusion, StoreError> {
    let mut conclusion: Conclusion = serde_json::from_str(stored).map_err(|e| corrupt("conclusion", e))?;
    conclusion.summary = whole(opening, || open_text(keys, "conclusion.summary", row, &conclusion.summary))?;
    Ok(conclusion)
}

/// A referral's sealed columns as written: the person's data field by field (in the
/// order of [`SEALED_FIELDS`]), the rest of its content as JSON, and its free text
/// (conclusion with its summary sealed, feedback, closing reason), all under one key.
pub struct SealedContent {
    pub content: String,
    pub sealed: [String; 6],
    pub person_index: String,
    pub name_index: String,
    pub sealed_key: String,
    pub conclusion: Option<String>,
    pub feedback: Option<String>,
    pub closing_reason: Option<String>,
}

impl SealedContent {
    pub fn new(referral: &Referral, keys: &Keys) -> Result<Self, StoreError> {
        Self::under(referral, &keys.current())
    }

    fn under(referral: &Referral, keyring: &Keyring) -> Result<Self, StoreError> {
        let row = referral.id.to_string();
        let seal = |field: &str, text: &str| crate::keys::seal(keyring, field, &row, text);
        let (conclusion, feedback, closing_reason) = sealed_texts(referral, keyring)?;
        let mut content = serde_json::to_value(&referral.content).map_err(|e| corrupt("content", e))?;
        let object = content.as_object_mut().ok_or_else(|| corrupt("content", "not an object"))?;
        let mut person = object.remove("person").unwrap_or_default();
        let sealed = SEALED_FIELDS.map(|(_, parent, key)| {
            let value = match parent {
                Some(_) => person.get_mut(key).map(serde_json::Value::take),
                None => object.remove(key),
            };
            let plain = value.as_ref().and_then(serde_json::Value::as_str).unwrap_or_default();
            seal(&field_name(parent, key), plain)
        });
        if let Some(serde_json::Value::String(reason)) = object.get_mut(ADVANCE_REASON) {
            *reason = seal(ADVANCE_REASON, reason);
        }
        Ok(Self {
            content: content.to_string(),
            sealed,
            person_index: crate::keys::blind_index(keyring, &referral.content.person.id_number),
            name_index: crate::keys::name_index(keyring, &referral.content.person.name),
            sealed_key: keyring.active().to_owned(),
            conclusion,
            feedback,
            closing_reason,
        })
    }
}

/// A referral's free text as sealed under `keyring`: the conclusion (its summary
/// sealed), the feedback and the closing reason.
type Texts = (Option<String>, Option<String>, Option<String>);

fn sealed_texts(referral: &Referral, keyring: &Keyring) -> Result<Texts, StoreError> {
    let row = referral.id.to_string();
    let seal = |field: &str, text: &str| crate::keys::seal(keyring, field, &row, text);
    let conclusion = referral
        .conclusion
        .as_ref()
        .map(|c| {
            let sealed = Conclusion { summary: seal("conclusion.summary", &c.summary), ..c.clone() };
            serde_json::to_string(&sealed).map_err(|e| corrupt("conclusion", e))
        })
        .transpose()?;
    let feedback = referral.feedback.as_deref().map(|f| seal("feedback", f));
    let closing_reason = referral.closing_reason.as_deref().map(|r| seal("closing_reason", r));
    Ok((conclusion, feedback, closing_reason))
}

/// The field and row a history entry's note is sealed as.
pub fn entry_note(referral_id: &str, version: impl std::fmt::Display) -> (&'static str, String) {
    ("referral_events.note", format!("{referral_id}/{version}"))
}

/// The field and row an inbox event's note is sealed as: bound to its event id.
pub fn inbox_note(event_id: &str) -> (&'static str, String) {
    ("inbox_events.note", event_id.to_owned())
}

/// What a change writes of its referral's sealed columns.
pub enum SealedReferral {
    /// Every one: a new referral, or one whose row may be sealed under another key.
    Whole(Box<SealedContent>),
    /// A transition of a row sealed under the active key: only the free text an act
    /// sets (the person and the content never change after the submit).
    Texts { conclusion: Option<String>, feedback: Option<String>, closing_reason: Option<String> },
}

/// A change's rows as written: the referral's sealed columns, each history entry's
/// note, and each inbox event's id and note.
pub struct SealedChange {
    pub referral: SealedReferral,
    pub entries: Vec<String>,
    pub notices: Vec<(Uuid, String)>,
}

/// The field and row a request's recorded answer is sealed as.
pub fn response_field(member: &str, request_id: &str) -> (&'static str, String) {
    ("requests.response", format!("{member}/{request_id}"))
}

/// A commit with the content of each new referral sealed, ready to write: the sealing
/// happens before the writer is reached.
pub struct SealedCommit {
    pub commit: Commit,
    /// The key everything below is sealed under.
    pub key: String,
    /// One for each change.
    pub changes: Vec<SealedChange>,
    /// The ids and notes of the commit's own inbox events.
    pub notices: Vec<(Uuid, String)>,
    /// The request's recorded answer, sealed.
    pub response: Option<String>,
    /// The names of the files stored, sealed, one for each of the commit's uploads.
    pub upload_names: Vec<String>,
    /// The name of a file being staged, sealed.
    pub staging_name: Option<String>,
}

impl SealedCommit {
    /// Seals `commit` under the active key: a transition only its free text unless
    /// `whole` (its row was found sealed under another key).
    pub fn new(commit: Commit, keys: &Keys, whole: bool) -> Result<Self, StoreError> {
        let keyring = keys.current();
        let notices = |notices: &[Notice]| -> Vec<(Uuid, String)> {
            notices
                .iter()
                .map(|notice| {
                    let event_id = new_id(notice.at);
                    let (field, row) = inbox_note(&event_id.to_string());
                    (event_id, crate::keys::seal(&keyring, field, &row, &notice.note))
                })
                .collect()
        };
        let changes = commit
            .changes
            .iter()
            .map(|change| {
                let entries = change
                    .entries
                    .iter()
                    .map(|e| {
                        let (field, row) = entry_note(&e.referral_id.to_string(), e.version);
                        crate::keys::seal(&keyring, field, &row, &e.note)
                    })
                    .collect();
                let referral = match change.expected_version {
                    Some(_) if !whole => {
                        let (conclusion, feedback, closing_reason) = sealed_texts(&change.referral, &keyring)?;
                        SealedReferral::Texts { conclusion, feedback, closing_reason }
                    }
                    _ => SealedReferral::Whole(Box::new(SealedContent::under(&change.referral, &keyring)?)),
                };
                Ok(SealedChange { referral, entries, notices: notices(&change.notices) })
            })
            .collect::<Result<_, StoreError>>()?;
        let response = commit.request.as_ref().map(|request| {
            let (field, row) = response_field(request.member.as_str(), request.request_id.as_str());
            crate::keys::seal_bytes(&keyring, field, &row, &request.response)
        });
        let name = |id: &Uuid, name: &str| {
            let (field, row) = attachment_name(&id.to_string());
            crate::keys::seal(&keyring, field, &row, name)
        };
        let upload_names = commit.uploads.iter().map(|u| name(&u.attachment.id, &u.attachment.name)).collect();
        let staging_name = commit.staging.as_ref().map(|s| name(&s.attachment_id, &s.name));
        Ok(Self {
            key: keyring.active().to_owned(),
            notices: notices(&commit.notices),
            changes,
            commit,
            response,
            upload_names,
            staging_name,
        })
    }
}

/// The field and row a file's name is sealed as.
pub fn attachment_name(id: &str) -> (&'static str, String) {
    ("attachments.name", id.to_owned())
}

/// A note stored under `sealed_key` (none: written in clear before sealing), sealed
/// again under the active key of `keys`.
pub fn reseal_note(keys: &Keys, field: &str, row: &str, stored: &str) -> Result<String, StoreError> {
    let plain = open_text(keys, field, row, stored)?;
    Ok(crate::keys::seal(&keys.current(), field, row, &plain))
}
