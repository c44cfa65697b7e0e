//! Access tokens: short-lived EdDSA (Ed25519) JWTs whose keys live in the
//! `signing_keys` table, so every process signs and verifies with the same
//! set and integrators verify through JWKS (docs/auth.md).
//!
//! jsonwebtoken's `required_spec_claims` only knows exp, nbf, aud, iss, sub,
//! so `iat`, `jti`, `roles` and `kind` are non-optional fields of [`Claims`]:
//! a token without them fails to deserialize and is refused.
//!
//! Revocation (logout, disabled account, `tokens_valid_after`) is not decided
//! here: callers check it on every request with the claims returned by
//! [`TokenKeys::verify`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use domain::{ActorKind, Role};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::kek::{is_sealed, KeyEncryptionKey};
use super::passwords::generate_secret;
use super::verified::{times_hold, VerifiedTokens};

/// Longest access-token lifetime we accept: revocation relies on tokens dying soon.
pub const MAX_ACCESS_TTL_SECS: i64 = 15 * 60;
/// Largest clock-skew allowance we accept.
pub const MAX_LEEWAY_SECS: u64 = 60;
/// A token naming a kid we do not know triggers a reload at most this often,
/// so garbage kids cannot turn into a query flood.
const UNKNOWN_KID_RELOAD_INTERVAL: Duration = Duration::from_secs(5);
/// Keys are re-read in the background this often, so a process notices a
/// rotation made elsewhere and stops signing with a retired key.
const REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// Retired keys older than this are deleted at rotation: far beyond any token
/// lifetime, and their private half has no reason to linger.
const PRUNE_RETIRED_AFTER_SECS: f64 = 24.0 * 3600.0;
/// Serializes key creation and rotation across processes (any fixed value; "TICKKEYS").
const SIGNING_KEYS_LOCK: i64 = 0x5449_434b_4b45_5953;
/// Kids are ours and short; anything longer is refused before any lookup.
const MAX_KID_LEN: usize = 64;

/// The claims of an access token. Every field is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// Username (users) or client id (OAuth2 clients).
    pub sub: String,
    pub aud: String,
    /// Seconds since the epoch; must be a JSON number.
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    /// Identifies the token for revocation (`revoked_access_tokens`).
    pub jti: Uuid,
    pub roles: Vec<Role>,
    pub kind: ActorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    /// Lifetime of access tokens; at most 15 minutes.
    pub access_ttl: chrono::Duration,
    /// Clock-skew allowance for exp/nbf/iat, in seconds; at most 60.
    pub leeway_secs: u64,
}

impl TokenSettings {
    fn check(&self) -> Result<(), TokenError> {
        let ttl = self.access_ttl.num_seconds();
        if ttl <= 0 || ttl > MAX_ACCESS_TTL_SECS {
            return Err(TokenError::Config(format!(
                "access token lifetime must be between 1 and {MAX_ACCESS_TTL_SECS} seconds, got {ttl}"
            )));
        }
        if self.leeway_secs > MAX_LEEWAY_SECS {
            return Err(TokenError::Config(format!(
                "token leeway must be at most {MAX_LEEWAY_SECS} seconds, got {}",
                self.leeway_secs
            )));
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return Err(TokenError::Config(
                "token issuer and audience must not be empty".into(),
            ));
        }
        Ok(())
    }

