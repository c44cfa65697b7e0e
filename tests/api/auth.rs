//! Authentication and authorization over HTTP: bearer tokens of every bad
//! kind, the OAuth2 grants (password, refresh with rotation and reuse
//! detection, client credentials), logout, disabled users, throttling,
//! enumeration, the role × route matrix and the admin audit trail.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::command::OpenTicket;
use domain::{permits, Action, Command, ObservableKind, Resolution, Role, Severity, Source};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{problem, spawn_app, spawn_app_with, TestApp, PASSWORD};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The decoded claims of a token the app issued: the template for hand-made ones.
fn payload_of(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("payload part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url payload"))
        .expect("json payload")
}

fn with(payload: &Value, field: &str, value: Value) -> Value {
    let mut p = payload.clone();
    p[field] = value;
    p
}

/// A JWT put together by hand, so that anything at all can go in it.
fn craft(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        b64(signature)
    )
}

/// The app's real, active signing key: (kid, PKCS#8 DER of the Ed25519 key).
async fn real_key(app: &TestApp) -> (String, Vec<u8>) {
    sqlx::query_as("SELECT kid, private_der FROM signing_keys WHERE retired_at IS NULL")
        .fetch_one(&app.pool)
        .await
        .expect("the active signing key")
}

/// Signs `claims` with the app's real key under `kid`.
fn sign_eddsa(kid: &str, der: &[u8], claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_string());
    encode(&header, claims, &EncodingKey::from_ed_der(der)).expect("EdDSA signing")
}

/// Fresh claims for `sub` with the app's issuer and audience, copied from a real token.
fn fresh_claims(template: &Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = template.clone();
    c["iat"] = json!(now);
    c["nbf"] = json!(now);
    c["exp"] = json!(now + 300);
    c["jti"] = json!(Uuid::new_v4());
    c
}

async fn open_as(app: &TestApp, token: &str) -> Response {
    app.post_json(
        "/api/v1/tickets",
        token,
        &json!({"title": "auth probe", "severity": "LOW"}),
    )
    .await
}

async fn me(app: &TestApp, token: &str) -> Response {
    app.request(Method::GET, "/api/v1/auth/me", token)
        .send()
        .await
        .expect("me")
}

async fn oauth_error(res: Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(res.status(), status, "token endpoint status");
    assert_eq!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = res.json().await.expect("oauth error json");
    assert_eq!(body["error"], error, "{body}");
    body
}

async fn patch_user(app: &TestApp, username: &str, body: Value) -> Response {
    app.request(
        Method::PATCH,
        &format!("/api/v1/admin/users/{username}"),
        &app.admin_token,
    )
    .json(&body)
    .send()
    .await
    .expect("patch user")
}

