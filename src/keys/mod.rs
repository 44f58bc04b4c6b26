//! Keys kept outside the database, and what they do: seal a person's data field by
//! field (XChaCha20-Poly1305, each ciphertext naming its key and bound to its row and
//! field), and make the blind index of ID numbers (HMAC-SHA256 under a key of its own).
//!
//! The keyring comes from a file (created with fresh keys on a development hub's first
//! start) or from the `XIANJIE_KEYRING` environment variable holding the same text.

pub mod keyring;
pub mod password;
pub mod stream;

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
};

use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadInPlace, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use self::keyring::{Keyring, KeyringError};
use crate::domain::person::IdNumber;

/// The version tag that starts every sealed value.
const TAG: &str = "xj1";
const NONCE_BYTES: usize = 24;
const AUTH_TAG_BYTES: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed with key {0}, which the keyring does not hold")]
    UnknownKey(String),
    #[error("not a sealed value")]
    Malformed,
    /// The ciphertext, its key id, row or field do not belong together.
    #[error("the sealed value fails authentication (altered, or moved from another row or field)")]
    Forged,
}

/// Where the keyring comes from; a file is read again on [`Keys::reload`].
#[derive(Debug, Clone)]
pub enum KeySource {
    File(PathBuf),
    Text,
}

/// The keyring as the hub currently holds it.
pub struct Keys {
    source: KeySource,
    current: RwLock<Arc<Keyring>>,
}

impl Keys {
    pub fn new(keyring: Keyring, source: KeySource) -> Self {
        Self { source, current: RwLock::new(Arc::new(keyring)) }
    }

    /// Reads the keyring file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, KeyringError> {
        Ok(Self::new(read(path)?, KeySource::File(path.to_owned())))
    }

    /// Reads the keyring file at `path`, creating it with fresh keys (readable by this
    /// user alone) when there is none.
    pub fn open_or_create(path: &Path) -> Result<Self, KeyringError> {
        if !path.exists() {
            write(path, &Keyring::generate()?)?;
            tracing::info!(path = %path.display(), "created a keyring with fresh keys");
        }
        Self::from_file(path)
    }

    pub fn from_text(text: &str) -> Result<Self, KeyringError> {
        Ok(Self::new(Keyring::parse(text)?, KeySource::Text))
    }

    pub fn current(&self) -> Arc<Keyring> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads the keyring file again (after `xianjie keys rotate`). Keys from the
    /// environment stay as they are.
    pub fn reload(&self) -> Result<(), KeyringError> {
        if let KeySource::File(path) = &self.source {
            let keyring = Arc::new(read(path)?);
            *self.current.write().unwrap_or_else(PoisonError::into_inner) = keyring;
        }
        Ok(())
    }

    /// Opens a value sealed as `field` of `row`, reading the keyring again once if the
    /// value names a key it does not hold yet.
    pub fn open(&self, field: &str, row: &str, sealed: &str) -> Result<String, SealError> {
        String::from_utf8(self.open_bytes(field, row, sealed)?).map_err(|_| SealError::Forged)
    }

    pub fn open_bytes(&self, field: &str, row: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        match open_bytes(&self.current(), field, row, sealed) {
            Err(SealError::UnknownKey(id)) => {
                if let Err(e) = self.reload() {
                    tracing::warn!(error = %e, "could not read the keyring again");
                    return Err(SealError::UnknownKey(id));
                }
                open_bytes(&self.current(), field, row, sealed)
            }
            other => other,
        }
    }

    /// The blind index of an ID number.
    pub fn blind_index(&self, id: &IdNumber) -> String {
        blind_index(&self.current(), id)
    }

    /// The blind index of a full name.
    pub fn name_index(&self, name: &str) -> String {
        name_index(&self.current(), name)
    }

    /// A key of its own for `purpose`, derived from the index key: the same on every
    /// hub that shares the keyring, and after a restart.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.current().index_key().as_ref())
            .expect("HMAC takes any key length");
        mac.update(b"xianjie:derive:");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// The id of the key a sealed value names.
pub fn key_id(sealed: &str) -> Option<&str> {
    let mut parts = sealed.splitn(3, ':');
    (parts.next()? == TAG).then_some(())?;
    parts.next()
}

fn associated_data(field: &str, row: &str, key_id: &str) -> String {
    format!("xianjie:{TAG}:{field}:{row}:{key_id}")
}

/// Seals `plain` as `field` of `row` under the active key.
pub fn seal(keyring: &Keyring, field: &str, row: &str, plain: &str) -> String {
    seal_bytes(keyring, field, row, plain.as_bytes())
}

/// Seals `plain` as `field` of `row` under the active key: the nonce (random, from the
/// thread's CSPRNG), the ciphertext and its tag, in one buffer encoded once.
pub fn seal_bytes(keyring: &Keyring, field: &str, row: &str, plain: &[u8]) -> String {
    let id = keyring.active();
    let key = keyring.data_key(id).expect("the active key is in the keyring");
    let nonce = XNonce::from(rand::random::<[u8; NONCE_BYTES]>());
    let mut body = Vec::with_capacity(NONCE_BYTES + plain.len() + AUTH_TAG_BYTES);
    body.extend_from_slice(&nonce);
    body.extend_from_slice(plain);
    let tag = XChaCha20Poly1305::new(key.as_ref().into())
        .encrypt_in_place_detached(&nonce, associated_data(field, row, id).as_bytes(), &mut body[NONCE_BYTES..])
        .expect("XChaCha20-Poly1305 seals any length the hub accepts");
    body.extend_from_slice(&tag);
    let mut sealed = String::with_capacity(TAG.len() + id.len() + 2 + body.len().div_ceil(3) * 4);
    sealed.push_str(TAG);
    sealed.push(':');
    sealed.push_str(id);
    sealed.push(':');
    STANDARD_NO_PAD.encode_string(&body, &mut sealed);
    sealed
}