    /// How long a retired key stays loaded and published: the longest a token
    /// it signed can live, plus the time a process elsewhere may keep signing
    /// with it before its background refresh notices the rotation.
    fn retention_secs(&self) -> f64 {
        (self.access_ttl.num_seconds() as f64)
            + (self.leeway_secs as f64)
            + REFRESH_INTERVAL.as_secs_f64()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token is refused. The reason is for logs only: clients get a bare 401.
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("signing keys unavailable: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored key is unusable or signing failed: an operator problem, not the client's.
    #[error("signing key error: {0}")]
    Key(String),
    #[error("token settings: {0}")]
    Config(String),
}

fn invalid(reason: impl Into<String>) -> TokenError {
    TokenError::Invalid(reason.into())
}

struct PublicKey {
    kid: String,
    raw: [u8; 32],
    decoding: DecodingKey,
}

#[derive(Clone)]
struct ActiveKey {
    kid: String,
    encoding: EncodingKey,
}

/// An immutable snapshot of the usable keys; swapped whole on reload.
struct KeySet {
    active: Option<ActiveKey>,
    /// Active key first, then retired ones, newest first (JWKS order).
    public: Vec<PublicKey>,
    loaded_at: Instant,
}

impl KeySet {
    fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        self.public
            .iter()
            .find(|k| k.kid == kid)
            .map(|k| k.decoding.clone())
    }
}

struct Inner {
    pool: PgPool,
    settings: TokenSettings,
    /// How this process reads and writes private keys.
    signer: Signer,
    validation: Validation,
    keys: RwLock<Arc<KeySet>>,
    /// Held while reloading; remembers the last reload caused by an unknown kid.
    reload: tokio::sync::Mutex<Option<Instant>>,
    background_refresh: AtomicBool,
    /// Tokens verified before, by their text (`auth::verified`).
    verified: VerifiedTokens,
}

/// The signing keys, shared by every clone (cheap: one `Arc`).
#[derive(Clone)]
pub struct TokenKeys {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.snapshot();
        f.debug_struct("TokenKeys")
            .field("active", &set.active.as_ref().map(|k| k.kid.as_str()))
            .field(
                "kids",
                &set.public
                    .iter()
                    .map(|k| k.kid.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("settings", &self.inner.settings)
            .finish()
    }
}

type KeyRow = (String, Option<Vec<u8>>, Vec<u8>);

/// Whether a process signs tokens, and with which key-encryption key.
#[derive(Clone, Default)]
enum Signer {
    /// Verifies only (query-api, ingest): never reads a private half.
    #[default]
    No,
    /// Signs; private keys sealed with the KEK when there is one (plain
    /// otherwise: development and tests).
    Yes(Option<Arc<KeyEncryptionKey>>),
}

impl Signer {
    fn kek(&self) -> Option<&KeyEncryptionKey> {
        match self {
            Signer::Yes(Some(k)) => Some(k),
            _ => None,
        }
    }
}

/// The private key's DER from what is stored: opened with the KEK when
/// sealed.
fn private_der(kid: &str, stored: Vec<u8>, signer: &Signer) -> Result<Vec<u8>, String> {
    if !is_sealed(&stored) {
        return Ok(stored);
    }
    match signer.kek() {
        Some(kek) => kek.open(kid, &stored).map_err(|e| e.to_string()),
        None => Err(
            "the signing key is sealed: set TICKETERA_KEY_ENCRYPTION_KEY_FILE (or TICKETERA_KEY_ENCRYPTION_KEY)"
                .into(),
        ),
    }
}

/// What to store for a private key's DER.
fn stored_private(kid: &str, der: &[u8], signer: &Signer) -> Result<Vec<u8>, TokenError> {
    match signer.kek() {
        Some(kek) => kek
            .seal(kid, der)
            .map_err(|e| TokenError::Key(e.to_string())),
        None => Ok(der.to_vec()),
    }
}

fn parse_key(
    kid: String,
    private_der: Option<Vec<u8>>,
    public: Vec<u8>,
) -> Result<(PublicKey, Option<ActiveKey>), String> {
    let raw: [u8; 32] = public
        .as_slice()
        .try_into()
        .map_err(|_| format!("public key is {} bytes, not 32", public.len()))?;
    // Rejects bytes that are not a curve point before they reach the verifier.
    VerifyingKey::from_bytes(&raw).map_err(|e| format!("public key: {e}"))?;
    let active = match private_der {
        Some(der) => {
            let signing =
                SigningKey::from_pkcs8_der(&der).map_err(|e| format!("private key: {e}"))?;
            if signing.verifying_key().to_bytes() != raw {
                return Err("private and public key do not match".into());
            }
            Some(ActiveKey {
                kid: kid.clone(),
                encoding: EncodingKey::from_ed_der(&der),
            })
        }
        None => None,
    };
    Ok((
        PublicKey {
            kid,
            raw,
            decoding: DecodingKey::from_ed_der(&raw),
        },
        active,
    ))
}

const LOAD_KEYS_TO_SIGN: &str =
    "SELECT kid, CASE WHEN retired_at IS NULL THEN private_der END, public_key
       FROM signing_keys
      WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
      ORDER BY retired_at IS NOT NULL, created_at DESC";
const LOAD_KEYS_TO_VERIFY: &str = "SELECT kid, NULL::bytea, public_key
       FROM signing_keys
      WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
      ORDER BY retired_at IS NOT NULL, created_at DESC";

async fn load_keys(
    pool: &PgPool,
    settings: &TokenSettings,
    signer: &Signer,
) -> Result<KeySet, TokenError> {
    // The private half is only read for the active key, by a signer; a
    // verifier's query does not name the column (a role may lack the grant).
    let query = match signer {
        Signer::Yes(_) => LOAD_KEYS_TO_SIGN,
        Signer::No => LOAD_KEYS_TO_VERIFY,
    };
    let rows: Vec<KeyRow> = sqlx::query_as(query)
        .bind(settings.retention_secs())
        .fetch_all(pool)
        .await?;

    let mut set = KeySet {
        active: None,
        public: Vec::with_capacity(rows.len()),
        loaded_at: Instant::now(),
    };
    for (kid, stored, public) in rows {
        let der = match stored.map(|s| private_der(&kid, s, signer)).transpose() {
            Ok(der) => der,
            Err(e) => {
                tracing::error!(kid = %kid, error = %e, "cannot use the active signing key");
                None
            }
        };
        match parse_key(kid.clone(), der, public) {
            Ok((public, active)) => {
                // Should two rows ever be active, sign with the newest; both verify.
                if set.active.is_none() {
                    set.active = active;
                }
                set.public.push(public);
            }
            // One corrupt row must not stop verification with the others.
            Err(e) => tracing::error!(kid = %kid, error = %e, "skipping unusable signing key"),
        }
    }
    Ok(set)
}

async fn insert_key(conn: &mut PgConnection, signer: &Signer) -> Result<String, TokenError> {
    let signing = SigningKey::generate(&mut OsRng);
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| TokenError::Key(e.to_string()))?;
    let kid = generate_secret(16);
    let stored = stored_private(&kid, der.as_bytes(), signer)?;
    sqlx::query("INSERT INTO signing_keys (kid, private_der, public_key) VALUES ($1, $2, $3)")
        .bind(&kid)
        .bind(&stored)
        .bind(signing.verifying_key().to_bytes().as_slice())
        .execute(conn)
        .await?;
    Ok(kid)
}

/// Seals the private keys stored plain (written before a KEK was set).
async fn seal_plain_keys(pool: &PgPool, kek: &KeyEncryptionKey) -> Result<(), TokenError> {
    let mut tx = pool.begin().await?;
    lock_signing_keys(&mut tx).await?;
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT kid, private_der FROM signing_keys ORDER BY kid")
            .fetch_all(&mut *tx)
            .await?;
    let mut sealed = 0;
    for (kid, stored) in rows.into_iter().filter(|(_, s)| !is_sealed(s)) {
        let value = kek
            .seal(&kid, &stored)
            .map_err(|e| TokenError::Key(e.to_string()))?;
        sqlx::query("UPDATE signing_keys SET private_der = $2 WHERE kid = $1")
            .bind(&kid)
            .bind(&value)
            .execute(&mut *tx)
            .await?;
        sealed += 1;
    }
    tx.commit().await?;
    if sealed > 0 {
        tracing::info!(
            keys = sealed,
            "sealed the signing keys stored plain with the key-encryption key"
        );
    }
    Ok(())
}

async fn lock_signing_keys(conn: &mut PgConnection) -> Result<(), TokenError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SIGNING_KEYS_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// Creates an active key unless one exists; concurrent callers in any process
/// queue on the advisory lock and the later ones find the key made by the first.
async fn ensure_active_key(pool: &PgPool, signer: &Signer) -> Result<(), TokenError> {
    let mut tx = pool.begin().await?;
    lock_signing_keys(&mut tx).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)")
            .fetch_one(&mut *tx)
            .await?;
    if !exists {
        let kid = insert_key(&mut tx, signer).await?;
        tracing::info!(kid = %kid, "created the first token signing key");
    }
    tx.commit().await?;
    Ok(())
}

