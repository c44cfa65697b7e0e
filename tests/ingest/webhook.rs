//! `POST /api/v1/integrations/webhook`: refusals with the right 4xx, the
//! outcome of every answer, and FortiSIEM incidents as one ticket for good.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app_with, TestApp};
use crate::process::sample;

const PATH: &str = "/api/v1/integrations/webhook";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub(crate) async fn integration_token(app: &TestApp) -> String {
    let res = app
        .post_json(
            "/api/v1/admin/clients",
            &app.admin_token,
            &json!({"name": "FortiSIEM", "role": "integration"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let c: Value = res.json().await.expect("client");
    let res = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", c["client_id"].as_str().expect("id")),
            (
                "client_secret",
                c["client_secret"].as_str().expect("secret"),
            ),
        ])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.expect("token")["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

fn signed(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: &[u8],
    timestamp: i64,
) -> reqwest::RequestBuilder {
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    signed_as(app, token, content_type, body, timestamp, &id)
}

/// A call signed with the given `webhook-id`.
fn signed_as(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: &[u8],
    timestamp: i64,
    id: &str,
) -> reqwest::RequestBuilder {
    let key = ingest::webhook::secret_key(SECRET);
    let sig = ingest::webhook::sign(&key, id, timestamp, body);
    app.request(Method::POST, PATH, token)
        .header("content-type", content_type)
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sig)
        .body(body.to_vec())
}

async fn send(app: &TestApp, token: &str, content_type: &str, body: &[u8]) -> reqwest::Response {
    app.request(Method::POST, PATH, token)
        .header("content-type", content_type)
        .body(body.to_vec())
        .send()
        .await
        .expect("webhook")
}

const XXE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE incident [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<incident incidentId="1" severity="9" status="Active"><name>&xxe;</name></incident>"#;

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<incident incidentId="2" severity="9"><name>&lol9;</name></incident>"#;

#[tokio::test]
async fn refusals_have_the_right_status_and_a_problem_body() {
    let app = spawn_app_with(|s| {
        s.ingest.webhook_secret = Some(SECRET.to_string().into());
        s.ingest.webhook_body_limit_bytes = 64 * 1024;
    })
    .await;
    let siem = integration_token(&app).await;
    let (_, analyst) = app.user("analyst").await;
    let xml = sample("fortisiem-incident.xml");
    let now = chrono::Utc::now().timestamp();

    // No token, a role that may not raise alerts.
    let res = app
        .client
        .post(app.url(PATH))
        .body(xml.clone())
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::UNAUTHORIZED).await;
    let res = signed(&app, &analyst, "application/xml", &xml, now)
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::FORBIDDEN).await;

    // Wrong content type; oversized body.
    let res = signed(&app, &siem, "text/plain", &xml, now)
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let big = vec![b' '; 100 * 1024];
    let res = signed(&app, &siem, "application/xml", &big, now)
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;

    // Signatures: missing, wrong, stale.
    let res = send(&app, &siem, "application/xml", &xml).await;
    let p = problem(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(p["code"], "signature_required");
    let res = app
        .request(Method::POST, PATH, &siem)
        .header("content-type", "application/xml")
        .header("webhook-id", "msg_1")
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", "v1,bm90IHRoZSBzaWduYXR1cmU=")
        .body(xml.clone())
        .send()
        .await
        .expect("send");
    let p = problem(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(p["code"], "invalid_signature");
    let res = signed(&app, &siem, "application/xml", &xml, now - 3600)
        .send()
        .await
        .expect("send");
    let p = problem(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(p["code"], "stale_timestamp");

    // XXE, billion laughs, malformed JSON: 400, nothing expanded, dead-lettered.
    for (ct, body) in [
        ("application/xml", XXE.as_bytes()),
        ("application/xml", BILLION_LAUGHS.as_bytes()),
        ("application/json", b"{\"incidentId\": ".as_slice()),
    ] {
        let res = signed(&app, &siem, ct, body, now)
            .send()
            .await
            .expect("send");
        let p = problem(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["code"], "malformed_body");
    }
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT reason FROM dead_letters WHERE transport = 'webhook' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("dead letters");
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].contains("DTD") && reasons[1].contains("DTD"),
        "{reasons:?}"
    );
    let opened: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .expect("events");
    assert_eq!(opened, 0, "no refused call touched a ticket");

    // A properly signed incident is taken.
    let res = signed(&app, &siem, "application/xml", &xml, now)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["outcome"], "opened", "{body}");
    assert!(
        body["ticket_id"].is_string() && body["number"].is_string() && body["position"].is_string()
    );
}

async fn ticket(app: &TestApp, id: &str) -> Value {
    let res = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            &app.admin_token,
        )
        .send()
        .await
        .expect("ticket");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

async fn command(app: &TestApp, id: &str, what: &str, body: Value) {
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/{what}"),
            &app.admin_token,
            &body,
        )
        .await;
    assert!(res.status().is_success(), "{what}: {}", res.status());
}

