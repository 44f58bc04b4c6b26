//! Certificates: who a certificate names, reading PEM files, and the small certificate
//! authority that one joint meeting runs for its members.
//!
//! A member's identity lives in a SAN URI of its client certificate:
//! `urn:xianjie:member:<code>`, `urn:xianjie:office` or `urn:xianjie:admin`; a clerk's
//! (经办人) adds `:clerk:<code>` to its unit's, and its name is the certificate's
//! common name.

pub mod authority;
pub mod p12;

use std::{collections::HashSet, io, path::Path, sync::Arc};

use chrono::{DateTime, Utc};
use rustls_pki_types::{pem::PemObject, CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use x509_parser::{extensions::GeneralName, prelude::FromDer};

use crate::domain::Rule;
use crate::domain::{directory::Directory, MemberCode};

/// The serial numbers (lower-case hex) of revoked client certificates.
pub type Revoked = Arc<HashSet<String>>;

/// The client certificate a request came with: its serial number, for the audit log, the
/// end of its validity, for live streams, and the clerk it names (none for a unit's own
/// system certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub serial: String,
    pub not_after: DateTime<Utc>,
    pub clerk: Option<Clerk>,
}

/// Whom a client certificate names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    Member(MemberCode),
    /// 联席会议办公室.
    Office,
    Admin,
}

const MEMBER_URI: &str = "urn:xianjie:member:";
const OFFICE_URI: &str = "urn:xianjie:office";
const ADMIN_URI: &str = "urn:xianjie:admin";

impl Identity {
    /// Parses `office`, `admin` or a member code.
    pub fn parse(raw: &str) -> Result<Self, Rule> {
        match raw {
            "office" => Ok(Identity::Office),
            "admin" => Ok(Identity::Admin),
            code => MemberCode::parse(code).map(Identity::Member),
        }
    }

    /// How a person would name it: `晋江市民政局 (mz)`, 联席会议办公室, 管理员.
    pub fn label(&self, directory: &Directory) -> String {
        match self {
            Identity::Member(code) => match directory.get(code) {
                Some(member) => format!("{} ({code})", member.name),
                None => code.to_string(),
            },
            Identity::Office => "联席会议办公室".to_owned(),
            Identity::Admin => "衔接管理员".to_owned(),
        }
    }

    /// How a clerk reads it, without the code: 晋江市民政局, 联席会议办公室, 衔接管理员.
    pub fn title(&self, directory: &Directory) -> String {
        match self {
            Identity::Member(code) => directory.get(code).map_or_else(|| code.to_string(), |m| m.name.clone()),
            Identity::Office | Identity::Admin => self.label(directory),
        }
    }

    /// The SAN URI that carries the identity.
    pub fn uri(&self) -> String {
        match self {
            Identity::Member(code) => format!("{MEMBER_URI}{code}"),
            Identity::Office => OFFICE_URI.to_owned(),
            Identity::Admin => ADMIN_URI.to_owned(),
        }
    }

    fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            OFFICE_URI => Some(Identity::Office),
            ADMIN_URI => Some(Identity::Admin),
            _ => MemberCode::parse(uri.strip_prefix(MEMBER_URI)?).ok().map(Identity::Member),
        }
    }

    /// The name of its certificate and key files: `mz`, `office`, `admin`.
    pub fn name(&self) -> &str {
        match self {
            Identity::Member(code) => code.as_str(),
            Identity::Office => "office",
            Identity::Admin => "admin",
        }
    }

    /// Reads the unit from the SAN URIs of a DER certificate (a clerk's certificate
    /// names its unit too): exactly one must name an identity.
    pub fn from_certificate(der: &[u8]) -> Result<Self, String> {
        Holder::from_certificate(der).map(|holder| holder.identity)
    }
}

/// 经办人 — a clerk of a unit, who holds a certificate of their own: a short code
/// (`wangfang`: a lower-case letter, then letters, digits; at most 32) and a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Clerk {
    pub code: String,
    pub name: String,
}

/// The longest clerk's code, and name.
const MAX_CLERK_CODE: usize = 32;
pub const MAX_CLERK_NAME: usize = 32;

impl Clerk {
    /// A clerk's code as typed: the rule it breaks, if any.
    pub fn check_code(raw: &str) -> Result<(), Rule> {
        let mut chars = raw.chars();
        let first_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        if !first_letter
            || raw.len() > MAX_CLERK_CODE
            || !raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(Rule::ClerkCode { max: MAX_CLERK_CODE });
        }
        Ok(())
    }

    /// A clerk's name as typed: the rule it breaks, if any.
    pub fn check_name(raw: &str) -> Result<(), Rule> {
        let count = raw.trim().chars().count();
        if count == 0 || count > MAX_CLERK_NAME || raw.chars().any(char::is_control) {
            return Err(Rule::ClerkName { max: MAX_CLERK_NAME });
        }
        Ok(())
    }
}

/// Whom a certificate is issued to: a unit's own system (its case system, over gRPC),
/// or one of its clerks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Holder {
    pub identity: Identity,
    pub clerk: Option<Clerk>,
}

impl From<Identity> for Holder {
    fn from(identity: Identity) -> Self {
        Holder { identity, clerk: None }
    }
}

