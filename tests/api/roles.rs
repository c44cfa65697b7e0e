//! Every REST route that changes something or reads what not every role may,
//! against every role, compared with a table written out here (not with
//! the permission code): `allowed` never answers 403, everyone else always
//! does, and before anything else — a malformed body, an unknown ticket or
//! an unknown id still get 403 from a role without the right.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const A: &str = "admin";
const L: &str = "lead";
const N: &str = "analyst";
const U: &str = "auditor";
const I: &str = "integration";

/// (method, path, the roles allowed). Ticket routes name a ticket that does
/// not exist and every body is malformed for its route.
const TABLE: &[(&str, &str, &[&str])] = &[
    ("POST", "/api/v1/tickets", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/assign", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/unassign", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/start", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/hold", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/resume", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/resolve", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/duplicate", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/close", &[A, L]),
    ("POST", "/api/v1/tickets/SOC-999999/reopen", &[A, L]),
    ("POST", "/api/v1/tickets/SOC-999999/severity", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/comments", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/tags", &[A, L, N]),
    ("DELETE", "/api/v1/tickets/SOC-999999/tags/x", &[A, L, N]),
    ("POST", "/api/v1/tickets/SOC-999999/observables", &[A, L, N]),
    ("GET", "/api/v1/admin/users", &[A]),
    ("POST", "/api/v1/admin/users", &[A]),
    ("GET", "/api/v1/admin/users/nobody", &[A]),
    ("PATCH", "/api/v1/admin/users/nobody", &[A]),
    ("GET", "/api/v1/admin/users/nobody/audit", &[A]),
    ("POST", "/api/v1/admin/users/nobody/password", &[A]),
    ("GET", "/api/v1/admin/clients", &[A]),
    ("POST", "/api/v1/admin/clients", &[A]),
    ("GET", "/api/v1/admin/clients/nobody", &[A]),
    ("PATCH", "/api/v1/admin/clients/nobody", &[A]),
    ("GET", "/api/v1/admin/clients/nobody/audit", &[A]),
    ("POST", "/api/v1/admin/clients/nobody/secret", &[A]),
    // The CMDB is read by every role, as over GraphQL; changed by admins.
    ("GET", "/api/v1/admin/assets", &[A, L, N, U, I]),
    (
        "GET",
        "/api/v1/admin/assets/00000000-0000-0000-0000-000000000000",
        &[A, L, N, U, I],
    ),
    ("POST", "/api/v1/admin/assets", &[A]),
    (
        "PATCH",
        "/api/v1/admin/assets/00000000-0000-0000-0000-000000000000",
        &[A],
    ),
    (
        "DELETE",
        "/api/v1/admin/assets/00000000-0000-0000-0000-000000000000",
        &[A],
    ),
    ("POST", "/api/v1/admin/assets/import", &[A]),
    ("GET", "/api/v1/admin/dead-letters", &[A, U]),
    ("GET", "/api/v1/admin/dead-letters/1", &[A, U]),
    ("POST", "/api/v1/integrations/webhook", &[A, I]),
];

async fn tokens(app: &TestApp) -> Vec<(&'static str, String)> {
    let mut out = vec![(A, app.admin_token.clone())];
    for role in [L, N, U] {
        out.push((role, app.user(role).await.1));
    }
    let res = app
        .post_json(
            "/api/v1/admin/clients",
            &app.admin_token,
            &json!({"name": "siem", "role": "integration"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let client: Value = res.json().await.expect("client");
    let res = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", client["client_id"].as_str().expect("id")),
            (
                "client_secret",
                client["client_secret"].as_str().expect("secret"),
            ),
        ])
        .await;
    let body: Value = res.json().await.expect("token");
    out.push((I, body["access_token"].as_str().expect("token").to_string()));
    out
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_table_says_and_403_comes_first() {
    let app = spawn_app().await;
    let tokens = tokens(&app).await;
    let mut wrong = Vec::new();
    for (method, path, allowed) in TABLE {
        let method: Method = method.parse().expect("method");
        for (role, token) in &tokens {
            let mut req = app.request(method.clone(), path, token);
            if method != Method::GET && method != Method::DELETE {
                // Malformed for every route: not even JSON.
                req = req
                    .header("content-type", "application/json")
                    .body("{not json");
            }
            let status = req.send().await.expect("request").status();
            let ok = if allowed.contains(role) {
                status != StatusCode::FORBIDDEN && !status.is_server_error()
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                wrong.push(format!("{method} {path} as {role}: {status}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
