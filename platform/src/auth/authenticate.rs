//! Who is calling: a bearer token verified (signature, claims) and checked
//! live (revocation, disabled principal, changed role) on every request, in
//! every process. Shared by the command API and the query API, over HTTP and
//! WebSocket.

use crate::auth::tokens::{Claims, TokenError, TokenKeys};
use crate::identity::{Identity, IdentityError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is refused. The reason is for logs only: clients learn
    /// nothing more than "unauthenticated".
    #[error("token refused: {0}")]
    Refused(String),
    /// The keys or the identity store could not be read.
    #[error("authentication unavailable: {0}")]
    Unavailable(String),
}

impl From<IdentityError> for AuthError {
    fn from(e: IdentityError) -> Self {
        AuthError::Unavailable(e.to_string())
    }
}

/// The token of an `Authorization: Bearer <token>` value.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Signature and claims only (no database unless the kid is unknown).
pub async fn verify(keys: &TokenKeys, token: &str) -> Result<Claims, AuthError> {
    match keys.verify(token).await {
        Ok(claims) => Ok(claims),
        Err(TokenError::Invalid(reason)) => {
            tracing::info!(?reason, "bearer token refused");
            Err(AuthError::Refused(reason))
        }
        Err(e) => Err(AuthError::Unavailable(e.to_string())),
    }
}

/// Whether verified claims are still live: not revoked, principal enabled,
/// roles unchanged since issue.
pub async fn check_live(identity: &Identity, claims: &Claims) -> Result<(), AuthError> {
    if identity.token_is_live(claims).await? {
        Ok(())
    } else {
        tracing::info!(sub = %claims.sub, "bearer token no longer live");
        Err(AuthError::Refused("no longer live".into()))
    }
}

/// Verifies the token and that it is still live.
pub async fn authenticate(
    keys: &TokenKeys,
    identity: &Identity,
    token: &str,
) -> Result<Claims, AuthError> {
    let claims = verify(keys, token).await?;
    check_live(identity, &claims).await?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_token_required() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
    }
}
