//! Hostile and malformed input: every refusal is a 4xx with a problem body
//! (RFC 6749 errors on the token endpoint), never a 500, and the service keeps
//! serving afterwards.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, TestApp};

async fn open_raw(app: &TestApp, content_type: &str, body: impl Into<reqwest::Body>) -> Response {
    app.request(Method::POST, "/api/v1/tickets", &app.admin_token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn open_json(app: &TestApp, body: &Value) -> Response {
    app.post_json("/api/v1/tickets", &app.admin_token, body)
        .await
}

/// A problem with `status` and, when given, `code` and `field`.
async fn expect_problem(
    res: Response,
    status: StatusCode,
    code: Option<&str>,
    field: Option<&str>,
) -> Value {
    let body = problem(res, status).await;
    assert_eq!(body["status"], status.as_u16(), "{body}");
    if let Some(code) = code {
        assert_eq!(body["code"], code, "{body}");
    }
    if let Some(field) = field {
        assert_eq!(body["field"], field, "{body}");
    }
    body
}

async fn token_form(app: &TestApp, body: &'static [u8]) -> Response {
    app.client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token request")
}

/// POSTs `chunks` chunks of `size` spaces to the open route with chunked
/// transfer encoding (no Content-Length) over a raw socket; returns the status
/// and the response head.
async fn chunked_open(app: &TestApp, chunks: usize, size: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(addr.as_str())
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        addr, app.admin_token
    );
    socket.write_all(head.as_bytes()).await.expect("write head");
    let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
    for _ in 0..chunks {
        // The server may answer and close before the whole body is sent.
        if socket.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).to_string();
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head)
}

async fn oauth_error(res: Response, status: StatusCode, error: &str) {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.expect("RFC 6749 error body is JSON");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

#[tokio::test]
async fn malformed_bodies_are_refused_with_problems() {
    let app = spawn_app().await;
    let json_ct = "application/json";

    // 400: not JSON, not UTF-8.
    expect_problem(
        open_raw(&app, json_ct, r#"{"title": "#).await,
        StatusCode::BAD_REQUEST,
        Some("malformed_json"),
        None,
    )
    .await;
    expect_problem(
        open_raw(&app, json_ct, "{'title': 'single quotes'}").await,
        StatusCode::BAD_REQUEST,
        None,
        None,
    )
    .await;
    expect_problem(
        open_raw(&app, json_ct, r#"{"title": "x"} trailing"#).await,
        StatusCode::BAD_REQUEST,
        Some("malformed_json"),
        None,
    )
    .await;
    expect_problem(
        open_raw(&app, json_ct, r#"{"title": "x"}{"title": "y"}"#).await,
        StatusCode::BAD_REQUEST,
        Some("malformed_json"),
        None,
    )
    .await;
    let not_utf8: Vec<u8> = [
        b"{\"title\": \"".as_slice(),
        &[0xff, 0xfe, 0xc3, 0x28],
        b"\"}",
    ]
    .concat();
    expect_problem(
        open_raw(&app, json_ct, not_utf8).await,
        StatusCode::BAD_REQUEST,
        None,
        None,
    )
    .await;
    // Deeply nested: well-formed, so refused as the wrong shape (422) or for
    // depth (400); either way a problem, never a crash.
    for deep in [
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)),
    ] {
        let res = open_raw(&app, json_ct, deep).await;
        let status = res.status();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{status}"
        );
        problem(res, status).await;
    }

    // 415: not JSON by content type (or none at all, with a body).
    expect_problem(
        open_raw(&app, "text/plain", r#"{"title": "x"}"#).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("unsupported_media_type"),
        None,
    )
    .await;
    expect_problem(
        open_raw(&app, "application/x-www-form-urlencoded", "title=x").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        None,
        None,
    )
    .await;
    let res = app
        .request(Method::POST, "/api/v1/tickets", &app.admin_token)
        .body(r#"{"title": "x"}"#)
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, None, None).await;

    // 413: over the 64 KiB the harness configures.
    let big = json!({"title": "big", "description": "a".repeat(70 * 1024)});
    expect_problem(
        open_json(&app, &big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        Some("body_too_large"),
        None,
    )
    .await;
    let res = app
        .post_json(
            &format!(
                "/api/v1/tickets/{}/comments",
                app.open_ticket(&app.admin_token, "t").await["id"]
                    .as_str()
                    .unwrap()
            ),
            &app.admin_token,
            &json!({"body": "b".repeat(200 * 1024)}),
        )
        .await;
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, None, None).await;
    // Streamed (no Content-Length) and over the limit: still 413.
    let (status, head) = chunked_open(&app, 40, 4096).await;
    assert_eq!(status, 413, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );

    // The service is fine.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        open_json(&app, &json!({"title": "still here"}))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn well_formed_but_invalid_fields_are_422() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        (
            "unknown severity",
            json!({"title": "x", "severity": "URGENT"}),
            Some("severity"),
        ),
        (
            "lower-case severity",
            json!({"title": "x", "severity": "high"}),
            Some("severity"),
        ),
        (
            "invalid IP",
            json!({"title": "x", "source_ip": "10.0.0.300"}),
            Some("source_ip"),
        ),
        (
            "IP with a port",
            json!({"title": "x", "destination_ip": "10.0.0.1:443"}),
            Some("destination_ip"),
        ),
        ("empty title", json!({"title": ""}), Some("title")),
        ("blank title", json!({"title": "   "}), Some("title")),
        (
            "201-character title",
            json!({"title": "t".repeat(201)}),
            Some("title"),
        ),
        (
            "title with NUL",
            json!({"title": "bad\u{0000}title"}),
            Some("title"),
        ),
        (
            "title with a line break",
            json!({"title": "two\nlines"}),
            Some("title"),
        ),
        ("missing title", json!({"severity": "LOW"}), None),
        ("title not a string", json!({"title": 42}), None),
        ("null title", json!({"title": null}), None),
        (
            "unknown field",
            json!({"title": "x", "priority": "P1"}),
            None,
        ),
        (
            "tags not a list",
            json!({"title": "x", "tags": "a,b"}),
            None,
        ),
        (
            "description with NUL",
            json!({"title": "x", "description": "a\u{0000}b"}),
            Some("description"),
        ),
        ("array body", json!([{"title": "x"}]), None),
    ];
    for (name, body, field) in cases {
        let res = open_json(&app, &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, None, field).await;
        assert!(
            problem["field"].is_string(),
            "{name}: a 422 names its field: {problem}"
        );
    }
    // The boundary is accepted: 200 characters, multi-byte ones counted as characters.
    assert_eq!(
        open_json(&app, &json!({"title": "t".repeat(200)}))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        open_json(&app, &json!({"title": "é".repeat(200)}))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        open_json(&app, &json!({"title": "ok", "source_ip": "2001:db8::1"}))
            .await
            .status(),
        StatusCode::CREATED
    );

    // On commands too: unknown resolution, unknown observable kind, bad If-Match, bad Idempotency-Key.
    let t = app.open_ticket(&app.admin_token, "target").await;
    let id = t["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/resolve"),
            &app.admin_token,
            &json!({"resolution": "SOLVED"}),
        )
        .await;
    expect_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        Some("resolution"),
    )
    .await;
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/observables"),
            &app.admin_token,
            &json!({"kind": "EMAIL", "value": "x"}),
        )
        .await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, None, Some("kind")).await;
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/start"),
            &app.admin_token,
            &json!({"force": true}),
        )
        .await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, None, None).await;
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/tickets/{id}/start"),
            &app.admin_token,
        )
        .header("if-match", "banana")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::BAD_REQUEST, Some("invalid_if_match"), None).await;
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/tickets/{id}/start"),
            &app.admin_token,
        )
        .header("idempotency-key", "k".repeat(300))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_problem(
        res,
        StatusCode::BAD_REQUEST,
        Some("invalid_idempotency_key"),
        None,
    )
    .await;
    let res = app
        .post_json(
            "/api/v1/tickets/not-a-ticket/start",
            &app.admin_token,
            &json!({}),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, None, None).await;
    // Admin bodies: unknown role, invalid username.
    let res = app
        .post_json(
            "/api/v1/admin/users",
            &app.admin_token,
            &json!({"username": "x", "password": "a-long-enough-password", "role": "root"}),
        )
        .await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, None, Some("role")).await;
    let res = app
        .post_json("/api/v1/admin/users", &app.admin_token, &json!({"username": "bad name", "password": "a-long-enough-password", "role": "analyst"}))
        .await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, None, None).await;

    // None of that changed the ticket.
    let got: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            &app.admin_token,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["version"], 1);
    assert_eq!(got["status"], "NEW");
}