fn validation(settings: &TokenSettings) -> Validation {
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[settings.issuer.as_str()]);
    validation.set_audience(&[settings.audience.as_str()]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.leeway = settings.leeway_secs;
    // The only spec claims jsonwebtoken can require; iat, jti, roles and kind
    // are required by `Claims` itself.
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    validation
}

impl TokenKeys {
    /// Loads the usable keys (active, and retired recently enough that tokens
    /// they signed may still be alive), creating the first key if there is none.
    /// Private keys are stored plain: development and tests. Deployments
    /// use [`TokenKeys::load_or_create_sealed`].
    pub async fn load_or_create(
        pool: &PgPool,
        settings: TokenSettings,
    ) -> Result<Self, TokenError> {
        Self::load_or_create_sealed(pool, settings, None).await
    }

    /// For a process that signs tokens (command-api, serve, `keys rotate`):
    /// with a key-encryption key, keys are stored sealed and any stored
    /// plain are sealed now.
    pub async fn load_or_create_sealed(
        pool: &PgPool,
        settings: TokenSettings,
        kek: Option<Arc<KeyEncryptionKey>>,
    ) -> Result<Self, TokenError> {
        settings.check()?;
        if let Some(kek) = &kek {
            seal_plain_keys(pool, kek).await?;
        }
        let signer = Signer::Yes(kek);
        let mut set = load_keys(pool, &settings, &signer).await?;
        if set.active.is_none() {
            ensure_active_key(pool, &signer).await?;
            set = load_keys(pool, &settings, &signer).await?;
        }
        if set.active.is_none() {
            return Err(TokenError::Key(
                "the active signing key is unusable (see previous errors)".into(),
            ));
        }
        Ok(Self::with_set(pool, settings, signer, set))
    }

    /// For a process that only verifies tokens (query-api, ingest): the
    /// public keys; no private half is read, no key is made (a signer makes
    /// the first; an unknown kid reloads).
    pub async fn load_for_verifying(
        pool: &PgPool,
        settings: TokenSettings,
    ) -> Result<Self, TokenError> {
        settings.check()?;
        let set = load_keys(pool, &settings, &Signer::No).await?;
        Ok(Self::with_set(pool, settings, Signer::No, set))
    }

    fn with_set(pool: &PgPool, settings: TokenSettings, signer: Signer, set: KeySet) -> Self {
        TokenKeys {
            inner: Arc::new(Inner {
                pool: pool.clone(),
                signer,
                validation: validation(&settings),
                settings,
                keys: RwLock::new(Arc::new(set)),
                reload: tokio::sync::Mutex::new(None),
                background_refresh: AtomicBool::new(false),
                verified: VerifiedTokens::default(),
            }),
        }
    }

