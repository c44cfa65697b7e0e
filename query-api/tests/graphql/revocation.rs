//! Ended tokens pushed by NOTIFY: open subscriptions close within seconds,
//! the liveness cache forgets them at once, a lost listener turns the cache
//! off and re-checks everything, and a socket whose token cannot be checked
//! closes. The periodic re-check is set to an hour, so only the push can
//! close a socket within the 10 s the assertions wait.

use std::time::Duration;

use domain::Role;
use platform::identity::Identity;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{spawn_with, Harness, Ws};

const EVENTS: &str = "subscription { ticketEvents { position type } }";
const QUERY: &str = r#"{"query": "{ me { name } }"}"#;

/// Only the push can close a socket within a test's patience.
fn push_only(settings: &mut platform::config::Settings, options: &mut query_api::Options) {
    settings.token_liveness_cache_secs = 3600;
    options.ws.liveness_interval = Duration::from_secs(3600);
}

async fn subscribed(h: &Harness, token: &str) -> Ws {
    let mut ws = h.ws_acked(token).await;
    ws.send(json!({"id": "s", "type": "subscribe", "payload": {"query": EVENTS}}))
        .await;
    ws
}

async fn status(h: &Harness, token: &str) -> StatusCode {
    h.post(Some(token), &serde_json::from_str(QUERY).expect("query"))
        .await
        .0
}

/// Waits until the listener has reached LISTEN `sessions` times and holds it.
async fn listening(h: &Harness, sessions: u64) {
    let mut state = h
        .identity
        .revocations()
        .expect("the harness listens")
        .listener_state();
    tokio::time::timeout(
        Duration::from_secs(10),
        state.wait_for(|s| s.connected && s.sessions >= sessions),
    )
    .await
    .expect("the revocation listener connects within 10 s")
    .expect("listener state");
}

#[tokio::test]
async fn subscriptions_close_within_seconds_of_logout_disable_role_change_and_password_reset() {
    let h = spawn_with(push_only).await;
    // The changes come from another process: only NOTIFY tells this one.
    let elsewhere = Identity::new(h.pool.clone());
    let bystander_token = h.user("bystander", Role::Analyst).await;
    let mut bystander = subscribed(&h, &bystander_token).await;

    let logout = h.user("logout", Role::Analyst).await;
    let disable = h.user("disable", Role::Analyst).await;
    let role = h.user("role", Role::Analyst).await;
    let reset = h.user("reset", Role::Analyst).await;
    let mut sockets = Vec::new();
    for token in [&logout, &disable, &role, &reset] {
        sockets.push(subscribed(&h, token).await);
    }
    let [mut logout_ws, mut disable_ws, mut role_ws, mut reset_ws] =
        <[Ws; 4]>::try_from(sockets).unwrap_or_else(|_| panic!("four sockets"));
    listening(&h, 1).await;

    let claims = h.keys.verify(&logout).await.expect("claims");
    elsewhere.revoke(&claims, None).await.expect("logout");
    logout_ws.expect_close(4403).await;

    elsewhere
        .set_enabled("disable", false, "test", None)
        .await
        .expect("disable");
    disable_ws.expect_close(4403).await;

    elsewhere
        .set_role("role", Role::Lead, "test", None)
        .await
        .expect("role change");
    role_ws.expect_close(4403).await;

    elsewhere
        .reset_password("reset", "another-long-enough-password", "test", None)
        .await
        .expect("password reset");
    reset_ws.expect_close(4403).await;

    // Closing is for the tokens that ended only.
    bystander.expect_silence(Duration::from_millis(300)).await;
    bystander.send(json!({"type": "ping"})).await;
    assert_eq!(bystander.recv().await["type"], "pong");
    assert_eq!(status(&h, &bystander_token).await, StatusCode::OK);
}

#[tokio::test]
async fn an_ended_token_is_refused_on_its_next_request_here_and_soon_after_elsewhere() {
    let h = spawn_with(push_only).await;
    listening(&h, 1).await;

    // Ended by this process: its next request is refused, though the cache
    // had it as live a moment ago.
    let token = h.user("here", Role::Analyst).await;
    assert_eq!(status(&h, &token).await, StatusCode::OK);
    assert_eq!(status(&h, &token).await, StatusCode::OK);
    let claims = h.keys.verify(&token).await.expect("claims");
    h.identity.revoke(&claims, None).await.expect("logout");
    assert_eq!(status(&h, &token).await, StatusCode::UNAUTHORIZED);

    // Ended by another process: its NOTIFY drops the cached answer (kept an
    // hour otherwise).
    let token = h.user("there", Role::Analyst).await;
    assert_eq!(status(&h, &token).await, StatusCode::OK);
    Identity::new(h.pool.clone())
        .set_enabled("there", false, "test", None)
        .await
        .expect("disable");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while status(&h, &token).await != StatusCode::UNAUTHORIZED {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the disabled user's token is still served 10 s later"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ends a user's tokens without notifying anyone: a change whose NOTIFY a
/// listener that was away never got.
async fn end_tokens_silently(h: &Harness, username: &str) {
    let mut tx = h.pool.begin().await.expect("begin");
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .expect("no triggers");
    sqlx::query("UPDATE users SET tokens_valid_after = now() WHERE username = $1")
        .bind(username)
        .execute(&mut *tx)
        .await
        .expect("end tokens");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn a_lost_listener_drops_the_cache_and_everything_is_rechecked_when_it_is_back() {
    let h = spawn_with(push_only).await;
    listening(&h, 1).await;
    let token = h.user("quiet", Role::Analyst).await;
    assert_eq!(status(&h, &token).await, StatusCode::OK);
    let mut ws = subscribed(&h, &token).await;

    end_tokens_silently(&h, "quiet").await;
    // The premise: with nothing notified, the cache answers "live" still
    // and the socket stays open.
    assert_eq!(status(&h, &token).await, StatusCode::OK);
    ws.expect_silence(Duration::from_millis(300)).await;

    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query = $1",
    )
    .bind(format!(
        r#"LISTEN "{}""#,
        platform::auth::revocations::CHANNEL
    ))
    .fetch_all(&h.pool)
    .await
    .expect("terminate the listener");
    assert_eq!(killed, vec![true], "one revocation listener");

    // Back, it re-checks every socket; the cache starts empty.
    ws.expect_close(4403).await;
    listening(&h, 2).await;
    assert_eq!(status(&h, &token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_websocket_whose_token_cannot_be_checked_closes_instead_of_staying_open() {
    let h = spawn_with(|settings, options| {
        settings.token_liveness_cache_secs = 0;
        options.ws.liveness_interval = Duration::from_millis(200);
        options.ws.liveness_retry = Duration::from_millis(100);
        options.ws.liveness_failures = 3;
    })
    .await;
    let token = h.user("stranded", Role::Analyst).await;
    let mut ws = subscribed(&h, &token).await;
    // Checks that succeed keep it open.
    ws.expect_silence(Duration::from_millis(800)).await;

    // The liveness query fails from now on, as with the database away.
    sqlx::query("ALTER TABLE users RENAME TO users_away")
        .execute(&h.pool)
        .await
        .expect("rename");
    let reason = ws.expect_close(1011).await;
    assert!(reason.contains("authentication unavailable"), "{reason}");
}