#[tokio::test]
async fn rejections_by_the_framework_are_problems_too() {
    let app = spawn_app().await;
    let t = app.open_ticket(&app.admin_token, "target").await;
    let id = t["id"].as_str().unwrap();
    // Path segments that are not UTF-8 once percent-decoded.
    let cases = [
        (
            Method::POST,
            "/api/v1/tickets/%FF/start".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::DELETE,
            format!("/api/v1/tickets/{id}/tags/%FF%FE"),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/api/v1/admin/users/%C3%28".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        // A method the route does not take.
        (
            Method::PUT,
            "/api/v1/tickets".to_string(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::GET,
            format!("/api/v1/tickets/{id}/start"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ];
    for (method, path, status) in cases {
        let res = app
            .request(method.clone(), &path, &app.admin_token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let body = problem(res, status).await;
        assert!(body["detail"].is_string(), "{method} {path}: {body}");
    }
    let got: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            &app.admin_token,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["version"], 1);
}

#[tokio::test]
async fn token_endpoint_answers_rfc6749_errors() {
    let app = spawn_app().await;
    oauth_error(
        token_form(&app, b"\xff\xfe%%%&&==&=\x00").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    oauth_error(
        token_form(&app, b"").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    oauth_error(
        token_form(&app, b"username=admin&password=x").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    oauth_error(
        token_form(&app, b"grant_type=password&grant_type=password").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    oauth_error(
        token_form(&app, b"grant_type=implicit").await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(
        token_form(&app, b"grant_type=authorization_code&code=x").await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(
        token_form(&app, b"grant_type=password&username=admin").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    oauth_error(
        token_form(&app, b"grant_type=refresh_token").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    // Not a form at all.
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"grant_type": "password", "username": "admin", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert!(
        res.status() == StatusCode::BAD_REQUEST
            || res.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        res.status()
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // Oversized form.
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&username=admin&password={}",
            "p".repeat(100 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Still serving, and the admin can still log in.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let token = app.login("admin", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(
        open_json(&app, &json!({"title": "after the garbage"}))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.post_json(
            "/api/v1/tickets",
            &token,
            &json!({"title": "with a new token"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
}
