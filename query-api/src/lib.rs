//! The query API: GraphQL (async-graphql 7) over the read models, history
//! and as-of replay folded from the event store, and subscriptions over
//! `graphql-transport-ws` fed by one `PgListener` per process
//! (docs/architecture.md, "The read side").
//!
//! Routes: `POST|GET /graphql` (a browser's GET gets GraphiQL),
//! `GET /graphql/assets/*` (GraphiQL's files), `GET /graphql/ws`.

pub mod consistency;
pub mod cost;
mod documents;
pub mod error;
pub mod events;
pub mod history_cache;
pub mod http;
pub mod hub;
mod page_rows;
pub mod rate_limit;
pub mod schema;
mod shared;
pub mod store;
pub mod subscriptions;
pub mod types;
pub mod viewer;
pub mod ws;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::get;
use axum::Router;
use platform::auth::tokens::TokenKeys;
use platform::config::Settings;
use platform::event_store::TicketStore;
use platform::http::shutdown::Shutdown;
use platform::identity::Identity;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use error::QueryError;
pub use hub::Hub;
pub use rate_limit::RateLimit;
pub use schema::{AppSchema, Limits};
pub use ws::WsConfig;

/// How long a query waits for `minPosition` before `NOT_YET_PROJECTED`.
pub const MIN_POSITION_WAIT: Duration = Duration::from_secs(5);

/// Everything the query API needs; cheap to clone.
#[derive(Clone)]
pub struct QueryApi {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// Queries over HTTP (see `schema::Schemas`).
    pub(crate) schema: AppSchema,
    /// Subscriptions, and measuring costs.
    pub(crate) streams: AppSchema,
    /// Parsed documents of the queries over HTTP.
    pub(crate) documents: documents::Documents,
    pub(crate) keys: TokenKeys,
    pub(crate) identity: Identity,
    pub(crate) hub: Hub,
    pub(crate) limits: Limits,
    /// Operations per principal on `/graphql`.
    pub(crate) rate: rate_limit::RateLimiter,
    /// Set when the schema reads a standby: the primary's read models, for
    /// the requests that ask for a minimum position (read-your-writes).
    pub(crate) primary_read: Option<store::ReadModels>,
    pub(crate) ws: WsConfig,
    /// Identical subscriptions' shared executions.
    pub(crate) groups: Arc<shared::Groups>,
    pub(crate) web_dir: PathBuf,
    pub(crate) cors_origins: Vec<String>,
    pub(crate) body_limit: usize,
    pub(crate) shutdown: Shutdown,
}

/// Knobs beyond `Settings` (tests and benchmarks tune them).
#[derive(Debug, Clone)]
pub struct Options {
    pub limits: Limits,
    /// Operations a principal may run on `/graphql` (not the WebSocket:
    /// a subscription is one long operation).
    pub rate: RateLimit,
    pub ws: WsConfig,
    pub min_position_wait: Duration,
    /// Batches a subscription may fall behind before it lags and resyncs
    /// from the feed, and answers a shared subscriber may fall behind its
    /// group before it goes on alone (tests make it small to force that).
    pub broadcast_capacity: usize,
    /// A hot standby to read the read models from
    /// (`TICKETERA_READ_DATABASE_URL`); the subscriptions' hub, history,
    /// as-of and identity stay on the primary.
    pub read_pool: Option<sqlx::PgPool>,
}

impl Options {
    pub fn from_settings(settings: &Settings) -> Self {
        Options {
            limits: Limits {
                introspection: settings.graphql_introspection,
                max_complexity: settings.graphql_max_cost,
                ..Limits::default()
            },
            rate: RateLimit {
                per_minute: settings.graphql_rate_per_minute,
                burst: settings.graphql_rate_burst,
            },
            ws: WsConfig {
                init_timeout: Duration::from_secs(settings.graphql_ws_init_timeout_secs.max(1)),
                ..WsConfig::default()
            },
            min_position_wait: MIN_POSITION_WAIT,
            broadcast_capacity: hub::BROADCAST_CAPACITY,
            read_pool: None,
        }
    }
}