impl Holder {
    /// Parses a holder's file name: `mz`, `office`, or a clerk's `mz.wangfang` (whose
    /// name is not in it: empty).
    pub fn parse(raw: &str) -> Result<Self, Rule> {
        match raw.split_once('.') {
            None => Identity::parse(raw).map(Holder::from),
            Some((unit, code)) => {
                Clerk::check_code(code)?;
                Ok(Holder {
                    identity: Identity::parse(unit)?,
                    clerk: Some(Clerk { code: code.to_owned(), name: String::new() }),
                })
            }
        }
    }

    /// The name of its certificate and key files: `mz`, `office`, `mz.wangfang`.
    pub fn name(&self) -> String {
        match &self.clerk {
            None => self.identity.name().to_owned(),
            Some(clerk) => format!("{}.{}", self.identity.name(), clerk.code),
        }
    }

    /// The SAN URI that carries it.
    pub fn uri(&self) -> String {
        match &self.clerk {
            None => self.identity.uri(),
            Some(clerk) => format!("{}{CLERK_URI}{}", self.identity.uri(), clerk.code),
        }
    }

    /// How a person would name it: `晋江市民政局 (mz)`, `晋江市民政局 (mz) · 王某`.
    pub fn label(&self, directory: &Directory) -> String {
        match &self.clerk {
            None => self.identity.label(directory),
            Some(clerk) => format!("{} · {}", self.identity.label(directory), clerk.name),
        }
    }

    /// How a clerk reads it, without the code: 晋江市民政局 · 王芳.
    pub fn title(&self, directory: &Directory) -> String {
        match &self.clerk {
            None => self.identity.title(directory),
            Some(clerk) => format!("{} · {}", self.identity.title(directory), clerk.name),
        }
    }

    /// Reads the holder from a DER certificate: the identity of its one SAN URI naming
    /// one, the clerk's name from its common name.
    pub fn from_certificate(der: &[u8]) -> Result<Self, String> {
        let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
            .map_err(|e| format!("unreadable certificate: {e}"))?;
        let sans = cert.subject_alternative_name().map_err(|e| format!("unreadable subject alternative names: {e}"))?;
        let mut found = sans.into_iter().flat_map(|ext| ext.value.general_names.iter()).filter_map(|name| match name {
            GeneralName::URI(uri) => Holder::from_uri(uri),
            _ => None,
        });
        let mut holder = match (found.next(), found.next()) {
            (Some(holder), None) => holder,
            (None, _) => return Err("the certificate names no xianjie identity (SAN URI urn:xianjie:…)".into()),
            (Some(_), Some(_)) => return Err("the certificate names more than one identity".into()),
        };
        if let Some(clerk) = &mut holder.clerk {
            let common_name = cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok());
            clerk.name = common_name.unwrap_or(&clerk.code).to_owned();
        }
        Ok(holder)
    }

    fn from_uri(uri: &str) -> Option<Self> {
        match uri.split_once(CLERK_URI) {
            None => Identity::from_uri(uri).map(Holder::from),
            Some((unit, code)) => {
                Clerk::check_code(code).ok()?;
                Some(Holder {
                    identity: Identity::from_uri(unit)?,
                    clerk: Some(Clerk { code: code.to_owned(), name: String::new() }),
                })
            }
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

const CLERK_URI: &str = ":clerk:";

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

fn invalid(path: &Path, what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}: {e}", path.display()))
}

/// A certificate's serial number in lower-case hex, as CRLs and the audit log name it.
pub fn serial(der: &[u8]) -> Result<String, String> {
    let (_, cert) =
        x509_parser::certificate::X509Certificate::from_der(der).map_err(|e| format!("unreadable certificate: {e}"))?;
    Ok(crate::domain::hex::lower(cert.raw_serial()))
}

/// When a DER certificate stops being valid.
pub fn not_after(der: &[u8]) -> Result<DateTime<Utc>, String> {
    let (_, cert) =
        x509_parser::certificate::X509Certificate::from_der(der).map_err(|e| format!("unreadable certificate: {e}"))?;
    DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or_else(|| "the certificate's validity is out of range".to_owned())
}

/// A file to read, there: one that is not is named as missing, not as unreadable.
fn present(path: &Path) -> io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    Err(io::Error::new(io::ErrorKind::NotFound, format!("{}: no such file", path.display())))
}

/// The serial numbers a PEM CRL revokes, and the CRL itself for the verifier.
pub fn read_crl(path: &Path) -> io::Result<(CertificateRevocationListDer<'static>, HashSet<String>)> {
    present(path)?;
    let crl = CertificateRevocationListDer::from_pem_file(path).map_err(|e| invalid(path, "not a PEM CRL", e))?;
    let (_, parsed) = x509_parser::revocation_list::CertificateRevocationList::from_der(crl.as_ref())
        .map_err(|e| invalid(path, "unreadable CRL", e))?;
    let serials = parsed.iter_revoked_certificates().map(|r| crate::domain::hex::lower(r.raw_serial())).collect();
    Ok((crl, serials))
}

/// Reads every certificate of a PEM file.
pub fn read_certificates(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    present(path)?;
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| invalid(path, "not a PEM file", e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(path, "bad certificate", e))?;
    if certs.is_empty() {
        return Err(invalid(path, "no certificate", "the file holds none"));
    }
    Ok(certs)
}

/// Reads the private key of a PEM file.
pub fn read_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    present(path)?;
    PrivateKeyDer::from_pem_file(path).map_err(|e| invalid(path, "no private key", e))
}
