//! Password and client-secret hashing: argon2id, m=19456 KiB, t=2, p=1
//! (docs/auth.md), stored as PHC strings.
//!
//! Hashing costs ~20 MiB and tens of milliseconds of CPU, so it never runs on
//! an async worker thread: every entry point hops to `spawn_blocking`. At most
//! one hash per core runs at once (memory stays bounded whatever the burst of
//! token requests); a few dozen more may wait briefly for a slot, and beyond
//! that the caller is told to come back ([`PasswordError::Busy`], a 503 with
//! `Retry-After`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;

/// Memory cost in KiB (19 MiB), OWASP's argon2id baseline.
pub const ARGON2_M_COST: u32 = 19_456;
/// Iterations.
pub const ARGON2_T_COST: u32 = 2;
/// Lanes.
pub const ARGON2_P_COST: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// argon2 refused the input or the parameters; the message never holds the secret.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The blocking task panicked or was cancelled at shutdown.
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Every hashing slot is taken and the queue is full or did not move in
    /// time: try again in a second.
    #[error("too many password checks at once")]
    Busy,
}

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(ARGON2_M_COST, ARGON2_T_COST, ARGON2_P_COST, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Synchronous core of [`hash_secret`]; only call it from blocking contexts.
fn hash_blocking(secret: &[u8]) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(secret, &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Synchronous core of [`verify_secret`] for a stored hash.
fn verify_blocking(stored_hash: &str, secret: &[u8]) -> bool {
    let parsed = match PasswordHash::new(stored_hash) {
        Ok(parsed) => parsed,
        Err(e) => {
            // A corrupt row must not become a way in; say so loudly for the operator.
            tracing::error!(error = %e, "stored secret hash is not a valid PHC string");
            return false;
        }
    };
    // The stored PHC string carries its own algorithm and parameters; the
    // verifier re-hashes with those, so older parameter sets keep working.
    match hasher() {
        Ok(argon2) => argon2.verify_password(secret, &parsed).is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "argon2 parameters rejected");
            false
        }
    }
}

/// A hash of a random secret, computed once with the production parameters:
/// unknown users are verified against it so that they cost the same time as
/// known ones and usernames cannot be probed by timing.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| match hash_blocking(generate_secret(32).as_bytes()) {
            Ok(hash) => Some(hash),
            Err(e) => {
                tracing::error!(error = %e, "could not compute the dummy password hash");
                None
            }
        })
        .as_deref()
}

/// Callers that may wait for a hashing slot at once; more are refused.
const MAX_WAITING: usize = 64;
/// How long one waits for a slot before it is refused.
const SLOT_WAIT: Duration = Duration::from_secs(2);

/// The hashing slots of one service (an [`crate::identity::Identity`] and
/// its clones): one running hash per core, a short queue behind them.
#[derive(Clone, Debug)]
pub struct HashGate {
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
}

impl Default for HashGate {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        HashGate {
            slots: Arc::new(Semaphore::new(cores)),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl HashGate {
    /// A hashing slot, or `Busy`.
    async fn slot(&self) -> Result<OwnedSemaphorePermit, PasswordError> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("ticketera_password_checks_refused_total").increment(1);
            return Err(PasswordError::Busy);
        }
        let waited = tokio::time::timeout(SLOT_WAIT, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                metrics::counter!("ticketera_password_checks_refused_total").increment(1);
                Err(PasswordError::Busy)
            }
        }
    }
}

/// Hashes a password or client secret into an argon2id PHC string.
pub async fn hash_secret(gate: &HashGate, secret: String) -> Result<String, PasswordError> {
    let permit = gate.slot().await?;
    tokio::task::spawn_blocking(move || {
        let hashed = hash_blocking(secret.as_bytes());
        drop(permit);
        hashed
    })
    .await?
}

