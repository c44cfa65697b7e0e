//! The key-encryption key: token signing keys are kept in `signing_keys`
//! sealed with it (AES-256-GCM), so a database dump, a backup or a role that
//! can read the table does not hand out the power to mint tokens
//! (docs/auth.md, "Signing keys at rest").
//!
//! A sealed value is `tkek1` ‖ a 96-bit random nonce ‖ ciphertext ‖ tag, with
//! the key's `kid` as associated data (a sealed key copied onto another row
//! does not open). A plain PKCS#8 DER value starts with `0x30`, so the two
//! never look alike: rows written before a KEK was configured are sealed in
//! place when a signer with a KEK starts.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

const MAGIC: &[u8] = b"tkek1";
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error("reading the key-encryption key from {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the key-encryption key must be {KEY_LEN} bytes in base64 (e.g. `openssl rand -base64 32`)"
    )]
    Format,
    #[error("a sealed signing key does not open with this key-encryption key (wrong key, or the row was altered)")]
    Open,
    #[error("no random bytes for a nonce")]
    Random,
}

/// The key-encryption key (32 bytes).
pub struct KeyEncryptionKey {
    key: LessSafeKey,
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey(..)")
    }
}

impl KeyEncryptionKey {
    /// From its base64 text (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, KekError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| KekError::Format)?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KekError> {
        if bytes.len() != KEY_LEN {
            return Err(KekError::Format);
        }
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| KekError::Format)?;
        Ok(KeyEncryptionKey {
            key: LessSafeKey::new(unbound),
        })
    }

    /// From a file holding the base64 text (a compose or Kubernetes secret).
    pub fn from_file(path: &Path) -> Result<Self, KekError> {
        let text = std::fs::read_to_string(path).map_err(|source| KekError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_base64(&text)
    }

    /// A new random key, as base64 text to store.
    pub fn generate() -> Result<String, KekError> {
        let mut bytes = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| KekError::Random)?;
        Ok(STANDARD.encode(bytes))
    }

    /// Seals `plain` (a private key's DER) bound to `kid`.
    pub fn seal(&self, kid: &str, plain: &[u8]) -> Result<Vec<u8>, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KekError::Random)?;
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut buf,
            )
            .map_err(|_| KekError::Random)?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + buf.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Opens what [`KeyEncryptionKey::seal`] made for `kid`.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, KekError> {
        let rest = sealed.strip_prefix(MAGIC).ok_or(KekError::Open)?;
        if rest.len() < NONCE_LEN {
            return Err(KekError::Open);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KekError::Open)?;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buf)
            .map_err(|_| KekError::Open)?;
        Ok(plain.to_vec())
    }
}

/// A stored private key is sealed (rather than plain DER).
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.starts_with(MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> KeyEncryptionKey {
        KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate().expect("generate"))
            .expect("kek")
    }

    #[test]
    fn sealed_keys_open_with_their_kid_only() {
        let k = kek();
        let sealed = k.seal("kid-1", b"\x30private der").expect("seal");
        assert!(is_sealed(&sealed));
        assert!(!is_sealed(b"\x30private der"));
        assert_eq!(k.open("kid-1", &sealed).expect("open"), b"\x30private der");
        assert!(matches!(k.open("kid-2", &sealed), Err(KekError::Open)));
    }

    #[test]
    fn another_key_or_a_flipped_bit_does_not_open() {
        let sealed = kek().seal("kid", b"secret").expect("seal");
        assert!(matches!(kek().open("kid", &sealed), Err(KekError::Open)));
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(kek().open("kid", &flipped), Err(KekError::Open)));
        assert!(matches!(kek().open("kid", b"tkek1"), Err(KekError::Open)));
    }

    #[test]
    fn only_32_bytes_of_base64_make_a_key() {
        assert!(KeyEncryptionKey::from_base64("c2hvcnQ=").is_err());
        assert!(KeyEncryptionKey::from_base64("not base64 at all!").is_err());
        assert!(
            KeyEncryptionKey::from_base64(&format!(" {} \n", STANDARD.encode([7u8; 32]))).is_ok()
        );
    }
}
