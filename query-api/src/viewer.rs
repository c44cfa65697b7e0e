//! The authenticated caller of a GraphQL operation, and the role guard every
//! root field carries (the matrix itself lives in `domain::permissions`).

use async_graphql::{Context, Guard};
use domain::{permissions, Action, ActorKind, Role};
use platform::auth::tokens::Claims;

use crate::error::QueryError;

/// A verified, live principal; put in the request (HTTP) or connection
/// (WebSocket) data before anything executes.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub name: String,
    pub kind: ActorKind,
    pub roles: Vec<Role>,
    /// Seconds since the epoch after which the token is dead.
    pub expires_at: i64,
}

impl Viewer {
    pub fn from_claims(claims: &Claims) -> Self {
        Viewer {
            name: claims.sub.clone(),
            kind: claims.kind,
            roles: claims.roles.clone(),
            expires_at: claims.exp,
        }
    }

    pub fn permits(&self, action: Action) -> bool {
        permissions::any_permits(&self.roles, action)
    }
}

/// Requires a viewer whose roles permit `action`.
pub struct RoleGuard(pub Action);

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let viewer = ctx
            .data_opt::<Viewer>()
            .ok_or(QueryError::Unauthenticated)?;
        if viewer.permits(self.0) {
            Ok(())
        } else {
            tracing::info!(principal = %viewer.name, action = ?self.0, "forbidden by role");
            Err(QueryError::Forbidden.into())
        }
    }
}

/// The viewer of this operation (the guard has already required one).
pub fn viewer<'a>(ctx: &'a Context<'_>) -> Result<&'a Viewer, QueryError> {
    ctx.data_opt::<Viewer>().ok_or(QueryError::Unauthenticated)
}
