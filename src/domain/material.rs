//! Materials (救助材料, Art. 22, 24): the files a referral or a comment carries, what kinds
//! the hub takes (recognised by their content, never by the name the sender gave), how
//! large they may be, and how their names are shown to the office.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rule::Rule;
use super::{DomainError, FieldViolation, MemberCode};

/// The kinds of file the hub takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pdf,
    /// 版式文档 (GB/T 33190), the format of Chinese government documents.
    Ofd,
    Jpeg,
    Png,
    Docx,
    Xlsx,
}

/// How much of a file's beginning [`Kind::sniff`] wants to see (less if the file is
/// shorter).
pub const SNIFF_BYTES: usize = 64 * 1024;

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Pdf, Kind::Ofd, Kind::Jpeg, Kind::Png, Kind::Docx, Kind::Xlsx];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Ofd => "ofd",
            Kind::Jpeg => "jpeg",
            Kind::Png => "png",
            Kind::Docx => "docx",
            Kind::Xlsx => "xlsx",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The file name extension a download gets.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpg",
            other => other.code(),
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Ofd => "application/ofd",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The kind of a file from its first bytes ([`SNIFF_BYTES`] of them, or the whole
    /// file if shorter): the magic numbers of PDF, JPEG and PNG; for the zip-based
    /// formats, the names of the parts inside (`word/…` for DOCX, `xl/…` for XLSX,
    /// `OFD.xml` for OFD). Anything else is `None`.
    pub fn sniff(head: &[u8]) -> Option<Kind> {
        if head.starts_with(b"%PDF-") {
            Some(Kind::Pdf)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Kind::Jpeg)
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Kind::Png)
        } else if head.starts_with(ZIP_ENTRY) {
            zip_entry_names(head).find_map(|name| {
                if name.starts_with(b"word/") {
                    Some(Kind::Docx)
                } else if name.starts_with(b"xl/") {
                    Some(Kind::Xlsx)
                } else if name == b"OFD.xml" {
                    Some(Kind::Ofd)
                } else {
                    None
                }
            })
        } else {
            None
        }
    }
}

/// The signature of a zip archive's local file header.
const ZIP_ENTRY: &[u8] = b"PK\x03\x04";

/// The names of the entries whose local headers lie in `head`, in order: each header
/// states its name's length, and (unless the sizes follow the data) how far the next
/// header is; otherwise the next signature is searched for.
fn zip_entry_names(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let header = head.get(at..at + 30).filter(|h| h.starts_with(ZIP_ENTRY))?;
        let u16_at = |i: usize| usize::from(u16::from_le_bytes([header[i], header[i + 1]]));
        let (flags, name_len, extra_len) = (u16_at(6), u16_at(26), u16_at(28));
        let compressed = u32::from_le_bytes([header[18], header[19], header[20], header[21]]) as usize;
        let name = head.get(at + 30..at + 30 + name_len)?;
        let data = at + 30 + name_len + extra_len;
        at = if flags & 0x8 == 0 {
            data.saturating_add(compressed)
        } else {
            // The sizes follow the data: the next entry starts at the next signature.
            head.get(data..)
                .and_then(|rest| rest.windows(4).position(|w| w == ZIP_ENTRY))
                .map_or(usize::MAX - 30, |p| data + p)
        };
        Some(name)
    })
}

/// How much a member may attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest file.
    pub file_bytes: u64,
    /// All the files of one referral together.
    pub referral_bytes: u64,
    /// How many files one referral carries.
    pub referral_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { file_bytes: 20 << 20, referral_bytes: 100 << 20, referral_files: 30 }
    }
}

/// The longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// The name a file is kept under: the last part of the sender's path, trimmed; not
/// empty, without control characters, at most [`MAX_NAME_CHARS`].
pub fn file_name(raw: &str) -> Result<String, FieldViolation> {
    let name = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() {
        return Err(FieldViolation::new("name", Rule::FileNameRequired));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldViolation::new("name", Rule::AtMostChars { max: MAX_NAME_CHARS }));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldViolation::new("name", Rule::ControlCharacters));
    }
    if name.chars().any(hides_text) {
        return Err(FieldViolation::new("name", Rule::InvisibleCharacters));
    }
    Ok(name.to_owned())
}

