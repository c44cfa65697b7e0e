//! Assembles services into an HTTP application and runs it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::response::IntoResponse;
use axum::Router;
use command_api::AppState;
use platform::auth::tokens::{TokenKeys, TokenSettings};
use platform::auth::Revocations;
use platform::config::Settings;
use platform::event_store::TicketStore;
use platform::http::middleware::{client_addr, request_id, track_metrics, TrustedProxies};
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
    pub query: query_api::QueryApi,
    /// Syslog workers, correlation, webhook, CMDB, dead letters (the
    /// listeners are bound by `ingest::Ingest::listen`).
    pub ingest: ingest::Ingest,
}

pub async fn components(settings: Settings, pool: PgPool) -> anyhow::Result<Components> {
    let token_settings = TokenSettings {
        issuer: settings.token_issuer.clone(),
        audience: settings.token_audience.clone(),
        access_ttl: chrono::Duration::seconds(settings.access_token_ttl_secs),
        leeway_secs: 5,
    };
    let keys = if settings.signs_tokens {
        let kek = match &settings.key_encryption_key {
            Some(source) => Some(Arc::new(
                source.load().context("loading the key-encryption key")?,
            )),
            None => {
                tracing::warn!("no key-encryption key: token signing keys are stored unencrypted (set TICKETERA_KEY_ENCRYPTION_KEY_FILE)");
                None
            }
        };
        TokenKeys::load_or_create_sealed(&pool, token_settings, kek).await
    } else {
        TokenKeys::load_for_verifying(&pool, token_settings).await
    }
    .context("loading the token signing keys")?;
    let services = Arc::new(PgTicketServices::with_number_block(
        pool.clone(),
        settings.ticket_number_block,
    ));
    let store = TicketStore::new(pool.clone(), services);
    // One revocation listener per process, shared by every API in it.
    let revocations = Revocations::start(
        pool.clone(),
        Duration::from_secs(settings.token_liveness_cache_secs),
    );
    let identity = Identity::new(pool.clone()).with_revocations(revocations);
    let mut options = query_api::Options::from_settings(&settings);
    if let Some(url) = &settings.read_database_url {
        options.read_pool = Some(
            platform::db::connect(url, settings.db_max_connections)
                .await
                .context("connecting to the read replica (TICKETERA_READ_DATABASE_URL)")?,
        );
    }
    let query = query_api::QueryApi::with_options(
        store.clone(),
        identity.clone(),
        keys.clone(),
        &settings,
        options,
    );
    let ingest = ingest::Ingest::start(
        &settings.ingest,
        pool.clone(),
        store.clone(),
        keys.clone(),
        identity.clone(),
    )
    .context("starting ingest")?;
    let state = AppState {
        store,
        identity,
        views: platform::saved_views::SavedViews::new(pool.clone()),
        keys,
        settings: Arc::new(settings),
    };
    Ok(Components {
        pool,
        state,
        query,
        ingest,
    })
}

/// The whole HTTP surface of this process, the SPA at `/` included.
pub fn router(c: &Components) -> Router {
    let metrics = platform::telemetry::metrics();
    let router = Router::new()
        .merge(command_api::router(
            c.state.clone(),
            crate::openapi::document(),
        ))
        .merge(query_api::router(c.query.clone()))
        .merge(ingest::http::router(c.ingest.clone()))
        .merge(platform::http::health::router(c.pool.clone(), metrics));
    with_spa(router, c)
}

/// `router` with the SPA answering every path the APIs do not (an API
/// path still gets a problem 404).
fn with_spa(router: Router, c: &Components) -> Router {
    let spa = platform::http::static_files::spa(c.state.settings.web_dir.clone());
    plumbing(router.merge(spa), &c.state.settings)
}

/// `ticketera ingest`: the webhook, CMDB and dead-letter routes with health
/// and metrics (the syslog listeners are bound beside it).
pub fn ingest_router(c: &Components) -> Router {
    let metrics = platform::telemetry::metrics();
    let router = Router::new()
        .merge(ingest::http::router(c.ingest.clone()))
        .merge(platform::http::health::router(c.pool.clone(), metrics));
    with_plumbing(router, &c.state.settings)
}

/// What every HTTP surface of the binary has: a problem 404 for unknown
/// paths, metrics by route template, request ids, and panic containment.
pub fn with_plumbing(router: Router, settings: &Settings) -> Router {
    plumbing(
        router.fallback(|| async { platform::http::ApiError::not_found("resource") }),
        settings,
    )
}

/// Metrics by route template, the client's address (trusted proxies
/// applied), request ids and panic containment.
fn plumbing(router: Router, settings: &Settings) -> Router {
    let proxies = Arc::new(TrustedProxies(settings.trusted_proxies.clone()));
    router
        .route_layer(axum::middleware::from_fn(track_metrics))
        .layer(axum::middleware::from_fn(request_id))
        .layer(axum::middleware::from_fn_with_state(proxies, client_addr))
        // A bug must not take the process down with it: answer an opaque 500.
        .layer(CatchPanicLayer::custom(|_| {
            platform::http::ApiError::internal("handler panicked").into_response()
        }))
}

/// `ticketera query-api`: the GraphQL query API alone, with health and
/// metrics, and the SPA (the read side's face; a gateway may route `/` here).
pub fn query_router(c: &Components) -> Router {
    let metrics = platform::telemetry::metrics();
    let router = Router::new()
        .merge(query_api::router(c.query.clone()))
        .merge(platform::http::health::router(c.pool.clone(), metrics));
    with_spa(router, c)
}

/// What the processes that serve the REST or webhook routes write and
/// prune (`serve`, command-api, ingest; query-api writes none of them):
/// the login throttle, revoked tokens, webhook ids.
pub const EXPIRING_TABLES: &[platform::housekeeping::Expiring] = &[
    platform::housekeeping::LOGIN_FAILURES,
    platform::housekeeping::REVOKED_ACCESS_TOKENS,
    ingest::webhook::SEEN_IDS,
];

/// Deletes the expired rows of [`EXPIRING_TABLES`] every `every`
/// (`TICKETERA_PRUNE_INTERVAL_SECS`) until `shutdown`.
pub fn spawn_housekeeping(pool: PgPool, every: std::time::Duration, shutdown: Shutdown) {
    platform::housekeeping::spawn(pool, EXPIRING_TABLES, every, shutdown);
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

/// `ticketera projector`: the projections (leading or standing by) and
/// their health and metrics on `listener`, until `shutdown`.
pub async fn run_projector(
    pool: PgPool,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let router = platform::http::health::router(pool.clone(), platform::telemetry::metrics())
        .route_layer(axum::middleware::from_fn(track_metrics));
    let projector = tokio::spawn(projector::Projector::new(pool).run(shutdown.clone()));
    let served = serve(listener, router, shutdown.clone()).await;
    // Also when HTTP failed: stop the projector, let its batch finish.
    shutdown.cancel();
    projector
        .await
        .context("projector task panicked")?
        .context("projector failed")?;
    served
}
