//! PKCS#12: a certificate, its key and the CA in one password-protected file, the form
//! in which browsers and the Windows certificate store import a client certificate
//! (the "USB key" of the workbench). Written with PBES2 (AES-256, HMAC-SHA-256), which
//! Chrome, Edge, Firefox and Windows 10 and later import.

use ring::rand::{SecureRandom, SystemRandom};

use super::{
    authority::{Authority, PkiError},
    read_certificates, read_key,
};

/// The shortest password a PKCS#12 file is written with.
pub const MIN_PASSWORD: usize = 8;

/// Characters of generated passwords: no 0/O, 1/l/I, easy to read out on the phone.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

/// A fresh password of 12 characters (about 69 bits).
pub fn new_password() -> Result<String, PkiError> {
    let mut bytes = [0u8; 12];
    SystemRandom::new().fill(&mut bytes).map_err(|_| PkiError::Invalid("no random numbers from the system".into()))?;
    Ok(bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect())
}

/// How a PKCS#12 file is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// PBES2 with AES-256 and an HMAC-SHA-256 MAC: Chrome, Edge, Firefox, Windows 10
    /// and later.
    Modern,
    /// PBE-SHA1-3DES with an HMAC-SHA-1 MAC, for Windows 7 and 8, older Windows Server
    /// and the domestic browsers built on old cores that refuse the modern form.
    Legacy,
}

/// The certificate `name` of `authority` (`mz`, `office`, `admin`), its key and the CA
/// certificate as a PKCS#12 file protected by `password`, shown in a browser's
/// certificate list as `label`.
pub fn export(
    authority: &Authority,
    name: &str,
    label: &str,
    password: &str,
    encryption: Encryption,
) -> Result<Vec<u8>, PkiError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(PkiError::Invalid(format!("the password needs at least {MIN_PASSWORD} characters")));
    }
    let (cert_path, key_path) = authority.pair(name);
    let mut chain = read_certificates(&cert_path).map_err(PkiError::Read)?;
    chain.extend(read_certificates(&authority.ca_cert()).map_err(PkiError::Read)?);
    let key = read_key(&key_path).map_err(PkiError::Read)?;
    let invalid = |e: p12_keystore::error::Error| PkiError::Invalid(format!("PKCS#12: {e}"));
    let certs = chain
        .iter()
        .map(|der| p12_keystore::Certificate::from_der(der.as_ref()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let key = p12_keystore::PrivateKey::from_der(key.secret_der()).map_err(invalid)?;
    let local_key_id = super::serial(chain[0].as_ref()).map_err(PkiError::Invalid)?.into_bytes();
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        label,
        p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(local_key_id, key, certs)),
    );
    let writer = store.writer(password);
    let writer = match encryption {
        Encryption::Modern => writer,
        Encryption::Legacy => writer
            .encryption_algorithm(p12_keystore::EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
            .mac_algorithm(p12_keystore::MacAlgorithm::HmacSha1),
    };
    writer.write().map_err(invalid)
}

/// Writes a PKCS#12 file readable by its owner alone: it holds a private key.
pub fn write(path: &std::path::Path, file: &[u8]) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut out = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    // An existing file keeps its mode when opened: narrow it too.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    out.write_all(file)?;
    out.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Identity;

    #[test]
    fn a_pkcs12_file_opens_with_its_password_only_and_holds_key_certificate_and_ca() {
        let dir = tempfile::tempdir().expect("tempdir");
        let authority = Authority::at(dir.path());
        let mz = Identity::parse("mz").expect("code");
        authority.create("联席会议", &["localhost".into()], std::slice::from_ref(&mz)).expect("CA");
        let password = new_password().expect("random");
        assert_eq!(password.len(), 12);
        let file = export(&authority, "mz", "晋江市民政局 (mz)", &password, Encryption::Modern).expect("export");
        assert!(!file.windows(TRIPLE_DES.len()).any(|w| w == TRIPLE_DES), "no 3DES in the modern form");

        let store = p12_keystore::KeyStore::from_pkcs12(&file, &password, p12_keystore::Pkcs12ImportPolicy::Relaxed)
            .expect("opens with its password");
        let (label, chain) = store.private_key_chain().expect("a key with its chain");
        assert_eq!(label, "晋江市民政局 (mz)");
        assert_eq!(chain.certs().len(), 2, "the member's certificate and the CA");
        let der = chain.certs()[0].as_der();
        assert_eq!(Identity::from_certificate(der), Ok(mz));
        assert!(p12_keystore::KeyStore::from_pkcs12(
            &file,
            "wrong password",
            p12_keystore::Pkcs12ImportPolicy::Relaxed
        )
        .is_err());
        assert!(matches!(export(&authority, "mz", "mz", "short", Encryption::Modern), Err(PkiError::Invalid(_))));
    }

    /// The DER of the object identifier pbeWithSHAAnd3-KeyTripleDES-CBC (1.2.840.113549.1.12.1.3).
    const TRIPLE_DES: [u8; 12] = [0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x03];

    #[test]
    fn the_legacy_form_is_encrypted_with_3des_and_opens_with_its_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let authority = Authority::at(dir.path());
        let mz = Identity::parse("mz").expect("code");
        authority.create("联席会议", &["localhost".into()], std::slice::from_ref(&mz)).expect("CA");
        let file = export(&authority, "mz", "mz", "legacy-password", Encryption::Legacy).expect("export");
        assert!(file.windows(TRIPLE_DES.len()).any(|w| w == TRIPLE_DES), "encrypted with PBE-SHA1-3DES");
        let store =
            p12_keystore::KeyStore::from_pkcs12(&file, "legacy-password", p12_keystore::Pkcs12ImportPolicy::Relaxed)
                .expect("opens with its password");
        assert_eq!(Identity::from_certificate(store.private_key_chain().expect("a key").1.certs()[0].as_der()), Ok(mz));

        let out = dir.path().join("mz.p12");
        std::fs::write(&out, b"old").expect("a file there before");
        write(&out, &file).expect("written");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).expect("metadata").permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&out).expect("read"), file);
    }
}
