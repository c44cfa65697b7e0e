//! The tables that only grew (failed-login windows, revoked access tokens,
//! webhook ids) are pruned by the services' housekeeping task: expired rows
//! go, live ones stay.

use std::time::Duration;

use platform::http::shutdown::Shutdown;

use crate::helpers::spawn_app;

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

#[tokio::test]
async fn expired_throttle_revocation_and_webhook_rows_are_pruned() {
    let app = spawn_app().await;
    let pool = &app.pool;
    for sql in [
        "INSERT INTO login_failures (key, failures, window_start) VALUES
           ('addr:192.0.2.1', 20, now() - interval '16 minutes'),
           ('addr:192.0.2.2', 3, now() - interval '1 minute')",
        "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES
           (gen_random_uuid(), now() - interval '1 second'),
           (gen_random_uuid(), now() + interval '10 minutes')",
        "INSERT INTO webhook_ids (id, expires_at) VALUES
           ('msg_old', now() - interval '1 second'),
           ('msg_live', now() + interval '5 minutes')",
    ] {
        sqlx::query(sql).execute(pool).await.expect(sql);
    }
    let shutdown = Shutdown::default();
    ticketera::app::spawn_housekeeping(pool.clone(), Duration::from_millis(200), shutdown.clone());
    let left = || async {
        (
            count(
                pool,
                "SELECT count(*) FROM login_failures WHERE key LIKE 'addr:192.0.2.%'",
            )
            .await,
            count(pool, "SELECT count(*) FROM revoked_access_tokens").await,
            count(pool, "SELECT count(*) FROM webhook_ids").await,
        )
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while left().await != (1, 1, 1) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    assert_eq!(left().await, (1, 1, 1), "only the live rows are left");
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM login_failures WHERE key = 'addr:192.0.2.2'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM webhook_ids WHERE id = 'msg_live'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM revoked_access_tokens WHERE expires_at > now()"
        )
        .await,
        1
    );
}
