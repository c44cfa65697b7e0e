//! One error type for every HTTP route, rendered as RFC 9457 problem details
//! with a stable `code`. Internal detail is logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{ErrorKind, TicketError};
use serde::Serialize;

use crate::event_store::StoreError;

#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    Status {
        status: StatusCode,
        code: &'static str,
        detail: String,
        field: Option<String>,
    },
    #[error("throttled")]
    TooManyRequests { retry_after_secs: i64 },
    /// Overloaded for a moment (e.g. every password-hashing slot taken): 503
    /// with `Retry-After`.
    #[error("busy")]
    Busy { retry_after_secs: i64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Status {
            status,
            code,
            detail: detail.into(),
            field: None,
        }
    }
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a valid bearer token is required",
        )
    }
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role does not allow this",
        )
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }
    pub fn validation(field: &str, detail: impl Into<String>) -> Self {
        ApiError::Status {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            detail: detail.into(),
            field: Some(field.to_string()),
        }
    }
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = ?detail.to_string(), "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "a dependency is unavailable; try again shortly",
        )
    }
    /// Logs the cause; the client sees an opaque 500.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Status { status, .. } => *status,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn problem_type(code: &str) -> String {
    format!("https://ticketera.invalid/problems/{code}")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (code, detail, field, retry) = match self {
            ApiError::Status {
                code,
                detail,
                field,
                ..
            } => (code, Some(detail), field, None),
            ApiError::TooManyRequests { retry_after_secs } => (
                "too_many_requests",
                Some("too many attempts; wait before trying again".to_string()),
                None,
                Some(retry_after_secs.max(1)),
            ),
            ApiError::Busy { retry_after_secs } => (
                "busy",
                Some("the server is busy; try again shortly".to_string()),
                None,
                Some(retry_after_secs.max(1)),
            ),
            ApiError::Internal(cause) => {
                tracing::error!(?cause, "internal error");
                ("internal", None, None, None)
            }
        };
        let body = Problem {
            type_: problem_type(code),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            code: code.to_string(),
            detail,
            field,
        };
        problem_response(status, &body, retry)
    }
}

pub fn problem_response(status: StatusCode, body: &Problem, retry_after: Option<i64>) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut res = (status, bytes).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(secs) = retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    res
}

impl From<TicketError> for ApiError {
    fn from(e: TicketError) -> Self {
        let status = match e.kind() {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Unavailable => return ApiError::unavailable(e),
        };
        let field = match &e {
            TicketError::Validation { field, .. } => Some(field.to_string()),
            _ => None,
        };
        ApiError::Status {
            status,
            code: e.code(),
            detail: e.to_string(),
            field,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            StoreError::Conflict => ApiError::conflict("concurrent_change", e.to_string()),
            StoreError::FingerprintOwned(_) => {
                ApiError::conflict("fingerprint_owned", e.to_string())
            }
            StoreError::VersionMismatch { .. } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
                e.to_string(),
            ),
            StoreError::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                e.to_string(),
            ),
            // Handled by the caller, which answers the stored response.
            StoreError::IdempotentReplay(_) => ApiError::internal("unhandled idempotent replay"),
            StoreError::Unavailable(err) => ApiError::unavailable(err),
            StoreError::Database(err) => ApiError::internal(err),
            StoreError::Corrupt(err) => ApiError::internal(err),
        }
    }
}

impl From<crate::identity::IdentityError> for ApiError {
    fn from(e: crate::identity::IdentityError) -> Self {
        use crate::identity::IdentityError as E;
        match e {
            E::UsernameTaken(_) => ApiError::conflict("username_taken", e.to_string()),
            E::NoSuchUser(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "user_not_found", e.to_string())
            }
            E::NoSuchClient(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "client_not_found", e.to_string())
            }
            E::Invalid { field, message } => ApiError::validation(field, message),
            E::Hashing(m) => ApiError::internal(m),
            E::Busy => ApiError::Busy {
                retry_after_secs: 1,
            },
            E::Database(err) => match err {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    ApiError::unavailable(err)
                }
                other => ApiError::internal(other),
            },
        }
    }
}

impl From<crate::saved_views::SavedViewError> for ApiError {
    fn from(e: crate::saved_views::SavedViewError) -> Self {
        use crate::saved_views::SavedViewError as E;
        match e {
            E::Invalid { field, message } => ApiError::validation(field, message),
            E::NameTaken(_) => ApiError::conflict("view_name_taken", e.to_string()),
            E::TooMany => ApiError::conflict("too_many_views", e.to_string()),
            E::NotFound => ApiError::not_found("view"),
            E::Database(err) => match err {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    ApiError::unavailable(err)
                }
                other => ApiError::internal(other),
            },
        }
    }
}
