//! Integration clients administered over REST: list without secrets,
//! create (integration only), disable/enable, rotate the secret, and the
//! audit trail of it all; tokens end when the client is disabled or rotated.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, TestApp};

async fn client_token(app: &TestApp, id: &str, secret: &str) -> reqwest::Response {
    app.token_request(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ])
    .await
}

async fn token_of(app: &TestApp, id: &str, secret: &str) -> String {
    let res = client_token(app, id, secret).await;
    assert_eq!(res.status(), StatusCode::OK, "token for {id}");
    res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A call only a live token passes: GraphQL `me`.
async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.post_json("/graphql", token, &json!({"query": "{ me { name } }"}))
        .await
        .status()
}

#[tokio::test]
async fn an_admin_lists_disables_and_rotates_clients_and_tokens_follow() {
    let app = spawn_app().await;
    // Only integration clients.
    for role in ["admin", "lead", "analyst", "auditor"] {
        let res = app
            .post_json(
                "/api/v1/admin/clients",
                &app.admin_token,
                &json!({"name": "x", "role": role}),
            )
            .await;
        let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["code"], "validation_failed", "{body}");
    }
    let res = app
        .post_json(
            "/api/v1/admin/clients",
            &app.admin_token,
            &json!({"name": "FortiSIEM", "role": "integration"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();

    // Listed, never with a secret.
    let res = app
        .request(Method::GET, "/api/v1/admin/clients", &app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        !text.contains(&secret) && !text.contains("secret"),
        "{text}"
    );
    let list: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["client_id"], id.as_str());
    assert_eq!(list[0]["name"], "FortiSIEM");
    assert_eq!(list[0]["role"], "integration");
    assert_eq!(list[0]["enabled"], true);
    assert_eq!(list[0]["created_by"], "admin");

    // Disabling ends the live token and refuses new ones.
    let before = token_of(&app, &id, &secret).await;
    assert_eq!(me_status(&app, &before).await, StatusCode::OK);
    let path = format!("/api/v1/admin/clients/{id}");
    let res = app
        .request(Method::PATCH, &path, &app.admin_token)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["enabled"], false);
    assert_eq!(me_status(&app, &before).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        client_token(&app, &id, &secret).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Enabled again: new tokens work, the old one stays dead.
    let res = app
        .request(Method::PATCH, &path, &app.admin_token)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Token `iat` has whole seconds: one issued in the second of the change
    // would be refused as older than it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = token_of(&app, &id, &secret).await;
    assert_eq!(me_status(&app, &again).await, StatusCode::OK);
    assert_eq!(me_status(&app, &before).await, StatusCode::UNAUTHORIZED);

    // Rotation: the new secret is shown once; the old secret and the
    // tokens issued with it stop working at once.
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/admin/clients/{id}/secret"),
            &app.admin_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rotated: Value = res.json().await.unwrap();
    let new_secret = rotated["client_secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert_eq!(
        client_token(&app, &id, &secret).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me_status(&app, &again).await, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = token_of(&app, &id, &new_secret).await;
    assert_eq!(me_status(&app, &fresh).await, StatusCode::OK);

    // The audit trail says who did what, under which request id.
    let res = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/clients/{id}/audit"),
            &app.admin_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let trail: Vec<Value> = res.json().await.unwrap();
    let actions: Vec<&str> = trail
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "client_created",
            "client_disabled",
            "client_enabled",
            "client_secret_rotated"
        ]
    );
    assert!(trail.iter().all(|e| e["actor"] == "admin"));
    assert!(
        trail.iter().all(|e| e["request_id"].is_string()),
        "{trail:?}"
    );

    // Unknown clients are 404; other roles are 403.
    let res = app
        .request(
            Method::POST,
            "/api/v1/admin/clients/cli_nobody/secret",
            &app.admin_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res, StatusCode::NOT_FOUND).await["code"],
        "client_not_found"
    );
    let (_, lead) = app.user("lead").await;
    let res = app
        .request(Method::GET, "/api/v1/admin/clients", &lead)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_and_refresh_tokens() {
    let app = spawn_app().await;
    let (name, token) = app.user("analyst").await;
    let login = app.login_full(&name, crate::helpers::PASSWORD).await;
    let refresh = login["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(me_status(&app, &token).await, StatusCode::OK);
    let res = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/users/{name}"),
            &app.admin_token,
        )
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    let res = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "refresh refused");
    let res = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &name),
            ("password", crate::helpers::PASSWORD),
        ])
        .await;
    assert!(res.status().is_client_error(), "login refused");
    // The trail shows it.
    let res = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/users/{name}/audit"),
            &app.admin_token,
        )
        .send()
        .await
        .unwrap();
    let trail: Vec<Value> = res.json().await.unwrap();
    assert_eq!(trail.last().unwrap()["action"], "disabled");
}
