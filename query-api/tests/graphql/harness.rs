//! A query API on port 0 with its own database; commands through the
//! platform's `TicketStore`, read models built by the real projector.

use std::sync::Arc;
use std::time::Duration;

use domain::command::OpenTicket;
use domain::{Actor, ActorKind, Command, Role, Severity, Source, TicketCommand};
use futures::{SinkExt, StreamExt};
use platform::auth::tokens::{TokenKeys, TokenSettings};
use platform::auth::Revocations;
use platform::config::Settings;
use platform::event_store::{CommandContext, CommandOutcome, StoredResponse, TicketStore};
use platform::http::shutdown::Shutdown;
use platform::identity::Identity;
use platform::position::Position;
use platform::services::PgTicketServices;
use query_api::{Options, QueryApi};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

pub const PASSWORD: &str = "a-long-enough-password";

pub async fn fresh_database() -> (String, PgPool) {
    test_kit::fresh_database(20).await
}

pub struct Harness {
    pub base: String,
    pub ws_url: String,
    pub pool: PgPool,
    pub store: TicketStore,
    pub keys: TokenKeys,
    pub identity: Identity,
    pub api: QueryApi,
    pub client: reqwest::Client,
    shutdown: Shutdown,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn fast_options(settings: &Settings) -> Options {
    let mut o = Options::from_settings(settings);
    o.ws.init_timeout = Duration::from_millis(800);
    o.ws.max_subscriptions = 3;
    o.min_position_wait = Duration::from_millis(1500);
    o
}

pub async fn spawn() -> Harness {
    spawn_with(|_, _| {}).await
}

pub async fn spawn_with(configure: impl FnOnce(&mut Settings, &mut Options)) -> Harness {
    let (url, pool) = fresh_database().await;
    let mut settings = Settings::for_database(&url);
    settings.cors_origins = vec!["https://allowed.example.test".into()];
    let mut options = fast_options(&settings);
    configure(&mut settings, &mut options);
    let keys = TokenKeys::load_or_create(
        &pool,
        TokenSettings {
            issuer: settings.token_issuer.clone(),
            audience: settings.token_audience.clone(),
            access_ttl: chrono::Duration::minutes(10),
            leeway_secs: 5,
        },
    )
    .await
    .expect("keys");
    let store = TicketStore::new(pool.clone(), Arc::new(PgTicketServices::new(pool.clone())));
    // As deployed: the process's revocation listener behind its identity.
    let revocations = Revocations::start(
        pool.clone(),
        Duration::from_secs(settings.token_liveness_cache_secs),
    );
    let identity = Identity::new(pool.clone()).with_revocations(revocations);
    let api = QueryApi::with_options(
        store.clone(),
        identity.clone(),
        keys.clone(),
        &settings,
        options,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = Shutdown::default();
    let router = query_api::router(api.clone());
    let stop = shutdown.clone();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
    });
    Harness {
        base: format!("http://{addr}"),
        ws_url: format!("ws://{addr}/graphql/ws"),
        pool,
        store,
        keys,
        identity,
        api,
        client: reqwest::Client::new(),
        shutdown,
    }
}

impl Harness {
    /// A user with `role` and a live access token.
    pub async fn user(&self, username: &str, role: Role) -> String {
        self.identity
            .create_user(username, None, PASSWORD, role, "test", None)
            .await
            .expect("create user");
        self.token(username, role)
    }

    pub fn token(&self, username: &str, role: Role) -> String {
        self.keys
            .issue(username, ActorKind::User, &[role])
            .expect("issue")
            .0
    }

    pub async fn exec(&self, id: Uuid, by: &str, command: Command) -> CommandOutcome {
        let ctx = CommandContext {
            actor: by.to_string(),
            actor_kind: ActorKind::User,
            command_id: Uuid::new_v4(),
            correlation_id: "test".into(),
            channel: platform::event_store::Channel::Api,
            client_addr: None,
        };
        let (outcome, _) = self
            .store
            .execute(
                id,
                TicketCommand {
                    actor: Actor::user(by),
                    command,
                },
                &ctx,
                None,
                None,
                |_| StoredResponse {
                    status: 200,
                    body: Value::Null,
                },
            )
            .await
            .expect("command");
        outcome
    }

    pub async fn open(&self, by: &str, title: &str, severity: Severity) -> (Uuid, CommandOutcome) {
        let id = Uuid::now_v7();
        let outcome = self
            .exec(
                id,
                by,
                Command::Open(OpenTicket {
                    ticket_id: id,
                    title: title.into(),
                    description: format!("{title}: description"),
                    severity,
                    source: Source::Manual,
                    source_ip: "203.0.113.7".parse().ok(),
                    destination_ip: None,
                    tags: vec!["phishing".into()],
                    origin: None,
                }),
            )
            .await;
        (id, outcome)
    }

