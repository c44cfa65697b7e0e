//! Users, OAuth2 clients, refresh tokens, revocation and login throttling,
//! all in Postgres so every process sees the same state.

use chrono::{DateTime, Duration, Utc};
use domain::{ActorKind, Role};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::auth::liveness_cache::Lookup;
use crate::auth::passwords::{generate_secret, hash_secret, verify_secret, HashGate};
use crate::auth::revocations::{Ended, Revocations};
use crate::auth::tokens::Claims;

pub const USERNAME_MAX: usize = 64;
pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 1024;
/// Window over which failed logins are counted.
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;

/// One attempt more on each key ($1), a window ($2 seconds) restarting when
/// it is over; the counts after, with their window's age in seconds.
const COUNT_ATTEMPT: &str = "
INSERT INTO login_failures (key, failures, window_start)
SELECT k, 1, now() FROM unnest($1::text[]) AS k
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN login_failures.window_start < now() - make_interval(secs => $2)
                  THEN 1 ELSE login_failures.failures + 1 END,
  window_start = CASE WHEN login_failures.window_start < now() - make_interval(secs => $2)
                  THEN now() ELSE login_failures.window_start END
RETURNING key, failures, extract(epoch FROM now() - window_start)::float8";

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("a user named '{0}' already exists")]
    UsernameTaken(String),
    #[error("no such user '{0}'")]
    NoSuchUser(String),
    #[error("no such client '{0}'")]
    NoSuchClient(String),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// Too many password checks at once: try again shortly.
    #[error("too many password checks at once")]
    Busy,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn hashing(e: crate::auth::passwords::PasswordError) -> IdentityError {
    match e {
        crate::auth::passwords::PasswordError::Busy => IdentityError::Busy,
        other => IdentityError::Hashing(other.to_string()),
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> IdentityError {
    IdentityError::Invalid {
        field,
        message: message.into(),
    }
}

/// The outcome of a password check.
#[derive(Debug, Clone)]
pub enum PasswordCheck {
    Valid(User),
    /// The password is right but the account is disabled.
    Disabled(User),
    /// Unknown user or wrong password (one answer for both).
    Invalid,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Access tokens issued before this instant are refused.
    #[serde(skip)]
    pub tokens_valid_after: DateTime<Utc>,
}

impl User {
    /// How long to wait before issuing a token that must outlive the last
    /// security change: `iat` has whole seconds, the change has microseconds,
    /// so a token issued in the same second would be refused at once.
    pub fn token_issue_delay(&self, now: DateTime<Utc>) -> Option<std::time::Duration> {
        let iat = now.timestamp();
        let valid_after = self.tokens_valid_after;
        if valid_after.timestamp() < iat
            || (valid_after.timestamp() == iat && valid_after.timestamp_subsec_nanos() == 0)
        {
            return None;
        }
        let next_second = DateTime::<Utc>::from_timestamp(valid_after.timestamp() + 1, 0)?;
        (next_second - now).to_std().ok()
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub role: Role,
}

/// A client as the admin sees it: never its secret.
#[derive(Debug, Clone, Serialize)]
pub struct ClientInfo {
    pub client_id: String,
    pub name: String,
    pub role: Role,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Tokens issued before this instant are refused (the last disable,
    /// enable or rotation); absent when there was none.
    pub tokens_valid_after: Option<DateTime<Utc>>,
}

// `tokens_valid_after` starts at '-infinity', which chrono cannot hold.
const CLIENT_SELECT: &str = "SELECT client_id, name, role, enabled, created_by, created_at,
    CASE WHEN isfinite(tokens_valid_after) THEN tokens_valid_after END AS tokens_valid_after_utc
    FROM oauth_clients ORDER BY created_at, client_id";
const CLIENT_BY_ID: &str = "SELECT client_id, name, role, enabled, created_by, created_at,
    CASE WHEN isfinite(tokens_valid_after) THEN tokens_valid_after END AS tokens_valid_after_utc
    FROM oauth_clients WHERE client_id = $1";
const CLIENT_SET_ENABLED: &str = "UPDATE oauth_clients SET enabled = $2, tokens_valid_after = now()
    WHERE client_id = $1
    RETURNING client_id, name, role, enabled, created_by, created_at, tokens_valid_after AS tokens_valid_after_utc";
const CLIENT_SET_SECRET: &str = "UPDATE oauth_clients SET secret_hash = $2, tokens_valid_after = now()
    WHERE client_id = $1
    RETURNING client_id, name, role, enabled, created_by, created_at, tokens_valid_after AS tokens_valid_after_utc";

fn client_from(row: &sqlx::postgres::PgRow) -> Result<ClientInfo, sqlx::Error> {
    Ok(ClientInfo {
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        role: parse_role(row.try_get::<&str, _>("role")?)?,
        enabled: row.try_get("enabled")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        tokens_valid_after: row.try_get("tokens_valid_after_utc")?,
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum RefreshError {
    /// Unknown, expired or revoked.
    Invalid,
    /// A spent token presented again: its family is now revoked.
    Reused,
    /// The token's user is disabled (its sessions were ended with it): the
    /// holder, who signed in as that user, is told so.
    Disabled,
}

fn parse_role(s: &str) -> Result<Role, sqlx::Error> {
    s.parse()
        .map_err(|e: domain::values::UnknownValue| sqlx::Error::Decode(Box::new(e)))
}

fn user_from(row: &sqlx::postgres::PgRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: parse_role(row.try_get::<&str, _>("role")?)?,
        enabled: row.try_get("enabled")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        tokens_valid_after: row
            .try_get::<Option<DateTime<Utc>>, _>("tokens_valid_after_utc")?
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    })
}

// `tokens_valid_after` starts at '-infinity', which chrono cannot hold.
const USER_COLUMNS: &str = "id, username, display_name, role, enabled, created_at, updated_at,
    CASE WHEN isfinite(tokens_valid_after) THEN tokens_valid_after END AS tokens_valid_after_utc";

pub fn validate_username(username: &str) -> Result<String, IdentityError> {
    let u = username.trim();
    if u.is_empty() || u.len() > USERNAME_MAX {
        return Err(invalid(
            "username",
            format!("must be 1 to {USERNAME_MAX} characters"),
        ));
    }
    if !u
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(invalid(
            "username",
            "may hold only letters, digits and . _ - @",
        ));
    }
    Ok(u.to_string())
}

pub fn validate_password(password: &str) -> Result<(), IdentityError> {
    let n = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        return Err(invalid(
            "password",
            format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(invalid("password", "must not contain control characters"));
    }
    Ok(())
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

async fn insert_refresh_on(
    conn: &mut sqlx::PgConnection,
    username: &str,
    family: Uuid,
    ttl: Duration,
) -> Result<String, IdentityError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("rt_{}", hex::encode(bytes));
    sqlx::query("INSERT INTO refresh_tokens (token_hash, family_id, username, expires_at) VALUES ($1, $2, $3, now() + $4)")
        .bind(token_hash(&token))
        .bind(family)
        .bind(username)
        .bind(ttl)
        .execute(conn)
        .await?;
    Ok(token)
}

#[derive(Clone)]
pub struct Identity {
    pool: PgPool,
    /// Bounds the argon2 work of this service (and its clones).
    gate: HashGate,
    /// The process's revocation listener: a token-liveness cache it
    /// invalidates, and the pushes WebSockets re-check on. Without it every
    /// liveness check queries.
    revocations: Option<Revocations>,
}

impl Identity {
    pub fn new(pool: PgPool) -> Self {
        Identity {
            pool,
            gate: HashGate::default(),
            revocations: None,
        }
    }

    /// Checks liveness through `revocations`' cache, and tells it at once
    /// of the tokens this process ends.
    pub fn with_revocations(mut self, revocations: Revocations) -> Self {
        self.revocations = Some(revocations);
        self
    }

    pub fn revocations(&self) -> Option<&Revocations> {
        self.revocations.as_ref()
    }

    /// After the commit of a change that ended tokens: other processes learn
    /// of it by its NOTIFY, this one at once.
    fn ended_here(&self, ended: Ended) {
        if let Some(r) = &self.revocations {
            r.ended_here(ended);
        }
    }

    pub async fn user_count(&self) -> Result<i64, IdentityError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn audit(
        &self,
        tx: &mut sqlx::PgConnection,
        username: &str,
        action: &str,
        detail: serde_json::Value,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<(), IdentityError> {
        sqlx::query("INSERT INTO user_audit (username, action, detail, actor, request_id) VALUES ($1, $2, $3, $4, $5)")
            .bind(username)
            .bind(action)
            .bind(detail)
            .bind(actor)
            .bind(request_id)
            .execute(tx)
            .await?;
        Ok(())
    }

    pub async fn create_user(
        &self,
        username: &str,
        display_name: Option<&str>,
        password: &str,
        role: Role,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<User, IdentityError> {
        let username = validate_username(username)?;
        validate_password(password)?;
        let display_name = match display_name.map(str::trim) {
            Some(d) if !d.is_empty() => domain::values::single_line("display_name", d, 128)
                .map_err(|e| invalid("display_name", e.to_string()))?,
            _ => username.clone(),
        };
        let hash = hash_secret(&self.gate, password.to_string())
            .await
            .map_err(|e| IdentityError::Hashing(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO users (username, display_name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING {USER_COLUMNS}"
        ))
        .bind(&username)
        .bind(&display_name)
        .bind(&hash)
        .bind(role.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some("users_username_key") => {
                IdentityError::UsernameTaken(username.clone())
            }
            _ => e.into(),
        })?;
        let user = user_from(&row)?;
        self.audit(
            &mut tx,
            &username,
            "created",
            serde_json::json!({"role": role, "display_name": display_name}),
            actor,
            request_id,
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn list_users(&self) -> Result<Vec<User>, IdentityError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY lower(username)"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(user_from).collect::<Result<_, _>>()?)
    }

    pub async fn get_user(&self, username: &str) -> Result<Option<User>, IdentityError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE lower(username) = lower($1)"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from).transpose()?)
    }

    /// Applies a change to a user, cuts their live tokens, and audits it.
    #[allow(clippy::too_many_arguments)]
    async fn change_user(
        &self,
        username: &str,
        set: &str,
        bind: Option<String>,
        action: &str,
        detail: serde_json::Value,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<User, IdentityError> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE users SET {set}, tokens_valid_after = now(), updated_at = now()
              WHERE lower(username) = lower($1) RETURNING {USER_COLUMNS}"
        );
        let mut q = sqlx::query(&sql).bind(username);
        if let Some(b) = bind {
            q = q.bind(b);
        }
        let row = q
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| IdentityError::NoSuchUser(username.to_string()))?;
        let user = user_from(&row)?;
        sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE lower(username) = lower($1) AND revoked_at IS NULL")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        self.audit(&mut tx, &user.username, action, detail, actor, request_id)
            .await?;
        tx.commit().await?;
        self.ended_here(Ended::Principal {
            kind: ActorKind::User,
            name: user.username.clone(),
        });
        Ok(user)
    }

    pub async fn set_role(
        &self,
        username: &str,
        role: Role,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<User, IdentityError> {
        self.change_user(
            username,
            "role = $2",
            Some(role.as_str().into()),
            "role_changed",
            serde_json::json!({"role": role}),
            actor,
            request_id,
        )
        .await
    }

    pub async fn set_enabled(
        &self,
        username: &str,
        enabled: bool,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<User, IdentityError> {
        let (set, action) = if enabled {
            ("enabled = true", "enabled")
        } else {
            ("enabled = false", "disabled")
        };
        self.change_user(
            username,
            set,
            None,
            action,
            serde_json::json!({}),
            actor,
            request_id,
        )
        .await
    }

    pub async fn reset_password(
        &self,
        username: &str,
        password: &str,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<User, IdentityError> {
        validate_password(password)?;
        let hash = hash_secret(&self.gate, password.to_string())
            .await
            .map_err(|e| IdentityError::Hashing(e.to_string()))?;
        self.change_user(
            username,
            "password_hash = $2",
            Some(hash),
            "password_reset",
            serde_json::json!({}),
            actor,
            request_id,
        )
        .await
    }

    /// The user if the password is right and the account enabled. Unknown
    /// users cost the same argon2 verification as known ones.
    /// Checks a password. A disabled account is told apart only when the
    /// password is right, so the answer reveals nothing to who lacks it.
    pub async fn authenticate_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<PasswordCheck, IdentityError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower($1)"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        let (user, hash) = match &row {
            Some(r) => (
                Some(user_from(r)?),
                Some(r.try_get::<String, _>("password_hash")?),
            ),
            None => (None, None),
        };
        let ok = verify_secret(&self.gate, hash, password.to_string())
            .await
            .map_err(hashing)?;
        Ok(match user {
            Some(u) if ok && u.enabled => PasswordCheck::Valid(u),
            Some(u) if ok => PasswordCheck::Disabled(u),
            _ => PasswordCheck::Invalid,
        })
    }

    /// A new OAuth2 client and its secret (shown once; only its hash is
    /// kept). Clients are machines that raise alerts: `integration` only.
    pub async fn create_client(
        &self,
        name: &str,
        role: Role,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<(String, String), IdentityError> {
        if role != Role::Integration {
            return Err(invalid(
                "role",
                format!("a client's role must be integration, not {role}"),
            ));
        }
        let name = domain::values::single_line("name", name, 128)
            .map_err(|e| invalid("name", e.to_string()))?;
        let client_id = format!("cli_{}", generate_secret(12));
        let secret = generate_secret(32);
        let hash = hash_secret(&self.gate, secret.clone())
            .await
            .map_err(|e| IdentityError::Hashing(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO oauth_clients (client_id, name, secret_hash, role, created_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(&client_id)
            .bind(&name)
            .bind(&hash)
            .bind(role.as_str())
            .bind(actor)
            .execute(&mut *tx)
            .await?;
        self.audit(
            &mut tx,
            &client_id,
            "client_created",
            serde_json::json!({"name": name, "role": role}),
            actor,
            request_id,
        )
        .await?;
        tx.commit().await?;
        Ok((client_id, secret))
    }

    /// Every client, oldest first; never their secrets.
    pub async fn list_clients(&self) -> Result<Vec<ClientInfo>, IdentityError> {
        let rows = sqlx::query(CLIENT_SELECT).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(client_from).collect::<Result<_, _>>()?)
    }

    pub async fn get_client(&self, client_id: &str) -> Result<Option<ClientInfo>, IdentityError> {
        let row = sqlx::query(CLIENT_BY_ID)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(client_from).transpose()?)
    }

    /// Enables or disables a client. Either way its live tokens end: a
    /// disabled client's at once, and a re-enabled one starts afresh.
    pub async fn set_client_enabled(
        &self,
        client_id: &str,
        enabled: bool,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<ClientInfo, IdentityError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(CLIENT_SET_ENABLED)
            .bind(client_id)
            .bind(enabled)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| IdentityError::NoSuchClient(client_id.to_string()))?;
        let client = client_from(&row)?;
        let action = if enabled {
            "client_enabled"
        } else {
            "client_disabled"
        };
        self.audit(
            &mut tx,
            client_id,
            action,
            serde_json::json!({}),
            actor,
            request_id,
        )
        .await?;
        tx.commit().await?;
        self.ended_here(Ended::Principal {
            kind: ActorKind::Client,
            name: client.client_id.clone(),
        });
        Ok(client)
    }

    /// A new secret for a client (shown once). The old one stops working at
    /// once, and so do the tokens issued with it.
    pub async fn rotate_client_secret(
        &self,
        client_id: &str,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<(ClientInfo, String), IdentityError> {
        let secret = generate_secret(32);
        let hash = hash_secret(&self.gate, secret.clone())
            .await
            .map_err(|e| IdentityError::Hashing(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(CLIENT_SET_SECRET)
            .bind(client_id)
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| IdentityError::NoSuchClient(client_id.to_string()))?;
        let client = client_from(&row)?;
        self.audit(
            &mut tx,
            client_id,
            "client_secret_rotated",
            serde_json::json!({}),
            actor,
            request_id,
        )
        .await?;
        tx.commit().await?;
        self.ended_here(Ended::Principal {
            kind: ActorKind::Client,
            name: client.client_id.clone(),
        });
        Ok((client, secret))
    }

    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<Client>, IdentityError> {
        let row = sqlx::query("SELECT client_id, name, role, secret_hash, enabled FROM oauth_clients WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        let hash = row
            .as_ref()
            .map(|r| r.try_get::<String, _>("secret_hash"))
            .transpose()?;
        let ok = verify_secret(&self.gate, hash, secret.to_string())
            .await
            .map_err(hashing)?;
        match row {
            Some(r) if ok && r.try_get::<bool, _>("enabled")? => Ok(Some(Client {
                client_id: r.try_get("client_id")?,
                name: r.try_get("name")?,
                role: parse_role(r.try_get::<&str, _>("role")?)?,
            })),
            _ => Ok(None),
        }
    }

    /// Starts a new refresh-token family for a user.
    pub async fn issue_refresh(
        &self,
        username: &str,
        ttl: Duration,
    ) -> Result<String, IdentityError> {
        self.insert_refresh(username, Uuid::new_v4(), ttl).await
    }

    async fn insert_refresh(
        &self,
        username: &str,
        family: Uuid,
        ttl: Duration,
    ) -> Result<String, IdentityError> {
        let mut conn = self.pool.acquire().await?;
        insert_refresh_on(&mut conn, username, family, ttl).await
    }

    /// Spends a refresh token and issues its successor, in one transaction.
    /// The owner's row is locked first (`FOR SHARE`, the order
    /// `change_user` takes), then the token (`FOR UPDATE`): a role change,
    /// disable, password reset or logout either comes before and refuses
    /// the successor, or waits and revokes it. A spent token seen again
    /// means it leaked: the whole family is revoked. A family older than
    /// `family_max` is over, however often it was refreshed.
    pub async fn rotate_refresh(
        &self,
        token: &str,
        ttl: Duration,
        family_max: Duration,
    ) -> Result<Result<(User, String), RefreshError>, IdentityError> {
        let hash = token_hash(token);
        let mut tx = self.pool.begin().await?;
        let owner: Option<String> =
            sqlx::query_scalar("SELECT username FROM refresh_tokens WHERE token_hash = $1")
                .bind(&hash)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(owner) = owner else {
            return Ok(Err(RefreshError::Invalid));
        };
        let user = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE lower(username) = lower($1) FOR SHARE"
        ))
        .bind(&owner)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()?;
        let row = sqlx::query(
            "SELECT family_id, spent_at IS NOT NULL AS spent, revoked_at IS NOT NULL AS revoked,
                    expires_at > now() AS live, issued_at
               FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Err(RefreshError::Invalid));
        };
        let family: Uuid = row.try_get("family_id")?;
        if row.try_get::<bool, _>("spent")? {
            sqlx::query(
                "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
            )
            .bind(family)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::warn!("refresh token reuse detected: family revoked");
            return Ok(Err(RefreshError::Reused));
        }
        // A statement of its own, after the lock: it sees what committed while we waited.
        let (family_revoked, family_age): (bool, f64) = sqlx::query_as(
            "SELECT bool_or(revoked_at IS NOT NULL), extract(epoch FROM now() - min(issued_at))::float8
               FROM refresh_tokens WHERE family_id = $1",
        )
        .bind(family)
        .fetch_one(&mut *tx)
        .await?;
        let issued_at: DateTime<Utc> = row.try_get("issued_at")?;
        let refused = row.try_get::<bool, _>("revoked")?
            || !row.try_get::<bool, _>("live")?
            || family_revoked
            || family_age > family_max.num_seconds() as f64;
        let user = match user {
            Some(u) if !refused && u.enabled && issued_at >= u.tokens_valid_after => u,
            other => {
                sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
                )
                .bind(family)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                let disabled = other.is_some_and(|u| !u.enabled);
                return Ok(Err(if disabled {
                    RefreshError::Disabled
                } else {
                    RefreshError::Invalid
                }));
            }
        };
        sqlx::query("UPDATE refresh_tokens SET spent_at = now() WHERE token_hash = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        let next = insert_refresh_on(&mut tx, &user.username, family, ttl).await?;
        tx.commit().await?;
        Ok(Ok((user, next)))
    }

    /// Logout: the access token's `jti` and the refresh token's family.
    pub async fn revoke(
        &self,
        claims: &Claims,
        refresh_token: Option<&str>,
    ) -> Result<(), IdentityError> {
        let expires = DateTime::<Utc>::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(claims.jti)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
        if let Some(token) = refresh_token {
            sqlx::query(
                "UPDATE refresh_tokens SET revoked_at = now()
                  WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND lower(username) = lower($2))
                    AND revoked_at IS NULL",
            )
            .bind(token_hash(token))
            .bind(&claims.sub)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.ended_here(Ended::Token(claims.jti));
        Ok(())
    }

    /// Whether a verified token is still live: not revoked, its principal
    /// enabled, and issued after the principal's last security change.
    /// Checked on every request, in every process: answered from the
    /// liveness cache when it knows the token (see [`Revocations`]).
    pub async fn token_is_live(&self, claims: &Claims) -> Result<bool, IdentityError> {
        let cache = self.revocations.as_ref().map(Revocations::cache);
        let ticket = match cache.map(|c| c.lookup(claims)) {
            Some(Lookup::Live) => {
                metrics::counter!("ticketera_token_liveness_checks_total", "answer" => "cache")
                    .increment(1);
                return Ok(true);
            }
            Some(Lookup::Miss(ticket)) => Some(ticket),
            Some(Lookup::Bypass) | None => None,
        };
        metrics::counter!("ticketera_token_liveness_checks_total", "answer" => "database")
            .increment(1);
        let live = self.query_token_is_live(claims).await?;
        if let (true, Some(cache), Some(ticket)) = (live, cache, ticket) {
            cache.remember(claims, ticket);
        }
        Ok(live)
    }

    async fn query_token_is_live(&self, claims: &Claims) -> Result<bool, IdentityError> {
        let sql = match claims.kind {
            ActorKind::User => {
                "SELECT u.enabled AND to_timestamp($2) >= u.tokens_valid_after AND u.role = ANY($4)
                        AND NOT EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = $3)
                   FROM users u WHERE lower(u.username) = lower($1)"
            }
            ActorKind::Client => {
                "SELECT c.enabled AND to_timestamp($2) >= c.tokens_valid_after AND c.role = ANY($4)
                        AND NOT EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = $3)
                   FROM oauth_clients c WHERE c.client_id = $1"
            }
            ActorKind::System => return Ok(false),
        };
        let roles: Vec<String> = claims
            .roles
            .iter()
            .map(|r| r.as_str().to_string())
            .collect();
        let live: Option<bool> = sqlx::query_scalar(sql)
            .bind(&claims.sub)
            .bind(claims.iat as f64)
            .bind(claims.jti)
            .bind(&roles)
            .fetch_optional(&self.pool)
            .await?;
        Ok(live.unwrap_or(false))
    }

    /// Counts a login attempt against every key first, atomically (one
    /// `INSERT … ON CONFLICT … RETURNING`), then decides: the seconds to
    /// wait when any key is now past its limit. Parallel guesses each get
    /// their own count, so no more than the limit are ever checked. The
    /// attempt stays counted as a failure until [`Identity::attempt_succeeded`].
    pub async fn count_attempt(
        &self,
        keys: &[(String, i32)],
    ) -> Result<Option<i64>, IdentityError> {
        let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        let rows: Vec<(String, i32, f64)> = sqlx::query_as(COUNT_ATTEMPT)
            .bind(&names)
            .bind(THROTTLE_WINDOW_SECS as f64)
            .fetch_all(&self.pool)
            .await?;
        let mut wait = None;
        for (key, failures, age) in rows {
            let Some((_, max)) = keys.iter().find(|(k, _)| *k == key) else {
                continue;
            };
            let left = THROTTLE_WINDOW_SECS - age as i64;
            if failures > *max && left > 0 {
                wait = Some(wait.unwrap_or(0).max(left));
            }
        }
        Ok(wait)
    }

    /// A counted attempt was right: the account's count is cleared, the
    /// address's given back.
    pub async fn attempt_succeeded(
        &self,
        clear: &str,
        give_back: &str,
    ) -> Result<(), IdentityError> {
        sqlx::query(
            "WITH cleared AS (DELETE FROM login_failures WHERE key = $1)
             UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = $2",
        )
        .bind(clear)
        .bind(give_back)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// One line of a user's audit trail.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub username: String,
    pub action: String,
    pub detail: serde_json::Value,
    pub actor: String,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
}

impl Identity {
    pub async fn audit_trail(&self, username: &str) -> Result<Vec<AuditEntry>, IdentityError> {
        let rows = sqlx::query(
            "SELECT username, action, detail, actor, request_id, at FROM user_audit
              WHERE lower(username) = lower($1) ORDER BY at, id",
        )
        .bind(username)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    username: r.try_get("username")?,
                    action: r.try_get("action")?,
                    detail: r.try_get("detail")?,
                    actor: r.try_get("actor")?,
                    request_id: r.try_get("request_id")?,
                    at: r.try_get("at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}
