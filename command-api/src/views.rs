//! `/api/v1/me/views`: the signed-in user's saved queue views.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::ActorKind;
use platform::http::ApiError;
use platform::saved_views::{SavedView, SavedViews};
use serde::Deserialize;
use uuid::Uuid;

use crate::AppState;
use platform::http::JsonBody;
use platform::http::Principal;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_views, create_view))
        .routes(routes!(delete_view))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateViewRequest {
    /// 1 to 80 characters, one line; unique per user.
    pub name: String,
    /// The queue URL's search string (at most 2,000 characters).
    pub query: String,
}

/// Views belong to people: integration clients have none.
fn owner(principal: &Principal) -> Result<&str, ApiError> {
    if principal.kind == ActorKind::User {
        Ok(&principal.name)
    } else {
        Err(ApiError::forbidden())
    }
}

fn views(state: &AppState) -> &SavedViews {
    &state.views
}

#[utoipa::path(get, path = "/api/v1/me/views", tag = "views",
    responses((status = 200, body = [SavedView]), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_views(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<SavedView>>, ApiError> {
    Ok(Json(views(&state).list(owner(&principal)?).await?))
}

#[utoipa::path(post, path = "/api/v1/me/views", tag = "views", request_body = CreateViewRequest,
    responses((status = 201, body = SavedView), (status = 409, description = "name taken, or too many views"), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_view(
    State(state): State<AppState>,
    principal: Principal,
    body: JsonBody<CreateViewRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let view = views(&state)
        .create(owner(&principal)?, &r.name, &r.query)
        .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/me/views/{id}", tag = "views",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete_view(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("view"))?;
    views(&state).delete(owner(&principal)?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
