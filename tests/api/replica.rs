//! Reading from a hot standby (`TICKETERA_READ_DATABASE_URL`): GraphQL reads
//! the read models there, except a request that asks for a minimum position
//! (argument or `x-min-position`): it waits for the primary's checkpoint and
//! reads the primary, so read-your-writes holds however far the standby
//! lags (deploy/README.md, "The database and read-your-writes").
//!
//! A second database stands in for the standby: its read models move only
//! when its own projection does, as a standby's move only when it replays.

use platform::http::shutdown::Shutdown;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{fresh_database, spawn_app_with, TestApp};

async fn graphql(app: &TestApp, query: &str, variables: Value, min: Option<&str>) -> Value {
    let mut req = app.client.post(app.url("/graphql"));
    if let Some(min) = min {
        req = req.header("x-min-position", min);
    }
    let res = req
        .bearer_auth(&app.admin_token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("graphql");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

const WITH_MIN: &str =
    "query($n: String!, $p: String) { ticket(number: $n, minPosition: $p) { number title } }";
const PLAIN: &str = "query($n: String!) { ticket(number: $n) { number title } }";

#[tokio::test]
async fn plain_reads_follow_the_standby_and_read_your_writes_reads_the_primary() {
    let (standby_url, standby) = fresh_database().await;
    let url = standby_url.clone();
    let app = spawn_app_with(move |s| {
        s.read_database_url = Some(url.into());
    })
    .await;
    let stop = Shutdown::default();
    let primary_projector =
        tokio::spawn(projector::Projector::new(app.pool.clone()).run(stop.clone()));

    let opened = app
        .open_ticket(&app.admin_token, "seen on the primary")
        .await;
    let number = opened["number"].as_str().expect("number").to_string();
    let position = opened["position"].as_str().expect("position").to_string();

    // The primary's projection has the ticket (the hub hears it there)...
    let mut on_primary = false;
    for _ in 0..100 {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM rm_tickets.tickets WHERE number = $1")
                .bind(&number)
                .fetch_one(&app.pool)
                .await
                .expect("primary read model");
        if n == 1 {
            on_primary = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(on_primary, "the primary's projector applied the open");

    // ...the standby has not replayed it: a plain read does not see it...
    let body = graphql(&app, PLAIN, json!({"n": number}), None).await;
    assert_eq!(body["data"]["ticket"], Value::Null, "{body}");
    // ...while read-your-writes, by argument or by header, reads the primary.
    let seen = json!({"number": number, "title": "seen on the primary"});
    let body = graphql(&app, WITH_MIN, json!({"n": number, "p": position}), None).await;
    assert_eq!(body["data"]["ticket"], seen, "{body}");
    let body = graphql(&app, PLAIN, json!({"n": number}), Some(&position)).await;
    assert_eq!(body["data"]["ticket"], seen, "{body}");

    // The standby catches up: its own events, its own projection.
    let rows: Vec<(String, String, i64, String, String, Value, Value)> = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
           FROM events ORDER BY global_position",
    )
    .fetch_all(&app.pool)
    .await
    .expect("events");
    for r in rows {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.0)
        .bind(r.1)
        .bind(r.2)
        .bind(r.3)
        .bind(r.4)
        .bind(r.5)
        .bind(r.6)
        .execute(&standby)
        .await
        .expect("replay onto the standby");
    }
    let standby_projector =
        tokio::spawn(projector::Projector::new(standby.clone()).run(stop.clone()));
    let mut replayed = Value::Null;
    for _ in 0..100 {
        replayed = graphql(&app, PLAIN, json!({"n": number}), None).await;
        if replayed["data"]["ticket"] == seen {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        replayed["data"]["ticket"], seen,
        "plain reads follow the standby"
    );

    stop.cancel();
    for task in [primary_projector, standby_projector] {
        task.await.expect("projector task").expect("projector");
    }
}
