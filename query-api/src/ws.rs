//! GraphQL over WebSocket, `graphql-transport-ws`, with our own protocol
//! loop over async-graphql's execution (its built-in handler gets the
//! protocol's error cases wrong): token in `connection_init` (4403 when
//! refused), Origin check, init timeout (4408), subscribe before ack (4401),
//! duplicate id (4409), second init (4429), malformed message (4400), a
//! per-connection subscription cap answered with an `error` for that id.
//!
//! One task per connection; its subscriptions are streams polled by that
//! task, so an idle subscription costs a broadcast receiver, not a task.
//! Identical `ticketEvents` subscriptions share one execution
//! (crate::shared), serialized once per event for all of them.
//!
//! The token stays checked while the socket is open: ended tokens are
//! pushed (`platform::auth::revocations`), and the connection re-checks its
//! own when one may concern it, closing 4403 when it ended; a periodic check
//! backs the push up. When the check cannot be made (database down) it is
//! retried soon, and after a few failures in a row the socket closes 1011
//! instead of serving a token nobody can vouch for.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::Data;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use platform::auth::authenticate::{self, AuthError};
use platform::auth::{Claims, Ended};
use platform::http::ApiError;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_stream::StreamMap;

use crate::shared::{self, Operation, Out, OutStream};
use crate::viewer::Viewer;
use crate::QueryApi;

pub const PROTOCOL: &str = "graphql-transport-ws";
/// When every socket must re-check at once, they do within this long.
const EVERYTHING_RECHECK_SPREAD: Duration = Duration::from_secs(2);

/// WebSocket settings of the query API.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// Time to send `connection_init` (close 4408 after).
    pub init_timeout: Duration,
    /// Subscriptions per connection; one more gets an `error` message.
    pub max_subscriptions: usize,
    /// Small buffers: many idle connections must stay cheap. The read
    /// buffer is allocated whole for every connection and kept while it
    /// lives; a larger message is simply read in several pieces.
    pub read_buffer: usize,
    pub write_buffer: usize,
    pub max_message: usize,
    /// How often a connection re-checks that its token is still live
    /// (ended tokens are also pushed: this backs the push up).
    pub liveness_interval: Duration,
    /// After a check that could not be made, the next comes this soon.
    pub liveness_retry: Duration,
    /// Checks that could not be made in a row before the socket closes (1011).
    pub liveness_failures: u32,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            init_timeout: Duration::from_secs(10),
            max_subscriptions: 100,
            read_buffer: 512,
            write_buffer: 4 * 1024,
            max_message: 64 * 1024,
            liveness_interval: Duration::from_secs(120),
            liveness_retry: Duration::from_secs(5),
            liveness_failures: 3,
        }
    }
}

/// Whether a browser page of another origin is opening the socket. Clients
/// without an Origin (not browsers) pass; a browser must come from this
/// host or a configured origin.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some((_, authority)) = origin.split_once("://") else {
        return false;
    };
    let hosts = [header::HOST.as_str(), "x-forwarded-host"];
    hosts.iter().any(|h| {
        headers
            .get(*h)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|host| host.trim().eq_ignore_ascii_case(authority))
    })
}

/// GET /graphql/ws
pub async fn handler(
    State(api): State<QueryApi>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if !origin_allowed(&headers, &api.inner.cors_origins) {
        tracing::info!(origin = ?headers.get(header::ORIGIN), "WebSocket from a foreign origin refused");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this origin may not open GraphQL WebSockets",
        )
        .into_response();
    }
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(_) => {
            return ApiError::bad_request(
                "websocket_expected",
                "GET /graphql/ws takes a WebSocket upgrade (subprotocol graphql-transport-ws)",
            )
            .into_response()
        }
    };
    let cfg = &api.inner.ws;
    upgrade
        .protocols([PROTOCOL])
        .read_buffer_size(cfg.read_buffer)
        .write_buffer_size(cfg.write_buffer)
        .max_write_buffer_size(cfg.max_message.saturating_mul(64))
        .max_message_size(cfg.max_message)
        .max_frame_size(cfg.max_message)
        .on_upgrade(move |socket| async move {
            metrics::gauge!("ticketera_graphql_ws_connections").increment(1.0);
            Connection::new(api, socket).run().await;
            metrics::gauge!("ticketera_graphql_ws_connections").decrement(1.0);
        })
}

/// How a connection ends: a close frame to send (or none when the peer left).
struct Close(u16, String);

