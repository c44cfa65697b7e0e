//! OAuth2 token endpoint (RFC 6749): `password` for the first-party SPA,
//! `client_credentials` for integrations, `refresh_token` with rotation and
//! reuse detection. Plus logout and the public JWKS.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Duration;
use domain::ActorKind;
use platform::http::middleware::ClientAddr;
use platform::http::ApiError;
use platform::identity::{PasswordCheck, RefreshError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::session_cookie;
use crate::AppState;
use platform::http::Principal;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(logout))
        .routes(routes!(jwks))
        .routes(routes!(me))
}

/// The form of a token request; which fields matter depends on the grant.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<i64>,
    basic_challenge: bool,
    /// Why, for a client that words the message (`invalid_credentials`,
    /// `account_disabled`, `session_expired`, …).
    reason: Option<&'static str>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
            basic_challenge: false,
            reason: None,
        }
    }
    fn because(self, reason: &'static str) -> Self {
        OAuthError {
            reason: Some(reason),
            ..self
        }
    }
    fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }
    fn invalid_client(basic: bool) -> Self {
        OAuthError {
            basic_challenge: basic,
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            )
        }
    }
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> Self {
        if let ApiError::Busy { retry_after_secs } = e {
            // RFC 6749's own word for it.
            return OAuthError {
                retry_after: Some(retry_after_secs),
                ..OAuthError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the server is busy; try again shortly",
                )
            };
        }
        let status = e.status();
        if status.is_server_error() {
            // Logged by ApiError's own rendering; the client sees no detail.
            let _ = e.into_response();
            return OAuthError::new(
                status,
                "server_error",
                "the server could not process the request",
            );
        }
        OAuthError::new(status, "invalid_request", e.to_string())
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "error": self.error,
            "error_description": self.description,
            "code": self.error,
            "status": self.status.as_u16(),
        });
        if let Some(reason) = self.reason {
            body["reason"] = json!(reason);
        }
        let mut res = (self.status, Json(body)).into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                h.insert(header::RETRY_AFTER, v);
            }
        }
        if self.basic_challenge {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"ticketera\""),
            );
        }
        res
    }
}

fn login_outcome(grant: &str, outcome: &'static str) {
    metrics::counter!("ticketera_logins_total", "grant" => grant.to_string(), "outcome" => outcome)
        .increment(1);
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded.
    let id = urlencoding_decode(id)?;
    let secret = urlencoding_decode(secret)?;
    Some((id, secret))
}

fn urlencoding_decode(s: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={s}")).ok()?;
    pairs.into_iter().next().map(|(_, v)| v)
}

#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse),
        (status = 400, description = "RFC 6749 error: invalid_request, invalid_grant, unsupported_grant_type"),
        (status = 401, description = "invalid_client"),
        (status = 429, description = "Too many failed attempts; see Retry-After"),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .trim()
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "expected Content-Type: application/x-www-form-urlencoded",
        ));
    }
    let form: TokenRequest = serde_urlencoded::from_bytes(&body)
        .map_err(|_| OAuthError::invalid_request("the form could not be parsed"))?;
    // The client behind the gateway (trusted proxies applied at the edge).
    let address = client.to_string();
    let session = Session::of(&state, &headers)?;
    match form.grant_type.as_deref() {
        Some("password") => password_grant(&state, form, &address, session).await,
        Some("client_credentials") => {
            client_credentials_grant(&state, form, &headers, &address).await
        }
        Some("refresh_token") => refresh_grant(&state, form, session).await,
        Some(_) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "supported: password, client_credentials, refresh_token",
        )),
        None => Err(OAuthError::invalid_request("grant_type is required")),
    }
}

/// Where the refresh token goes: the response body (API clients), or the
/// browser session's cookie (the SPA; see `session_cookie`).
#[derive(Clone, Copy)]
enum Session<'a> {
    Body,
    Cookie { request: &'a HeaderMap, ttl: i64 },
}

impl<'a> Session<'a> {
    fn of(state: &AppState, headers: &'a HeaderMap) -> Result<Self, OAuthError> {
        if !session_cookie::wants_cookie(headers) {
            return Ok(Session::Body);
        }
        if !session_cookie::same_origin(headers, &state.settings.cors_origins) {
            return Err(OAuthError::new(
                StatusCode::FORBIDDEN,
                "invalid_request",
                "a browser session request must come from this origin",
            )
            .because("cross_origin"));
        }
        Ok(Session::Cookie {
            request: headers,
            ttl: state.settings.refresh_token_ttl_secs,
        })
    }

