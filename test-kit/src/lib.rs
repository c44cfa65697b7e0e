//! The test kit: one way for every suite to reach the test PostgreSQL and
//! get a database of its own (one per test, named `ticketera_test_<uuid>`
//! so `scripts/test` drops those a killed run left behind).

use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

/// The PostgreSQL server the tests create their databases in:
/// `TEST_DATABASE_URL` (no database name), by default the local trust one.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
        .trim_end_matches('/')
        .to_string()
}

/// A fresh database with every migration applied: its URL and a pool of
/// at most `max_connections`.
pub async fn fresh_database(max_connections: u32) -> (String, PgPool) {
    let name = format!("ticketera_test_{}", Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&format!("{}/postgres", server_url()))
        .await
        .expect("the test PostgreSQL is reachable (TEST_DATABASE_URL)");
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("create the test database");
    let _ = conn.close().await;
    let url = format!("{}/{name}", server_url());
    let pool = platform::db::connect(&url.clone().into(), max_connections)
        .await
        .expect("connect to the test database");
    platform::db::migrate(&pool)
        .await
        .expect("migrate the test database");
    (url, pool)
}
