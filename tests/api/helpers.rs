//! Spawns the application on port 0 with its own database.

use std::sync::atomic::{AtomicUsize, Ordering};

use platform::config::Settings;
use platform::http::shutdown::Shutdown;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "a-long-enough-password";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    pub admin_token: String,
    shutdown: Shutdown,
    counter: AtomicUsize,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A fresh database with every migration applied.
pub async fn fresh_database() -> (String, PgPool) {
    test_kit::fresh_database(20).await
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let (db_url, pool) = fresh_database().await;
    let mut settings = Settings::for_database(&db_url);
    settings.http_addr = "127.0.0.1:0".parse().expect("address");
    settings.body_limit_bytes = 64 * 1024;
    configure(&mut settings);
    let components = ticketera::app::components(settings.clone(), pool.clone())
        .await
        .expect("components");
    components
        .state
        .identity
        .create_user(
            "admin",
            Some("Administrator"),
            ADMIN_PASSWORD,
            domain::Role::Admin,
            "test",
            None,
        )
        .await
        .expect("admin");
    let listener = tokio::net::TcpListener::bind(settings.http_addr)
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = Shutdown::default();
    let router = ticketera::app::router(&components);
    tokio::spawn(ticketera::app::serve(listener, router, shutdown.clone()));
    let client = reqwest::Client::builder().build().expect("client");
    let mut app = TestApp {
        base: format!("http://{addr}"),
        client,
        pool,
        admin_token: String::new(),
        shutdown,
        counter: AtomicUsize::new(0),
    };
    app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
    app
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    pub async fn token_request(&self, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url("/api/v1/auth/token"))
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    /// Password grant; returns the whole token response.
    pub async fn login_full(&self, username: &str, password: &str) -> Value {
        let res = self
            .token_request(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ])
            .await;
        assert_eq!(res.status(), StatusCode::OK, "login of {username}");
        res.json().await.expect("token json")
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        self.login_full(username, password).await["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// A new user with `role`; returns (username, access token).
    pub async fn user(&self, role: &str) -> (String, String) {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let username = format!("{role}{n}");
        let res = self
            .post_json(
                "/api/v1/admin/users",
                &self.admin_token,
                &json!({"username": username, "password": PASSWORD, "role": role}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "create {role}");
        let token = self.login(&username, PASSWORD).await;
        (username, token)
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Opens a ticket as admin; returns the answer body.
    pub async fn open_ticket(&self, token: &str, title: &str) -> Value {
        let res = self
            .post_json(
                "/api/v1/tickets",
                token,
                &json!({"title": title, "severity": "HIGH"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "open ticket");
        res.json().await.expect("json")
    }
}

/// Asserts a problem body and returns it.
pub async fn problem(res: Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body: Value = res.json().await.expect("problem json");
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct} for {body}"
    );
    assert!(body["code"].is_string(), "stable code in {body}");
    body
}