#[tokio::test]
async fn an_incident_is_one_ticket_for_good() {
    let app = spawn_app_with(|_| {}).await;
    let siem = integration_token(&app).await;
    let xml = String::from_utf8(sample("fortisiem-incident.xml")).expect("utf-8");

    let res = send(&app, &siem, "application/xml", xml.as_bytes()).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let first: Value = res.json().await.expect("json");
    assert_eq!(first["outcome"], "opened");
    let id = first["ticket_id"].as_str().expect("id").to_string();
    let t = ticket(&app, &id).await;
    assert_eq!(t["severity"], "HIGH");
    assert_eq!(t["source"], "WEBHOOK");
    assert_eq!(
        t["origin"]["rule_name"],
        "Excessive Denied Connections From Same Source"
    );
    assert_eq!(t["source_ip"], "198.51.100.77");
    assert_eq!(t["destination_ip"], "10.20.1.22");

    // A replayed incident: recorded on the same ticket, no new one.
    let res = send(&app, &siem, "application/xml", xml.as_bytes()).await;
    let again: Value = res.json().await.expect("json");
    assert_eq!(again["outcome"], "updated", "{again}");
    assert_eq!(again["ticket_id"], first["ticket_id"]);

    // The JSON sample is another incident: another ticket, HIGH.
    let res = send(
        &app,
        &siem,
        "application/json",
        &sample("fortisiem-incident.json"),
    )
    .await;
    let other: Value = res.json().await.expect("json");
    assert_eq!(other["outcome"], "opened");
    assert_ne!(other["ticket_id"], first["ticket_id"]);
    let t = ticket(&app, other["ticket_id"].as_str().expect("id")).await;
    assert_eq!(
        (t["severity"].as_str(), t["origin"]["rule_name"].as_str()),
        (Some("HIGH"), Some("Windows: Audit Log Cleared"))
    );

    // An Active re-send reopens a RESOLVED ticket.
    command(
        &app,
        &id,
        "resolve",
        json!({"resolution": "TRUE_POSITIVE", "summary": "blocked"}),
    )
    .await;
    assert_eq!(ticket(&app, &id).await["status"], "RESOLVED");
    let active = xml.replace("repeatCount=\"3\"", "repeatCount=\"7\"");
    let res = send(&app, &siem, "application/xml", active.as_bytes()).await;
    let reopened: Value = res.json().await.expect("json");
    assert_eq!(
        (reopened["outcome"].as_str(), reopened["ticket_id"].as_str()),
        (Some("updated"), Some(id.as_str()))
    );
    let t = ticket(&app, &id).await;
    assert_eq!(t["status"], "IN_PROGRESS");
    assert_eq!(t["alert_count"], 7);

    // On a CLOSED ticket it is only recorded.
    command(
        &app,
        &id,
        "resolve",
        json!({"resolution": "TRUE_POSITIVE", "summary": "again"}),
    )
    .await;
    command(&app, &id, "close", json!({"note": "done"})).await;
    let before = ticket(&app, &id).await;
    let res = send(
        &app,
        &siem,
        "application/xml",
        active
            .replace("repeatCount=\"7\"", "repeatCount=\"9\"")
            .as_bytes(),
    )
    .await;
    let recorded: Value = res.json().await.expect("json");
    assert_eq!(
        (recorded["outcome"].as_str(), recorded["ticket_id"].as_str()),
        (Some("updated"), Some(id.as_str()))
    );
    let after = ticket(&app, &id).await;
    assert_eq!(after["status"], "CLOSED");
    assert_eq!(
        after["version"].as_u64(),
        before["version"].as_u64().map(|v| v + 1)
    );
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence",
    )
    .bind(&id)
    .fetch_all(&app.pool)
    .await
    .expect("events");
    assert_eq!(
        events.last().map(String::as_str),
        Some("SiemIncidentUpdated"),
        "{events:?}"
    );

    // Concurrent first sends of a new incident: one ticket.
    let fresh = xml.replace("incidentId=\"40211\"", "incidentId=\"777\"");
    let sends = (0..8).map(|_| send(&app, &siem, "application/xml", fresh.as_bytes()));
    let mut answers: Vec<Value> = vec![];
    for r in futures::future::join_all(sends).await {
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        answers.push(r.json().await.expect("json"));
    }
    let opened = answers.iter().filter(|a| a["outcome"] == "opened").count();
    let ids: std::collections::HashSet<&str> = answers
        .iter()
        .filter_map(|a| a["ticket_id"].as_str())
        .collect();
    assert_eq!((opened, ids.len()), (1, 1), "{answers:?}");
}

