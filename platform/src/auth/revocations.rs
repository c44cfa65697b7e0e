//! Ended tokens, pushed to every process: triggers on `users`,
//! `oauth_clients` and `revoked_access_tokens` NOTIFY [`CHANNEL`] in the
//! transaction that ends tokens (logout, disable, role change, password
//! reset, client disable or secret rotation), whatever process or tool made
//! the change. One listener per process feeds the token-liveness cache and
//! the GraphQL WebSockets, which re-check the tokens concerned at once.
//!
//! NOTIFY is delivered to connected listeners only: when the listener's
//! connection is lost the cache is dropped and bypassed until it is back,
//! and on every (re)connection everything is re-checked ([`Ended::Everything`]).

use std::sync::Arc;
use std::time::Duration;

use domain::ActorKind;
use serde::Deserialize;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::liveness_cache::LivenessCache;
use super::tokens::Claims;

/// The channel the triggers notify (migration `…000040_tokens_ended_notify`).
pub const CHANNEL: &str = "tokens_ended";
/// Ended tokens a slow WebSocket may fall behind before it re-checks anyway.
const BROADCAST_CAPACITY: usize = 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What a notification ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// One access token (logout).
    Token(Uuid),
    /// The tokens of a user or client issued so far (disable, enable, role
    /// change, password reset, client secret rotation).
    Principal { kind: ActorKind, name: String },
    /// Anything may have ended: the listener was away, fell behind, or could
    /// not read a notification.
    Everything,
}

/// The triggers' payloads: `{"token": jti}`, `{"user": name}`, `{"client": id}`.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Payload {
    Token(Uuid),
    User(String),
    Client(String),
}

impl Ended {
    /// A payload this process cannot read ends everything: safe, if costly.
    pub fn parse(payload: &str) -> Ended {
        match serde_json::from_str(payload) {
            Ok(Payload::Token(jti)) => Ended::Token(jti),
            Ok(Payload::User(name)) => Ended::Principal {
                kind: ActorKind::User,
                name,
            },
            Ok(Payload::Client(name)) => Ended::Principal {
                kind: ActorKind::Client,
                name,
            },
            Err(e) => {
                tracing::warn!(error = %e, "unreadable {CHANNEL} payload: re-checking every token");
                Ended::Everything
            }
        }
    }

    /// Whether the token of `claims` may have ended. Names compare
    /// case-insensitively: a false match only costs a re-check.
    pub fn concerns(&self, claims: &Claims) -> bool {
        match self {
            Ended::Token(jti) => *jti == claims.jti,
            Ended::Principal { kind, name } => {
                *kind == claims.kind && name.eq_ignore_ascii_case(&claims.sub)
            }
            Ended::Everything => true,
        }
    }
}

/// The listener's connection, for health and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerState {
    pub connected: bool,
    /// Connections that reached LISTEN so far.
    pub sessions: u64,
}

/// The process's revocation listener and what it feeds; cheap to clone. The
/// listener stops when the last clone is dropped.
#[derive(Clone)]
pub struct Revocations {
    shared: Arc<Shared>,
    _stop: Arc<watch::Sender<()>>,
}

struct Shared {
    cache: LivenessCache,
    ended: broadcast::Sender<Ended>,
    state: watch::Sender<ListenerState>,
}

impl Shared {
    fn apply(&self, ended: Ended) {
        // The cache first: a WebSocket told of it re-checks past the cache.
        self.cache.ended(&ended);
        let _ = self.ended.send(ended);
    }

    fn connected(&self) {
        self.cache.listening(true);
        self.state.send_modify(|s| {
            s.connected = true;
            s.sessions += 1;
        });
        metrics::gauge!("ticketera_revocation_listener_connected").set(1.0);
        // Whatever ended while nobody listened is found by re-checking.
        let _ = self.ended.send(Ended::Everything);
    }

    fn disconnected(&self) {
        self.cache.listening(false);
        self.state.send_modify(|s| s.connected = false);
        metrics::gauge!("ticketera_revocation_listener_connected").set(0.0);
        metrics::counter!("ticketera_revocation_listener_reconnects_total").increment(1);
    }
}

impl Revocations {
    /// Starts the listener (needs a Tokio runtime). Live answers are kept
    /// `cache_for` at most; zero turns the cache off (the push stays).
    pub fn start(pool: PgPool, cache_for: Duration) -> Self {
        let (ended, _) = broadcast::channel(BROADCAST_CAPACITY);
        let shared = Arc::new(Shared {
            cache: LivenessCache::new(cache_for),
            ended,
            state: watch::channel(ListenerState::default()).0,
        });
        let (stop, stopped) = watch::channel(());
        tokio::spawn(listen(pool, shared.clone(), stopped));
        Revocations {
            shared,
            _stop: Arc::new(stop),
        }
    }

    /// Ended tokens from now on; `Lagged` means "re-check".
    pub fn subscribe(&self) -> broadcast::Receiver<Ended> {
        self.shared.ended.subscribe()
    }

    pub fn listener_state(&self) -> watch::Receiver<ListenerState> {
        self.shared.state.subscribe()
    }

    pub(crate) fn cache(&self) -> &LivenessCache {
        &self.shared.cache
    }

    /// A change this process committed: applied now, not when its own
    /// notification comes back, so this process's next request already
    /// sees it.
    pub(crate) fn ended_here(&self, ended: Ended) {
        self.shared.apply(ended);
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection comes back through `connect`, so the cache knows
    // when LISTEN holds again.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn listen(pool: PgPool, shared: Arc<Shared>, mut stop: watch::Receiver<()>) {
    metrics::gauge!("ticketera_revocation_listener_connected").set(0.0);
    let mut backoff = Duration::from_millis(100);
    loop {
        let connected = tokio::select! {
            _ = stop.changed() => return,
            c = connect(&pool) => c,
        };
        let mut listener = match connected {
            Ok(l) => l,
            Err(e) => {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "revocation listener cannot LISTEN {CHANNEL}; token liveness is queried meanwhile");
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        shared.connected();
        loop {
            let next = tokio::select! {
                _ = stop.changed() => return,
                n = listener.try_recv() => n,
            };
            match next {
                Ok(Some(n)) => {
                    metrics::counter!("ticketera_tokens_ended_notifications_total").increment(1);
                    shared.apply(Ended::parse(n.payload()));
                }
                Ok(None) => {
                    tracing::warn!("revocation listener lost its connection; reconnecting");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "revocation listener failed; reconnecting");
                    break;
                }
            }
        }
        shared.disconnected();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_of_the_triggers_are_read_and_anything_else_ends_everything() {
        let jti = Uuid::new_v4();
        assert_eq!(
            Ended::parse(&format!(r#"{{"token":"{jti}"}}"#)),
            Ended::Token(jti)
        );
        assert_eq!(
            Ended::parse(r#"{"user":"Alice"}"#),
            Ended::Principal {
                kind: ActorKind::User,
                name: "Alice".into()
            }
        );
        assert_eq!(
            Ended::parse(r#"{"client":"cli_x"}"#),
            Ended::Principal {
                kind: ActorKind::Client,
                name: "cli_x".into()
            }
        );
        for junk in ["", "{}", r#"{"token":"nope"}"#, r#"{"group":"x"}"#, "[]"] {
            assert_eq!(Ended::parse(junk), Ended::Everything, "{junk}");
        }
    }
}
