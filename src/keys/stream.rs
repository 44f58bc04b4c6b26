//! Files sealed in chunks, for the materials of a referral (救助材料): the STREAM
//! construction (`aead::stream`, a 32-bit big-endian counter and a last-chunk flag in
//! each nonce) over XChaCha20-Poly1305 under the keyring's active key. A file gets a
//! random nonce prefix; each chunk's nonce adds its position and whether it is the
//! last, and its associated data names the file. So a chunk altered, reordered, moved
//! to another file, or a file cut short (its last chunk dropped), fails to open, and
//! the reader learns it before it has written anything it cannot trust.

use chacha20poly1305::{
    aead::{
        stream::{DecryptorBE32, EncryptorBE32},
        KeyInit, Payload,
    },
    XChaCha20Poly1305,
};

use super::{keyring::Keyring, SealError};

/// The bytes of a file sealed in one chunk; the last may be shorter.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// The random part of every chunk's nonce: 24 bytes less the counter and the flag.
const PREFIX_BYTES: usize = 19;

/// What opening a sealed file needs besides its chunks: the key and the nonce prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key_id: String,
    pub prefix: [u8; PREFIX_BYTES],
}

fn associated_data(file: &str, key_id: &str) -> String {
    format!("xianjie:stream1:{file}:{key_id}")
}

/// Seals the chunks of one file, in order.
pub struct Sealer {
    encryptor: EncryptorBE32<XChaCha20Poly1305>,
    header: Header,
    aad: String,
}

impl Sealer {
    /// Starts sealing the file `file` (its id) under the keyring's active key.
    pub fn new(keyring: &Keyring, file: &str) -> Self {
        let key_id = keyring.active().to_owned();
        let key = keyring.data_key(&key_id).expect("the active key is in the keyring");
        let prefix: [u8; PREFIX_BYTES] = rand::random();
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let aad = associated_data(file, &key_id);
        Self { encryptor: EncryptorBE32::from_aead(cipher, (&prefix).into()), header: Header { key_id, prefix }, aad }
    }

    /// What the file's reader will need.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Seals a chunk that is not the last.
    pub fn chunk(&mut self, plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let payload = Payload { msg: plain, aad: self.aad.as_bytes() };
        // Fails only past 2³² chunks, far beyond any file the hub accepts.
        self.encryptor.encrypt_next(payload).map_err(|_| SealError::Malformed)
    }

    /// Seals the last chunk, and ends the file.
    pub fn last(self, plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let payload = Payload { msg: plain, aad: self.aad.as_bytes() };
        self.encryptor.encrypt_last(payload).map_err(|_| SealError::Malformed)
    }
}

/// Opens the chunks of one file, in order.
pub struct Opener {
    decryptor: DecryptorBE32<XChaCha20Poly1305>,
    aad: String,
}

impl Opener {
    /// Starts opening the file `file` sealed as `header` says.
    pub fn new(keyring: &Keyring, file: &str, header: &Header) -> Result<Self, SealError> {
        let key = keyring.data_key(&header.key_id).ok_or_else(|| SealError::UnknownKey(header.key_id.clone()))?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        Ok(Self {
            decryptor: DecryptorBE32::from_aead(cipher, (&header.prefix).into()),
            aad: associated_data(file, &header.key_id),
        })
    }

    /// Opens a chunk that is not the last.
    pub fn chunk(&mut self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let payload = Payload { msg: sealed, aad: self.aad.as_bytes() };
        self.decryptor.decrypt_next(payload).map_err(|_| SealError::Forged)
    }

    /// Opens the last chunk: one sealed as the last, in its place.
    pub fn last(self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let payload = Payload { msg: sealed, aad: self.aad.as_bytes() };
        self.decryptor.decrypt_last(payload).map_err(|_| SealError::Forged)
    }
}

/// Opens every chunk of a file in order, the last one as the last; the whole file or
/// an error, never a part of it.
pub fn open_all(keyring: &Keyring, file: &str, header: &Header, chunks: &[Vec<u8>]) -> Result<Vec<u8>, SealError> {
    let Some((last, rest)) = chunks.split_last() else { return Err(SealError::Malformed) };
    let mut opener = Opener::new(keyring, file, header)?;
    let mut plain = Vec::new();
    for chunk in rest {
        plain.extend(opener.chunk(chunk)?);
    }
    plain.extend(opener.last(last)?);
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(keyring: &Keyring, file: &str, plain: &[u8]) -> (Header, Vec<Vec<u8>>) {
        let mut sealer = Sealer::new(keyring, file);
        let header = sealer.header().clone();
        let mut pieces: Vec<&[u8]> = plain.chunks(CHUNK_BYTES).collect();
        let last = pieces.pop().unwrap_or_default();
        let mut chunks: Vec<Vec<u8>> = pieces.iter().map(|p| sealer.chunk(p).unwrap()).collect();
        chunks.push(sealer.last(last).unwrap());
        (header, chunks)
    }

    #[test]
    fn a_file_opens_whole_and_only_whole_in_order_and_as_itself() {
        let keyring = Keyring::generate().unwrap();
        let plain: Vec<u8> = (0..CHUNK_BYTES * 3 + 17).map(|i| (i % 251) as u8).collect();
        let (header, chunks) = sealed(&keyring, "a1", &plain);
        assert_eq!(chunks.len(), 4);
        assert!(!chunks.iter().any(|c| c.windows(64).any(|w| w == &plain[..64])), "no plaintext in the chunks");
        assert_eq!(open_all(&keyring, "a1", &header, &chunks).unwrap(), plain);

        // Altered.
        let mut altered = chunks.clone();
        altered[1][10] ^= 1;
        assert_eq!(open_all(&keyring, "a1", &header, &altered), Err(SealError::Forged));
        // Reordered.
        let mut reordered = chunks.clone();
        reordered.swap(0, 1);
        assert_eq!(open_all(&keyring, "a1", &header, &reordered), Err(SealError::Forged));
        // Cut short: the last chunk dropped, or the last one alone.
        assert_eq!(open_all(&keyring, "a1", &header, &chunks[..3]), Err(SealError::Forged));
        assert_eq!(open_all(&keyring, "a1", &header, &chunks[3..]), Err(SealError::Forged));
        // Moved to another file, or a chunk from another file swapped in.
        assert_eq!(open_all(&keyring, "a2", &header, &chunks), Err(SealError::Forged));
        let (other_header, other) = sealed(&keyring, "a2", &plain);
        let mut swapped = chunks.clone();
        swapped[2] = other[2].clone();
        assert_eq!(open_all(&keyring, "a1", &header, &swapped), Err(SealError::Forged));
        assert_ne!(other_header.prefix, header.prefix);
        // Under a key the keyring does not hold.
        let unknown = Header { key_id: "k9".into(), ..header.clone() };
        assert_eq!(open_all(&keyring, "a1", &unknown, &chunks), Err(SealError::UnknownKey("k9".into())));
    }

    #[test]
    fn an_empty_file_is_one_sealed_last_chunk() {
        let keyring = Keyring::generate().unwrap();
        let (header, chunks) = sealed(&keyring, "empty", b"");
        assert_eq!(chunks.len(), 1);
        assert_eq!(open_all(&keyring, "empty", &header, &chunks).unwrap(), b"");
        assert_eq!(open_all(&keyring, "empty", &header, &[]), Err(SealError::Malformed));
    }
}
