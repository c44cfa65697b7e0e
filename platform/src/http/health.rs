//! `/healthz` (the process answers), `/readyz` (database reachable and
//! migrations applied) and `/metrics` (Prometheus exposition).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use sqlx::PgPool;

use crate::telemetry::Metrics;

#[derive(Clone)]
struct HealthState {
    pool: PgPool,
    metrics: Metrics,
}

pub fn router(pool: PgPool, metrics: Metrics) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(HealthState { pool, metrics })
}

async fn readyz(State(s): State<HealthState>) -> impl IntoResponse {
    match crate::db::migrations_applied(&s.pool).await {
        Ok(true) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reason": "migrations pending"})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not_ready", "reason": "database unreachable"})),
            )
        }
    }
}

async fn metrics_text(State(s): State<HealthState>) -> impl IntoResponse {
    let pool = &s.pool;
    metrics::gauge!("ticketera_db_pool_connections").set(pool.size() as f64);
    metrics::gauge!("ticketera_db_pool_idle_connections").set(pool.num_idle() as f64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
}
