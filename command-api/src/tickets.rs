//! Ticket commands over REST. Each answers with the ticket's new `version`
//! and the `position` cursor of its last event.

use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::command::OpenTicket;
use domain::{Action, Command, ObservableKind, Resolution, Severity, Source, TicketCommand};
use platform::event_store::{
    Channel, CommandContext, CommandOutcome, Idempotency, StoreError, StoredResponse,
};
use platform::http::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::AppState;
use platform::http::body::body_hash;
use platform::http::DeferredJson;
use platform::http::Principal;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_ticket))
        .routes(routes!(get_ticket))
        .routes(routes!(crate::history::export_history))
        .routes(routes!(assign))
        .routes(routes!(unassign))
        .routes(routes!(start))
        .routes(routes!(hold))
        .routes(routes!(resume))
        .routes(routes!(resolve))
        .routes(routes!(close))
        .routes(routes!(reopen))
        .routes(routes!(change_severity))
        .routes(routes!(comment))
        .routes(routes!(tag))
        .routes(routes!(untag))
        .routes(routes!(add_observable))
        .routes(routes!(mark_duplicate))
}

/// The answer to every ticket command.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommandResponse {
    pub id: Uuid,
    pub number: Option<String>,
    pub version: u64,
    /// Opaque cursor of the ticket's last event: hand it back to GraphQL for
    /// read-your-writes or to resume a subscription.
    pub position: Option<String>,
}

fn render(outcome: &CommandOutcome, status: StatusCode) -> StoredResponse {
    let body = CommandResponse {
        id: outcome.ticket_id,
        number: outcome.ticket.number.clone(),
        version: outcome.version,
        position: outcome.position.map(|p| p.cursor()),
    };
    StoredResponse {
        status: status.as_u16(),
        body: serde_json::to_value(body).unwrap_or_default(),
    }
}

fn respond(answer: StoredResponse, replayed: bool) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let version = answer.body.get("version").and_then(|v| v.as_u64());
    let mut res = (status, Json(answer.body)).into_response();
    if let Some(v) = version.and_then(|v| HeaderValue::from_str(&format!("\"{v}\"")).ok()) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    res
}

fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .map_err(|_| ApiError::bad_request("invalid_if_match", "If-Match must be a version"))?;
    let s = s.trim().trim_start_matches("W/").trim_matches('"');
    s.parse::<u64>().map(Some).map_err(|_| {
        ApiError::bad_request(
            "invalid_if_match",
            "If-Match must be the ticket's version, e.g. \"3\"",
        )
    })
}

fn idempotency(
    headers: &HeaderMap,
    principal: &Principal,
    request_hash: String,
) -> Result<Option<Idempotency>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(Idempotency {
        principal: principal.name.clone(),
        key: key.to_string(),
        request_hash,
    }))
}

fn channel(headers: &HeaderMap) -> Channel {
    match headers
        .get("x-ticketera-client")
        .and_then(|v| v.to_str().ok())
    {
        Some("web") => Channel::Ui,
        _ => Channel::Api,
    }
}

/// Resolves `{id}`: a UUID or a `SOC-<n>` number.
async fn ticket_id(state: &AppState, reference: &str) -> Result<Uuid, ApiError> {
    state
        .store
        .resolve_reference(reference)
        .await?
        .ok_or_else(|| ApiError::from(domain::TicketError::NotFound))
}

/// Runs one command for a principal: role check, If-Match, Idempotency-Key,
/// the store, metrics, and the answer.
#[allow(clippy::too_many_arguments)]
async fn run(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: Uuid,
    command: Command,
    request_hash: String,
    success: StatusCode,
) -> Result<Response, ApiError> {
    let action = command.action();
    let name = command.name();
    principal.require(action)?;
    let expected = if_match(headers)?;
    let idem = idempotency(headers, principal, request_hash)?;
    let ctx = CommandContext {
        actor: principal.name.clone(),
        actor_kind: principal.kind,
        command_id: Uuid::new_v4(),
        correlation_id: principal.request_id.clone(),
        channel: channel(headers),
        client_addr: principal.client_addr.map(|a| a.to_string()),
    };
    let actor = domain::Actor {
        name: principal.name.clone(),
        kind: principal.kind,
    };
    let result = state
        .store
        .execute(
            id,
            TicketCommand { actor, command },
            &ctx,
            expected,
            idem.as_ref(),
            |o| render(o, success),
        )
        .await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(StoreError::IdempotentReplay(_)) => "replayed",
        Err(StoreError::Domain(e)) => e.code(),
        Err(StoreError::Conflict) => "conflict",
        Err(StoreError::VersionMismatch { .. }) => "version_mismatch",
        Err(_) => "error",
    };
    metrics::counter!("ticketera_commands_total", "command" => name, "outcome" => outcome)
        .increment(1);
    match result {
        Ok((done, answer)) => {
            for e in &done.events {
                metrics::counter!("ticketera_events_appended_total", "type" => cqrs_event_type(e))
                    .increment(1);
            }
            tracing::info!(ticket = %done.ticket_id, command = name, version = done.version, "command handled");
            Ok(respond(answer, false))
        }
        Err(StoreError::IdempotentReplay(answer)) => Ok(respond(answer, true)),
        Err(e) => Err(e.into()),
    }
}

