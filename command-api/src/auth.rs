//! The authenticated principal of a request: a verified, live bearer token.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use domain::{permissions, Action, ActorKind, Role};
use platform::auth::tokens::Claims;
use platform::http::middleware::RequestId;
use platform::http::ApiError;

use crate::AppState;

#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub kind: ActorKind,
    pub roles: Vec<Role>,
    pub claims: Claims,
    pub request_id: String,
}

impl Principal {
    /// 403 unless one of the principal's roles permits `action` (the matrix in `domain`).
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if permissions::any_permits(&self.roles, action) {
            Ok(())
        } else {
            tracing::info!(principal = %self.name, ?action, "forbidden by role");
            Err(ApiError::forbidden())
        }
    }
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Verifies the token (signature, claims) and that it is still live
/// (revocation, disabled principal): on every request, in every process.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Claims, ApiError> {
    use platform::auth::authenticate::{authenticate, AuthError};
    authenticate(&state.keys, &state.identity, token)
        .await
        .map_err(|e| match e {
            AuthError::Refused(_) => ApiError::unauthorized(),
            AuthError::Unavailable(e) => ApiError::unavailable(e),
        })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(ApiError::unauthorized)?;
        let claims = authenticate(state, token).await?;
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        Ok(Principal {
            name: claims.sub.clone(),
            kind: claims.kind,
            roles: claims.roles.clone(),
            claims,
            request_id,
        })
    }
}
