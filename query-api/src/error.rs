//! Errors of the query API, rendered as GraphQL errors with a stable
//! `extensions.code`. Internal detail is logged, never sent.

use async_graphql::ErrorExtensions;
use platform::event_store::StoreError;
use platform::position::Position;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("the read model has not reached position {wanted} yet; retry shortly")]
    NotYetProjected { wanted: Position },
    #[error("{0}")]
    BadInput(String),
    #[error("not a valid cursor")]
    BadCursor,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("a valid bearer token is required")]
    Unauthenticated,
    #[error("a dependency is unavailable; try again shortly")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl QueryError {
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::NotYetProjected { .. } => "NOT_YET_PROJECTED",
            QueryError::BadInput(_) => "BAD_USER_INPUT",
            QueryError::BadCursor => "BAD_CURSOR",
            QueryError::Forbidden => "FORBIDDEN",
            QueryError::Unauthenticated => "UNAUTHENTICATED",
            QueryError::Unavailable(_) => "UNAVAILABLE",
            QueryError::Internal(_) => "INTERNAL",
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        QueryError::BadInput(message.into())
    }
}

impl From<sqlx::Error> for QueryError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                QueryError::Unavailable(e.to_string())
            }
            e => QueryError::Internal(e.to_string()),
        }
    }
}

impl From<StoreError> for QueryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(e) => QueryError::Unavailable(e.to_string()),
            other => QueryError::Internal(other.to_string()),
        }
    }
}

impl From<platform::identity::IdentityError> for QueryError {
    fn from(e: platform::identity::IdentityError) -> Self {
        match e {
            platform::identity::IdentityError::Database(e) => e.into(),
            other => QueryError::Internal(other.to_string()),
        }
    }
}

impl From<QueryError> for async_graphql::Error {
    fn from(e: QueryError) -> Self {
        match &e {
            QueryError::Unavailable(detail) => {
                tracing::error!(?detail, "query dependency unavailable")
            }
            QueryError::Internal(detail) => tracing::error!(?detail, "query failed"),
            _ => {}
        }
        let code = e.code();
        let wanted = match &e {
            QueryError::NotYetProjected { wanted } => Some(wanted.cursor()),
            _ => None,
        };
        async_graphql::Error::new(e.to_string()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(w) = &wanted {
                ext.set("minPosition", w.as_str());
            }
        })
    }
}

pub type QueryResult<T> = Result<T, QueryError>;
