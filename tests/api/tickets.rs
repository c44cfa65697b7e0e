//! Ticket commands end to end.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn open_answers_id_number_and_position() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"title": "Log4j RCE attempt", "description": "from the edge FW", "severity": "CRITICAL",
                    "source_ip": "203.0.113.45", "destination_ip": "10.20.1.15", "tags": ["log4j", "edge"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let body: Value = res.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().len() == 36);
    assert!(body["number"].as_str().unwrap().starts_with("SOC-"));
    assert!(body["position"].as_str().unwrap().len() > 3);
    assert_eq!(body["version"], 1);

    let second = app.open_ticket(&app.admin_token, "another").await;
    let n1: u64 = body["number"].as_str().unwrap()[4..].parse().unwrap();
    let n2: u64 = second["number"].as_str().unwrap()[4..].parse().unwrap();
    assert!(n2 > n1);

    // Readable by number and by id, with its version as ETag.
    let got = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{}", body["number"].as_str().unwrap()),
            &app.admin_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    let t: Value = got.json().await.unwrap();
    assert_eq!(t["status"], "NEW");
    assert_eq!(t["severity"], "CRITICAL");
    assert_eq!(t["source"], "MANUAL");
}

#[tokio::test]
async fn every_command_walks_the_lifecycle() {
    let app = spawn_app().await;
    let (analyst, analyst_token) = app.user("analyst").await;
    let (_, lead_token) = app.user("lead").await;
    let t = app.open_ticket(&analyst_token, "Phishing wave").await;
    let id = t["id"].as_str().unwrap().to_string();
    let other = app.open_ticket(&analyst_token, "Same phishing wave").await;

    let steps: Vec<(&str, &str, Value, StatusCode)> = vec![
        (
            "analyst",
            "assign",
            json!({"assignee": analyst}),
            StatusCode::OK,
        ),
        ("analyst", "start", json!({}), StatusCode::OK),
        (
            "analyst",
            "hold",
            json!({"reason": "waiting on the mail team"}),
            StatusCode::OK,
        ),
        ("analyst", "resume", json!({}), StatusCode::OK),
        (
            "analyst",
            "severity",
            json!({"severity": "CRITICAL", "reason": "payroll targeted"}),
            StatusCode::OK,
        ),
        (
            "analyst",
            "comments",
            json!({"body": "blocked sender domain"}),
            StatusCode::OK,
        ),
        (
            "analyst",
            "tags",
            json!({"tags": ["phishing", "mail"]}),
            StatusCode::OK,
        ),
        (
            "analyst",
            "observables",
            json!({"kind": "DOMAIN", "value": "evil.example.test"}),
            StatusCode::OK,
        ),
        (
            "analyst",
            "observables",
            json!({"kind": "IP", "value": "203.0.113.9"}),
            StatusCode::OK,
        ),
        ("analyst", "unassign", json!({}), StatusCode::OK),
        (
            "analyst",
            "resolve",
            json!({"resolution": "TRUE_POSITIVE", "summary": "contained"}),
            StatusCode::OK,
        ),
        ("lead", "close", json!({"note": "reviewed"}), StatusCode::OK),
        (
            "lead",
            "reopen",
            json!({"reason": "new victims"}),
            StatusCode::OK,
        ),
    ];
    let mut version = 1;
    for (who, path, body, status) in steps {
        let token = if who == "lead" {
            &lead_token
        } else {
            &analyst_token
        };
        let res = app
            .post_json(&format!("/api/v1/tickets/{id}/{path}"), token, &body)
            .await;
        assert_eq!(res.status(), status, "{path}");
        let answer: Value = res.json().await.unwrap();
        version += 1;
        assert_eq!(answer["version"], version, "{path}: {answer}");
        assert!(answer["position"].is_string());
    }
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/tickets/{id}/tags/mail"),
            &analyst_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!(
                "/api/v1/tickets/{}/duplicate",
                other["id"].as_str().unwrap()
            ),
            &analyst_token,
            &json!({"of": t["number"], "summary": "same campaign"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let ticket: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            &analyst_token,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["status"], "IN_PROGRESS");
    assert_eq!(ticket["severity"], "CRITICAL");
    assert_eq!(ticket["tags"], json!(["phishing"]));
    assert_eq!(ticket["observables"].as_array().unwrap().len(), 2);
    assert_eq!(ticket["comments"][0]["author"], analyst.as_str());
    assert_eq!(ticket["version"], 15);
    let dup: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{}", other["id"].as_str().unwrap()),
            &analyst_token,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dup["resolution"], "DUPLICATE");
    assert_eq!(dup["duplicate_of"], t["id"]);
}