/// Tokens carry whole-second `iat`s and a security change invalidates every
/// token issued up to that instant; a new login must wait for the next second.
async fn next_second() {
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

// ---------------------------------------------------------------------------
// Bearer tokens
// ---------------------------------------------------------------------------

#[tokio::test]
async fn every_kind_of_bad_bearer_token_is_401_with_a_problem() {
    let app = spawn_app().await;
    let (_, token) = app.user("analyst").await;
    let template = payload_of(&token);
    let (kid, der) = real_key(&app).await;

    // Positive controls: the issued token and a hand-signed one with the real key.
    assert_eq!(open_as(&app, &token).await.status(), StatusCode::CREATED);
    let good = sign_eddsa(&kid, &der, &fresh_claims(&template));
    assert_eq!(
        open_as(&app, &good).await.status(),
        StatusCode::CREATED,
        "hand-signed good token"
    );

    // JWKS publishes the same key, and it is public.
    let jwks: Value = app
        .client
        .get(app.url("/api/v1/auth/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid in JWKS")
        .clone();
    assert_eq!(jwk["alg"], "EdDSA");
    let x = jwk["x"].as_str().unwrap();
    let public = URL_SAFE_NO_PAD.decode(x).expect("x is base64url");
    assert_eq!(public.len(), 32);

    let now = chrono::Utc::now().timestamp();
    let claims = fresh_claims(&template);
    let hs256 = |secret: &[u8]| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid.clone());
        encode(
            &h,
            &claims,
            &EncodingKey::from_secret(secret).expect("hmac key"),
        )
        .expect("hs256")
    };
    let parts: Vec<&str> = token.split('.').collect();
    let mut sig: Vec<char> = parts[2].chars().collect();
    sig[10] = if sig[10] == 'A' { 'B' } else { 'A' };
    let tampered_signature = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        sig.into_iter().collect::<String>()
    );
    let escalated = b64(with(&payload_of(&token), "roles", json!(["admin"]))
        .to_string()
        .as_bytes());
    let tampered_payload = format!("{}.{escalated}.{}", parts[0], parts[2]);

    let cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            craft(
                &json!({"alg": "none", "typ": "JWT", "kid": kid}),
                &claims,
                b"",
            ),
        ),
        ("HS256 keyed with the public key bytes", hs256(&public)),
        ("HS256 keyed with the JWKS x string", hs256(x.as_bytes())),
        ("tampered signature", tampered_signature),
        ("tampered payload", tampered_payload),
        ("signature stripped", format!("{}.{}.", parts[0], parts[1])),
        (
            "expired",
            sign_eddsa(
                &kid,
                &der,
                &with(
                    &with(
                        &with(&claims, "exp", json!(now - 3600)),
                        "iat",
                        json!(now - 4000),
                    ),
                    "nbf",
                    json!(now - 4000),
                ),
            ),
        ),
        (
            "not yet valid",
            sign_eddsa(&kid, &der, &with(&claims, "nbf", json!(now + 3600))),
        ),
        (
            "wrong aud",
            sign_eddsa(&kid, &der, &with(&claims, "aud", json!("someone-else"))),
        ),
        (
            "wrong iss",
            sign_eddsa(
                &kid,
                &der,
                &with(&claims, "iss", json!("https://evil.example")),
            ),
        ),
        ("unknown kid", sign_eddsa("no-such-kid", &der, &claims)),
        (
            "exp as a string",
            sign_eddsa(
                &kid,
                &der,
                &with(&claims, "exp", json!((now + 300).to_string())),
            ),
        ),
        (
            "role the user does not have",
            sign_eddsa(&kid, &der, &with(&claims, "roles", json!(["admin"]))),
        ),
        (
            "unknown subject",
            sign_eddsa(&kid, &der, &with(&claims, "sub", json!("nobody"))),
        ),
        ("not a JWT", "not-a-jwt".to_string()),
    ];
    let mut bodies = Vec::new();
    for (name, bad) in cases {
        let res = open_as(&app, &bad).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name}");
        let body = problem(res, StatusCode::UNAUTHORIZED).await;
        assert_eq!(body["code"], "unauthenticated", "{name}: {body}");
        bodies.push(body);
    }
    // No oracle: every refusal looks the same.
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");

    // No Authorization, another scheme, an empty bearer.
    let res = app
        .client
        .post(app.url("/api/v1/tickets"))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res, StatusCode::UNAUTHORIZED).await["code"],
        "unauthenticated"
    );
    let res = app
        .client
        .post(app.url("/api/v1/tickets"))
        .basic_auth("admin", Some(crate::helpers::ADMIN_PASSWORD))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED).await;
    let res = app
        .client
        .post(app.url("/api/v1/tickets"))
        .header("authorization", "Bearer ")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED).await;

    // After all of that the good tokens still work.
    assert_eq!(open_as(&app, &good).await.status(), StatusCode::CREATED);
}

