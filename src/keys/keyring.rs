//! The keyring file: the data keys that seal a person's data (one active, older ones
//! kept until every row is resealed), and the index key of the blind index.
//!
//! ```toml
//! active = "k2"
//! index_key = "<base64 of 32 bytes>"
//! [data_keys]
//! k1 = "<base64 of 32 bytes>"
//! k2 = "<base64 of 32 bytes>"
//! ```

use std::collections::BTreeMap;

use base64::{engine::general_purpose::STANDARD, Engine};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A 256-bit secret.
pub type Secret = Zeroizing<[u8; 32]>;

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("keyring: {0}")]
    Invalid(String),
    #[error("keyring: the system random source failed")]
    Random,
}

/// The keys, parsed and checked.
pub struct Keyring {
    active: String,
    data_keys: BTreeMap<String, Secret>,
    index_key: Secret,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    active: String,
    index_key: String,
    data_keys: BTreeMap<String, String>,
}

fn random() -> Result<Secret, KeyringError> {
    let mut secret = Zeroizing::new([0u8; 32]);
    SystemRandom::new().fill(secret.as_mut()).map_err(|_| KeyringError::Random)?;
    Ok(secret)
}

fn decode(name: &str, raw: &str) -> Result<Secret, KeyringError> {
    let bytes = Zeroizing::new(
        STANDARD.decode(raw.trim()).map_err(|e| KeyringError::Invalid(format!("{name} is not base64: {e}")))?,
    );
    let mut secret = Zeroizing::new([0u8; 32]);
    if bytes.len() != secret.len() {
        return Err(KeyringError::Invalid(format!("{name} must be 32 bytes, not {}", bytes.len())));
    }
    secret.copy_from_slice(&bytes);
    Ok(secret)
}

/// Key ids go into every ciphertext: short, plain, unambiguous.
fn check_id(id: &str) -> Result<(), KeyringError> {
    let ok = !id.is_empty() && id.len() <= 16 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(KeyringError::Invalid(format!("key id {id:?} must be 1–16 letters, digits or '-'")))
    }
}

impl Keyring {
    /// A new keyring with one data key, `k1`, and an index key.
    pub fn generate() -> Result<Self, KeyringError> {
        Ok(Self { active: "k1".into(), data_keys: BTreeMap::from([("k1".into(), random()?)]), index_key: random()? })
    }

    pub fn parse(text: &str) -> Result<Self, KeyringError> {
        let file: File = toml::from_str(text).map_err(|e| KeyringError::Invalid(e.to_string()))?;
        let mut data_keys = BTreeMap::new();
        for (id, raw) in &file.data_keys {
            check_id(id)?;
            data_keys.insert(id.clone(), decode(&format!("data key {id}"), raw)?);
        }
        if !data_keys.contains_key(&file.active) {
            return Err(KeyringError::Invalid(format!("the active key {:?} is not among data_keys", file.active)));
        }
        Ok(Self { active: file.active, data_keys, index_key: decode("index_key", &file.index_key)? })
    }

    pub fn to_toml(&self) -> String {
        let file = File {
            active: self.active.clone(),
            index_key: STANDARD.encode(self.index_key.as_ref()),
            data_keys: self.data_keys.iter().map(|(id, key)| (id.clone(), STANDARD.encode(key.as_ref()))).collect(),
        };
        let body = toml::to_string(&file).unwrap_or_default();
        format!(
            "# xianjie keyring: the keys that seal personal data. Keep it out of the database and its\n\
             # backups, readable by the hub's user alone.\n{body}"
        )
    }

    /// The id of the key new data is sealed with.
    pub fn active(&self) -> &str {
        &self.active
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.data_keys.keys().map(String::as_str)
    }

    pub fn data_key(&self, id: &str) -> Option<&Secret> {
        self.data_keys.get(id)
    }

    pub fn index_key(&self) -> &Secret {
        &self.index_key
    }

    /// Adds a new data key and makes it the active one; returns its id.
    pub fn rotate(&mut self) -> Result<String, KeyringError> {
        let next = self.ids().filter_map(|id| id.strip_prefix('k')?.parse::<u32>().ok()).max().unwrap_or(0) + 1;
        let id = format!("k{next}");
        self.data_keys.insert(id.clone(), random()?);
        self.active = id.clone();
        Ok(id)
    }

    /// Removes a data key that no longer seals anything.
    pub fn retire(&mut self, id: &str) -> Result<(), KeyringError> {
        if id == self.active {
            return Err(KeyringError::Invalid(format!("{id} is the active key; rotate first")));
        }
        self.data_keys
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| KeyringError::Invalid(format!("no data key {id:?} in the keyring")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyring_survives_its_file_format() {
        let mut keyring = Keyring::generate().unwrap();
        assert_eq!(keyring.rotate().unwrap(), "k2");
        let again = Keyring::parse(&keyring.to_toml()).unwrap();
        assert_eq!(again.active(), "k2");
        assert_eq!(again.ids().collect::<Vec<_>>(), ["k1", "k2"]);
        assert_eq!(again.data_key("k1").unwrap().as_ref(), keyring.data_key("k1").unwrap().as_ref());
        assert_eq!(again.index_key().as_ref(), keyring.index_key().as_ref());
    }

    #[test]
    fn the_active_key_cannot_be_retired_and_others_can() {
        let mut keyring = Keyring::generate().unwrap();
        keyring.rotate().unwrap();
        assert!(keyring.retire("k2").is_err());
        keyring.retire("k1").unwrap();
        assert!(keyring.retire("k1").is_err());
    }

    #[test]
    fn bad_files_name_the_fault() {
        let short = "active = \"k1\"\nindex_key = \"AAAA\"\n[data_keys]\nk1 = \"AAAA\"\n";
        let err = Keyring::parse(short).err().unwrap().to_string();
        assert!(err.contains("must be 32 bytes"), "{err}");
        let key = STANDARD.encode([7u8; 32]);
        let missing = format!("active = \"k9\"\nindex_key = \"{key}\"\n[data_keys]\nk1 = \"{key}\"\n");
        let err = Keyring::parse(&missing).err().unwrap().to_string();
        assert!(err.contains("\"k9\" is not among"), "{err}");
    }
}