    /// Runs the real projector once over what the feed delivers now.
    pub async fn project_now(&self) -> u64 {
        projector::Projector::new(self.pool.clone())
            .catch_up()
            .await
            .expect("projector catch-up")
    }

    /// Runs the real projector until every committed event is applied. The
    /// feed's watermark is cluster-wide: a slow transaction of a test running
    /// beside this one holds it back for a while.
    pub async fn project(&self) -> u64 {
        let target: Option<(String, i64)> = sqlx::query_as(
            "SELECT transaction_id::text, global_position FROM events
              ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .expect("head");
        let target = target.map(|(tx, p)| Position::new(tx.parse().expect("xid"), p));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut total = 0;
        loop {
            total += self.project_now().await;
            let Some(target) = target else { return total };
            let mut done = true;
            for schema in ["rm_tickets", "rm_stats"] {
                let (tx, p): (String, i64) = sqlx::query_as(&format!(
                    "SELECT transaction_id::text, global_position FROM {schema}.checkpoint"
                ))
                .fetch_one(&self.pool)
                .await
                .expect("checkpoint");
                done &= Position::new(tx.parse().expect("xid"), p) >= target;
            }
            if done {
                return total;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the projector did not catch up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn post(&self, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let (status, text) = self.post_text(token, body).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The answer's text as the server wrote it (`Value` sorts the keys).
    pub async fn post_text(&self, token: Option<&str>, body: &Value) -> (StatusCode, String) {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req
            .body(body.to_string())
            .send()
            .await
            .expect("POST /graphql");
        let status = res.status();
        (status, res.text().await.expect("body"))
    }

    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self
            .post(
                Some(token),
                &json!({"query": query, "variables": variables}),
            )
            .await;
        assert!(status == StatusCode::OK, "{query}: HTTP {status}: {body}");
        body
    }

    /// `data` of an operation that must succeed.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "{query}: {body}");
        body["data"].clone()
    }

    pub async fn ws(&self) -> Ws {
        self.ws_with(&[]).await
    }

    pub async fn ws_with(&self, headers: &[(&str, &str)]) -> Ws {
        let mut req = self.ws_url.as_str().into_client_request().expect("request");
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        for (k, v) in headers {
            req.headers_mut().insert(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("WebSocket connect");
        Ws { stream }
    }

    /// A connection past `connection_ack`.
    pub async fn ws_acked(&self, token: &str) -> Ws {
        let mut ws = self.ws().await;
        ws.send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}))
            .await;
        let ack = ws.recv().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }
}

pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server sent next.
#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Closed(Option<u16>, String),
}

impl Ws {
    pub async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.to_string().into()))
            .await
            .expect("send");
    }

    pub async fn next_frame(&mut self, wait: Duration) -> Option<Frame> {
        loop {
            let msg = match tokio::time::timeout(wait, self.stream.next()).await {
                Err(_) => return None,
                Ok(None) => return Some(Frame::Closed(None, "stream ended".into())),
                Ok(Some(Err(e))) => return Some(Frame::Closed(None, e.to_string())),
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Text(t) => {
                    return Some(Frame::Json(serde_json::from_str(t.as_str()).expect("JSON")))
                }
                Message::Close(frame) => {
                    return Some(match frame {
                        Some(f) => Frame::Closed(Some(u16::from(f.code)), f.reason.to_string()),
                        None => Frame::Closed(None, String::new()),
                    })
                }
                _ => continue,
            }
        }
    }

    pub async fn recv(&mut self) -> Value {
        match self.next_frame(Duration::from_secs(10)).await {
            Some(Frame::Json(v)) => v,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    pub async fn expect_close(&mut self, code: u16) -> String {
        match self.next_frame(Duration::from_secs(10)).await {
            Some(Frame::Closed(Some(c), reason)) => {
                assert_eq!(c, code, "closed with {c} ({reason}), expected {code}");
                reason
            }
            Some(Frame::Json(v)) => panic!("expected close {code}, got message {v}"),
            other => panic!("expected close {code}, got {other:?}"),
        }
    }

    /// Nothing arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(f) = self.next_frame(wait).await {
            panic!("expected nothing, got {f:?}");
        }
    }
}

/// Position of a cursor, for ordering assertions.
pub fn pos(cursor: &str) -> Position {
    cursor.parse().expect("position cursor")
}