fn cqrs_event_type(e: &domain::TicketEvent) -> String {
    use cqrs_es::DomainEvent;
    e.event_type()
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenTicketRequest {
    /// 1 to 200 characters.
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// LOW, MEDIUM (default), HIGH or CRITICAL.
    #[schema(value_type = Option<String>, example = "HIGH")]
    pub severity: Option<Severity>,
    #[schema(value_type = Option<String>, example = "203.0.113.45")]
    pub source_ip: Option<IpAddr>,
    #[schema(value_type = Option<String>, example = "10.20.1.15")]
    pub destination_ip: Option<IpAddr>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets",
    request_body = OpenTicketRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays return the first answer")),
    responses(
        (status = 201, description = "Ticket opened", body = CommandResponse),
        (status = 400, description = "Malformed JSON"), (status = 401), (status = 403),
        (status = 413, description = "Body too large"), (status = 415, description = "Not JSON"),
        (status = 422, description = "Invalid field"),
    ),
    security(("bearer" = [])))]
pub async fn open_ticket(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: DeferredJson,
) -> Result<Response, ApiError> {
    principal.require(Action::OpenTicket)?;
    let body = body.parse::<OpenTicketRequest>()?;
    let r = body.value;
    let id = Uuid::now_v7();
    let command = Command::Open(OpenTicket {
        ticket_id: id,
        title: r.title,
        description: r.description,
        severity: r.severity.unwrap_or(Severity::Medium),
        source: Source::Manual,
        source_ip: r.source_ip,
        destination_ip: r.destination_ip,
        tags: r.tags,
        origin: None,
    });
    run(
        &state,
        &principal,
        &headers,
        id,
        command,
        body.hash,
        StatusCode::CREATED,
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = String, Path, description = "ticket UUID or SOC-<n> number")),
    responses((status = 200, description = "The ticket's current state on the command side, with its version as ETag"), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_ticket(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Action::Read)?;
    let id = ticket_id(&state, &id).await?;
    let ticket = state.store.load(id).await?;
    if !ticket.exists() {
        return Err(domain::TicketError::NotFound.into());
    }
    let version = ticket.version;
    let mut res = Json(json!(ticket)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

/// A command route: the role check (`$action`, the command's own) comes
/// before the ticket is looked up and before the body is judged, so a
/// caller without the right learns 403 whatever else is wrong.
macro_rules! command_route {
    ($fn:ident, $path:literal, $req:ty, $action:expr, $doc:literal, |$r:ident| $build:expr) => {
        #[utoipa::path(post, path = $path, tag = "tickets", description = $doc,
            request_body = $req,
            params(
                ("id" = String, Path, description = "ticket UUID or SOC-<n> number"),
                ("If-Match" = Option<String>, Header, description = "expected version; 412 when the ticket moved on"),
                ("Idempotency-Key" = Option<String>, Header, description = "replays return the first answer"),
            ),
            responses(
                (status = 200, description = "Done", body = CommandResponse),
                (status = 400), (status = 401), (status = 403), (status = 404),
                (status = 409, description = "Not allowed in the ticket's status, or a concurrent change"),
                (status = 412, description = "If-Match does not match the version"),
                (status = 422, description = "Invalid field"),
            ),
            security(("bearer" = [])))]
        pub async fn $fn(
            State(state): State<AppState>,
            principal: Principal,
            Path(id): Path<String>,
            headers: HeaderMap,
            body: DeferredJson,
        ) -> Result<Response, ApiError> {
            principal.require($action)?;
            let body = body.parse::<$req>()?;
            let id = ticket_id(&state, &id).await?;
            let $r = body.value;
            let command = $build;
            run(&state, &principal, &headers, id, command, body.hash, StatusCode::OK).await
        }
    };
}

