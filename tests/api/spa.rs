//! The SPA at `/`: history routes fall back to index.html under a strict
//! Content-Security-Policy, hashed assets are cached for good, API paths
//! keep their problem 404s.

use reqwest::StatusCode;

use crate::helpers::{problem, spawn_app_with};

fn web_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ticketera-spa-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Ticketera</title>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app-abc123.js"), "console.log(1)").unwrap();
    std::fs::write(dir.join("favicon.svg"), "<svg/>").unwrap();
    dir
}

#[tokio::test]
async fn history_routes_get_the_app_and_api_paths_keep_their_errors() {
    let dir = web_dir();
    let app = spawn_app_with(|s| s.web_dir = dir.clone()).await;
    for path in [
        "/",
        "/tickets",
        "/tickets/SOC-12?version=3",
        "/dashboard",
        "/admin/users",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let h = res.headers();
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        assert_eq!(h["cache-control"], "no-cache");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(res
            .text()
            .await
            .unwrap()
            .contains("<title>Ticketera</title>"));
    }

    let res = app
        .client
        .get(app.url("/assets/app-abc123.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let res = app
        .client
        .get(app.url("/favicon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "image/svg+xml");

    for path in [
        "/assets/missing.js",
        "/assets/..%2findex.html",
        "/nothing.png",
        "/api/v1/nowhere",
        "/graphql/nowhere",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        problem(res, StatusCode::NOT_FOUND).await;
    }
    let res = app.client.post(app.url("/tickets")).send().await.unwrap();
    problem(res, StatusCode::NOT_FOUND).await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn an_unbuilt_app_says_how_to_build_it() {
    let dir = std::env::temp_dir().join(format!("ticketera-spa-none-{}", uuid::Uuid::new_v4()));
    let app = spawn_app_with(|s| s.web_dir = dir.clone()).await;
    let res = app.client.get(app.url("/tickets")).send().await.unwrap();
    let body = problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["code"], "spa_not_built");
}
