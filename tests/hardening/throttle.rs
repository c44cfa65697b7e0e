//! Login throttling behind a gateway (trusted proxies) and under parallel
//! guesses.

use futures::future::join_all;
use reqwest::StatusCode;

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};

async fn login_from(app: &TestApp, forwarded_for: &str, user: &str, password: &str) -> StatusCode {
    app.client
        .post(app.url("/api/v1/auth/token"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .expect("token request")
        .status()
}

/// Every test client is 127.0.0.1, like every user behind nginx: the
/// address throttle must key on the client the gateway saw.
#[tokio::test]
async fn failures_from_one_address_behind_the_gateway_never_block_another() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_address = 3;
        s.login_max_failures_per_account = 3;
        s.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    })
    .await;
    let (victim, _) = app.user("analyst").await;
    let (other, _) = app.user("analyst").await;
    // The attacker at 203.0.113.9 guesses the victim's password (and forges
    // an entry on the left, which proves nothing).
    for _ in 0..3 {
        let s = login_from(&app, "10.9.9.9, 203.0.113.9", &victim, "wrong-password-1").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        login_from(&app, "203.0.113.9", &victim, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing address waits"
    );
    assert_eq!(
        login_from(&app, "203.0.113.9", &other, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "for every account"
    );
    // The victim and their colleague, at another address, sign in.
    assert_eq!(
        login_from(&app, "198.51.100.20", &victim, PASSWORD).await,
        StatusCode::OK
    );
    assert_eq!(
        login_from(&app, "198.51.100.21", &other, PASSWORD).await,
        StatusCode::OK
    );
    // A forged entry to the left of the real one does not escape the throttle.
    assert_eq!(
        login_from(&app, "198.51.100.22, 203.0.113.9", &other, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Without trusted proxies `X-Forwarded-For` is the client's word: ignored.
#[tokio::test]
async fn without_trusted_proxies_the_forwarded_header_is_ignored() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_address = 3;
    })
    .await;
    let (user, _) = app.user("analyst").await;
    for i in 0..3 {
        let s = login_from(&app, &format!("203.0.113.{i}"), &user, "wrong-password-1").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        login_from(&app, "198.51.100.1", &user, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "a new header value is not a new address"
    );
}

/// Check-then-act let every parallel guess through: the attempt is counted
/// first, atomically, then decided.
#[tokio::test]
async fn parallel_guesses_get_no_more_tries_than_the_limit() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_account = 3;
        s.login_max_failures_per_address = 1000;
    })
    .await;
    let (user, _) = app.user("analyst").await;
    let answers =
        join_all(
            (0..24).map(|i| {
                let app = &app;
                let user = user.clone();
                async move {
                    login_from(app, "127.0.0.1", &user, &format!("wrong-password-{i:03}")).await
                }
            }),
        )
        .await;
    let verified = answers
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    let throttled = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(verified <= 3, "{verified} guesses checked: {answers:?}");
    assert_eq!(verified + throttled, answers.len(), "{answers:?}");
    assert_eq!(
        login_from(&app, "127.0.0.1", &user, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Behind the gateway, the address kept with a command's events is the
/// client's, not the gateway's.
#[tokio::test]
async fn events_record_the_client_address_the_gateway_saw() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    })
    .await;
    let (_, token) = app.user("analyst").await;
    let res = app
        .request(reqwest::Method::POST, "/api/v1/tickets", &token)
        .header("x-forwarded-for", "10.0.0.1, 203.0.113.7")
        .json(&serde_json::json!({"title": "from behind nginx", "severity": "LOW"}))
        .send()
        .await
        .expect("open");
    assert_eq!(res.status(), StatusCode::CREATED);
    let addr: Option<String> = sqlx::query_scalar(
        "SELECT metadata->>'client_addr' FROM events ORDER BY global_position DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("metadata");
    assert_eq!(addr.as_deref(), Some("203.0.113.7"));
}

/// A name no account can have (too long, control characters, empty) is a
/// 400 `invalid_request` before the throttle is touched: no row is made
/// for it, and the address is not charged.
#[tokio::test]
async fn an_absurd_username_is_refused_before_the_throttle() {
    let app =
        spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")]).await;
    let long = "a".repeat(10 * 1024);
    for name in [
        long.as_str(),
        "admin\nINFO forged",
        "admin\u{0}",
        "ad min",
        "",
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/auth/token"))
            .header("x-forwarded-for", "203.0.113.50")
            .form(&[
                ("grant_type", "password"),
                ("username", name),
                ("password", "whatever-password"),
            ])
            .send()
            .await
            .expect("token request");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{name:?}");
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["error"], "invalid_request", "{body}");
        assert_eq!(body["reason"], "invalid_username", "{body}");
    }
    // (The test kit's admin sign-in left its own, from 127.0.0.1.)
    let rows = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM login_failures WHERE key LIKE '%203.0.113.50'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("count")
    };
    assert_eq!(
        rows().await,
        0,
        "no throttle row for names no account can have"
    );
    // A well-formed name is still counted (unknown or not).
    assert_eq!(
        login_from(&app, "203.0.113.50", "no-such-user", "whatever-password").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(rows().await, 2, "the address and the account at it");
}
