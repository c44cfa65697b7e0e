//! The authenticated caller of a REST route, for every service: a bearer
//! token verified (signature, claims) and checked live on every request.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use domain::{permissions, Action, ActorKind, Role};

use super::middleware::RequestId;
use super::ApiError;
use crate::auth::authenticate::{authenticate, bearer_token, AuthError};
use crate::auth::tokens::{Claims, TokenKeys};
use crate::identity::Identity;

/// What verifying a token needs; a service's state hands one out through
/// `FromRef`, so `Principal` extracts under any state.
#[derive(Clone)]
pub struct Authenticator {
    pub keys: TokenKeys,
    pub identity: Identity,
}

impl Authenticator {
    pub async fn claims(&self, token: &str) -> Result<Claims, ApiError> {
        authenticate(&self.keys, &self.identity, token)
            .await
            .map_err(|e| match e {
                AuthError::Refused(_) => ApiError::unauthorized(),
                AuthError::Unavailable(e) => ApiError::unavailable(e),
            })
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub kind: ActorKind,
    pub roles: Vec<Role>,
    pub claims: Claims,
    pub request_id: String,
    /// The client's address, trusted proxies applied (see
    /// [`super::middleware::ClientAddr`]); recorded in event metadata.
    pub client_addr: Option<std::net::IpAddr>,
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

impl<S> FromRequestParts<S> for Principal
where
    S: Send + Sync,
    Authenticator: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(ApiError::unauthorized)?;
        let claims = Authenticator::from_ref(state).claims(token).await?;
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let client_addr = parts
            .extensions
            .get::<super::middleware::ClientAddr>()
            .and_then(|c| c.0);
        Ok(Principal {
            name: claims.sub.clone(),
            kind: claims.kind,
            roles: claims.roles.clone(),
            claims,
            request_id,
            client_addr,
        })
    }
}