/// Characters that change how a name reads without showing themselves: a right-to-left
/// override makes `阿\u{202E}fdp.exe` read 阿exe.pdf, a zero-width space hides an
/// extension's end. Bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069), marks (U+200E, U+200F, U+061C), zero-width characters (U+200B–U+200D,
/// U+2060, U+FEFF) and line and paragraph separators (U+2028, U+2029).
fn hides_text(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{2028}' | '\u{2029}' | '\u{2060}' | '\u{FEFF}' | '\u{061C}')
}

/// A file as the office sees it: the first character of its name, the rest hidden,
/// and the extension of its kind (names often carry the person's name).
pub fn masked_name(name: &str, kind: Kind) -> String {
    let first: String = name.chars().take(1).collect();
    format!("{first}***.{}", kind.extension())
}

/// A stored file: who uploaded it, what it is, and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: Uuid,
    pub owner: MemberCode,
    pub name: String,
    pub kind: Kind,
    pub size: u64,
    pub sha256: [u8; 32],
    pub uploaded_at: DateTime<Utc>,
}

/// A file as a referral carries it: with the history entry (version) it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub attachment: Attachment,
    pub referral_id: Uuid,
    pub version: u32,
    /// Who attached it (the sender, or either party on a comment).
    pub by: MemberCode,
}

