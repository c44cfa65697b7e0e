//! The REST command API: OAuth2 token endpoint, ticket commands, admin
//! routes and the OpenAPI document.

pub mod admin;
pub mod auth;
pub mod extract;
pub mod openapi;
pub mod tickets;
pub mod token;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::Router;
use platform::auth::tokens::TokenKeys;
use platform::config::Settings;
use platform::event_store::TicketStore;
use platform::identity::Identity;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: TicketStore,
    pub identity: Identity,
    pub keys: TokenKeys,
    pub settings: Arc<Settings>,
}

/// The command API's routes (the binary adds health, metrics and request ids).
pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.body_limit_bytes;
    let cors = cors(&state.settings.cors_origins);
    Router::new()
        .merge(token::routes())
        .merge(tickets::routes())
        .merge(admin::routes())
        .with_state(state)
        .merge(openapi::routes())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(cors)
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
        ])
        .expose_headers([header::ETAG, HeaderName::from_static("x-request-id")])
}