#[derive(Debug, Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// An enabled admin, lead or analyst.
    pub assignee: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// TRUE_POSITIVE, FALSE_POSITIVE or BENIGN (DUPLICATE: use /duplicate).
    #[schema(value_type = String, example = "FALSE_POSITIVE")]
    pub resolution: Option<Resolution>,
    #[serde(default)]
    pub summary: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityRequest {
    #[schema(value_type = String, example = "CRITICAL")]
    pub severity: Severity,
    pub reason: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    pub body: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsRequest {
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservableRequest {
    /// IP, DOMAIN, URL, FILE_HASH or USER_ACCOUNT.
    #[schema(value_type = String, example = "DOMAIN")]
    pub kind: ObservableKind,
    pub value: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateRequest {
    /// The surviving ticket: UUID or SOC-<n>.
    pub of: String,
    #[serde(default)]
    pub summary: String,
}

command_route!(
    assign,
    "/api/v1/tickets/{id}/assign",
    AssignRequest,
    Action::AssignTicket,
    "Assign the ticket to a user",
    |r| Command::Assign {
        assignee: r.assignee
    }
);
command_route!(
    unassign,
    "/api/v1/tickets/{id}/unassign",
    Empty,
    Action::AssignTicket,
    "Remove the assignee",
    |_r| Command::Unassign
);
command_route!(
    start,
    "/api/v1/tickets/{id}/start",
    Empty,
    Action::WorkTicket,
    "NEW → IN_PROGRESS",
    |_r| Command::Start
);
command_route!(
    hold,
    "/api/v1/tickets/{id}/hold",
    ReasonRequest,
    Action::WorkTicket,
    "IN_PROGRESS → ON_HOLD",
    |r| Command::Hold { reason: r.reason }
);
command_route!(
    resume,
    "/api/v1/tickets/{id}/resume",
    Empty,
    Action::WorkTicket,
    "ON_HOLD → IN_PROGRESS",
    |_r| Command::Resume
);
command_route!(
    resolve,
    "/api/v1/tickets/{id}/resolve",
    ResolveRequest,
    Action::ResolveTicket,
    "NEW | IN_PROGRESS | ON_HOLD → RESOLVED; a resolution is required",
    |r| Command::Resolve {
        resolution: r.resolution,
        summary: r.summary
    }
);
command_route!(
    close,
    "/api/v1/tickets/{id}/close",
    CloseRequest,
    Action::CloseTicket,
    "RESOLVED → CLOSED",
    |r| Command::Close { note: r.note }
);
command_route!(
    reopen,
    "/api/v1/tickets/{id}/reopen",
    ReasonRequest,
    Action::ReopenTicket,
    "RESOLVED | CLOSED → IN_PROGRESS",
    |r| Command::Reopen { reason: r.reason }
);
command_route!(
    change_severity,
    "/api/v1/tickets/{id}/severity",
    SeverityRequest,
    Action::ChangeSeverity,
    "Change severity, with a reason",
    |r| Command::ChangeSeverity {
        severity: r.severity,
        reason: r.reason
    }
);
command_route!(
    comment,
    "/api/v1/tickets/{id}/comments",
    CommentRequest,
    Action::CommentTicket,
    "Add a comment",
    |r| Command::Comment { body: r.body }
);
command_route!(
    tag,
    "/api/v1/tickets/{id}/tags",
    TagsRequest,
    Action::AnnotateTicket,
    "Add tags",
    |r| Command::Tag { tags: r.tags }
);
command_route!(
    add_observable,
    "/api/v1/tickets/{id}/observables",
    ObservableRequest,
    Action::AnnotateTicket,
    "Attach an observable (IP, domain, URL, file hash, user account)",
    |r| Command::AddObservable {
        kind: r.kind,
        value: r.value
    }
);

#[utoipa::path(delete, path = "/api/v1/tickets/{id}/tags/{tag}", tag = "tickets",
    params(("id" = String, Path), ("tag" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = CommandResponse), (status = 401), (status = 403), (status = 404), (status = 409), (status = 412)),
    security(("bearer" = [])))]
pub async fn untag(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, tag)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    principal.require(Action::AnnotateTicket)?;
    let id = ticket_id(&state, &id).await?;
    let hash = body_hash(
        "DELETE",
        &format!("/api/v1/tickets/{id}/tags"),
        tag.as_bytes(),
    );
    run(
        &state,
        &principal,
        &headers,
        id,
        Command::Untag { tags: vec![tag] },
        hash,
        StatusCode::OK,
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/duplicate", tag = "tickets",
    description = "Resolve as DUPLICATE of the surviving ticket",
    request_body = DuplicateRequest,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = CommandResponse), (status = 401), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)),
    security(("bearer" = [])))]
pub async fn mark_duplicate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: DeferredJson,
) -> Result<Response, ApiError> {
    principal.require(Action::ResolveTicket)?;
    let body = body.parse::<DuplicateRequest>()?;
    let id = ticket_id(&state, &id).await?;
    let r = body.value;
    let survivor_id = state
        .store
        .resolve_reference(&r.of)
        .await?
        .ok_or_else(|| ApiError::validation("of", format!("no ticket '{}'", r.of)))?;
    let survivor = state.store.load(survivor_id).await?;
    if !survivor.exists() {
        return Err(ApiError::validation("of", format!("no ticket '{}'", r.of)));
    }
    let command = Command::MarkDuplicate {
        of: survivor_id,
        of_number: survivor.number,
        summary: r.summary,
    };
    run(
        &state,
        &principal,
        &headers,
        id,
        command,
        body.hash,
        StatusCode::OK,
    )
    .await
}
