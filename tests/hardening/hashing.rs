//! Token requests against argon2: at most a core's worth of hashes run at
//! once, a burst beyond the short queue is told to come back (503 with
//! Retry-After) instead of taking the memory, and client secrets are
//! throttled like passwords.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, PASSWORD};

#[tokio::test]
async fn a_burst_of_token_requests_is_bounded_and_the_service_answers_meanwhile() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_address = 100_000;
        s.login_max_failures_per_account = 100_000;
    })
    .await;
    let (user, _) = app.user("analyst").await;
    let burst = join_all((0..300).map(|_| {
        let app = &app;
        let user = user.clone();
        async move {
            let res = app
                .token_request(&[
                    ("grant_type", "password"),
                    ("username", &user),
                    ("password", PASSWORD),
                ])
                .await;
            let retry = res.headers().get("retry-after").is_some();
            (res.status(), retry)
        }
    }));
    let health = async {
        // The service keeps answering while the burst runs.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz")
            .status()
    };
    let (answers, health) = tokio::join!(burst, health);
    assert_eq!(health, StatusCode::OK);
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(ok > 0, "some sign in");
    assert!(!busy.is_empty(), "a burst beyond the queue is refused");
    assert!(busy.iter().all(|(_, retry)| *retry), "with Retry-After");
    assert_eq!(ok + busy.len(), answers.len(), "{answers:?}");
    // Once it is over, a sign-in works at once.
    let res = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &user),
            ("password", PASSWORD),
        ])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn client_token(
    app: &crate::helpers::TestApp,
    from: &str,
    id: &str,
    secret: &str,
) -> StatusCode {
    app.client
        .post(app.url("/api/v1/auth/token"))
        .header("x-forwarded-for", from)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .expect("token request")
        .status()
}

#[tokio::test]
async fn client_secrets_are_throttled_per_client_and_address() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_account = 3;
        s.login_max_failures_per_address = 1000;
        s.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    })
    .await;
    let res = app
        .post_json(
            "/api/v1/admin/clients",
            &app.admin_token,
            &json!({"name": "siem", "role": "integration"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.expect("json");
    let id = body["client_id"].as_str().expect("id").to_string();
    let secret = body["client_secret"].as_str().expect("secret").to_string();
    for _ in 0..3 {
        assert_eq!(
            client_token(&app, "203.0.113.5", &id, "wrong-secret").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        client_token(&app, "203.0.113.5", &id, &secret).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing address waits, even with the right secret"
    );
    assert_eq!(
        client_token(&app, "198.51.100.7", &id, &secret).await,
        StatusCode::OK,
        "the integration at its own address is not locked out"
    );
}
