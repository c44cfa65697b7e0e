//! The SPA's browser session: the refresh token only in an HttpOnly,
//! SameSite=Strict cookie scoped to /api/v1/auth, refresh and logout taking
//! it from there, guarded against cross-site use.

use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn_app, TestApp, ADMIN_PASSWORD};

const SESSION: (&str, &str) = ("x-ticketera-session", "cookie");

/// The `ticketera_refresh` Set-Cookie of a response, whole.
fn set_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ticketera_refresh="))
        .map(str::to_string)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

async fn browser_login(app: &TestApp) -> (String, String) {
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header(SESSION.0, SESSION.1)
        .form(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = set_cookie(&res).expect("a refresh cookie");
    let body: Value = res.json().await.unwrap();
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token a script could read: {body}"
    );
    (body["access_token"].as_str().unwrap().to_string(), cookie)
}

async fn browser_refresh(app: &TestApp, cookie: &str) -> Response {
    app.client
        .post(app.url("/api/v1/auth/token"))
        .header(SESSION.0, SESSION.1)
        .header(COOKIE, format!("ticketera_refresh={cookie}"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_refresh_token_lives_in_an_http_only_strict_cookie_scoped_to_auth() {
    let app = spawn_app().await;
    let (access, set) = browser_login(&app).await;
    assert!(!access.is_empty());
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/v1/auth",
        "Max-Age=",
    ] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP here: {set}");

    // Refresh takes the cookie and rotates it; the spent one is dead.
    let first = cookie_value(&set);
    let res = browser_refresh(&app, &first).await;
    assert_eq!(res.status(), StatusCode::OK);
    let next = cookie_value(&set_cookie(&res).expect("a rotated cookie"));
    assert_ne!(next, first);
    let body: Value = res.json().await.unwrap();
    assert!(body["access_token"].is_string() && body.get("refresh_token").is_none());
    assert_eq!(browser_refresh(&app, &next).await.status(), StatusCode::OK);

    // Behind the TLS gateway the cookie is Secure.
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header(SESSION.0, SESSION.1)
        .header("x-forwarded-proto", "https")
        .form(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(set_cookie(&res).unwrap().contains("; Secure"));
}

#[tokio::test]
async fn the_cookie_is_refused_without_the_session_header_or_from_another_origin() {
    let app = spawn_app().await;
    let (_, set) = browser_login(&app).await;
    let cookie = cookie_value(&set);

    // A cross-site form post carries the cookie but cannot set the header.
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header(COOKIE, format!("ticketera_refresh={cookie}"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");

    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header(SESSION.0, SESSION.1)
        .header(ORIGIN, "https://evil.example")
        .header(COOKIE, format!("ticketera_refresh={cookie}"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["reason"], "cross_origin", "{body}");

    // The same origin passes, and the cookie was not spent by the refusals.
    let origin = app.base.clone();
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header(SESSION.0, SESSION.1)
        .header(ORIGIN, origin)
        .header(COOKIE, format!("ticketera_refresh={cookie}"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // No cookie at all: the session is over, said so.
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header(SESSION.0, SESSION.1)
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["reason"], "session_expired");
}

#[tokio::test]
async fn logout_ends_the_browser_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let (access, set) = browser_login(&app).await;
    let cookie = cookie_value(&set);
    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&access)
        .header(SESSION.0, SESSION.1)
        .header(COOKIE, format!("ticketera_refresh={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cleared = set_cookie(&res).expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0") && cookie_value(&cleared).is_empty());

    let res = browser_refresh(&app, &cookie).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let me = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}
