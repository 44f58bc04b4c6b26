//! The certificate authority of one joint meeting, kept as PEM files in one directory:
//! `ca.crt`/`ca.key`, `server.crt`/`server.key`, and `<name>.crt`/`<name>.key` for each
//! member, the office and the admin.
//!
//! Keys are written readable by their owner only. The development authority is made on
//! the hub's first start; an operator can run the same code with `xianjie pki`.

use std::{
    fs,
    io::{self, Write},
    net::IpAddr,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SanType,
    SerialNumber,
};
use serde::{Deserialize, Serialize};

use super::{read_certificates, serial, Holder, Identity};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// A certificate or key read: the error names the file itself.
    #[error("{0}")]
    Read(io::Error),
    #[error("certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("{0}")]
    Invalid(String),
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> PkiError + '_ {
    move |source| PkiError::Io { path: path.to_owned(), source }
}

/// The authority's directory.
#[derive(Debug, Clone)]
pub struct Authority {
    dir: PathBuf,
    /// How long a clerk's certificate is valid, in days from its issue.
    clerk_days: u32,
}

/// How long a clerk's certificate is valid unless configured: two years. A unit's
/// system certificate runs to 2036, as the development CA made them.
pub const CLERK_DAYS: u32 = 730;

impl Authority {
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), clerk_days: CLERK_DAYS }
    }

    /// The same authority, issuing clerks' certificates valid for `days`.
    pub fn with_clerk_days(self, days: u32) -> Self {
        Self { clerk_days: days, ..self }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The certificate and key files of `name` (`server`, `mz`, `office`, …).
    pub fn pair(&self, name: &str) -> (PathBuf, PathBuf) {
        (self.dir.join(format!("{name}.crt")), self.dir.join(format!("{name}.key")))
    }

    pub fn exists(&self) -> bool {
        self.ca_cert().exists()
    }

    /// Creates the authority, a server certificate for `server_names` and a client
    /// certificate for each identity. Refuses to overwrite an existing authority.
    pub fn create(&self, organisation: &str, server_names: &[String], identities: &[Identity]) -> Result<(), PkiError> {
        if self.exists() {
            return Err(PkiError::Invalid(format!("{} already exists", self.ca_cert().display())));
        }
        fs::create_dir_all(&self.dir).map_err(io_error(&self.dir))?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(organisation, &format!("{organisation} 衔接 CA"));
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut params, 2045);
        let cert = params.self_signed(&key)?;
        write(&self.dir.join("ca.key"), &key.serialize_pem(), true)?;
        write(&self.ca_cert(), &cert.pem(), false)?;
        self.issue_server(server_names)?;
        for identity in identities {
            self.issue(&Holder::from(identity.clone()))?;
        }
        self.write_crl(&Revocations::default())
    }

    /// The certificate revocation list the hub enforces.
    pub fn crl(&self) -> PathBuf {
        self.dir.join("crl.pem")
    }

    fn revocations_file(&self) -> PathBuf {
        self.dir.join("revoked.toml")
    }

    fn revocations(&self) -> Result<Revocations, PkiError> {
        let path = self.revocations_file();
        if !path.exists() {
            return Ok(Revocations::default());
        }
        let text = fs::read_to_string(&path).map_err(io_error(&path))?;
        toml::from_str(&text).map_err(|e| PkiError::Invalid(format!("{}: {e}", path.display())))
    }

    /// Revokes the certificate `name` holds now (`mz`, `office`, `admin`) on `day`, and
    /// writes a new CRL. Returns the certificate's serial number.
    pub fn revoke(&self, name: &str, day: NaiveDate) -> Result<String, PkiError> {
        let (serial, _) =
            self.current(name)?.ok_or_else(|| PkiError::Invalid(format!("{name} holds no certificate")))?;
        self.revoke_serial(&serial, day)?;
        Ok(serial)
    }

    /// Revokes any certificate this authority issued, by its serial number (lower-case
    /// hex, as `list` shows it), on `day`, and writes a new CRL. Returns whose it was.
    pub fn revoke_serial(&self, serial: &str, day: NaiveDate) -> Result<String, PkiError> {
        let serial = serial.trim().to_ascii_lowercase();
        let register = self.register()?;
        let Some(entry) = register.issued.iter().find(|e| e.serial == serial) else {
            return Err(PkiError::Invalid(format!("no certificate with serial number {serial} was issued here")));
        };
        let mut revocations = self.revocations()?;
        if revocations.revoked.iter().any(|r| r.serial == serial) {
            return Err(PkiError::Invalid(format!("{}'s certificate {serial} is already revoked", entry.name)));
        }
        revocations.revoked.push(Revoked { serial: serial.clone(), name: entry.name.clone(), on: day });
        self.write_crl(&revocations)?;
        let text = toml::to_string(&revocations).map_err(|e| PkiError::Invalid(e.to_string()))?;
        write(&self.revocations_file(), &text, false)?;
        Ok(entry.name.clone())
    }

    /// The serial number and end of the certificate `name` holds now, if any.
    fn current(&self, name: &str) -> Result<Option<(String, DateTime<Utc>)>, PkiError> {
        let (cert_path, _) = self.pair(name);
        if !cert_path.exists() {
            return Ok(None);
        }
        let der = read_certificates(&cert_path).map_err(PkiError::Read)?.remove(0);
        Ok(Some((serial(&der).map_err(PkiError::Invalid)?, super::not_after(&der).map_err(PkiError::Invalid)?)))
    }

    fn register_file(&self) -> PathBuf {
        self.dir.join("issued.toml")
    }

    /// Every certificate issued: the register. An authority made before it kept one has
    /// the certificates in its directory taken up, and written, the first time it is
    /// read, so that none is lost when its file is replaced.
    fn register(&self) -> Result<Register, PkiError> {
        let path = self.register_file();
        if path.exists() {
            let text = fs::read_to_string(&path).map_err(io_error(&path))?;
            return toml::from_str(&text).map_err(|e| PkiError::Invalid(format!("{}: {e}", path.display())));
        }
        let mut register = Register::default();
        let entries = fs::read_dir(&self.dir).map_err(io_error(&self.dir))?;
        for entry in entries {
            let path = entry.map_err(io_error(&self.dir))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".crt")) else {
                continue;
            };
            if name == "ca" {
                continue;
            }
            if let Some((serial, not_after)) = self.current(name)? {
                register.issued.push(Entry { serial, name: name.to_owned(), not_after, clerk_name: String::new() });
            }
        }
        self.store(&register)?;
        Ok(register)
    }

    fn store(&self, register: &Register) -> Result<(), PkiError> {
        let text = toml::to_string(register).map_err(|e| PkiError::Invalid(e.to_string()))?;
        write(&self.register_file(), &text, false)
    }

    fn record(&self, entry: Entry) -> Result<(), PkiError> {
        let mut register = self.register()?;
        // Its file may have been taken up already, by a first read just now.
        register.issued.retain(|e| e.serial != entry.serial);
        register.issued.push(entry);
        self.store(&register)
    }

    /// The clerk each certificate names, by serial number: whose act an audit entry
    /// records. Reads the register alone.
    pub fn clerks(&self) -> Result<std::collections::HashMap<String, String>, PkiError> {
        let register = self.register()?;
        Ok(register.issued.into_iter().filter(|e| !e.clerk_name.is_empty()).map(|e| (e.serial, e.clerk_name)).collect())
    }

    fn write_crl(&self, revocations: &Revocations) -> Result<(), PkiError> {
        let day = |d: NaiveDate| date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
        let params = CertificateRevocationListParams {
            this_update: date_time_ymd(2020, 1, 1),
            next_update: date_time_ymd(2045, 1, 1),
            crl_number: SerialNumber::from(revocations.revoked.len() as u64 + 1),
            issuing_distribution_point: None,
            revoked_certs: revocations
                .revoked
                .iter()
                .map(|r| {
                    let bytes = crate::domain::hex::bytes(&r.serial)
                        .ok_or_else(|| PkiError::Invalid(format!("serial {}", r.serial)))?;
                    Ok(RevokedCertParams {
                        serial_number: SerialNumber::from_slice(&bytes),
                        revocation_time: day(r.on),
                        reason_code: None,
                        invalidity_date: None,
                    })
                })
                .collect::<Result<_, PkiError>>()?,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer()?)?;
        write(&self.crl(), &crl.pem()?, false)
    }

    /// Every certificate this authority ever issued but the CA's, holder by holder,
    /// the newest first: its serial, and whether it is revoked or superseded.
    pub fn list(&self) -> Result<Vec<Issued>, PkiError> {
        let revocations = self.revocations()?;
        let register = self.register()?;
        let mut current = std::collections::HashMap::new();
        for entry in &register.issued {
            if !current.contains_key(&entry.name) {
                current.insert(entry.name.clone(), self.current(&entry.name)?.map(|(serial, _)| serial));
            }
        }
        let mut issued: Vec<Issued> = register
            .issued
            .iter()
            .rev()
            .map(|e| Issued {
                name: e.name.clone(),
                holder: Holder::parse(&e.name).ok().map(|mut holder| {
                    if let Some(clerk) = &mut holder.clerk {
                        clerk.name.clone_from(&e.clerk_name);
                    }
                    holder
                }),
                serial: e.serial.clone(),
                not_after: e.not_after,
                revoked: revocations.revoked.iter().any(|r| r.serial == e.serial),
                current: current.get(&e.name).and_then(Option::as_ref) == Some(&e.serial),
            })
            .collect();
        issued.sort_by(|a, b| a.name.cmp(&b.name).then(b.current.cmp(&a.current)));
        Ok(issued)
    }

    fn issuer(&self) -> Result<Issuer<'static, KeyPair>, PkiError> {
        let key_path = self.dir.join("ca.key");
        let key_pem = fs::read_to_string(&key_path).map_err(io_error(&key_path))?;
        let cert_pem = fs::read_to_string(self.ca_cert()).map_err(io_error(&self.ca_cert()))?;
        Ok(Issuer::from_ca_cert_pem(&cert_pem, KeyPair::from_pem(&key_pem)?)?)
    }

    /// Issues (or re-issues) the server certificate for DNS names and IP addresses.
    pub fn issue_server(&self, names: &[String]) -> Result<(), PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = name("xianjie", "xianjie hub");
        for raw in names {
            let san = match raw.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(raw.as_str().try_into()?),
            };
            params.subject_alt_names.push(san);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut params, 2036);
        self.sign("server", params, "").map(drop)
    }

    /// Issues a unit's system certificate, leaving any it held before as it is
    /// (listed, and revocable by serial); returns its serial number. For a holder's
    /// first certificate; a re-issue is [`Authority::reissue`].
    pub fn issue(&self, holder: &Holder) -> Result<String, PkiError> {
        Ok(self.reissue(holder, Previous::Keep, NaiveDate::MIN)?.serial)
    }

    /// Issues (or re-issues) the client certificate of `holder` on `day`; the one it
    /// held before is revoked, or kept valid until its own end when `previous` says so.
    /// A clerk's runs for the authority's clerk days from `day`, and carries the
    /// clerk's name as its common name.
    pub fn reissue(&self, holder: &Holder, previous: Previous, day: NaiveDate) -> Result<Reissued, PkiError> {
        let file = holder.name();
        let before = self.current(&file)?;
        let mut params = CertificateParams::default();
        let clerk_name = holder.clerk.as_ref().map(|c| c.name.clone()).unwrap_or_default();
        params.distinguished_name = name("xianjie", if clerk_name.is_empty() { &file } else { &clerk_name });
        params.subject_alt_names = vec![SanType::URI(holder.uri().try_into()?)];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        validity(&mut params, 2036);
        if holder.clerk.is_some() {
            let end = day.checked_add_days(chrono::Days::new(u64::from(self.clerk_days))).ok_or_else(|| {
                PkiError::Invalid(format!("{day} and {} days are past the calendar", self.clerk_days))
            })?;
            params.not_after = date_time_ymd(end.year(), end.month() as u8, end.day() as u8);
        }
        // Read (and so written, for an authority that kept none) before the holder's
        // file is replaced, so that the one it replaces stays listed and revocable.
        self.register()?;
        let serial = self.sign(&file, params, &clerk_name)?;
        let already = |serial: &str| -> Result<bool, PkiError> {
            Ok(self.revocations()?.revoked.iter().any(|r| r.serial == serial))
        };
        let previous = match (before, previous) {
            (None, _) => None,
            (Some((old, _)), _) if already(&old)? => None,
            (Some((old, until)), Previous::Keep) => Some(Replaced::Kept { serial: old, until }),
            (Some((old, _)), Previous::Revoke) => {
                self.revoke_serial(&old, day)?;
                Some(Replaced::Revoked(old))
            }
        };
        Ok(Reissued { serial, previous })
    }

    /// Signs `params` with the CA into `file`, registered with the clerk's name if any;
    /// returns the certificate's serial number.
    fn sign(&self, file: &str, mut params: CertificateParams, clerk_name: &str) -> Result<String, PkiError> {
        let issuer = self.issuer()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        let (cert_path, key_path) = self.pair(file);
        write(&key_path, &key.serialize_pem(), true)?;
        write(&cert_path, &cert.pem(), false)?;
        let serial = serial(cert.der()).map_err(PkiError::Invalid)?;
        let not_after = super::not_after(cert.der()).map_err(PkiError::Invalid)?;
        self.record(Entry {
            serial: serial.clone(),
            name: file.to_owned(),
            not_after,
            clerk_name: clerk_name.to_owned(),
        })?;
        Ok(serial)
    }
}

