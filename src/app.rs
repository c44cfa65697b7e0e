//! Assembles services into an HTTP application and runs it.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::response::IntoResponse;
use axum::Router;
use command_api::AppState;
use platform::auth::tokens::{TokenKeys, TokenSettings};
use platform::config::Settings;
use platform::event_store::TicketStore;
use platform::http::middleware::{request_id, track_metrics};
use platform::http::shutdown::Shutdown;
use platform::identity::Identity;
use platform::services::PgTicketServices;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

/// Shared state of every service in this process.
#[derive(Clone)]
pub struct Components {
    pub pool: PgPool,
    pub state: AppState,
}

pub async fn components(settings: Settings, pool: PgPool) -> anyhow::Result<Components> {
    let token_settings = TokenSettings {
        issuer: settings.token_issuer.clone(),
        audience: settings.token_audience.clone(),
        access_ttl: chrono::Duration::seconds(settings.access_token_ttl_secs),
        leeway_secs: 5,
    };
    let keys = TokenKeys::load_or_create(&pool, token_settings)
        .await
        .context("loading the token signing keys")?;
    let services = Arc::new(PgTicketServices::new(pool.clone()));
    let state = AppState {
        store: TicketStore::new(pool.clone(), services),
        identity: Identity::new(pool.clone()),
        keys,
        settings: Arc::new(settings),
    };
    Ok(Components { pool, state })
}

/// The whole HTTP surface of this process.
pub fn router(c: &Components) -> Router {
    let metrics = platform::telemetry::metrics();
    Router::new()
        .merge(command_api::router(c.state.clone()))
        .merge(platform::http::health::router(c.pool.clone(), metrics))
        .route_layer(axum::middleware::from_fn(track_metrics))
        .layer(axum::middleware::from_fn(request_id))
        // A bug must not take the process down with it: answer an opaque 500.
        .layer(CatchPanicLayer::custom(|_| {
            platform::http::ApiError::internal("handler panicked").into_response()
        }))
}

/// Serves `router` on `listener` until `shutdown` fires, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let addr = listener.local_addr().context("listener address")?;
    tracing::info!(%addr, "HTTP listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
    .context("HTTP server failed")
}