// ---------------------------------------------------------------------------
// Refresh tokens, logout
// ---------------------------------------------------------------------------

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let (user, _) = app.user("analyst").await;
    let first = app.login_full(&user, PASSWORD).await;
    assert_eq!(first["token_type"], "Bearer");
    assert!(first["expires_in"].as_i64().unwrap() > 0);
    let r1 = first["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_string();

    let res = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &r1)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let second: Value = res.json().await.unwrap();
    let r2 = second["refresh_token"]
        .as_str()
        .expect("rotated refresh token")
        .to_string();
    assert_ne!(r1, r2);
    let a2 = second["access_token"].as_str().unwrap();
    assert_eq!(open_as(&app, a2).await.status(), StatusCode::CREATED);

    // The spent token presented again: refused, and the whole family with it.
    let res = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &r1)])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let res = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &r2)])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // Garbage refresh tokens are invalid_grant too; other sessions are untouched.
    let res = app
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt_nonsense"),
        ])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let other = app.login_full(&user, PASSWORD).await;
    let res = app
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", other["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_ends_the_access_token_and_the_refresh_session() {
    let app = spawn_app().await;
    let (user, _) = app.user("analyst").await;
    let session = app.login_full(&user, PASSWORD).await;
    let access = session["access_token"].as_str().unwrap();
    let refresh = session["refresh_token"].as_str().unwrap();
    let other = app.login(&user, PASSWORD).await;
    assert_eq!(me(&app, access).await.status(), StatusCode::OK);

    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .form(&[("refresh_token", refresh)])
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED).await;

    let res = app
        .request(Method::POST, "/api/v1/auth/logout", access)
        .form(&[("refresh_token", refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(open_as(&app, access).await, StatusCode::UNAUTHORIZED).await;
    problem(me(&app, access).await, StatusCode::UNAUTHORIZED).await;
    let res = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // Another session of the same user lives on; logout without a refresh token works too.
    assert_eq!(open_as(&app, &other).await.status(), StatusCode::CREATED);
    let res = app
        .request(Method::POST, "/api/v1/auth/logout", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(open_as(&app, &other).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn an_ended_token_is_refused_at_once_by_both_apis_though_its_liveness_was_cached() {
    let app = spawn_app_with(|s| s.token_liveness_cache_secs = 3600).await;
    let graphql = |token: &str| {
        app.request(Method::POST, "/graphql", token)
            .json(&json!({"query": "{ me { name } }"}))
            .send()
    };
    let (user, token) = app.user("analyst").await;
    let (_, role_token) = app.user("analyst").await;
    for t in [&token, &role_token] {
        // Twice each: the second answer comes from the cache.
        for _ in 0..2 {
            assert_eq!(me(&app, t).await.status(), StatusCode::OK);
            assert_eq!(graphql(t).await.unwrap().status(), StatusCode::OK);
        }
    }

    let res = app
        .request(Method::POST, "/api/v1/auth/logout", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(me(&app, &token).await, StatusCode::UNAUTHORIZED).await;
    problem(graphql(&token).await.unwrap(), StatusCode::UNAUTHORIZED).await;

    let role_user = payload_of(&role_token)["sub"].as_str().unwrap().to_string();
    assert_ne!(role_user, user);
    let res = patch_user(&app, &role_user, json!({"role": "auditor"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    problem(
        graphql(&role_token).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(me(&app, &role_token).await, StatusCode::UNAUTHORIZED).await;
}

// ---------------------------------------------------------------------------
// Account changes end live tokens
// ---------------------------------------------------------------------------

#[tokio::test]
async fn disabling_a_user_ends_their_tokens_and_logins() {
    let app = spawn_app().await;
    let (user, token) = app.user("analyst").await;
    let session = app.login_full(&user, PASSWORD).await;
    assert_eq!(me(&app, &token).await.status(), StatusCode::OK);

    let res = patch_user(&app, &user, json!({"enabled": false})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["enabled"], false);

    problem(open_as(&app, &token).await, StatusCode::UNAUTHORIZED).await;
    problem(me(&app, &token).await, StatusCode::UNAUTHORIZED).await;
    let res = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &user),
            ("password", PASSWORD),
        ])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let res = app
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", session["refresh_token"].as_str().unwrap()),
        ])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // Enabled again: the old token stays dead, a new login works.
    assert_eq!(
        patch_user(&app, &user, json!({"enabled": true}))
            .await
            .status(),
        StatusCode::OK
    );
    problem(me(&app, &token).await, StatusCode::UNAUTHORIZED).await;
    next_second().await;
    let fresh = app.login(&user, PASSWORD).await;
    assert_eq!(open_as(&app, &fresh).await.status(), StatusCode::CREATED);

    // An admin cannot lock themselves out.
    let res = patch_user(&app, "admin", json!({"enabled": false})).await;
    problem(res, StatusCode::CONFLICT).await;
    // Nothing to change, unknown field, unknown user.
    problem(
        patch_user(&app, &user, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        patch_user(&app, &user, json!({"enabled": true, "superuser": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        patch_user(&app, "nobody-here", json!({"enabled": false})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn role_change_and_password_reset_end_old_tokens() {
    let app = spawn_app().await;
    let (user, lead_token) = app.user("lead").await;
    let t = app.open_ticket(&app.admin_token, "to close").await;
    let id = t["id"].as_str().unwrap();

    let res = patch_user(&app, &user, json!({"role": "analyst"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["role"], "analyst");
    // The lead token would still say "lead": it must not keep lead powers.
    problem(me(&app, &lead_token).await, StatusCode::UNAUTHORIZED).await;
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/resolve"),
            &lead_token,
            &json!({"resolution": "BENIGN"}),
        )
        .await;
    problem(res, StatusCode::UNAUTHORIZED).await;

    next_second().await;
    let session = app.login_full(&user, PASSWORD).await;
    assert_eq!(session["scope"], "analyst");
    let analyst_token = session["access_token"].as_str().unwrap();
    let who: Value = me(&app, analyst_token).await.json().await.unwrap();
    assert_eq!(who["roles"], json!(["analyst"]));
    assert_eq!(who["kind"], "user");
    // Now an analyst: resolving is fine, closing is the lead's.
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/resolve"),
            analyst_token,
            &json!({"resolution": "BENIGN"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!("/api/v1/tickets/{id}/close"),
            analyst_token,
            &json!({}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;

    // Password reset: old token and old password are gone, the new password works.
    let res = app
        .post_json(
            &format!("/api/v1/admin/users/{user}/password"),
            &app.admin_token,
            &json!({"password": "another-long-password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(me(&app, analyst_token).await, StatusCode::UNAUTHORIZED).await;
    let res = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &user),
            ("password", PASSWORD),
        ])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    next_second().await;
    let token = app.login(&user, "another-long-password").await;
    assert_eq!(me(&app, &token).await.status(), StatusCode::OK);
    // Too short a password is a validation error.
    let res = app
        .post_json(
            &format!("/api/v1/admin/users/{user}/password"),
            &app.admin_token,
            &json!({"password": "short"}),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
}

// ---------------------------------------------------------------------------
// OAuth2 clients
// ---------------------------------------------------------------------------

async fn create_client(app: &TestApp, name: &str) -> (String, String) {
    let res = app
        .post_json(
            "/api/v1/admin/clients",
            &app.admin_token,
            &json!({"name": name, "role": "integration"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["role"], "integration");
    (
        body["client_id"].as_str().unwrap().to_string(),
        body["client_secret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn client_credentials_by_form_and_basic_and_integration_cannot_open() {
    let app = spawn_app().await;
    let (id, secret) = create_client(&app, "FortiSIEM").await;

    let res = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "integration");
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token for clients: {body}"
    );
    let form_token = body["access_token"].as_str().unwrap().to_string();

    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let basic_token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    for token in [&form_token, &basic_token] {
        let who: Value = me(&app, token).await.json().await.unwrap();
        assert_eq!(who["name"], id.as_str());
        assert_eq!(who["kind"], "client");
        assert_eq!(who["roles"], json!(["integration"]));
        let body = problem(open_as(&app, token).await, StatusCode::FORBIDDEN).await;
        assert_eq!(body["code"], "forbidden");
    }
    // It may read.
    let t = app.open_ticket(&app.admin_token, "readable").await;
    let res = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{}", t["id"].as_str().unwrap()),
            &form_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Wrong secret (form and Basic), unknown client, no credentials at all.
    let res = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", "wrong"),
        ])
        .await;
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .basic_auth(&id, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert!(res
        .headers()
        .get("www-authenticate")
        .is_some_and(|v| v.to_str().unwrap().starts_with("Basic")));
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let res = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", "cli_nobody"),
            ("client_secret", &secret),
        ])
        .await;
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let res = app
        .token_request(&[("grant_type", "client_credentials")])
        .await;
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    // A client secret is not a user password.
    let res = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &id),
            ("password", &secret),
        ])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

// ---------------------------------------------------------------------------
// Enumeration and throttling
// ---------------------------------------------------------------------------

/// Unknown user, wrong password and a disabled account's wrong password are
/// one answer (`reason: invalid_credentials`); only who knows the password
/// of a disabled account learns that it is disabled.
#[tokio::test]
async fn unknown_user_and_wrong_password_answer_identically() {
    let app = spawn_app().await;
    let (user, _) = app.user("analyst").await;
    let (disabled, _) = app.user("analyst").await;
    assert_eq!(
        patch_user(&app, &disabled, json!({"enabled": false}))
            .await
            .status(),
        StatusCode::OK
    );

    let attempts = [
        ("no-such-user", "whatever-password"),
        (user.as_str(), "wrong-password-123"),
        (disabled.as_str(), "wrong-password-123"),
    ];
    let mut answers = Vec::new();
    for (username, password) in attempts {
        let res = app
            .token_request(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ])
            .await;
        let status = res.status();
        let ct = res.headers().get("content-type").cloned();
        let bytes = res.bytes().await.unwrap();
        answers.push((status, ct, bytes));
    }
    assert_eq!(answers[0].0, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(&answers[0].2).unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["reason"], "invalid_credentials");
    for a in &answers[1..] {
        assert_eq!(a, &answers[0], "same status, content type and bytes");
    }

    let res = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &disabled),
            ("password", PASSWORD),
        ])
        .await;
    let body = oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(body["reason"], "account_disabled", "{body}");
}

/// A session whose user is disabled ends, and its refresh says why.
#[tokio::test]
async fn a_disabled_users_refresh_says_the_account_is_disabled() {
    let app = spawn_app().await;
    let (user, _) = app.user("analyst").await;
    let first = app.login_full(&user, PASSWORD).await;
    let refresh = first["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    assert_eq!(
        patch_user(&app, &user, json!({"enabled": false}))
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    let body = oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(body["reason"], "account_disabled", "{body}");
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_account = 3;
    })
    .await;
    let (user, _) = app.user("analyst").await;
    let (bystander, _) = app.user("analyst").await;

    for _ in 0..3 {
        let res = app
            .token_request(&[
                ("grant_type", "password"),
                ("username", &user),
                ("password", "wrong-password-123"),
            ])
            .await;
        oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
    // Even the right password, in any case, waits now.
    for name in [user.clone(), user.to_uppercase()] {
        let res = app
            .token_request(&[
                ("grant_type", "password"),
                ("username", &name),
                ("password", PASSWORD),
            ])
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{name}");
        let retry: i64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .expect("Retry-After in seconds");
        assert!(retry > 0 && retry <= 15 * 60, "Retry-After {retry}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
    // Another account from the same address is not affected.
    app.login(&bystander, PASSWORD).await;
}

// ---------------------------------------------------------------------------
// The role × route matrix
// ---------------------------------------------------------------------------

struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    action: Action,
}

fn route(method: Method, path: String, body: Option<Value>, action: Action) -> Route {
    Route {
        method,
        path,
        body,
        action,
    }
}

/// Every ticket command and admin route, in lifecycle order, each with the
/// action the application must check (taken from `Command::action()`).
fn routes(role: Role, ticket: &str, survivor: &str, victim: &str) -> Vec<Route> {
    let t = |suffix: &str| format!("/api/v1/tickets/{ticket}/{suffix}");
    let open = Command::Open(OpenTicket {
        ticket_id: Uuid::nil(),
        title: String::new(),
        description: String::new(),
        severity: Severity::Low,
        source: Source::Manual,
        source_ip: None,
        destination_ip: None,
        tags: vec![],
        origin: None,
    });
    let reason = || json!({"reason": "matrix"});
    let post = Method::POST;
    vec![
        route(
            post.clone(),
            "/api/v1/tickets".into(),
            Some(json!({"title": format!("opened by {role}")})),
            open.action(),
        ),
        route(
            Method::GET,
            format!("/api/v1/tickets/{ticket}"),
            None,
            Action::Read,
        ),
        route(
            post.clone(),
            t("assign"),
            Some(json!({"assignee": "admin"})),
            Command::Assign {
                assignee: String::new(),
            }
            .action(),
        ),
        route(
            post.clone(),
            t("unassign"),
            Some(json!({})),
            Command::Unassign.action(),
        ),
        route(
            post.clone(),
            t("start"),
            Some(json!({})),
            Command::Start.action(),
        ),
        route(
            post.clone(),
            t("hold"),
            Some(reason()),
            Command::Hold {
                reason: String::new(),
            }
            .action(),
        ),
        route(
            post.clone(),
            t("resume"),
            Some(json!({})),
            Command::Resume.action(),
        ),
        route(
            post.clone(),
            t("severity"),
            Some(json!({"severity": "CRITICAL", "reason": "matrix"})),
            Command::ChangeSeverity {
                severity: Severity::Critical,
                reason: String::new(),
            }
            .action(),
        ),
        route(
            post.clone(),
            t("comments"),
            Some(json!({"body": "matrix"})),
            Command::Comment {
                body: String::new(),
            }
            .action(),
        ),
        route(
            post.clone(),
            t("tags"),
            Some(json!({"tags": ["matrix", "keep"]})),
            Command::Tag { tags: vec![] }.action(),
        ),
        route(
            Method::DELETE,
            t("tags/matrix"),
            None,
            Command::Untag { tags: vec![] }.action(),
        ),
        route(
            post.clone(),
            t("observables"),
            Some(json!({"kind": "IP", "value": "203.0.113.7"})),
            Command::AddObservable {
                kind: ObservableKind::Ip,
                value: String::new(),
            }
            .action(),
        ),
        route(
            post.clone(),
            t("resolve"),
            Some(json!({"resolution": "TRUE_POSITIVE", "summary": "matrix"})),
            Command::Resolve {
                resolution: Some(Resolution::TruePositive),
                summary: String::new(),
            }
            .action(),
        ),
        route(
            post.clone(),
            t("close"),
            Some(json!({"note": "matrix"})),
            Command::Close {
                note: String::new(),
            }
            .action(),
        ),
        route(
            post.clone(),
            t("reopen"),
            Some(reason()),
            Command::Reopen {
                reason: String::new(),
            }
            .action(),
        ),
        route(
            post.clone(),
            t("duplicate"),
            Some(json!({"of": survivor, "summary": "matrix"})),
            Command::MarkDuplicate {
                of: Uuid::nil(),
                of_number: None,
                summary: String::new(),
            }
            .action(),
        ),
        // Admin routes.
        route(
            Method::GET,
            "/api/v1/admin/users".into(),
            None,
            Action::ManageUsers,
        ),
        route(
            post.clone(),
            "/api/v1/admin/users".into(),
            Some(
                json!({"username": format!("made-by-{role}"), "password": PASSWORD, "role": "analyst"}),
            ),
            Action::ManageUsers,
        ),
        route(
            Method::GET,
            format!("/api/v1/admin/users/{victim}"),
            None,
            Action::ManageUsers,
        ),
        route(
            Method::PATCH,
            format!("/api/v1/admin/users/{victim}"),
            Some(json!({"enabled": true})),
            Action::ManageUsers,
        ),
        route(
            post.clone(),
            format!("/api/v1/admin/users/{victim}/password"),
            Some(json!({"password": PASSWORD})),
            Action::ManageUsers,
        ),
        route(
            Method::GET,
            format!("/api/v1/admin/users/{victim}/audit"),
            None,
            Action::ManageUsers,
        ),
        route(
            post,
            "/api/v1/admin/clients".into(),
            Some(json!({"name": format!("client of {role}"), "role": "integration"})),
            Action::ManageClients,
        ),
    ]
}

#[tokio::test]
async fn role_route_matrix_follows_the_permission_table() {
    let app = spawn_app().await;
    let (victim, _) = app.user("analyst").await;
    let survivor = app.open_ticket(&app.admin_token, "survivor").await["number"]
        .as_str()
        .unwrap()
        .to_string();

    let mut principals: Vec<(String, Role, String)> = Vec::new();
    for role in Role::ALL {
        let (name, token) = app.user(role.as_str()).await;
        principals.push((name, *role, token));
    }
    // An OAuth2 client holds its role like a user does.
    let (client_id, secret) = create_client(&app, "matrix client").await;
    let res = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .await;
    let client_token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    principals.push((client_id, Role::Integration, client_token));

    let mut failures = Vec::new();
    let mut checked = 0;
    let (mut allowed_seen, mut forbidden_seen) = (0, 0);
    for (name, role, token) in &principals {
        // A fresh ticket per principal so that each walks the same lifecycle.
        let ticket = app
            .open_ticket(&app.admin_token, &format!("matrix {name}"))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        for r in routes(*role, &ticket, &survivor, &victim) {
            let mut req = app.request(r.method.clone(), &r.path, token);
            if let Some(body) = &r.body {
                req = req.json(body);
            }
            let res = req.send().await.expect("request");
            let status = res.status();
            let allowed = permits(*role, r.action);
            let label = format!(
                "{role} ({name}) {} {} [{:?}] → {status}",
                r.method, r.path, r.action
            );
            let ok = if allowed {
                status.is_success() || status == StatusCode::CONFLICT
            } else {
                status == StatusCode::FORBIDDEN
            };
            if status.is_client_error() {
                let body = problem(res, status).await;
                if !allowed {
                    assert_eq!(body["code"], "forbidden", "{label}");
                }
            }
            if !ok {
                failures.push(format!("{label} (allowed: {allowed})"));
            }
            checked += 1;
            if allowed {
                allowed_seen += 1;
            } else {
                forbidden_seen += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "matrix violations:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        checked,
        principals.len() * routes(Role::Admin, "x", "y", "z").len()
    );
    assert!(
        allowed_seen > 0 && forbidden_seen > 0,
        "{allowed_seen} allowed, {forbidden_seen} forbidden"
    );
}

// ---------------------------------------------------------------------------
// Admin audit trail
// ---------------------------------------------------------------------------

#[tokio::test]
async fn admin_audit_trail_records_who_did_what() {
    let app = spawn_app().await;
    let (user, _) = app.user("analyst").await;
    assert_eq!(
        patch_user(&app, &user, json!({"enabled": false}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        patch_user(&app, &user, json!({"role": "lead"}))
            .await
            .status(),
        StatusCode::OK
    );

    let res = app
        .request(
            Method::GET,
            &format!("/api/v1/admin/users/{user}/audit"),
            &app.admin_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let trail: Value = res.json().await.unwrap();
    let entries = trail.as_array().expect("array");
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["created", "disabled", "role_changed"],
        "{trail}"
    );
    for e in entries {
        assert_eq!(e["actor"], "admin", "{e}");
        assert_eq!(e["username"], user.as_str());
        assert!(e["at"].is_string());
        assert!(
            e["request_id"].as_str().is_some_and(|r| !r.is_empty()),
            "request id recorded: {e}"
        );
    }
    assert_eq!(entries[0]["detail"]["role"], "analyst");
    assert_eq!(entries[2]["detail"]["role"], "lead");

    // Listing shows the user's current state, without secrets.
    let users: Value = app
        .request(Method::GET, "/api/v1/admin/users", &app.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == user.as_str())
        .expect("listed");
    assert_eq!(listed["enabled"], false);
    assert_eq!(listed["role"], "lead");
    assert!(listed.get("password_hash").is_none());
}