impl Close {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        let mut reason: String = reason.into();
        // A close reason holds at most 123 bytes.
        while reason.len() > 123 {
            reason.pop();
        }
        Close(code, reason)
    }
    fn invalid(detail: &str) -> Self {
        Close::new(4400, format!("Invalid message received: {detail}"))
    }
}

struct Connection {
    api: QueryApi,
    socket: WebSocket,
    opened: Instant,
    init_received: bool,
    acked: Option<Acked>,
    subs: StreamMap<String, OutStream>,
    /// Ended tokens pushed to this process (none without a listener).
    ended: Option<broadcast::Receiver<Ended>>,
}

struct Acked {
    claims: Claims,
    data: Arc<Data>,
    expires: Instant,
    next_check: Instant,
    /// Liveness checks in a row that could not be made.
    failed_checks: u32,
}

enum Step {
    Continue,
    End(Option<Close>),
}

impl Connection {
    fn new(api: QueryApi, socket: WebSocket) -> Self {
        Connection {
            api,
            socket,
            opened: Instant::now(),
            init_received: false,
            acked: None,
            subs: StreamMap::new(),
            ended: None,
        }
    }

    async fn run(mut self) {
        if self.socket.protocol().is_none() {
            self.close(Close::new(4406, "Subprotocol not acceptable"))
                .await;
            return;
        }
        let init_deadline = self.opened + self.api.inner.ws.init_timeout;
        let shutdown = self.api.inner.shutdown.clone();
        loop {
            let expires = self.acked.as_ref().map(|a| a.expires);
            let next_check = self.acked.as_ref().map(|a| a.next_check);
            let step = tokio::select! {
                biased;
                _ = shutdown.cancelled() => Step::End(Some(Close::new(1001, "server shutting down"))),
                // The handlers are boxed: an idle connection's task then
                // holds only these small waits, not the (large) state of an
                // authentication or a subscription start.
                msg = self.socket.recv() => Box::pin(self.on_frame(msg)).await,
                Some((id, item)) = self.subs.next(), if !self.subs.is_empty() => {
                    Box::pin(self.on_item(id, item)).await
                }
                _ = tokio::time::sleep_until(init_deadline), if !self.init_received => {
                    Step::End(Some(Close::new(4408, "Connection initialisation timeout")))
                }
                _ = tokio::time::sleep_until(expires.unwrap_or(init_deadline)), if expires.is_some() => {
                    Step::End(Some(Close::new(4403, "Forbidden: the access token expired")))
                }
                _ = tokio::time::sleep_until(next_check.unwrap_or(init_deadline)), if next_check.is_some() => {
                    Box::pin(self.recheck()).await
                }
                ended = next_ended(&mut self.ended), if self.acked.is_some() => {
                    Box::pin(self.on_ended(ended)).await
                }
            };
            if let Step::End(close) = step {
                if let Some(close) = close {
                    Box::pin(self.close(close)).await;
                }
                return;
            }
        }
    }

    async fn close(&mut self, Close(code, reason): Close) {
        tracing::debug!(code, %reason, "closing GraphQL WebSocket");
        let _ = self
            .socket
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }

    async fn send(&mut self, v: Value) -> Step {
        self.send_text(v.to_string()).await
    }

    async fn send_text(&mut self, text: String) -> Step {
        match self.socket.send(Message::Text(text.into())).await {
            Ok(()) => Step::Continue,
            Err(_) => Step::End(None),
        }
    }

    async fn on_frame(&mut self, msg: Option<Result<Message, axum::Error>>) -> Step {
        let text = match msg {
            None | Some(Ok(Message::Close(_))) => return Step::End(None),
            Some(Err(e)) => {
                tracing::debug!(error = %e, "WebSocket read failed");
                let too_big = e.to_string().to_ascii_lowercase().contains("too long")
                    || e.to_string().to_ascii_lowercase().contains("too big");
                return Step::End(too_big.then(|| Close::new(1009, "message too big")));
            }
            Some(Ok(Message::Ping(_))) | Some(Ok(Message::Pong(_))) => return Step::Continue,
            Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
            Some(Ok(Message::Binary(b))) => match String::from_utf8(b.to_vec()) {
                Ok(t) => t,
                Err(_) => return Step::End(Some(Close::invalid("not UTF-8"))),
            },
        };
        match self.on_message(&text).await {
            Ok(step) => step,
            Err(close) => Step::End(Some(close)),
        }
    }

