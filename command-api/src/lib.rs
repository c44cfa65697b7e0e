//! The REST command API: OAuth2 token endpoint, ticket commands, admin
//! routes and the OpenAPI document.

pub mod admin;
pub mod clients;
pub mod history;
pub mod openapi;
pub mod session_cookie;
pub mod tickets;
pub mod token;
pub mod views;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use platform::auth::tokens::TokenKeys;
use platform::config::Settings;
use platform::event_store::TicketStore;
use platform::http::ApiError;
use platform::identity::Identity;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa_axum::router::OpenApiRouter;

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: TicketStore,
    pub identity: Identity,
    pub views: platform::saved_views::SavedViews,
    pub keys: TokenKeys,
    pub settings: Arc<Settings>,
}

impl axum::extract::FromRef<AppState> for platform::http::Authenticator {
    fn from_ref(state: &AppState) -> Self {
        platform::http::Authenticator {
            keys: state.keys.clone(),
            identity: state.identity.clone(),
        }
    }
}

/// Every REST route of the command API, each registered once with its
/// OpenAPI operation (so a route and its documentation cannot drift).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(token::routes())
        .merge(tickets::routes())
        .merge(admin::routes())
        .merge(clients::routes())
        .merge(views::routes())
}

/// The command API's routes, and `document` (the whole REST API's OpenAPI
/// document, see `openapi::base`) at /api/openapi.json and /api/docs. The
/// binary adds health, metrics and request ids.
pub fn router(state: AppState, document: utoipa::openapi::OpenApi) -> Router {
    let body_limit = state.settings.body_limit_bytes;
    let cors = cors(&state.settings.cors_origins);
    let (routes, _) = api().split_for_parts();
    routes
        .with_state(state)
        .merge(openapi::routes(document))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::map_response(bare_errors_as_problems))
        .layer(cors)
}

/// Rejections made by axum itself (a path segment that is not UTF-8, a
/// method the route does not take, a body over the limit read outside
/// `JsonBody`) come as bare text; the contract wants every error body to be a
/// problem with a stable `code`. JSON error bodies (problems, RFC 6749) pass.
async fn bare_errors_as_problems(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|mime| mime == "application/json" || mime == "application/problem+json");
    if !status.is_client_error() || is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let detail = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("client error")
                .to_string()
        });
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "client_error",
    };
    let mut problem = ApiError::new(status, code, detail).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            problem.headers_mut().insert(name, v.clone());
        }
    }
    problem
}

/// Strict CORS: only the configured origins, and none by default (the SPA is
/// served from the same origin).
fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static(session_cookie::SESSION_HEADER),
        ])
        // The browser session's cookie (only for configured origins).
        .allow_credentials(true)
        .expose_headers([header::ETAG, HeaderName::from_static("x-request-id")])
}
