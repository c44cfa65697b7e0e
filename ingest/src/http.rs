//! Ingest's HTTP surface: the SIEM webhook, the CMDB admin routes and the
//! dead letters. Errors are problem+json (`platform::http::ApiError`).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{permissions, Action, Role};
use platform::http::middleware::RequestId;
use platform::http::ApiError;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::Ingest;

/// Webhook, CMDB and dead-letter routes, with their state.
pub fn router(ingest: Ingest) -> Router {
    Router::new()
        .route(
            "/api/v1/integrations/webhook",
            post(crate::webhook::webhook),
        )
        .route(
            "/api/v1/admin/assets",
            get(crate::assets::list).post(crate::assets::create),
        )
        .route("/api/v1/admin/assets/import", post(crate::assets::import))
        .route(
            "/api/v1/admin/assets/{id}",
            get(crate::assets::get_one)
                .patch(crate::assets::update)
                .delete(crate::assets::delete),
        )
        .route("/api/v1/admin/dead-letters", get(dead_letters))
        .with_state(ingest)
}

/// The authenticated caller: a verified, live bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub roles: Vec<Role>,
    pub request_id: String,
}

impl Caller {
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if permissions::any_permits(&self.roles, action) {
            Ok(())
        } else {
            tracing::info!(principal = %self.name, ?action, "forbidden by role");
            Err(ApiError::forbidden())
        }
    }
}

impl FromRequestParts<Ingest> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Ingest) -> Result<Self, ApiError> {
        use platform::auth::authenticate::{authenticate, bearer_token, AuthError};
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(ApiError::unauthorized)?;
        let claims = authenticate(&state.keys, &state.identity, token)
            .await
            .map_err(|e| match e {
                AuthError::Refused(_) => ApiError::unauthorized(),
                AuthError::Unavailable(e) => ApiError::unavailable(e),
            })?;
        Ok(Caller {
            name: claims.sub.clone(),
            roles: claims.roles.clone(),
            request_id: parts
                .extensions
                .get::<RequestId>()
                .map(|r| r.0.clone())
                .unwrap_or_default(),
        })
    }
}

/// The media type of a request, lower-case, without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {limit} bytes"),
    )
}

/// Reads a body of at most `limit` bytes (413 beyond, before reading it
/// all when Content-Length says so).
pub async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("length limit") || text.contains("too large") {
            too_large(limit)
        } else {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        }
    })
}

/// A JSON body: 415 wrong type, 413 too large, 400 malformed, 422 invalid.
pub async fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, ApiError> {
    let mt = media_type(headers);
    if !mt
        .as_deref()
        .is_some_and(|m| m == "application/json" || m.ends_with("+json"))
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ));
    }
    let bytes = read_limited(headers, body, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::validation("body", e.to_string()),
        _ => ApiError::bad_request("malformed_json", format!("malformed JSON: {e}")),
    })
}

/// `limit` and `before` of a query string (422 when not numbers).
fn page(query: Option<&str>) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let (mut limit, mut before) = (None, None);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match k {
            "limit" => &mut limit,
            "before" => &mut before,
            _ => continue,
        };
        *slot = Some(v.parse::<i64>().map_err(|_| {
            ApiError::validation(
                if k == "limit" { "limit" } else { "before" },
                "must be an integer",
            )
        })?);
    }
    Ok((limit, before))
}

/// `GET /api/v1/admin/dead-letters?limit=&before=`: newest first.
pub async fn dead_letters(
    State(ingest): State<Ingest>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::ReadDeadLetters)?;
    let (limit, before) = page(query.as_deref())?;
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    let items = ingest
        .dead_letters
        .list(limit, before)
        .await
        .map_err(ApiError::unavailable)?;
    let next = if items.len() as i64 == limit {
        items.last().map(|d| d.id)
    } else {
        None
    };
    Ok(Json(json!({ "items": items, "next_before": next })))
}
