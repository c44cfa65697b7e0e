//! Ingest's HTTP surface: the SIEM webhook, the CMDB admin routes and the
//! dead letters. Errors are problem+json (`platform::http::ApiError`).

use axum::extract::{Path, RawQuery, State};
use axum::{Json, Router};
use domain::Action;
use platform::http::{ApiError, Principal};
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::Ingest;

/// Webhook, CMDB and dead-letter routes, each registered once with its
/// OpenAPI operation.
pub fn api() -> OpenApiRouter<Ingest> {
    use crate::{assets, webhook};
    OpenApiRouter::new()
        .routes(routes!(webhook::webhook))
        .routes(routes!(assets::list, assets::create))
        .routes(routes!(assets::import))
        .routes(routes!(assets::get_one, assets::update, assets::delete))
        .routes(routes!(dead_letters))
        .routes(routes!(dead_letter))
}

/// The routes of `api`, with their state.
pub fn router(ingest: Ingest) -> Router {
    api().split_for_parts().0.with_state(ingest)
}

impl axum::extract::FromRef<Ingest> for platform::http::Authenticator {
    fn from_ref(ingest: &Ingest) -> Self {
        platform::http::Authenticator {
            keys: ingest.keys.clone(),
            identity: ingest.identity.clone(),
        }
    }
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

/// A page of dead letters.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DeadLetterPage {
    pub items: Vec<crate::dead_letters::DeadLetterSummary>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub next_before: Option<i64>,
}

/// `GET /api/v1/admin/dead-letters?limit=&before=`: newest first, without
/// the raw bytes (each is fetched on its own).
#[utoipa::path(get, path = "/api/v1/admin/dead-letters", tag = "dead-letters",
    params(("limit" = Option<i64>, Query, description = "1 to 1000, default 100"), ("before" = Option<i64>, Query, description = "only letters with a smaller id")),
    responses((status = 200, body = DeadLetterPage), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn dead_letters(
    State(ingest): State<Ingest>,
    caller: Principal,
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

/// `GET /api/v1/admin/dead-letters/{id}`: one letter with its raw bytes.
#[utoipa::path(get, path = "/api/v1/admin/dead-letters/{id}", tag = "dead-letters",
    params(("id" = i64, Path, description = "the letter's id")),
    responses((status = 200, body = crate::dead_letters::DeadLetterView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn dead_letter(
    State(ingest): State<Ingest>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<crate::dead_letters::DeadLetterView>, ApiError> {
    caller.require(Action::ReadDeadLetters)?;
    // Any other id names no letter: 404, not a parse error.
    let letter = match id.parse::<i64>() {
        Ok(id) => ingest
            .dead_letters
            .get(id)
            .await
            .map_err(ApiError::unavailable)?,
        Err(_) => None,
    };
    letter
        .map(Json)
        .ok_or_else(|| ApiError::not_found("dead letter"))
}