impl QueryApi {
    /// Builds the schema and starts the subscription hub (needs a Tokio runtime).
    pub fn new(
        store: TicketStore,
        identity: Identity,
        keys: TokenKeys,
        settings: &Settings,
    ) -> Self {
        Self::with_options(
            store,
            identity,
            keys,
            settings,
            Options::from_settings(settings),
        )
    }

    pub fn with_options(
        store: TicketStore,
        identity: Identity,
        keys: TokenKeys,
        settings: &Settings,
        options: Options,
    ) -> Self {
        let pool = store.pool().clone();
        let hub = Hub::start(pool.clone(), options.broadcast_capacity);
        let consistency = consistency::Consistency::new(hub.clone(), options.min_position_wait);
        // With a standby, the schema reads it; a request that asks for a
        // minimum position reads the primary instead (see `primary_read`).
        let (read, primary_read) = match options.read_pool {
            Some(standby) => (
                store::ReadModels::new(standby),
                Some(store::ReadModels::new(pool)),
            ),
            None => (store::ReadModels::new(pool), None),
        };
        let schema::Schemas { queries, streams } = schema::build(
            &options.limits,
            schema::SchemaData {
                read,
                history: history_cache::HistoryCache::default(),
                store,
                identity: identity.clone(),
                hub: hub.clone(),
                consistency,
            },
        );
        QueryApi {
            inner: Arc::new(Inner {
                schema: queries,
                streams,
                documents: documents::Documents::default(),
                keys,
                identity,
                hub,
                limits: options.limits,
                rate: rate_limit::RateLimiter::new(options.rate),
                primary_read,
                ws: options.ws,
                groups: Arc::new(shared::Groups::new(options.broadcast_capacity)),
                web_dir: settings.web_dir.clone(),
                cors_origins: settings.cors_origins.clone(),
                body_limit: settings.body_limit_bytes,
                shutdown: Shutdown::default(),
            }),
        }
    }

    pub fn schema(&self) -> &AppSchema {
        &self.inner.schema
    }

    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    /// Shared subscription executions running now (identical
    /// `ticketEvents` subscriptions run once).
    pub fn subscription_groups(&self) -> usize {
        self.inner.groups.len()
    }

    /// A subscription as a WebSocket of `viewer` would run it, without the
    /// socket: `("next" | "error" | "complete", payload JSON)`. For tests.
    #[doc(hidden)]
    pub fn subscription_messages(
        &self,
        query: &str,
        viewer: viewer::Viewer,
    ) -> impl futures::Stream<Item = (&'static str, String)> {
        use futures::StreamExt;
        let operation = shared::Operation {
            query: query.to_string(),
            operation_name: None,
            variables: None,
        };
        let mut data = async_graphql::Data::default();
        data.insert(viewer.clone());
        shared::subscribe(self, operation, &viewer, Arc::new(data)).map(|out| match out {
            shared::Out::Next(p) => ("next", p.to_string()),
            shared::Out::Error(e) => ("error", e.to_string()),
            shared::Out::Complete => ("complete", String::new()),
        })
    }

    /// Closes every GraphQL WebSocket (1001) for a graceful stop.
    pub fn close_connections(&self) {
        self.inner.shutdown.cancel();
    }

    /// The schema in SDL.
    pub fn sdl(&self) -> String {
        self.inner.schema.sdl()
    }
}

/// The query API's routes (the binary adds health, metrics and request ids).
pub fn router(api: QueryApi) -> Router {
    let cors = cors(&api.inner.cors_origins);
    Router::new()
        .route("/graphql", get(http::get).post(http::post))
        .route("/graphql/assets/{*path}", get(http::asset))
        .route("/graphql/ws", get(ws::handler))
        .with_state(api)
        .layer(cors)
}

/// Strict CORS: only the configured origins (none by default: GraphiQL and
/// the SPA are same-origin).
fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static(http::MIN_POSITION_HEADER),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
}
