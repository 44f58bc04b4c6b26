//! Documents the hub writes for people: the DOCX letter of a referral (移送函) from a
//! replaceable template, zip archives (the case dossier for 归档), and tables (the
//! ledgers, 台账) as XLSX and CSV. Formatting only:
//! what a letter says comes from [`crate::domain::letter`], what a dossier holds from
//! the hub's operations.

pub mod archive;
pub mod docx;
pub mod dossier;
pub mod table;

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
