//! Documents the hub writes for people: the DOCX letter of a referral (移送函) from a
//! replaceable template, zip archives (the case dossier for 归档), and tables (the
//! ledgers, 台账) as XLSX and CSV. Formatting only:
//! what a letter says comes from [`crate::domain::letter`], what a dossier holds from
//! the hub's operations.

pub mod archive;
pub mod docx;
pub mod dossier;
pub mod table;

/// Bytes a large document (a table, a dossier) is written to its file in at a time: a
/// write of a few KiB costs the kernel several times what its share of a large one
/// does (writing 1 GiB: 5.2 s of system time in 8 KiB writes, 1.0 s in 1 MiB ones, on
/// the machine of docs/benchmarks.md).
pub const WRITTEN_AT_ONCE: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The template is not a DOCX file the hub can fill in.
    #[error("the letter template: {0}")]
    Template(String),
    #[error("writing the document: {0}")]
    Write(String),
}

impl From<zip::result::ZipError> for DocumentError {
    fn from(error: zip::result::ZipError) -> Self {
        DocumentError::Write(error.to_string())
    }
}

impl From<std::io::Error> for DocumentError {
    fn from(error: std::io::Error) -> Self {
        DocumentError::Write(error.to_string())
    }
}
