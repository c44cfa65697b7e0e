//! The event store's guarantees, checked in Postgres itself.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{fresh_database, spawn_app};

#[tokio::test]
async fn events_refuse_update_delete_and_truncate() {
    let app = spawn_app().await;
    app.open_ticket(&app.admin_token, "immutable").await;
    for sql in [
        "UPDATE events SET payload = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let err = sqlx::query(sql).execute(&app.pool).await.expect_err(sql);
        assert!(err.to_string().contains("immutable"), "{sql}: {err}");
    }
}

#[tokio::test]
async fn a_v1_event_is_read_back_through_its_upcaster() {
    let (_url, pool) = fresh_database().await;
    let id = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Ticket', $1, 1, 'TicketOpened', '1.0', $2, '{}')",
    )
    .bind(id.to_string())
    .bind(json!({"TicketOpened": {"ticket_id": id, "number": "SOC-7", "title": "legacy", "description": "",
                 "priority": "P2", "by": "jdoe", "at": "2025-03-01T10:00:00Z"}}))
    .execute(&pool)
    .await
    .unwrap();
    let services = std::sync::Arc::new(platform::services::PgTicketServices::new(pool.clone()));
    let store = platform::event_store::TicketStore::new(pool.clone(), services);
    let ticket = store.load(id).await.unwrap();
    assert_eq!(ticket.severity, Some(domain::Severity::High));
    assert_eq!(ticket.source, Some(domain::Source::Manual));
    assert_eq!(ticket.number.as_deref(), Some("SOC-7"));
    let history = store.history(id).await.unwrap();
    assert_eq!(history[0].event_version, "1.0");
}

#[tokio::test]
async fn replay_folds_the_stream_as_of_a_version_or_an_instant() {
    let app = spawn_app().await;
    let t = app.open_ticket(&app.admin_token, "replayed").await;
    let id = t["id"].as_str().unwrap();
    app.post_json(
        &format!("/api/v1/tickets/{id}/start"),
        &app.admin_token,
        &json!({}),
    )
    .await;
    app.post_json(
        &format!("/api/v1/tickets/{id}/resolve"),
        &app.admin_token,
        &json!({"resolution": "BENIGN"}),
    )
    .await;
    let services = std::sync::Arc::new(platform::services::PgTicketServices::new(app.pool.clone()));
    let store = platform::event_store::TicketStore::new(app.pool.clone(), services);
    let uuid: uuid::Uuid = id.parse().unwrap();
    let history = store.history(uuid).await.unwrap();
    assert_eq!(history.len(), 3);
    // Positions follow commit order.
    assert!(history.windows(2).all(|w| w[0].position < w[1].position));
    let v2 = store.as_of(uuid, None, Some(2)).await.unwrap().unwrap();
    assert_eq!(v2.status, Some(domain::Status::InProgress));
    let at_open = store
        .as_of(uuid, Some(history[0].recorded_at), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(at_open.status, Some(domain::Status::New));
    let now: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            &app.admin_token,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "RESOLVED");
}

/// Ticket numbers come a block at a time per process: each process hands
/// its out in order, no number twice across processes, a skip where a
/// process stopped with some left.
#[tokio::test]
async fn ticket_numbers_are_unique_across_processes_and_ordered_within_one() {
    use domain::TicketServices;
    use platform::services::PgTicketServices;
    let (_url, pool) = fresh_database().await;
    let a = PgTicketServices::with_number_block(pool.clone(), 3);
    let b = PgTicketServices::with_number_block(pool.clone(), 3);
    let mut from_a = Vec::new();
    let mut from_b = Vec::new();
    for _ in 0..5 {
        from_a.push(a.next_ticket_number().await.unwrap());
        from_b.push(b.next_ticket_number().await.unwrap());
    }
    assert_eq!(from_a, [1, 2, 3, 7, 8], "a takes 1-3, then 7-9");
    assert_eq!(from_b, [4, 5, 6, 10, 11], "b takes 4-6, then 10-12");
    drop((a, b));
    // Both stopped with one number left: a new process skips them.
    let c = PgTicketServices::new(pool.clone());
    assert_eq!(c.next_ticket_number().await.unwrap(), 13);
}
