//! A ticket's whole history as one JSON document: the stored events with
//! their metadata, what `ticketera replay` folds from. Streamed a page at a
//! time, so a ticket of any length never sits whole in memory.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use domain::{Action, TicketEvent};
use platform::event_store::{StoredEvent, TicketStore};
use platform::http::{ApiError, Principal};
use uuid::Uuid;

use crate::AppState;

/// Events read from the store per step of the stream.
const PAGE: i64 = 500;

/// The document's shape (the events are `StoredEvent`s, serialized as the
/// store hands them out).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the body is written by `stream`
pub struct HistoryExport {
    pub ticket_id: Uuid,
    /// `SOC-<n>`.
    pub number: Option<String>,
    /// Oldest first, every one.
    pub events: Vec<ExportedEvent>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only
pub struct ExportedEvent {
    pub ticket_id: String,
    /// 1 for the opening; the ticket's version after this event.
    pub sequence: u64,
    pub event_type: String,
    /// The schema version it was stored with; `payload` is in today's
    /// schema (after upcasting), as replay folds it.
    pub event_version: String,
    pub event_id: Uuid,
    /// Opaque cursor of the event in the global order.
    pub position: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// `{"<event_type>": {…fields}}`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Who (`actor`, `actor_kind`), through which `channel`, under which
    /// `correlation_id` (the request id) and `command_id`.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/history", tag = "tickets",
    description = "The ticket's whole history, oldest first, as stored (with metadata): what `ticketera replay` folds from. Every role may read it.",
    params(("id" = String, Path, description = "ticket UUID or SOC-<n> number")),
    responses((status = 200, content_type = "application/json", body = HistoryExport), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn export_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Action::Read)?;
    let id = state
        .store
        .resolve_reference(&id)
        .await?
        .ok_or_else(|| ApiError::from(domain::TicketError::NotFound))?;
    // The first page before the answer starts: a missing ticket or a
    // database down is still a problem response.
    let first = state.store.history_page(id, None, PAGE, false).await?;
    let number = match first.first().map(|e| &e.payload) {
        Some(TicketEvent::TicketOpened { number, .. }) => Some(number.clone()),
        Some(_) => None,
        None => return Err(domain::TicketError::NotFound.into()),
    };
    tracing::info!(ticket_id = %id, by = %principal.name, request_id = %principal.request_id, "history exported");
    let head = serde_json::json!({ "ticket_id": id, "number": number });
    let filename = format!(
        "attachment; filename=\"{}-history.json\"",
        number.as_deref().unwrap_or("ticket")
    );
    let body = Body::from_stream(stream(state.store.clone(), id, head, first));
    let mut res = body.into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

enum Step {
    /// The head and the first page.
    Start(serde_json::Value, Vec<StoredEvent>),
    /// The events after this sequence.
    After(u64),
    Close,
    Done,
}

/// `head` with an `events` array, written page by page. A failure after
/// the first page can only cut the stream short (logged): the client sees
/// a truncated, unparseable document rather than a wrong one.
fn stream(
    store: TicketStore,
    id: Uuid,
    head: serde_json::Value,
    first: Vec<StoredEvent>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::unfold(Step::Start(head, first), move |step| {
        let store = store.clone();
        async move {
            match step {
                Step::Start(head, page) => {
                    let mut text = head.to_string();
                    // `{"ticket_id":…,"number":…` then `,"events":[`.
                    text.pop();
                    text.push_str(",\"events\":[");
                    let next = write_page(&mut text, &page, true);
                    Some((Ok(Bytes::from(text)), next))
                }
                Step::After(after) => {
                    match store.history_page(id, Some(after), PAGE, false).await {
                        Ok(page) if page.is_empty() => {
                            Some((Ok(Bytes::from_static(b"]}")), Step::Done))
                        }
                        Ok(page) => {
                            let mut text = String::new();
                            let next = write_page(&mut text, &page, false);
                            Some((Ok(Bytes::from(text)), next))
                        }
                        Err(e) => {
                            tracing::error!(ticket_id = %id, error = %e, "history export cut short");
                            Some((Err(std::io::Error::other(e)), Step::Done))
                        }
                    }
                }
                Step::Close => Some((Ok(Bytes::from_static(b"]}")), Step::Done)),
                Step::Done => None,
            }
        }
    })
}

/// Appends `page`'s events (comma-separated, a leading comma unless
/// `first`); what comes next.
fn write_page(text: &mut String, page: &[StoredEvent], first: bool) -> Step {
    let events: Vec<String> = page
        .iter()
        .filter_map(|e| {
            serde_json::to_string(e)
                // Plain data always serializes; never write a half event.
                .inspect_err(|err| tracing::error!(sequence = e.sequence, error = %err, "event not exported"))
                .ok()
        })
        .collect();
    if !events.is_empty() {
        if !first {
            text.push(',');
        }
        text.push_str(&events.join(","));
    }
    match page.last() {
        Some(last) if page.len() as i64 == PAGE => Step::After(last.sequence),
        _ => Step::Close,
    }
}
