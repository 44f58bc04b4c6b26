//! Clerks' passwords, the second factor of the workbench's sign-in: hashed with
//! argon2id (the parameters OWASP recommends: 19 MiB, two passes) into a PHC string
//! that names its parameters and salt, so that stronger ones can come later and old
//! hashes still verify. Only the hash is stored.

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use ring::rand::{SecureRandom, SystemRandom};

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("password hashing: {0}")]
pub struct HashError(String);

/// The argon2id hash of `password` with a fresh salt, as a PHC string.
pub fn hash(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    SystemRandom::new().fill(&mut salt).map_err(|_| HashError("no random numbers from the system".into()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` is the one `phc` was made from; a hash that cannot be read
/// verifies nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_is_salted() {
        let first = hash("长城永固 2026").expect("hashed");
        assert!(first.starts_with("$argon2id$"), "{first}");
        assert!(verify("长城永固 2026", &first));
        assert!(!verify("长城永固 2025", &first));
        assert_ne!(hash("长城永固 2026").expect("hashed"), first, "a fresh salt each time");
        assert!(!verify("anything", "not a hash"));
    }
}