/// Whether `adding` may join the files a referral already carries (`carried`): each
/// one uploaded by `by`, none twice, within the count and the total size.
pub fn check_additions(
    carried: &[Carried],
    adding: &[Attachment],
    by: &MemberCode,
    limits: &Limits,
) -> Result<(), DomainError> {
    let mut violations = Vec::new();
    for (i, file) in adding.iter().enumerate() {
        if &file.owner != by {
            violations.push(FieldViolation::new(format!("attachments[{i}]"), Rule::NotYourFile));
        } else if carried.iter().any(|c| c.attachment.id == file.id) || adding[..i].iter().any(|a| a.id == file.id) {
            violations.push(FieldViolation::new(format!("attachments[{i}]"), Rule::AttachedAlready));
        }
    }
    if carried.len() + adding.len() > limits.referral_files {
        violations.push(FieldViolation::new("attachments", Rule::TooManyFiles { max: limits.referral_files }));
    }
    let total: u64 = carried.iter().map(|c| c.attachment.size).chain(adding.iter().map(|a| a.size)).sum();
    if total > limits.referral_bytes {
        violations.push(FieldViolation::new("attachments", Rule::TooManyBytes { mib: limits.referral_bytes >> 20 }));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Invalid(violations))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip with one stored entry per name, as the OOXML and OFD writers lay them out.
    fn zip(names: &[&str], data_descriptor: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for name in names {
            let body = b"<x/>";
            out.extend_from_slice(ZIP_ENTRY);
            out.extend_from_slice(&[20, 0]);
            out.extend_from_slice(&(if data_descriptor { 8u16 } else { 0 }).to_le_bytes());
            out.extend_from_slice(&[0; 10]);
            let size = if data_descriptor { 0 } else { body.len() as u32 };
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(body);
            if data_descriptor {
                out.extend_from_slice(b"PK\x07\x08");
                out.extend_from_slice(&[0; 12]);
            }
        }
        out
    }

    #[test]
    fn files_are_known_by_their_content() {
        assert_eq!(Kind::sniff(b"%PDF-1.7\n..."), Some(Kind::Pdf));
        assert_eq!(Kind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(Kind::Jpeg));
        assert_eq!(Kind::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(Kind::Png));
        for descriptor in [false, true] {
            let docx = zip(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"], descriptor);
            assert_eq!(Kind::sniff(&docx), Some(Kind::Docx));
            let xlsx = zip(&["[Content_Types].xml", "xl/workbook.xml"], descriptor);
            assert_eq!(Kind::sniff(&xlsx), Some(Kind::Xlsx));
            assert_eq!(Kind::sniff(&zip(&["OFD.xml", "Doc_0/Document.xml"], descriptor)), Some(Kind::Ofd));
            assert_eq!(Kind::sniff(&zip(&["notes.txt", "virus.exe"], descriptor)), None);
        }
    }

    #[test]
    fn other_files_are_refused_whatever_their_name() {
        assert_eq!(Kind::sniff(b"\x7fELF\x02\x01\x01\0"), None);
        assert_eq!(Kind::sniff(b"MZ\x90\0"), None);
        assert_eq!(Kind::sniff(b"<html>"), None);
        assert_eq!(Kind::sniff(b""), None);
        assert_eq!(Kind::sniff(b"PK\x03\x04short"), None);
    }

    #[test]
    fn names_are_kept_without_paths_and_masked_for_the_office() {
        assert_eq!(file_name("C:\\材料\\调查报告.pdf").unwrap(), "调查报告.pdf");
        assert_eq!(file_name("  /tmp/伤情鉴定.jpg ").unwrap(), "伤情鉴定.jpg");
        assert_eq!(file_name("dir/").unwrap_err().field, "name");
        assert!(file_name("a\u{0}b.pdf").is_err());
        for hidden in
            ["阿\u{202E}fdp.exe\u{200B}", "a\u{2066}b.pdf", "报告\u{FEFF}.pdf", "x\u{200D}.pdf", "y\u{2069}.pdf"]
        {
            let refused = file_name(hidden).unwrap_err();
            assert_eq!(refused.field, "name");
            assert!(refused.description().contains("invisible"), "{}", refused.description());
        }
        assert_eq!(file_name("父亲·张三（复印件）.pdf").unwrap(), "父亲·张三（复印件）.pdf");
        assert!(file_name(&"长".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert_eq!(masked_name("张三困难证明.pdf", Kind::Pdf), "张***.pdf");
    }

    fn attachment(owner: &str, size: u64) -> Attachment {
        Attachment {
            id: Uuid::new_v4(),
            owner: MemberCode::parse(owner).unwrap(),
            name: "a.pdf".into(),
            kind: Kind::Pdf,
            size,
            sha256: [0; 32],
            uploaded_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_referral_carries_only_its_senders_files_within_the_limits() {
        let jcy = MemberCode::parse("jcy").unwrap();
        let limits = Limits { file_bytes: 10, referral_bytes: 25, referral_files: 3 };
        let carried =
            vec![Carried { attachment: attachment("jcy", 10), referral_id: Uuid::nil(), version: 1, by: jcy.clone() }];
        assert!(check_additions(&carried, &[attachment("jcy", 10)], &jcy, &limits).is_ok());
        let fields = |e: DomainError| match e {
            DomainError::Invalid(v) => v.into_iter().map(|v| v.field).collect::<Vec<_>>(),
            other => panic!("{other}"),
        };
        let another = check_additions(&carried, &[attachment("mz", 1)], &jcy, &limits).unwrap_err();
        assert_eq!(fields(another), ["attachments[0]"]);
        let again = check_additions(&carried, &[carried[0].attachment.clone()], &jcy, &limits).unwrap_err();
        assert_eq!(fields(again), ["attachments[0]"]);
        let too_large = check_additions(&carried, &[attachment("jcy", 10), attachment("jcy", 6)], &jcy, &limits);
        assert_eq!(fields(too_large.unwrap_err()), ["attachments"]);
        let too_many = [attachment("jcy", 1), attachment("jcy", 1), attachment("jcy", 1)];
        assert_eq!(fields(check_additions(&carried, &too_many, &jcy, &limits).unwrap_err()), ["attachments"]);
    }
}