    async fn on_message(&mut self, text: &str) -> Result<Step, Close> {
        let v: Value = serde_json::from_str(text).map_err(|_| Close::invalid("not JSON"))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Close::invalid("not an object"))?;
        let ty = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| Close::invalid("no type"))?;
        match ty {
            "connection_init" => {
                let payload = optional_object(obj, "payload")?;
                if self.init_received {
                    return Err(Close::new(4429, "Too many initialisation requests"));
                }
                self.init_received = true;
                self.init(payload).await
            }
            "ping" => {
                let payload = optional_object(obj, "payload")?;
                let mut pong = json!({"type": "pong"});
                if let Some(p) = payload {
                    pong["payload"] = Value::Object(p.clone());
                }
                Ok(self.send(pong).await)
            }
            "pong" => {
                optional_object(obj, "payload")?;
                Ok(Step::Continue)
            }
            "subscribe" => {
                let id = message_id(obj)?;
                let payload = obj
                    .get("payload")
                    .and_then(Value::as_object)
                    .ok_or_else(|| Close::invalid("subscribe needs a payload object"))?;
                let operation = subscribe_operation(payload)?;
                let Some(acked) = &self.acked else {
                    return Err(Close::new(4401, "Unauthorized"));
                };
                if self.subs.contains_key(&id) {
                    return Err(Close::new(
                        4409,
                        format!("Subscriber for {id} already exists"),
                    ));
                }
                let max = self.api.inner.ws.max_subscriptions;
                if self.subs.len() >= max {
                    metrics::counter!("ticketera_graphql_ws_subscriptions_refused_total")
                        .increment(1);
                    let message = format!("at most {max} subscriptions per connection");
                    return Ok(self
                        .send(json!({"id": id, "type": "error", "payload": [
                            {"message": message, "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"}}
                        ]}))
                        .await);
                }
                let viewer = Viewer::from_claims(&acked.claims);
                let stream = shared::subscribe(&self.api, operation, &viewer, acked.data.clone());
                self.subs.insert(id, stream);
                Ok(Step::Continue)
            }
            "complete" => {
                let id = message_id(obj)?;
                self.subs.remove(&id);
                Ok(Step::Continue)
            }
            "connection_ack" | "next" | "error" => Err(Close::new(
                4400,
                format!("Unexpected message of type {ty} received"),
            )),
            _ => Err(Close::invalid("unknown type")),
        }
    }

    async fn init(&mut self, payload: Option<&Map<String, Value>>) -> Result<Step, Close> {
        let token = payload
            .and_then(|p| {
                p.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    .and_then(|(_, v)| v.as_str())
            })
            .and_then(authenticate::bearer_token)
            .ok_or_else(|| Close::new(4403, "Forbidden"))?;
        let inner = &self.api.inner;
        // Before the check: a token ended while it runs is then heard of.
        self.ended = inner.identity.revocations().map(|r| r.subscribe());
        let claims = match authenticate::authenticate(&inner.keys, &inner.identity, token).await {
            Ok(c) => c,
            Err(AuthError::Refused(_)) => return Err(Close::new(4403, "Forbidden")),
            Err(AuthError::Unavailable(detail)) => {
                tracing::error!(%detail, "WebSocket authentication unavailable");
                return Err(Close::new(1011, "authentication unavailable; retry"));
            }
        };
        let viewer = Viewer::from_claims(&claims);
        let left = (claims.exp - chrono::Utc::now().timestamp()).max(0);
        let mut data = Data::default();
        data.insert(viewer);
        self.acked = Some(Acked {
            expires: Instant::now() + Duration::from_secs(left as u64),
            next_check: Instant::now() + inner.ws.liveness_interval,
            failed_checks: 0,
            claims,
            data: Arc::new(data),
        });
        Ok(self.send(json!({"type": "connection_ack"})).await)
    }

    /// The token may have ended (logout, disable, role change, password
    /// reset) since init.
    async fn recheck(&mut self) -> Step {
        let cfg = &self.api.inner.ws;
        let Some(acked) = &mut self.acked else {
            return Step::Continue;
        };
        match authenticate::check_live(&self.api.inner.identity, &acked.claims).await {
            Ok(()) => {
                acked.failed_checks = 0;
                acked.next_check = Instant::now() + cfg.liveness_interval;
                Step::Continue
            }
            Err(AuthError::Refused(_)) => ended_session("revoked"),
            Err(AuthError::Unavailable(detail)) => {
                acked.failed_checks += 1;
                if acked.failed_checks >= cfg.liveness_failures {
                    tracing::warn!(%detail, checks = acked.failed_checks, "token liveness unverifiable; closing the GraphQL WebSocket");
                    metrics::counter!("ticketera_graphql_ws_sessions_ended_total", "reason" => "unverifiable")
                        .increment(1);
                    return Step::End(Some(Close::new(1011, "authentication unavailable; retry")));
                }
                tracing::debug!(%detail, "token liveness check failed; retrying soon");
                acked.next_check = Instant::now() + cfg.liveness_retry;
                Step::Continue
            }
        }
    }

    /// A pushed ended token: a logout of this very token closes at once;
    /// anything that may concern it is re-checked. "Everything" (the
    /// listener is back) concerns every socket at once: their checks are
    /// spread over [`EVERYTHING_RECHECK_SPREAD`] rather than all queried in
    /// the same instant.
    async fn on_ended(&mut self, ended: Ended) -> Step {
        let Some(acked) = &mut self.acked else {
            return Step::Continue;
        };
        match ended {
            Ended::Token(jti) if jti == acked.claims.jti => ended_session("revoked"),
            Ended::Everything => {
                // The jti is random: as good a spread as any.
                let spread = EVERYTHING_RECHECK_SPREAD.as_millis().max(1);
                let delay = (acked.claims.jti.as_u128() % spread) as u64;
                let at = Instant::now() + Duration::from_millis(delay);
                acked.next_check = acked.next_check.min(at);
                Step::Continue
            }
            e if e.concerns(&acked.claims) => self.recheck().await,
            _ => Step::Continue,
        }
    }

    async fn on_item(&mut self, id: String, item: Out) -> Step {
        match item {
            Out::Complete => {
                self.subs.remove(&id);
                self.send(json!({"id": id, "type": "complete"})).await
            }
            Out::Error(errors) => {
                // Nothing executed (parse, validation, limits): `error`, no `complete`.
                self.subs.remove(&id);
                self.send_text(message(&id, "error", &errors)).await
            }
            // Serialized once for every subscriber of a shared execution:
            // only the envelope is written here.
            Out::Next(payload) => self.send_text(message(&id, "next", &payload)).await,
        }
    }
}

