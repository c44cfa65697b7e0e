//! Admin routes for users: create, role, enable/disable, password reset,
//! audit trail (OAuth2 clients are in `clients`). Every change is recorded
//! with who and when.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::{Action, Role};
use platform::http::ApiError;
use platform::identity::User;
use serde::{Deserialize, Serialize};

use crate::AppState;
use platform::http::DeferredJson;
use platform::http::Principal;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(reset_password))
        .routes(routes!(user_audit))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: uuid::Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub enabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role.to_string(),
            enabled: u.enabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub display_name: Option<String>,
    /// 12 to 1024 characters.
    pub password: String,
    #[schema(value_type = String, example = "analyst")]
    pub role: Role,
}

#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 403), (status = 409, description = "username taken"), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    body: DeferredJson,
) -> Result<Response, ApiError> {
    principal.require(Action::ManageUsers)?;
    let body = body.parse::<CreateUserRequest>()?;
    let r = body.value;
    let user = state
        .identity
        .create_user(
            &r.username,
            r.display_name.as_deref(),
            &r.password,
            r.role,
            &principal.name,
            Some(&principal.request_id),
        )
        .await?;
    tracing::info!(user = %user.username, role = %user.role, by = %principal.name, "user created");
    Ok((StatusCode::CREATED, Json(UserView::from(user))).into_response())
}

#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses((status = 200, body = [UserView]), (status = 403)), security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<UserView>>, ApiError> {
    principal.require(Action::ManageUsers)?;
    Ok(Json(
        state
            .identity
            .list_users()
            .await?
            .into_iter()
            .map(UserView::from)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/admin/users/{username}", tag = "admin",
    params(("username" = String, Path)),
    responses((status = 200, body = UserView), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    principal.require(Action::ManageUsers)?;
    let user = state
        .identity
        .get_user(&username)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(Json(user.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[schema(value_type = Option<String>, example = "lead")]
    pub role: Option<Role>,
    pub enabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/admin/users/{username}", tag = "admin",
    description = "Change role and/or enable or disable. Either change ends the user's live tokens.",
    params(("username" = String, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = UserView), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
    body: DeferredJson,
) -> Result<Json<UserView>, ApiError> {
    principal.require(Action::ManageUsers)?;
    let body = body.parse::<UpdateUserRequest>()?;
    let r = body.value;
    if r.role.is_none() && r.enabled.is_none() {
        return Err(ApiError::validation(
            "body",
            "nothing to change: give role and/or enabled",
        ));
    }
    if principal.name.eq_ignore_ascii_case(&username)
        && (r.enabled == Some(false) || r.role.is_some_and(|x| x != Role::Admin))
    {
        return Err(ApiError::conflict(
            "self_lockout",
            "an admin cannot disable or demote themselves",
        ));
    }
    let mut user = state
        .identity
        .get_user(&username)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let rid = Some(principal.request_id.as_str());
    if let Some(role) = r.role.filter(|r| *r != user.role) {
        user = state
            .identity
            .set_role(&username, role, &principal.name, rid)
            .await?;
    }
    if let Some(enabled) = r.enabled.filter(|e| *e != user.enabled) {
        user = state
            .identity
            .set_enabled(&username, enabled, &principal.name, rid)
            .await?;
    }
    tracing::info!(user = %user.username, by = %principal.name, "user updated");
    Ok(Json(user.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/admin/users/{username}/password", tag = "admin",
    params(("username" = String, Path)), request_body = PasswordRequest,
    responses((status = 204), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
    body: DeferredJson,
) -> Result<StatusCode, ApiError> {
    principal.require(Action::ManageUsers)?;
    let body = body.parse::<PasswordRequest>()?;
    state
        .identity
        .reset_password(
            &username,
            &body.value.password,
            &principal.name,
            Some(&principal.request_id),
        )
        .await?;
    tracing::info!(user = %username, by = %principal.name, "password reset");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/admin/users/{username}/audit", tag = "admin",
    params(("username" = String, Path)),
    responses((status = 200, body = [crate::clients::AuditEntryView], description = "Who changed this user, when, and how, oldest first"), (status = 403)), security(("bearer" = [])))]
pub async fn user_audit(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
) -> Result<Json<Vec<crate::clients::AuditEntryView>>, ApiError> {
    principal.require(Action::ManageUsers)?;
    let rows = state.identity.audit_trail(&username).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}