#[tokio::test]
async fn transitions_not_in_the_contract_are_409_and_missing_fields_422() {
    let app = spawn_app().await;
    let t = app.open_ticket(&app.admin_token, "x").await;
    let id = t["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/resume"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    let body = problem(res, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "invalid_transition");
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/resolve"),
            &app.admin_token,
            &json!({"summary": "no resolution"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "resolution");
    // A NEW ticket may be resolved as a false positive at triage; then closed, it takes only reopen.
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/resolve"),
            &app.admin_token,
            &json!({"resolution": "FALSE_POSITIVE"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/close"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/start"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    problem(res, StatusCode::CONFLICT).await;
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/comments"),
            &app.admin_token,
            &json!({"body": "late"}),
        )
        .await;
    problem(res, StatusCode::CONFLICT).await;
    let res = app
        .post_json(
            "/api/v1/tickets/00000000-0000-0000-0000-000000000000/start",
            &app.admin_token,
            &json!({}),
        )
        .await;
    problem(res, StatusCode::NOT_FOUND).await;
    let res = app
        .post_json(
            "/api/v1/tickets/SOC-999999/start",
            &app.admin_token,
            &json!({}),
        )
        .await;
    problem(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let app = spawn_app().await;
    let send = |body: Value, key: &'static str| {
        app.request(Method::POST, "/api/v1/tickets", &app.admin_token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send(json!({"title": "once"}), "k-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = send(json!({"title": "once"}), "k-1").await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);
    let other = send(json!({"title": "different"}), "k-1").await.unwrap();
    let body = problem(other, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["code"], "idempotency_key_reused");
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'TicketOpened'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(count, 1);

    // Concurrent requests with one key: one ticket, one answer.
    let answers =
        futures::future::join_all((0..8).map(|_| send(json!({"title": "race"}), "k-race"))).await;
    let mut ids = std::collections::HashSet::new();
    for a in answers {
        let a = a.unwrap();
        assert_eq!(a.status(), StatusCode::CREATED);
        ids.insert(
            a.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids.len(), 1);
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'TicketOpened'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(count, 2);
}

#[tokio::test]
async fn if_match_mismatch_is_412() {
    let app = spawn_app().await;
    let t = app.open_ticket(&app.admin_token, "x").await;
    let id = t["id"].as_str().unwrap();
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/tickets/{id}/start"),
            &app.admin_token,
        )
        .header("If-Match", "\"7\"")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(body["code"], "version_mismatch");
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/tickets/{id}/start"),
            &app.admin_token,
        )
        .header("If-Match", "\"1\"")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/tickets/{id}/comments"),
            &app.admin_token,
        )
        .header("If-Match", "soon")
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn fifty_concurrent_commands_each_succeed_or_conflict_and_the_stream_stays_gapless() {
    let app = spawn_app().await;
    let t = app.open_ticket(&app.admin_token, "hot ticket").await;
    let id = t["id"].as_str().unwrap().to_string();
    let requests = (0..50).map(|i| {
        let (path, body) = match i % 3 {
            0 => ("comments", json!({"body": format!("note {i}")})),
            1 => ("tags", json!({"tags": [format!("t{i}")]})),
            _ => (
                "observables",
                json!({"kind": "IP", "value": format!("10.0.0.{i}")}),
            ),
        };
        app.request(
            Method::POST,
            &format!("/api/v1/tickets/{id}/{path}"),
            &app.admin_token,
        )
        .header("If-Match", "\"1\"")
        .json(&body)
        .send()
    });
    // All claim version 1: exactly one may win; the rest are 412 (stale) or 409 (lost the race).
    let answers = futures::future::join_all(requests).await;
    let mut ok = 0;
    for a in answers {
        let a = a.unwrap();
        match a.status() {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED => {}
            other => panic!("unexpected {other}: {}", a.text().await.unwrap()),
        }
    }
    assert_eq!(ok, 1);

    // Without If-Match, every command either applies or loses a race with 409.
    let requests = (0..50).map(|i| {
        app.request(
            Method::POST,
            &format!("/api/v1/tickets/{id}/comments"),
            &app.admin_token,
        )
        .json(&json!({"body": format!("c{i}")}))
        .send()
    });
    let answers = futures::future::join_all(requests).await;
    let mut applied = 0;
    for a in answers {
        let a = a.unwrap();
        match a.status() {
            StatusCode::OK => applied += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(applied >= 1);
    let sequences: Vec<i64> =
        sqlx::query_scalar("SELECT sequence FROM events WHERE aggregate_id = $1 ORDER BY sequence")
            .bind(&id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        sequences,
        (1..=sequences.len() as i64).collect::<Vec<_>>(),
        "gapless"
    );
    assert_eq!(sequences.len(), 2 + applied);
}

#[tokio::test]
async fn events_carry_metadata_with_request_id() {
    let app = spawn_app().await;
    let res = app
        .request(Method::POST, "/api/v1/tickets", &app.admin_token)
        .header("x-request-id", "req-abc-123")
        .header("x-ticketera-client", "web")
        .json(&json!({"title": "with metadata"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-abc-123");
    let meta: Value = sqlx::query_scalar("SELECT metadata FROM events LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(meta["actor"], "admin");
    assert_eq!(meta["actor_kind"], "user");
    assert_eq!(meta["correlation_id"], "req-abc-123");
    assert_eq!(meta["channel"], "ui");
    assert!(meta["command_id"].is_string());
    assert!(meta["occurred_at"].is_string());
}

#[tokio::test]
async fn openapi_and_swagger_ui_are_served_from_this_origin() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/tickets"].is_object());
    assert!(doc["paths"]["/api/v1/tickets/{id}/resolve"].is_object());
    let page = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui-bundle.js"));
    assert!(!html.contains("cdn"), "no CDN");
    let js = app
        .client
        .get(app.url("/api/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(
            app.client.get(app.url(path)).send().await.unwrap().status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("ticketera_http_requests_total"));
}