fn ended_session(reason: &'static str) -> Step {
    metrics::counter!("ticketera_graphql_ws_sessions_ended_total", "reason" => reason).increment(1);
    Step::End(Some(Close::new(4403, "Forbidden")))
}

/// The next pushed ended token; a receiver that fell behind may have missed
/// one of this connection's, so it re-checks.
async fn next_ended(rx: &mut Option<broadcast::Receiver<Ended>>) -> Ended {
    let Some(rx) = rx else {
        return futures::future::pending().await;
    };
    match rx.recv().await {
        Ok(e) => e,
        Err(broadcast::error::RecvError::Lagged(_)) => Ended::Everything,
        Err(broadcast::error::RecvError::Closed) => futures::future::pending().await,
    }
}

fn optional_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, Close> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(Close::invalid("payload must be an object")),
    }
}

fn message_id(obj: &Map<String, Value>) -> Result<String, Close> {
    match obj.get("id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => Err(Close::invalid("id must be a non-empty string")),
    }
}

/// `{"id":…,"type":…,"payload":…}` around an already serialized payload.
fn message(id: &str, ty: &str, payload: &str) -> String {
    let id = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
    format!(r#"{{"id":{id},"type":"{ty}","payload":{payload}}}"#)
}

fn subscribe_operation(payload: &Map<String, Value>) -> Result<Operation, Close> {
    let query = payload
        .get("query")
        .and_then(Value::as_str)
        .ok_or_else(|| Close::invalid("query must be a string"))?;
    let operation_name = match payload.get("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(_) => return Err(Close::invalid("operationName must be a string")),
    };
    let variables = match payload.get("variables") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => return Err(Close::invalid("variables must be an object")),
    };
    match payload.get("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err(Close::invalid("extensions must be an object")),
    }
    Ok(Operation {
        query: query.to_string(),
        operation_name,
        variables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn origins_are_checked_against_the_host_and_the_allow_list() {
        let allowed = vec!["https://soc.example.test".to_string()];
        assert!(origin_allowed(&headers(&[("host", "x:1")]), &allowed));
        assert!(origin_allowed(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "https://soc.example.test")
            ]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[("host", "127.0.0.1:8080"), ("origin", "https://evil.test")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            &allowed
        ));
    }

    #[test]
    fn close_reasons_fit_a_frame() {
        let c = Close::new(
            4409,
            format!("Subscriber for {} already exists", "x".repeat(500)),
        );
        assert!(c.1.len() <= 123);
    }
}
