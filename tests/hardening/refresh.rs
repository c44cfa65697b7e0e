//! Refresh rotation: spend and successor in one transaction, refused when
//! the family or the user's tokens were revoked meanwhile; an absolute
//! family lifetime.

use chrono::Duration;
use domain::Role;
use platform::identity::Identity;
use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with, PASSWORD};

/// No refresh token of the user is left alive after a role change, even
/// when a rotation ran at the same moment (the successor used to be
/// inserted after the spend had committed, past the change's revocation).
#[tokio::test]
async fn a_rotation_racing_a_role_change_leaves_no_live_successor() {
    let app = spawn_app().await;
    let (user, _) = app.user("analyst").await;
    let identity = Identity::new(app.pool.clone());
    let ttl = Duration::hours(1);
    let max = Duration::hours(24);
    let mut survivors = 0;
    for round in 0..40 {
        let token = identity.issue_refresh(&user, ttl).await.expect("issue");
        let role = if round % 2 == 0 {
            Role::Lead
        } else {
            Role::Analyst
        };
        let (rotated, changed) = tokio::join!(
            identity.rotate_refresh(&token, ttl, max),
            identity.set_role(&user, role, "test", None),
        );
        // Refused or granted, the race must leave nothing alive.
        let _ = rotated.expect("rotate");
        changed.expect("role change");
        let live: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM refresh_tokens
              WHERE username = $1 AND revoked_at IS NULL AND spent_at IS NULL",
        )
        .bind(&user)
        .fetch_one(&app.pool)
        .await
        .expect("count");
        survivors += live;
    }
    assert_eq!(survivors, 0, "refresh tokens alive after a role change");
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_refreshed() {
    let app = spawn_app_with(|s| s.refresh_session_max_secs = 3600).await;
    let (user, _) = app.user("analyst").await;
    let first = app.login_full(&user, PASSWORD).await;
    let refresh = first["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let res = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(res.status(), StatusCode::OK, "a young session refreshes");
    let next: serde_json::Value = res.json().await.expect("json");
    let next = next["refresh_token"].as_str().expect("refresh").to_string();
    // The sign-in was two hours ago; its tokens are each fresh.
    sqlx::query(
        "UPDATE refresh_tokens SET issued_at = now() - interval '2 hours'
          WHERE username = $1 AND spent_at IS NOT NULL",
    )
    .bind(&user)
    .execute(&app.pool)
    .await
    .expect("age the family");
    let res = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &next)])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert_eq!(body["reason"], "session_expired", "{body}");
}