/// What becomes of the certificate a holder had when a new one is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Previous {
    /// Revoked at once: the usual case, e.g. a clerk's laptop was lost.
    Revoke,
    /// Kept valid until its own end, so that a member can change over without a gap.
    Keep,
}

/// A certificate issued, and what became of the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reissued {
    pub serial: String,
    pub previous: Option<Replaced>,
}

/// The certificate a holder had before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replaced {
    Revoked(String),
    /// Still valid until `until`, beside the new one.
    Kept {
        serial: String,
        until: DateTime<Utc>,
    },
}

/// The register of every certificate issued (`issued.toml`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Register {
    #[serde(default, rename = "certificate")]
    issued: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    serial: String,
    /// The holder's file name: `mz`, `office`, `mz.wangfang`, `server`.
    name: String,
    not_after: DateTime<Utc>,
    /// A clerk's name (empty for a unit's system certificate).
    #[serde(default)]
    clerk_name: String,
}

/// A certificate the authority issued.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Its holder's file name: `mz`, `office`, `server`.
    pub name: String,
    /// Whom it names (none for the server's).
    pub holder: Option<Holder>,
    pub serial: String,
    pub not_after: chrono::DateTime<chrono::Utc>,
    pub revoked: bool,
    /// Whether it is the one its holder's files hold now; an older one not revoked is
    /// superseded, and still works until its end.
    pub current: bool,
}