    /// The refresh token a refresh grant spends: the form's, else (for the
    /// browser session only) the cookie's.
    fn refresh_token(&self, form: Option<String>) -> Option<String> {
        match self {
            Session::Body => form,
            Session::Cookie { request, .. } => {
                form.or_else(|| session_cookie::refresh_token(request))
            }
        }
    }
}

fn issued(
    access: String,
    ttl: i64,
    refresh: Option<String>,
    scope: String,
    session: Session<'_>,
) -> Response {
    let (in_body, in_cookie) = match session {
        Session::Body => (refresh, None),
        Session::Cookie { request, ttl } => (None, refresh.map(|r| (request, r, ttl))),
    };
    let mut res = Json(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: in_body,
        scope,
    })
    .into_response();
    if let Some((request, token, ttl)) = in_cookie {
        session_cookie::set(&mut res, request, &token, ttl);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

async fn password_grant(
    state: &AppState,
    form: TokenRequest,
    address: &str,
    session: Session<'_>,
) -> Result<Response, OAuthError> {
    let (Some(username), Some(password)) = (form.username, form.password) else {
        return Err(OAuthError::invalid_request(
            "username and password are required",
        ));
    };
    let s = &state.settings;
    let address_key = format!("addr:{address}");
    // A name no account can have (the rules of user creation) is refused
    // before the throttle is touched: it leaves no row behind (nor an argon2
    // hash), and none of its bytes reach a key or a log line.
    let account = platform::identity::validate_username(&username)
        .map_err(|e| OAuthError::invalid_request(e.to_string()).because("invalid_username"))?
        .to_lowercase();
    // The account is counted per address: failures from one address never
    // lock the account's owner out from another.
    let account_key = format!("user:{account}|{address_key}");
    let keys = [
        (address_key.clone(), s.login_max_failures_per_address),
        (account_key.clone(), s.login_max_failures_per_account),
    ];
    // Counted first, then decided: parallel guesses cannot all pass.
    if let Some(wait) = state
        .identity
        .count_attempt(&keys)
        .await
        .map_err(ApiError::from)?
    {
        login_outcome("password", "throttled");
        tracing::info!(client = %address, "login throttled");
        return Err(OAuthError {
            retry_after: Some(wait),
            ..OAuthError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_request",
                "too many failed attempts; try again later",
            )
        });
    }
    let check = state
        .identity
        .authenticate_password(&account, &password)
        .await
        .map_err(ApiError::from)?;
    let user = match check {
        PasswordCheck::Valid(user) => user,
        PasswordCheck::Disabled(user) => {
            // Only who knows the password learns that the account is disabled.
            login_outcome("password", "disabled");
            tracing::info!(user = %user.username, "login refused: account disabled");
            return Err(
                OAuthError::invalid_grant("this account is disabled").because("account_disabled")
            );
        }
        PasswordCheck::Invalid => {
            // Already counted.
            login_outcome("password", "failed");
            // One answer for unknown user and wrong password.
            return Err(OAuthError::invalid_grant("invalid username or password")
                .because("invalid_credentials"));
        }
    };
    state
        .identity
        .attempt_succeeded(&account_key, &address_key)
        .await
        .map_err(ApiError::from)?;
    let (access, _) = state
        .keys
        .issue(&user.username, ActorKind::User, &[user.role])
        .map_err(ApiError::internal)?;
    let refresh = state
        .identity
        .issue_refresh(&user.username, Duration::seconds(s.refresh_token_ttl_secs))
        .await
        .map_err(ApiError::from)?;
    login_outcome("password", "success");
    tracing::info!(user = %user.username, "password login");
    Ok(issued(
        access,
        s.access_token_ttl_secs,
        Some(refresh),
        user.role.to_string(),
        session,
    ))
}