    /// Makes a new active key and retires the previous one. Tokens signed by
    /// the retired key stay valid until they expire: it stays loaded and in
    /// JWKS for the access-token lifetime. Running processes pick the new key
    /// up on their next refresh, or at once through [`TokenKeys::reload`].
    /// With `kek`, the new key is stored sealed.
    pub async fn rotate(
        pool: &PgPool,
        kek: Option<Arc<KeyEncryptionKey>>,
    ) -> Result<String, TokenError> {
        let signer = Signer::Yes(kek);
        let mut tx = pool.begin().await?;
        lock_signing_keys(&mut tx).await?;
        sqlx::query("UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL")
            .execute(&mut *tx)
            .await?;
        let kid = insert_key(&mut tx, &signer).await?;
        sqlx::query(
            "DELETE FROM signing_keys WHERE retired_at < now() - make_interval(secs => $1)",
        )
        .bind(PRUNE_RETIRED_AFTER_SECS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(kid = %kid, "rotated the token signing key");
        Ok(kid)
    }

    /// Re-reads the keys from the database now.
    pub async fn reload(&self) -> Result<(), TokenError> {
        let _guard = self.inner.reload.lock().await;
        self.reload_locked().await
    }

    /// Issues an access token for `sub`; returns it with its claims.
    pub fn issue(
        &self,
        sub: &str,
        kind: ActorKind,
        roles: &[Role],
    ) -> Result<(String, Claims), TokenError> {
        self.refresh_if_stale();
        let set = self.snapshot();
        let active = set
            .active
            .as_ref()
            .ok_or_else(|| TokenError::Key("no active signing key".into()))?;
        let settings = &self.inner.settings;
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: settings.issuer.clone(),
            sub: sub.to_owned(),
            aud: settings.audience.clone(),
            exp: now + settings.access_ttl.num_seconds(),
            nbf: now,
            iat: now,
            jti: Uuid::new_v4(),
            roles: roles.to_vec(),
            kind,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(active.kid.clone());
        let token = encode(&header, &claims, &active.encoding)
            .map_err(|e| TokenError::Key(e.to_string()))?;
        Ok((token, claims))
    }

    /// Verifies signature and claims; the caller still checks revocation.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.refresh_if_stale();
        let skew = i64::try_from(self.inner.settings.leeway_secs).unwrap_or(i64::MAX);
        let now = Utc::now().timestamp();
        let set = self.snapshot();
        // A token verified before passed the header's checks too.
        let usable = |kid: &str| set.public.iter().any(|k| k.kid == kid);
        if let Some(claims) = self.inner.verified.get(token, now, skew, usable) {
            return Ok(claims);
        }
        let header = decode_header(token).map_err(|e| invalid(format!("header: {e}")))?;
        // Only EdDSA: refuses "none" (not even parsed) and HS256 tokens keyed
        // with our public key before any key is looked up.
        if header.alg != Algorithm::EdDSA {
            return Err(invalid(format!("algorithm {:?} not accepted", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| invalid("no kid"))?;
        if kid.is_empty() || kid.len() > MAX_KID_LEN {
            return Err(invalid("malformed kid"));
        }
        let key = match set.decoding_key(&kid) {
            Some(key) => key,
            None => self.reload_for_unknown_kid(&kid).await?,
        };
        let data = decode::<Claims>(token, &key, &self.inner.validation)
            .map_err(|e| invalid(e.to_string()))?;
        // jsonwebtoken does not look at iat; a token issued in the future is not one of ours.
        if !times_hold(&data.claims, now, skew) {
            return Err(invalid("issued in the future"));
        }
        self.inner.verified.put(token, kid, data.claims.clone());
        Ok(data.claims)
    }

    /// Public keys as a JWKS document: the active key and the retired ones
    /// whose tokens may still be alive.
    pub fn jwks(&self) -> serde_json::Value {
        let set = self.snapshot();
        let keys: Vec<serde_json::Value> = set
            .public
            .iter()
            .map(|k| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(k.raw),
                    "kid": k.kid,
                    "alg": "EdDSA",
                    "use": "sig",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// The kid new tokens are signed with.
    pub fn active_kid(&self) -> Option<String> {
        self.snapshot().active.as_ref().map(|k| k.kid.clone())
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.inner.settings
    }

    fn snapshot(&self) -> Arc<KeySet> {
        // A panic elsewhere cannot leave the Arc half-written: the poison is moot.
        self.inner
            .keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Caller holds `inner.reload`.
    async fn reload_locked(&self) -> Result<(), TokenError> {
        let mut set = load_keys(&self.inner.pool, &self.inner.settings, &self.inner.signer).await?;
        if set.active.is_none() && matches!(self.inner.signer, Signer::Yes(_)) {
            // Keep signing with what we had rather than fail every login
            // (e.g. a key rotated under a new key-encryption key that this
            // process does not have yet).
            tracing::error!("no usable active signing key in the database");
            set.active = self.snapshot().active.clone();
        }
        let mut keys = self
            .inner
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *keys = Arc::new(set);
        Ok(())
    }

    /// Another process may have rotated: look again, but at most once per
    /// `UNKNOWN_KID_RELOAD_INTERVAL` however many unknown kids arrive.
    async fn reload_for_unknown_kid(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        let mut last = self.inner.reload.lock().await;
        // Someone may have reloaded while we waited for the lock.
        if let Some(key) = self.snapshot().decoding_key(kid) {
            return Ok(key);
        }
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_RELOAD_INTERVAL) {
            return Err(invalid("unknown kid"));
        }
        *last = Some(Instant::now());
        self.reload_locked().await?;
        self.snapshot()
            .decoding_key(kid)
            .ok_or_else(|| invalid("unknown kid"))
    }

    /// Starts a background reload when the keys are older than
    /// `REFRESH_INTERVAL`; never makes the caller wait. Without a Tokio
    /// runtime (or while one is already running) it does nothing.
    fn refresh_if_stale(&self) {
        if self.snapshot().loaded_at.elapsed() < REFRESH_INTERVAL {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.inner.background_refresh.swap(true, Ordering::AcqRel) {
            return;
        }
        let keys = self.clone();
        runtime.spawn(async move {
            let guard = keys.inner.reload.lock().await;
            if keys.snapshot().loaded_at.elapsed() >= REFRESH_INTERVAL {
                if let Err(e) = keys.reload_locked().await {
                    // Verification keeps working from the cached keys meanwhile.
                    tracing::warn!(error = %e, "could not refresh token signing keys");
                }
            }
            drop(guard);
            keys.inner
                .background_refresh
                .store(false, Ordering::Release);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;
    use jsonwebtoken::jwk::JwkSet;
    use serde_json::{json, Value};
    use sqlx::postgres::PgPoolOptions;

    fn settings() -> TokenSettings {
        TokenSettings {
            issuer: "https://ticketera.test".into(),
            audience: "ticketera-api".into(),
            access_ttl: chrono::Duration::minutes(10),
            leeway_secs: 5,
        }
    }

    /// A throw-away database with the migrations applied.
    struct TestDb {
        base: String,
        name: String,
        pool: PgPool,
    }

    impl TestDb {
        async fn new() -> TestDb {
            let base = std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let admin = PgPool::connect(&format!("{base}/postgres"))
                .await
                .expect("connect to test Postgres");
            let name = format!("ticketera_test_{}", Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&admin)
                .await
                .expect("create database");
            admin.close().await;
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .connect(&format!("{base}/{name}"))
                .await
                .expect("connect to test database");
            sqlx::migrate!("../migrations")
                .run(&pool)
                .await
                .expect("migrations");
            TestDb { base, name, pool }
        }

        async fn drop(self) {
            self.pool.close().await;
            let admin = PgPool::connect(&format!("{}/postgres", self.base))
                .await
                .expect("connect");
            sqlx::query(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&admin)
            .await
            .expect("drop database");
            admin.close().await;
        }
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A JWT assembled by hand so that anything at all can go in it.
    fn craft(header: &Value, payload: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
        let message = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        let signature = sign(message.as_bytes());
        format!("{message}.{}", b64(&signature))
    }

    async fn active_key(pool: &PgPool) -> (String, SigningKey) {
        let (kid, der): (String, Vec<u8>) =
            sqlx::query_as("SELECT kid, private_der FROM signing_keys WHERE retired_at IS NULL")
                .fetch_one(pool)
                .await
                .expect("active key");
        (kid, SigningKey::from_pkcs8_der(&der).expect("pkcs8"))
    }

    fn good_payload(s: &TokenSettings) -> Value {
        let now = Utc::now().timestamp();
        json!({
            "iss": s.issuer, "sub": "alice", "aud": s.audience,
            "exp": now + 600, "nbf": now, "iat": now,
            "jti": Uuid::new_v4(), "roles": ["analyst"], "kind": "user",
        })
    }

    fn with(payload: &Value, field: &str, value: Value) -> Value {
        let mut p = payload.clone();
        p[field] = value;
        p
    }

    fn without(payload: &Value, field: &str) -> Value {
        let mut p = payload.clone();
        p.as_object_mut().expect("object").remove(field);
        p
    }

    fn kid_of(token: &str) -> String {
        decode_header(token).expect("header").kid.expect("kid")
    }

    fn kek() -> Arc<KeyEncryptionKey> {
        Arc::new(
            KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate().expect("generate"))
                .expect("kek"),
        )
    }

    async fn stored_private_keys(pool: &PgPool) -> Vec<Vec<u8>> {
        sqlx::query_scalar("SELECT private_der FROM signing_keys ORDER BY created_at")
            .fetch_all(pool)
            .await
            .expect("keys")
    }

    /// With a key-encryption key no private key is readable in the
    /// database; verifiers never need it, signers without it refuse to start.
    #[tokio::test]
    async fn auth_signing_keys_are_sealed_at_rest() {
        let db = TestDb::new().await;
        let db_base = db.base.clone();
        let kek = kek();
        let keys = TokenKeys::load_or_create_sealed(&db.pool, settings(), Some(kek.clone()))
            .await
            .expect("keys");
        let stored = stored_private_keys(&db.pool).await;
        assert_eq!(stored.len(), 1);
        assert!(is_sealed(&stored[0]), "stored sealed");
        assert!(SigningKey::from_pkcs8_der(&stored[0]).is_err(), "not DER");
        let (token, _) = keys
            .issue("alice", ActorKind::User, &[Role::Analyst])
            .expect("issue");

        // A verifier (query-api, ingest) verifies without the KEK.
        let verifier = TokenKeys::load_for_verifying(&db.pool, settings())
            .await
            .expect("verifier");
        assert_eq!(verifier.verify(&token).await.expect("verify").sub, "alice");
        assert!(
            verifier.issue("bob", ActorKind::User, &[]).is_err(),
            "cannot sign"
        );

        // ...even as a role that may not read the private column at all
        // (docs/auth.md, "Signing keys at rest").
        let role = format!("ticketera_reader_{}", Uuid::new_v4().simple());
        for sql in [
            format!("CREATE ROLE {role} LOGIN"),
            format!(
                "GRANT SELECT (kid, public_key, created_at, retired_at) ON signing_keys TO {role}"
            ),
        ] {
            sqlx::query(&sql).execute(&db.pool).await.expect("role");
        }
        let reader_url =
            format!("{}/{}", db.base, db.name).replacen("://postgres@", &format!("://{role}@"), 1);
        let reader = PgPool::connect(&reader_url)
            .await
            .expect("connect as the reader role");
        let narrow = TokenKeys::load_for_verifying(&reader, settings())
            .await
            .expect("verifier with column grants");
        assert_eq!(narrow.verify(&token).await.expect("verify").sub, "alice");
        let denied = sqlx::query("SELECT private_der FROM signing_keys")
            .fetch_all(&reader)
            .await;
        assert!(denied.is_err(), "the reader role cannot read private keys");
        reader.close().await;
        sqlx::query(&format!("REVOKE ALL ON signing_keys FROM {role}"))
            .execute(&db.pool)
            .await
            .expect("revoke");

        // A signer without it, or with another one, refuses to start.
        let err = TokenKeys::load_or_create(&db.pool, settings())
            .await
            .expect_err("no KEK");
        assert!(matches!(err, TokenError::Key(_)), "{err}");
        TokenKeys::load_or_create_sealed(&db.pool, settings(), Some(self::kek()))
            .await
            .expect_err("another KEK");
        // Neither made a plain key meanwhile.
        assert_eq!(stored_private_keys(&db.pool).await.len(), 1);

        // A rotation stores the new key sealed; the old key's tokens verify.
        TokenKeys::rotate(&db.pool, Some(kek.clone()))
            .await
            .expect("rotate");
        assert!(stored_private_keys(&db.pool)
            .await
            .iter()
            .all(|k| is_sealed(k)));
        let again = TokenKeys::load_or_create_sealed(&db.pool, settings(), Some(kek))
            .await
            .expect("restart with the KEK");
        assert_eq!(again.verify(&token).await.expect("old token").sub, "alice");
        db.drop().await;
        let admin = PgPool::connect(&format!("{db_base}/postgres"))
            .await
            .expect("admin");
        sqlx::query(&format!("DROP ROLE {role}"))
            .execute(&admin)
            .await
            .expect("drop role");
        admin.close().await;
    }

    /// Keys stored before a KEK was configured are sealed when a signer
    /// with one starts, and keep their kid (tokens stay valid).
    #[tokio::test]
    async fn auth_plain_keys_are_sealed_when_a_kek_is_set() {
        let db = TestDb::new().await;
        let plain = TokenKeys::load_or_create(&db.pool, settings())
            .await
            .expect("plain keys");
        let (token, _) = plain
            .issue("carol", ActorKind::User, &[Role::Auditor])
            .expect("issue");
        assert!(!is_sealed(&stored_private_keys(&db.pool).await[0]));
        let sealed = TokenKeys::load_or_create_sealed(&db.pool, settings(), Some(kek()))
            .await
            .expect("sealed keys");
        assert!(is_sealed(&stored_private_keys(&db.pool).await[0]));
        assert_eq!(sealed.active_kid(), plain.active_kid());
        assert_eq!(sealed.verify(&token).await.expect("verify").sub, "carol");
        db.drop().await;
    }

    #[tokio::test]
    async fn auth_round_trip_and_second_instance() {
        let db = TestDb::new().await;
        let keys = TokenKeys::load_or_create(&db.pool, settings())
            .await
            .expect("keys");
        let (token, issued) = keys
            .issue("alice", ActorKind::User, &[Role::Analyst, Role::Lead])
            .expect("issue");

        let header = decode_header(&token).expect("header");
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.kid, keys.active_kid());
        assert_eq!(issued.iat, issued.nbf);
        assert_eq!(issued.exp - issued.iat, 600);
        assert_eq!(issued.iss, "https://ticketera.test");
        assert_eq!(issued.aud, "ticketera-api");

        let verified = keys.verify(&token).await.expect("verify");
        assert_eq!(verified, issued);
        assert_eq!(verified.roles, vec![Role::Analyst, Role::Lead]);
        assert_eq!(verified.kind, ActorKind::User);

        // The wire format other services rely on.
        let payload: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).expect("payload"))
                .expect("b64"),
        )
        .expect("json");
        assert_eq!(payload["roles"], json!(["analyst", "lead"]));
        assert_eq!(payload["kind"], json!("user"));
        assert!(payload["exp"].is_i64() && payload["iat"].is_i64() && payload["nbf"].is_i64());

        // Another process on the same database: same key, verifies the first one's tokens.
        let other = TokenKeys::load_or_create(&db.pool, settings())
            .await
            .expect("second instance");
        assert_eq!(other.active_kid(), keys.active_kid());
        assert_eq!(
            other.verify(&token).await.expect("verify elsewhere"),
            issued
        );
        let (client_token, _) = other
            .issue("siem", ActorKind::Client, &[Role::Integration])
            .expect("issue");
        assert_eq!(
            keys.verify(&client_token).await.expect("verify").kind,
            ActorKind::Client
        );

        let active: i64 =
            sqlx::query_scalar("SELECT count(*) FROM signing_keys WHERE retired_at IS NULL")
                .fetch_one(&db.pool)
                .await
                .expect("count");
        assert_eq!(active, 1);
        db.drop().await;
    }

    #[tokio::test]
    async fn auth_rejects_every_kind_of_bad_token() {
        let db = TestDb::new().await;
        let s = settings();
        let keys = TokenKeys::load_or_create(&db.pool, s.clone())
            .await
            .expect("keys");
        let (kid, signing) = active_key(&db.pool).await;
        let public = signing.verifying_key().to_bytes();
        let header = json!({ "alg": "EdDSA", "typ": "JWT", "kid": kid });
        let good = good_payload(&s);
        let sign = |h: &Value, p: &Value| craft(h, p, |m| signing.sign(m).to_bytes().to_vec());
        let now = Utc::now().timestamp();

        // Positive control: the hand-made token is accepted, so each refusal
        // below is due to the one thing that changed.
        keys.verify(&sign(&header, &good))
            .await
            .expect("hand-crafted good token");

        let (issued, _) = keys
            .issue("alice", ActorKind::User, &[Role::Analyst])
            .expect("issue");
        let parts: Vec<&str> = issued.split('.').collect();
        let mut sig: Vec<char> = parts[2].chars().collect();
        sig[10] = if sig[10] == 'A' { 'B' } else { 'A' };
        let tampered_signature = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            sig.into_iter().collect::<String>()
        );
        let admin_payload = b64(with(&good, "roles", json!(["admin"]))
            .to_string()
            .as_bytes());
        let tampered_payload = format!("{}.{admin_payload}.{}", parts[0], parts[2]);

        let hs256_header = |kid: &str| {
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some(kid.to_owned());
            h
        };
        let hs256_raw = encode(
            &hs256_header(&kid),
            &good,
            &EncodingKey::from_secret(&public).expect("secret"),
        )
        .expect("hs256");
        let hs256_x = encode(
            &hs256_header(&kid),
            &good,
            &EncodingKey::from_secret(b64(&public).as_bytes()).expect("secret"),
        )
        .expect("hs256");

        let stranger = SigningKey::generate(&mut OsRng);
        let stranger_token = craft(
            &json!({ "alg": "EdDSA", "typ": "JWT", "kid": "stranger" }),
            &good,
            |m| stranger.sign(m).to_bytes().to_vec(),
        );
        let stranger_with_our_kid = craft(&header, &good, |m| stranger.sign(m).to_bytes().to_vec());

        let cases: Vec<(&str, String)> = vec![
            (
                "alg none",
                craft(
                    &json!({ "alg": "none", "typ": "JWT", "kid": kid }),
                    &good,
                    |_| Vec::new(),
                ),
            ),
            (
                "alg none, our signature",
                sign(&json!({ "alg": "none", "typ": "JWT", "kid": kid }), &good),
            ),
            ("HS256 keyed with raw public key", hs256_raw),
            ("HS256 keyed with JWKS x", hs256_x),
            ("tampered signature", tampered_signature),
            ("tampered payload", tampered_payload),
            ("signature stripped", format!("{}.{}.", parts[0], parts[1])),
            ("signed by a stranger under our kid", stranger_with_our_kid),
            (
                "expired",
                sign(
                    &header,
                    &with(
                        &with(&good, "exp", json!(now - 3600)),
                        "iat",
                        json!(now - 4200),
                    ),
                ),
            ),
            (
                "expired beyond leeway",
                sign(&header, &with(&good, "exp", json!(now - 30))),
            ),
            (
                "not yet valid",
                sign(&header, &with(&good, "nbf", json!(now + 3600))),
            ),
            (
                "issued in the future",
                sign(
                    &header,
                    &with(&with(&good, "iat", json!(now + 3600)), "nbf", json!(now)),
                ),
            ),
            (
                "wrong aud",
                sign(&header, &with(&good, "aud", json!("someone-else"))),
            ),
            (
                "aud list without us",
                sign(&header, &with(&good, "aud", json!(["someone-else"]))),
            ),
            (
                "wrong iss",
                sign(&header, &with(&good, "iss", json!("https://evil.test"))),
            ),
            (
                "unknown kid",
                sign(
                    &json!({ "alg": "EdDSA", "typ": "JWT", "kid": "no-such-kid" }),
                    &good,
                ),
            ),
            ("unknown kid and key", stranger_token),
            (
                "no kid",
                sign(&json!({ "alg": "EdDSA", "typ": "JWT" }), &good),
            ),
            (
                "exp as a string",
                sign(&header, &with(&good, "exp", json!((now + 600).to_string()))),
            ),
            (
                "nbf as a string",
                sign(&header, &with(&good, "nbf", json!(now.to_string()))),
            ),
            (
                "iat as a string",
                sign(&header, &with(&good, "iat", json!(now.to_string()))),
            ),
            ("missing jti", sign(&header, &without(&good, "jti"))),
            ("missing roles", sign(&header, &without(&good, "roles"))),
            ("missing iat", sign(&header, &without(&good, "iat"))),
            ("missing kind", sign(&header, &without(&good, "kind"))),
            ("missing exp", sign(&header, &without(&good, "exp"))),
            ("missing nbf", sign(&header, &without(&good, "nbf"))),
            ("missing sub", sign(&header, &without(&good, "sub"))),
            ("missing aud", sign(&header, &without(&good, "aud"))),
            ("missing iss", sign(&header, &without(&good, "iss"))),
            (
                "unknown role",
                sign(&header, &with(&good, "roles", json!(["root"]))),
            ),
            (
                "jti not a uuid",
                sign(&header, &with(&good, "jti", json!("1"))),
            ),
            ("not a jwt", "abc".into()),
            ("empty", String::new()),
        ];
        for (name, token) in cases {
            match keys.verify(&token).await {
                Err(TokenError::Invalid(reason)) => eprintln!("{name}: refused ({reason})"),
                other => panic!("{name}: expected Invalid, got {other:?}"),
            }
        }
        db.drop().await;
    }

    #[tokio::test]
    async fn auth_rotation_keeps_old_tokens_valid_and_publishes_both_keys() {
        let db = TestDb::new().await;
        let keys = TokenKeys::load_or_create(&db.pool, settings())
            .await
            .expect("keys");
        let bystander = TokenKeys::load_or_create(&db.pool, settings())
            .await
            .expect("keys");
        let old_kid = keys.active_kid().expect("active");
        let (old_token, _) = keys
            .issue("alice", ActorKind::User, &[Role::Analyst])
            .expect("issue");

        let new_kid = TokenKeys::rotate(&db.pool, None).await.expect("rotate");
        assert_ne!(new_kid, old_kid);
        keys.reload().await.expect("reload");
        assert_eq!(keys.active_kid().as_deref(), Some(new_kid.as_str()));

        let (new_token, _) = keys
            .issue("bob", ActorKind::User, &[Role::Lead])
            .expect("issue");
        assert_eq!(kid_of(&new_token), new_kid);
        keys.verify(&old_token)
            .await
            .expect("old token still valid");
        keys.verify(&new_token).await.expect("new token valid");
        // Both are kept as verified: the removal of the old key below must
        // still refuse the kept one.
        keys.verify(&old_token)
            .await
            .expect("again, from the cache");
        assert_eq!(keys.inner.verified.len(), 2);

        // A process that has not reloaded learns the new kid on first sight.
        bystander
            .verify(&new_token)
            .await
            .expect("bystander picks up the rotation");
        bystander
            .verify(&old_token)
            .await
            .expect("bystander still accepts the old token");

        let jwks = keys.jwks();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert_eq!(kids, vec![new_kid.as_str(), old_kid.as_str()]);
        for key in jwks["keys"].as_array().expect("keys") {
            assert_eq!(key["kty"], "OKP");
            assert_eq!(key["crv"], "Ed25519");
            assert_eq!(key["alg"], "EdDSA");
            assert_eq!(key["use"], "sig");
            let stored: Vec<u8> =
                sqlx::query_scalar("SELECT public_key FROM signing_keys WHERE kid = $1")
                    .bind(key["kid"].as_str().expect("kid"))
                    .fetch_one(&db.pool)
                    .await
                    .expect("stored key");
            assert_eq!(
                URL_SAFE_NO_PAD
                    .decode(key["x"].as_str().expect("x"))
                    .expect("b64"),
                stored
            );
        }

        // An integrator verifying from the JWKS alone accepts both tokens.
        let set: JwkSet = serde_json::from_value(jwks).expect("JWKS parses as a JwkSet");
        for token in [&old_token, &new_token] {
            let jwk = set.find(&kid_of(token)).expect("kid published");
            let key = DecodingKey::from_jwk(jwk).expect("decoding key");
            decode::<Claims>(token, &key, &validation(&settings())).expect("verifies from JWKS");
        }

        let active: i64 =
            sqlx::query_scalar("SELECT count(*) FROM signing_keys WHERE retired_at IS NULL")
                .fetch_one(&db.pool)
                .await
                .expect("count");
        assert_eq!(active, 1);

        // Once its tokens can no longer be alive, the retired key is dropped
        // from verification and from JWKS.
        sqlx::query(
            "UPDATE signing_keys SET retired_at = now() - interval '1 hour' WHERE kid = $1",
        )
        .bind(&old_kid)
        .execute(&db.pool)
        .await
        .expect("age the key");
        keys.reload().await.expect("reload");
        let kids: Vec<String> = keys.jwks()["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(kids, vec![new_kid.clone()]);
        assert!(matches!(
            keys.verify(&old_token).await,
            Err(TokenError::Invalid(_))
        ));
        keys.verify(&new_token)
            .await
            .expect("new token still valid");

        // Rotation prunes keys retired long ago.
        sqlx::query(
            "UPDATE signing_keys SET retired_at = now() - interval '2 days' WHERE kid = $1",
        )
        .bind(&old_kid)
        .execute(&db.pool)
        .await
        .expect("age the key");
        TokenKeys::rotate(&db.pool, None).await.expect("rotate");
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM signing_keys WHERE kid = $1")
            .bind(&old_kid)
            .fetch_one(&db.pool)
            .await
            .expect("count");
        assert_eq!(left, 0);
        db.drop().await;
    }

    #[tokio::test]
    async fn auth_unknown_kid_reloads_are_rate_limited() {
        let db = TestDb::new().await;
        let keys = TokenKeys::load_or_create(&db.pool, settings())
            .await
            .expect("keys");
        let (kid, signing) = active_key(&db.pool).await;
        let bogus = craft(
            &json!({ "alg": "EdDSA", "typ": "JWT", "kid": "bogus" }),
            &good_payload(&settings()),
            |m| signing.sign(m).to_bytes().to_vec(),
        );
        assert!(matches!(
            keys.verify(&bogus).await,
            Err(TokenError::Invalid(_))
        ));

        // A rotation right after that reload is not seen until the interval passes...
        TokenKeys::rotate(&db.pool, None).await.expect("rotate");
        let other = TokenKeys::load_or_create(&db.pool, settings())
            .await
            .expect("keys");
        let (fresh, _) = other
            .issue("alice", ActorKind::User, &[Role::Analyst])
            .expect("issue");
        assert_ne!(kid_of(&fresh), kid);
        assert!(matches!(
            keys.verify(&fresh).await,
            Err(TokenError::Invalid(_))
        ));
        // ...or an explicit reload.
        keys.reload().await.expect("reload");
        keys.verify(&fresh).await.expect("verify after reload");
        db.drop().await;
    }

    #[tokio::test]
    async fn auth_concurrent_first_start_creates_one_key() {
        let db = TestDb::new().await;
        let starts = (0..8).map(|_| TokenKeys::load_or_create(&db.pool, settings()));
        let all = futures::future::join_all(starts).await;
        let kids: Vec<String> = all
            .into_iter()
            .map(|k| k.expect("keys").active_kid().expect("active"))
            .collect();
        assert!(kids.iter().all(|k| *k == kids[0]), "{kids:?}");
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM signing_keys")
            .fetch_one(&db.pool)
            .await
            .expect("count");
        assert_eq!(total, 1);
        // kids are url-safe random strings
        assert!(
            kids[0].len() >= 20
                && kids[0]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        db.drop().await;
    }

    #[tokio::test]
    async fn auth_settings_are_checked() {
        let db = TestDb::new().await;
        let too_long = TokenSettings {
            access_ttl: chrono::Duration::minutes(16),
            ..settings()
        };
        assert!(matches!(
            TokenKeys::load_or_create(&db.pool, too_long).await,
            Err(TokenError::Config(_))
        ));
        let zero = TokenSettings {
            access_ttl: chrono::Duration::zero(),
            ..settings()
        };
        assert!(matches!(
            TokenKeys::load_or_create(&db.pool, zero).await,
            Err(TokenError::Config(_))
        ));
        let lax = TokenSettings {
            leeway_secs: 3600,
            ..settings()
        };
        assert!(matches!(
            TokenKeys::load_or_create(&db.pool, lax).await,
            Err(TokenError::Config(_))
        ));
        db.drop().await;
    }

    #[test]
    fn claims_require_every_field() {
        let full = json!({
            "iss": "i", "sub": "s", "aud": "a", "exp": 2, "nbf": 1, "iat": 1,
            "jti": Uuid::new_v4(), "roles": ["auditor"], "kind": "system",
        });
        let claims: Claims = serde_json::from_value(full.clone()).expect("full claims");
        assert_eq!(claims.roles, vec![Role::Auditor]);
        assert_eq!(claims.kind, ActorKind::System);
        for field in [
            "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "roles", "kind",
        ] {
            assert!(
                serde_json::from_value::<Claims>(without(&full, field)).is_err(),
                "{field}"
            );
        }
        assert!(serde_json::from_value::<Claims>(with(&full, "exp", json!("2"))).is_err());
    }
}