/// Checks `secret` against `stored_hash`. `None` means the account does not
/// exist: the secret is then checked against a dummy hash with the same
/// parameters (same cost) and the answer is always `false`. `Busy` when no
/// hashing slot came free in time (the secret was not checked).
pub async fn verify_secret(
    gate: &HashGate,
    stored_hash: Option<String>,
    secret: String,
) -> Result<bool, PasswordError> {
    let permit = gate.slot().await?;
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match stored_hash {
            Some(hash) => verify_blocking(&hash, secret.as_bytes()),
            None => {
                match dummy_hash() {
                    Some(dummy) => {
                        let _ = verify_blocking(dummy, secret.as_bytes());
                    }
                    // Still spend one hash's worth of work so the timing stays flat.
                    None => {
                        let _ = hash_blocking(secret.as_bytes());
                    }
                }
                false
            }
        }
    })
    .await;
    match outcome {
        Ok(valid) => Ok(valid),
        Err(e) => {
            tracing::error!(error = %e, "password verification task failed");
            Ok(false)
        }
    }
}

/// `bytes` bytes from the OS CSPRNG as base64url without padding: client
/// secrets, generated admin passwords, key ids.
pub fn generate_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHC_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

    #[tokio::test]
    async fn hash_uses_argon2id_with_the_required_parameters() {
        let hash = hash_secret(&HashGate::default(), "correct horse".into())
            .await
            .expect("hash");
        assert!(hash.starts_with(PHC_PREFIX), "{hash}");
    }

    #[tokio::test]
    async fn verify_accepts_the_right_secret_only() {
        let hash = hash_secret(&HashGate::default(), "correct horse".into())
            .await
            .expect("hash");
        assert!(verify_secret(
            &HashGate::default(),
            Some(hash.clone()),
            "correct horse".into()
        )
        .await
        .expect("a slot"));
        assert!(!verify_secret(
            &HashGate::default(),
            Some(hash.clone()),
            "correct horsE".into()
        )
        .await
        .expect("a slot"));
        assert!(
            !verify_secret(&HashGate::default(), Some(hash), String::new())
                .await
                .expect("a slot")
        );
    }

    #[tokio::test]
    async fn same_secret_hashes_differently_each_time() {
        let a = hash_secret(&HashGate::default(), "s3cret".into())
            .await
            .expect("hash");
        let b = hash_secret(&HashGate::default(), "s3cret".into())
            .await
            .expect("hash");
        assert_ne!(a, b, "salts must be random");
        assert!(
            verify_secret(&HashGate::default(), Some(a), "s3cret".into())
                .await
                .expect("a slot")
        );
        assert!(
            verify_secret(&HashGate::default(), Some(b), "s3cret".into())
                .await
                .expect("a slot")
        );
    }

    #[tokio::test]
    async fn unknown_user_is_always_rejected_against_a_dummy_with_the_same_cost() {
        assert!(
            !verify_secret(&HashGate::default(), None, "anything".into())
                .await
                .expect("a slot")
        );
        assert!(!verify_secret(&HashGate::default(), None, String::new())
            .await
            .expect("a slot"));
        let dummy = dummy_hash().expect("dummy hash computed");
        assert!(dummy.starts_with(PHC_PREFIX), "{dummy}");
    }

    #[tokio::test]
    async fn malformed_stored_hash_is_rejected() {
        assert!(
            !verify_secret(&HashGate::default(), Some(String::new()), "x".into())
                .await
                .expect("a slot")
        );
        assert!(!verify_secret(
            &HashGate::default(),
            Some("not-a-phc-string".into()),
            "x".into()
        )
        .await
        .expect("a slot"));
        assert!(!verify_secret(
            &HashGate::default(),
            Some("$argon2id$v=19$m=19456,t=2,p=1$AAAA".into()),
            "x".into()
        )
        .await
        .expect("a slot"));
    }

    #[test]
    fn generated_secrets_are_random_url_safe_and_sized() {
        let a = generate_secret(32);
        let b = generate_secret(32);
        assert_ne!(a, b);
        // 32 bytes -> 43 base64 characters without padding.
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{a}"
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).expect("base64url").len(), 32);
        assert_eq!(generate_secret(0), "");
    }
}