/// A signed call's `webhook-id` is taken once within the window: its
/// replay (same id, timestamp, body and signature) is `409
/// replayed_webhook` and touches nothing; a call that was not taken (a
/// malformed body) gives its id back for the sender's retry.
#[tokio::test]
async fn a_replayed_webhook_id_is_refused_within_the_window() {
    let app = spawn_app_with(|s| s.ingest.webhook_secret = Some(SECRET.to_string().into())).await;
    let siem = integration_token(&app).await;
    let xml = sample("fortisiem-incident.xml");
    let now = chrono::Utc::now().timestamp();

    let res = signed_as(&app, &siem, "application/xml", &xml, now, "msg_replayed")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let events = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
            .fetch_one(&app.pool)
            .await
            .expect("events")
    };
    let before = events().await;
    let res = signed_as(&app, &siem, "application/xml", &xml, now, "msg_replayed")
        .send()
        .await
        .expect("send");
    let p = problem(res, StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "replayed_webhook");
    assert_eq!(events().await, before, "the replay touched no ticket");
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_ids WHERE id = 'msg_replayed' AND expires_at > now()",
    )
    .fetch_one(&app.pool)
    .await
    .expect("ids");
    assert_eq!(kept, 1, "remembered in the database, for every instance");

    // Not taken: the same id may come again, and is taken then.
    let res = signed_as(
        &app,
        &siem,
        "application/json",
        b"{\"incidentId\": ",
        now,
        "msg_retried",
    )
    .send()
    .await
    .expect("send");
    problem(res, StatusCode::BAD_REQUEST).await;
    let res = signed_as(&app, &siem, "application/xml", &xml, now, "msg_retried")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

/// A `webhook-timestamp` that is no time (negative, past year 9999, not a
/// number) is a 400 `invalid_timestamp`, never an overflow: before, i64::MIN
/// overflowed `now - ts` (a panic, answered 500).
#[tokio::test]
async fn a_timestamp_that_is_no_time_is_a_400() {
    let app = spawn_app_with(|s| s.ingest.webhook_secret = Some(SECRET.to_string().into())).await;
    let siem = integration_token(&app).await;
    let xml = sample("fortisiem-incident.xml");
    for ts in [i64::MIN, -1, i64::MAX, 253_402_300_800] {
        let res = signed(&app, &siem, "application/xml", &xml, ts)
            .send()
            .await
            .expect("send");
        let p = problem(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["code"], "invalid_timestamp", "{ts}");
    }
    for ts in ["1e9", "99999999999999999999", "", "now"] {
        let res = app
            .request(Method::POST, PATH, &siem)
            .header("content-type", "application/xml")
            .header("webhook-id", "msg_ts")
            .header("webhook-timestamp", ts)
            .header("webhook-signature", "v1,bm90IHRoZSBzaWduYXR1cmU=")
            .body(xml.clone())
            .send()
            .await
            .expect("send");
        let status = res.status();
        let p: Value = res.json().await.expect("problem");
        // An empty header is a missing one (401 signature_required).
        if ts.is_empty() {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        } else {
            assert_eq!(
                (status, p["code"].clone()),
                (StatusCode::BAD_REQUEST, json!("invalid_timestamp")),
                "{ts}"
            );
        }
    }
    let res = signed_as(
        &app,
        &siem,
        "application/xml",
        &xml,
        chrono::Utc::now().timestamp(),
        &"m".repeat(300),
    )
    .send()
    .await
    .expect("send");
    let p = problem(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["code"], "invalid_webhook_id");
}
