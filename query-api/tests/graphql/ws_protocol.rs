//! graphql-transport-ws: every protocol error closes with its code.

use std::time::Duration;

use domain::{Role, Severity};
use serde_json::json;

use crate::harness::{spawn, Frame, Harness};

const SUB: &str = "subscription { ticketEvents { position type } }";

async fn token(h: &Harness) -> String {
    h.user("lead", Role::Lead).await
}

#[tokio::test]
async fn protocol_errors_close_with_their_codes() {
    let h = spawn().await;
    let token = token(&h).await;
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});

    // 4408: no connection_init in time (800 ms in these tests).
    let mut ws = h.ws().await;
    let t0 = std::time::Instant::now();
    ws.expect_close(4408).await;
    assert!(t0.elapsed() >= Duration::from_millis(700));

    // 4401: subscribe before the ack.
    let mut ws = h.ws().await;
    ws.send(json!({"id": "1", "type": "subscribe", "payload": {"query": SUB}}))
        .await;
    ws.expect_close(4401).await;

    // 4429: a second connection_init.
    let mut ws = h.ws().await;
    ws.send(init.clone()).await;
    assert_eq!(ws.recv().await["type"], "connection_ack");
    ws.send(init.clone()).await;
    ws.expect_close(4429).await;

    // 4409: a subscription id already running.
    let mut ws = h.ws_acked(&token).await;
    ws.send(json!({"id": "dup", "type": "subscribe", "payload": {"query": SUB}}))
        .await;
    ws.send(json!({"id": "dup", "type": "subscribe", "payload": {"query": SUB}}))
        .await;
    let reason = ws.expect_close(4409).await;
    assert_eq!(reason, "Subscriber for dup already exists");

    // 4400: malformed messages of every kind.
    for bad in [
        "not json",
        "[]",
        r#"{"payload":{}}"#,
        r#"{"type":"no_such_type"}"#,
        r#"{"type":"subscribe","payload":{"query":"{ me { name } }"}}"#,
        r#"{"type":"subscribe","id":"","payload":{"query":"{ me { name } }"}}"#,
        r#"{"type":"subscribe","id":"x"}"#,
        r#"{"type":"subscribe","id":"x","payload":{"query":7}}"#,
        r#"{"type":"subscribe","id":"x","payload":{"query":"{ me { name } }","variables":"v"}}"#,
        r#"{"type":"complete"}"#,
        r#"{"type":"ping","payload":"not an object"}"#,
        r#"{"type":"next","id":"x","payload":{}}"#,
        r#"{"type":"connection_ack"}"#,
    ] {
        let mut ws = h.ws_acked(&token).await;
        ws.send_raw(bad).await;
        ws.expect_close(4400).await;
    }
    // Malformed before init is 4400 too.
    let mut ws = h.ws().await;
    ws.send_raw("{").await;
    ws.expect_close(4400).await;
}

#[tokio::test]
async fn ping_pong_cap_errors_and_queries_over_the_socket() {
    let h = spawn().await;
    let token = token(&h).await;
    let (id, _) = h.open("lead", "over ws", Severity::Low).await;
    h.project().await;
    let mut ws = h.ws_acked(&token).await;

    ws.send(json!({"type": "ping", "payload": {"n": 1}})).await;
    assert_eq!(
        ws.recv().await,
        json!({"type": "pong", "payload": {"n": 1}})
    );
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.recv().await, json!({"type": "pong"}));
    ws.send(json!({"type": "pong"})).await;

    // A query: one next, then complete.
    ws.send(json!({"id": "q", "type": "subscribe", "payload": {
        "query": "query($id: ID!) { ticket(id: $id) { number } }", "variables": {"id": id}}}))
        .await;
    let next = ws.recv().await;
    assert_eq!(next["type"], "next");
    assert_eq!(next["payload"]["data"]["ticket"]["number"], "SOC-1");
    assert_eq!(ws.recv().await, json!({"id": "q", "type": "complete"}));

    // A document that does not validate: `error` for that id, connection stays.
    ws.send(
        json!({"id": "bad", "type": "subscribe", "payload": {"query": "subscription { nope }"}}),
    )
    .await;
    let err = ws.recv().await;
    assert_eq!(err["type"], "error", "{err}");
    assert_eq!(err["id"], "bad");
    assert!(
        err["payload"].as_array().is_some_and(|a| !a.is_empty()),
        "{err}"
    );

    // The cap (3 in these tests): the fourth gets an `error`, the others run.
    for i in 0..3 {
        ws.send(json!({"id": format!("s{i}"), "type": "subscribe", "payload": {"query": SUB}}))
            .await;
    }
    ws.send(json!({"id": "s3", "type": "subscribe", "payload": {"query": SUB}}))
        .await;
    let refused = ws.recv().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "s3");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
    // Completing one frees a slot; "bad" and "q" are not counted.
    ws.send(json!({"id": "s0", "type": "complete"})).await;
    ws.send(json!({"id": "s3", "type": "subscribe", "payload": {"query": SUB}}))
        .await;
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.recv().await, json!({"type": "pong"}));
    // An unknown id's complete is ignored.
    ws.send(json!({"id": "never", "type": "complete"})).await;
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.recv().await, json!({"type": "pong"}));
}

#[tokio::test]
async fn subprotocol_and_origin_are_checked() {
    let h = spawn().await;
    // Without graphql-transport-ws: 4406.
    let req = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        h.ws_url.as_str().into_client_request().expect("request")
    };
    let (mut stream, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    let _ = &mut stream;
    let mut ws = crate::harness::Ws { stream };
    ws.expect_close(4406).await;

    // A browser page of a foreign origin is refused before the upgrade.
    let mut req = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        h.ws_url.as_str().into_client_request().expect("request")
    };
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("h"),
    );
    req.headers_mut()
        .insert("origin", "https://evil.example.test".parse().expect("h"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
    // This host and the configured origins are fine.
    let host = h.base.trim_start_matches("http://").to_string();
    for origin in [
        format!("http://{host}"),
        "https://allowed.example.test".to_string(),
    ] {
        let mut ws = h.ws_with(&[("origin", origin.as_str())]).await;
        ws.send(json!({"type": "ping"})).await;
        match ws.next_frame(Duration::from_secs(5)).await {
            Some(Frame::Json(v)) => assert_eq!(v["type"], "pong"),
            other => panic!("{origin}: {other:?}"),
        }
    }
}