/// Opens a value sealed as `field` of `row`.
pub fn open(keyring: &Keyring, field: &str, row: &str, sealed: &str) -> Result<String, SealError> {
    String::from_utf8(open_bytes(keyring, field, row, sealed)?).map_err(|_| SealError::Forged)
}

pub fn open_bytes(keyring: &Keyring, field: &str, row: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
    let mut parts = sealed.splitn(3, ':');
    let (Some(TAG), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SealError::Malformed);
    };
    let key = keyring.data_key(id).ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
    let body = STANDARD_NO_PAD.decode(body).map_err(|_| SealError::Malformed)?;
    if body.len() < NONCE_BYTES {
        return Err(SealError::Malformed);
    }
    let (nonce, ciphertext) = body.split_at(NONCE_BYTES);
    let aad = associated_data(field, row, id);
    XChaCha20Poly1305::new(key.as_ref().into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: aad.as_bytes() })
        .map_err(|_| SealError::Forged)
}

pub fn blind_index(keyring: &Keyring, id: &IdNumber) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(keyring.index_key().as_ref()).expect("HMAC takes any key length");
    mac.update(b"xianjie:id_number:");
    mac.update(id.as_str().as_bytes());
    STANDARD_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The blind index of a full name, spaces left out (「王 芳」 is 「王芳」): found only by the
/// whole name, as typed.
pub fn name_index(keyring: &Keyring, name: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(keyring.index_key().as_ref()).expect("HMAC takes any key length");
    mac.update(b"xianjie:name:");
    for c in name.chars().filter(|c| !c.is_whitespace()) {
        mac.update(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
    STANDARD_NO_PAD.encode(mac.finalize().into_bytes())
}

fn read(path: &Path) -> Result<Keyring, KeyringError> {
    let text =
        fs::read_to_string(path).map_err(|e| KeyringError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    Keyring::parse(&text)
}

/// Writes the keyring file atomically (a new file renamed over the old), readable by
/// this user alone.
pub fn write(path: &Path, keyring: &Keyring) -> Result<(), KeyringError> {
    let fail = |e: io::Error| KeyringError::Invalid(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(fail)?;
    }
    let temporary = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary).map_err(fail)?;
    file.write_all(keyring.to_toml().as_bytes()).and_then(|()| file.sync_all()).map_err(fail)?;
    fs::rename(&temporary, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::generate().unwrap()
    }

    #[test]
    fn a_derived_key_is_the_same_for_the_same_keyring_and_purpose_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.toml");
        let keys = Keys::open_or_create(&path).unwrap();
        assert_eq!(Keys::from_file(&path).unwrap().derive("forms"), keys.derive("forms"), "read again");
        assert_ne!(keys.derive("forms"), keys.derive("other"));
        assert_ne!(keys.derive("forms"), Keys::new(keyring(), KeySource::Text).derive("forms"));
    }

    #[test]
    fn a_sealed_value_opens_only_in_its_row_and_field() {
        let keys = keyring();
        let sealed = seal(&keys, "person.name", "r1", "张三");
        assert!(!sealed.contains("张三"));
        assert_eq!(key_id(&sealed), Some("k1"));
        assert_eq!(open(&keys, "person.name", "r1", &sealed).unwrap(), "张三");
        assert_eq!(open(&keys, "person.phone", "r1", &sealed), Err(SealError::Forged));
        assert_eq!(open(&keys, "person.name", "r2", &sealed), Err(SealError::Forged));
    }

    #[test]
    fn an_altered_ciphertext_or_key_id_is_refused() {
        let mut keys = keyring();
        keys.rotate().unwrap();
        let sealed = seal(&keys, "narrative", "r1", "案情");
        let mut bytes = sealed.clone().into_bytes();
        // A character inside the ciphertext (the last one may carry padding bits).
        let inside = bytes.len() - 10;
        bytes[inside] = if bytes[inside] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(bytes).unwrap();
        assert_eq!(open(&keys, "narrative", "r1", &flipped), Err(SealError::Forged));
        let relabelled = sealed.replacen(":k2:", ":k1:", 1);
        assert_eq!(open(&keys, "narrative", "r1", &relabelled), Err(SealError::Forged));
        assert_eq!(open(&keys, "narrative", "r1", "张三"), Err(SealError::Malformed));
    }

    #[test]
    fn the_same_text_seals_differently_each_time_but_indexes_the_same() {
        let keys = keyring();
        assert_ne!(seal(&keys, "f", "r", "x"), seal(&keys, "f", "r", "x"));
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(blind_index(&keys, &id), blind_index(&keys, &IdNumber::parse("11010519491231002x").unwrap()));
        assert_ne!(blind_index(&keys, &id), blind_index(&keyring(), &id));
    }

    #[test]
    fn a_key_added_to_the_file_is_picked_up_on_first_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.toml");
        let keys = Keys::open_or_create(&path).unwrap();
        let mut rotated = Keyring::parse(&fs::read_to_string(&path).unwrap()).unwrap();
        rotated.rotate().unwrap();
        write(&path, &rotated).unwrap();
        let sealed = seal(&rotated, "f", "r", "x");
        assert_eq!(keys.open("f", "r", &sealed).unwrap(), "x");
        assert_eq!(keys.current().active(), "k2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
