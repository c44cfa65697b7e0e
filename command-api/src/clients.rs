//! Admin routes for OAuth2 clients (the machines that raise alerts): list,
//! create, enable/disable, rotate the secret, audit trail. A secret is shown
//! once, when made; only its hash is kept. Disabling or rotating ends the
//! client's live tokens at once (`Identity::token_is_live` checks
//! `tokens_valid_after` on every request).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::{Action, Role};
use platform::http::{ApiError, DeferredJson, Principal};
use platform::identity::{AuditEntry, ClientInfo};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, update_client))
        .routes(routes!(rotate_secret))
        .routes(routes!(client_audit))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub role: String,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Tokens issued before this instant are refused (the last disable,
    /// enable or rotation); absent when there was none.
    pub tokens_valid_after: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<ClientInfo> for ClientView {
    fn from(c: ClientInfo) -> Self {
        ClientView {
            client_id: c.client_id,
            name: c.name,
            role: c.role.to_string(),
            enabled: c.enabled,
            created_by: c.created_by,
            created_at: c.created_at,
            tokens_valid_after: c.tokens_valid_after,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    pub name: String,
    /// Only `integration` (422 otherwise).
    #[schema(value_type = String, example = "integration")]
    pub role: Role,
}

/// A client's secret, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClientCreated {
    pub client_id: String,
    /// Shown once; only its hash is stored.
    pub client_secret: String,
    pub role: String,
}

#[utoipa::path(get, path = "/api/v1/admin/clients", tag = "admin",
    responses((status = 200, body = [ClientView]), (status = 403)), security(("bearer" = [])))]
pub async fn list_clients(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<ClientView>>, ApiError> {
    principal.require(Action::ManageClients)?;
    Ok(Json(
        state
            .identity
            .list_clients()
            .await?
            .into_iter()
            .map(ClientView::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/admin/clients", tag = "admin", request_body = CreateClientRequest,
    responses((status = 201, body = ClientCreated), (status = 403), (status = 422, description = "a role other than integration, or a bad name")),
    security(("bearer" = [])))]
pub async fn create_client(
    State(state): State<AppState>,
    principal: Principal,
    body: DeferredJson,
) -> Result<Response, ApiError> {
    principal.require(Action::ManageClients)?;
    let body = body.parse::<CreateClientRequest>()?;
    let r = body.value;
    let (client_id, client_secret) = state
        .identity
        .create_client(
            &r.name,
            r.role,
            &principal.name,
            Some(&principal.request_id),
        )
        .await?;
    tracing::info!(%client_id, by = %principal.name, request_id = %principal.request_id, "client created");
    Ok((
        StatusCode::CREATED,
        Json(ClientCreated {
            client_id,
            client_secret,
            role: r.role.to_string(),
        }),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/admin/clients/{client_id}", tag = "admin",
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientView), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_client(
    State(state): State<AppState>,
    principal: Principal,
    Path(client_id): Path<String>,
) -> Result<Json<ClientView>, ApiError> {
    principal.require(Action::ManageClients)?;
    let client = state
        .identity
        .get_client(&client_id)
        .await?
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "client_not_found", "no such client")
        })?;
    Ok(Json(client.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientRequest {
    pub enabled: bool,
}

#[utoipa::path(patch, path = "/api/v1/admin/clients/{client_id}", tag = "admin",
    description = "Enable or disable. Either ends the client's live tokens.",
    params(("client_id" = String, Path)), request_body = UpdateClientRequest,
    responses((status = 200, body = ClientView), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_client(
    State(state): State<AppState>,
    principal: Principal,
    Path(client_id): Path<String>,
    body: DeferredJson,
) -> Result<Json<ClientView>, ApiError> {
    principal.require(Action::ManageClients)?;
    let body = body.parse::<UpdateClientRequest>()?;
    let client = state
        .identity
        .set_client_enabled(
            &client_id,
            body.value.enabled,
            &principal.name,
            Some(&principal.request_id),
        )
        .await?;
    tracing::info!(%client_id, enabled = client.enabled, by = %principal.name, request_id = %principal.request_id, "client updated");
    Ok(Json(client.into()))
}

#[utoipa::path(post, path = "/api/v1/admin/clients/{client_id}/secret", tag = "admin",
    description = "A new secret, shown once. The old secret, and every token issued before, stop working at once.",
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientCreated), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    Path(client_id): Path<String>,
) -> Result<Json<ClientCreated>, ApiError> {
    principal.require(Action::ManageClients)?;
    let (client, client_secret) = state
        .identity
        .rotate_client_secret(&client_id, &principal.name, Some(&principal.request_id))
        .await?;
    tracing::info!(%client_id, by = %principal.name, request_id = %principal.request_id, "client secret rotated");
    Ok(Json(ClientCreated {
        client_id: client.client_id,
        client_secret,
        role: client.role.to_string(),
    }))
}

#[utoipa::path(get, path = "/api/v1/admin/clients/{client_id}/audit", tag = "admin",
    params(("client_id" = String, Path)),
    responses((status = 200, body = [AuditEntryView], description = "Who changed this client, when, and how, oldest first"), (status = 403)),
    security(("bearer" = [])))]
pub async fn client_audit(
    State(state): State<AppState>,
    principal: Principal,
    Path(client_id): Path<String>,
) -> Result<Json<Vec<AuditEntryView>>, ApiError> {
    principal.require(Action::ManageClients)?;
    let rows = state.identity.audit_trail(&client_id).await?;
    Ok(Json(rows.into_iter().map(AuditEntryView::from).collect()))
}

/// One change of a user or client: what (`action`: e.g. `created`,
/// `role_changed`, `disabled`, `client_created`, `client_disabled`,
/// `client_secret_rotated`), by whom, under which request id.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    /// The username or client id changed.
    pub username: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub actor: String,
    pub request_id: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(a: AuditEntry) -> Self {
        AuditEntryView {
            username: a.username,
            action: a.action,
            detail: a.detail,
            actor: a.actor,
            request_id: a.request_id,
            at: a.at,
        }
    }
}