/// Days before its end from which a certificate is said to expire soon.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// How a certificate stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Revoked,
    Expired,
    /// A newer one was issued to its holder; this one still works until its end.
    Superseded,
    /// Valid, and ends within [`EXPIRY_WARNING_DAYS`]: in this many days.
    ExpiresIn(i64),
    Valid,
}

impl Issued {
    pub fn standing(&self, now: chrono::DateTime<chrono::Utc>) -> Standing {
        let days = (self.not_after - now).num_days();
        match (self.revoked, days) {
            (true, _) => Standing::Revoked,
            (false, ..0) => Standing::Expired,
            _ if !self.current => Standing::Superseded,
            (false, 0..=EXPIRY_WARNING_DAYS) => Standing::ExpiresIn(days),
            (false, _) => Standing::Valid,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Revocations {
    #[serde(default)]
    revoked: Vec<Revoked>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Revoked {
    serial: String,
    name: String,
    on: NaiveDate,
}

fn name(organisation: &str, common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, organisation);
    name.push(DnType::CommonName, common_name);
    name
}

/// Valid from 2020, so that a hub whose clock is set into the past (tests, drills) still
/// accepts them, until January of `until`.
fn validity(params: &mut CertificateParams, until: i32) {
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(until, 1, 1);
}

fn write(path: &Path, contents: &str, secret: bool) -> Result<(), PkiError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if secret {
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_error(path))?;
    file.write_all(contents.as_bytes()).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Clerk;

    #[test]
    fn an_authority_made_before_the_register_keeps_every_certificate_it_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let authority = Authority::at(dir.path());
        let mz = Holder::from(Identity::parse("mz").expect("code"));
        authority.create("联席会议", &["localhost".into()], std::slice::from_ref(&mz.identity)).expect("CA");
        // As an authority of an earlier version left it: certificates, no register.
        fs::remove_file(authority.register_file()).expect("the register");
        let (old, _) = authority.current("mz").expect("read").expect("mz holds one");

        let day = NaiveDate::from_ymd_opt(2026, 9, 10).expect("a day");
        let reissued = authority.reissue(&mz, Previous::Revoke, day).expect("re-issued");
        assert_eq!(reissued.previous, Some(Replaced::Revoked(old.clone())));
        let listed = authority.list().expect("listed");
        let mz_lines: Vec<_> = listed.iter().filter(|i| i.name == "mz").collect();
        assert_eq!(mz_lines.len(), 2, "{listed:?}");
        assert!(mz_lines.iter().any(|i| i.serial == old && i.revoked && !i.current));
        assert!(mz_lines.iter().any(|i| i.serial == reissued.serial && !i.revoked && i.current));
        assert!(listed.iter().any(|i| i.name == "server"), "the server's taken up too");
    }

    #[test]
    fn clerks_are_found_by_serial_and_units_are_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let authority = Authority::at(dir.path());
        let mz = Identity::parse("mz").expect("code");
        authority.create("联席会议", &["localhost".into()], std::slice::from_ref(&mz)).expect("CA");
        let clerk = Holder { identity: mz, clerk: Some(Clerk { code: "wangfang".into(), name: "王芳".into() }) };
        let day = NaiveDate::from_ymd_opt(2026, 9, 10).expect("a day");
        let serial = authority.reissue(&clerk, Previous::Revoke, day).expect("issued").serial;
        let clerks = authority.clerks().expect("read");
        assert_eq!(clerks.len(), 1);
        assert_eq!(clerks.get(&serial).map(String::as_str), Some("王芳"));
    }
}
