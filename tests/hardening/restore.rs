//! A dump restored into a new cluster without moving its transaction-id
//! epoch: the binary refuses to start rather than store events that would
//! never be projected.

use crate::helpers::fresh_database;

#[tokio::test]
async fn a_cluster_behind_the_events_transaction_ids_is_refused_with_the_fix() {
    let (url, pool) = fresh_database().await;
    // The restored events were written by a cluster one epoch ahead.
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, transaction_id)
         VALUES ('Ticket', 'restored', 1, 'TicketClosed', '1.0', '{}', '{}',
                 ((pg_snapshot_xmax(pg_current_snapshot())::text::int8 + 4294967296)::text)::xid8)",
    )
    .execute(&pool)
    .await
    .expect("a restored event");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ticketera"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run ticketera migrate");
    assert!(!out.status.success(), "refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pg_resetwal -e 2"), "{stderr}");

    // Restored where the ids were already past them (the same cluster, or
    // an epoch moved with pg_resetwal): it starts.
    let (url, pool) = fresh_database().await;
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Ticket', 'restored', 1, 'TicketClosed', '1.0', '{}', '{}')",
    )
    .execute(&pool)
    .await
    .expect("a restored event");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ticketera"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run ticketera migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