async fn client_credentials_grant(
    state: &AppState,
    form: TokenRequest,
    headers: &HeaderMap,
    address: &str,
) -> Result<Response, OAuthError> {
    let from_header = basic_credentials(headers);
    let basic = from_header.is_some();
    let (id, secret) = match (from_header, form.client_id, form.client_secret) {
        (Some(creds), _, _) => creds,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => return Err(OAuthError::invalid_client(true)),
    };
    // As for people: counted per address, and per client at that address
    // (a guesser elsewhere cannot lock the integration out), before the
    // secret is hashed. An id no client can have costs the address only.
    let s = &state.settings;
    let address_key = format!("addr:{address}");
    let mut keys = vec![(address_key.clone(), s.login_max_failures_per_address)];
    if plausible_client_id(&id) {
        keys.push((
            format!("client:{id}|{address_key}"),
            s.login_max_failures_per_account,
        ));
    }
    if let Some(wait) = state
        .identity
        .count_attempt(&keys)
        .await
        .map_err(ApiError::from)?
    {
        login_outcome("client_credentials", "throttled");
        tracing::info!(client = %address, "client credentials throttled");
        return Err(OAuthError {
            retry_after: Some(wait),
            ..OAuthError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_request",
                "too many failed attempts; try again later",
            )
        });
    }
    let client = if plausible_client_id(&id) {
        state
            .identity
            .authenticate_client(&id, &secret)
            .await
            .map_err(ApiError::from)?
    } else {
        None
    };
    let Some(client) = client else {
        login_outcome("client_credentials", "failed");
        return Err(OAuthError::invalid_client(basic));
    };
    if let Some((client_key, _)) = keys.get(1) {
        state
            .identity
            .attempt_succeeded(client_key, &address_key)
            .await
            .map_err(ApiError::from)?;
    }
    let (access, _) = state
        .keys
        .issue(&client.client_id, ActorKind::Client, &[client.role])
        .map_err(ApiError::internal)?;
    login_outcome("client_credentials", "success");
    Ok(issued(
        access,
        state.settings.access_token_ttl_secs,
        None,
        client.role.to_string(),
        Session::Body,
    ))
}

/// Client ids are generated (`ticketera client create`): short, printable,
/// no separator of the throttle's keys.
fn plausible_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

async fn refresh_grant(
    state: &AppState,
    form: TokenRequest,
    session: Session<'_>,
) -> Result<Response, OAuthError> {
    let Some(token) = session.refresh_token(form.refresh_token) else {
        if matches!(session, Session::Cookie { .. }) {
            return Err(OAuthError::invalid_grant("no session").because("session_expired"));
        }
        return Err(OAuthError::invalid_request("refresh_token is required"));
    };
    let ttl = Duration::seconds(state.settings.refresh_token_ttl_secs);
    match state
        .identity
        .rotate_refresh(
            &token,
            ttl,
            Duration::seconds(state.settings.refresh_session_max_secs),
        )
        .await
        .map_err(ApiError::from)?
    {
        Ok((user, next)) => {
            if let Some(wait) = user.token_issue_delay(chrono::Utc::now()) {
                tokio::time::sleep(wait).await;
            }
            let (access, _) = state
                .keys
                .issue(&user.username, ActorKind::User, &[user.role])
                .map_err(ApiError::internal)?;
            login_outcome("refresh_token", "success");
            Ok(issued(
                access,
                state.settings.access_token_ttl_secs,
                Some(next),
                user.role.to_string(),
                session,
            ))
        }
        Err(RefreshError::Reused) => {
            login_outcome("refresh_token", "reused");
            Err(OAuthError::invalid_grant(
                "refresh token already used; its session has been revoked",
            )
            .because("session_revoked"))
        }
        Err(RefreshError::Disabled) => {
            login_outcome("refresh_token", "disabled");
            Err(OAuthError::invalid_grant("this account is disabled").because("account_disabled"))
        }
        Err(RefreshError::Invalid) => {
            login_outcome("refresh_token", "failed");
            Err(
                OAuthError::invalid_grant("refresh token invalid or expired")
                    .because("session_expired"),
            )
        }
    }
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct LogoutRequest {
    pub refresh_token: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    request_body(content = LogoutRequest, content_type = "application/x-www-form-urlencoded", description = "optional: the refresh token to revoke with its session"),
    responses((status = 204, description = "The access token (and the refresh token's session) revoked")),
    security(("bearer" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form: LogoutRequest = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let session = Session::of(&state, &headers).map_err(|_| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "a browser session request must come from this origin",
        )
    })?;
    let refresh = session.refresh_token(form.refresh_token);
    state
        .identity
        .revoke(&principal.claims, refresh.as_deref())
        .await?;
    tracing::info!(principal = %principal.name, "logout");
    let mut res = StatusCode::NO_CONTENT.into_response();
    if matches!(session, Session::Cookie { .. }) {
        session_cookie::clear(&mut res, &headers);
    }
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/auth/jwks.json", tag = "auth",
    responses((status = 200, description = "Public keys (JWKS) that verify access tokens")))]
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut res = Json(state.keys.jwks()).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub name: String,
    pub kind: String,
    pub roles: Vec<String>,
    pub expires_at: i64,
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = Me)), security(("bearer" = [])))]
pub async fn me(principal: Principal) -> Json<Me> {
    Json(Me {
        name: principal.name,
        kind: format!("{:?}", principal.kind).to_lowercase(),
        roles: principal.roles.iter().map(|r| r.to_string()).collect(),
        expires_at: principal.claims.exp,
    })
}
