//! `GET /api/v1/tickets/{id}/history`: a ticket's whole history as stored,
//! streamed page by page, for every role (the auditor's export).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn a_long_history_exports_whole_in_order_with_its_metadata() {
    let app = spawn_app().await;
    let opened = app.open_ticket(&app.admin_token, "chatty").await;
    let id = opened["id"].as_str().unwrap().to_string();
    let number = opened["number"].as_str().unwrap().to_string();
    // More events than one page of the stream (500).
    let comments = 1_100;
    for i in 0..comments {
        let res = app
            .post_json(
                &format!("/api/v1/tickets/{id}/comments"),
                &app.admin_token,
                &json!({"body": format!("note {i}")}),
            )
            .await;
        assert!(res.status().is_success(), "comment {i}: {}", res.status());
    }
    let (_, auditor) = app.user("auditor").await;
    for reference in [id.as_str(), number.as_str()] {
        let res = app
            .request(
                Method::GET,
                &format!("/api/v1/tickets/{reference}/history"),
                &auditor,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        let disposition = res.headers()["content-disposition"].to_str().unwrap();
        assert!(
            disposition.contains(&format!("{number}-history.json")),
            "{disposition}"
        );
        let doc: Value = res.json().await.unwrap();
        assert_eq!(doc["ticket_id"], id.as_str());
        assert_eq!(doc["number"], number.as_str());
        let events = doc["events"].as_array().unwrap();
        assert_eq!(events.len(), comments + 1);
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e["sequence"], i + 1);
            assert!(e["position"].as_str().unwrap().starts_with("p1_"));
            assert!(e["event_id"].is_string() && e["recorded_at"].is_string());
        }
        assert_eq!(events[0]["event_type"], "TicketOpened");
        assert_eq!(
            events[0]["payload"]["TicketOpened"]["number"],
            number.as_str()
        );
        assert_eq!(events[0]["metadata"]["actor"], "admin");
        assert!(
            events[0]["metadata"]["correlation_id"].is_string(),
            "{}",
            events[0]
        );
        assert_eq!(events[1_000]["payload"]["CommentAdded"]["body"], "note 999");
    }

    // What replay folds: the export's events folded equal the command side.
    let doc: Value = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{id}/history"),
            &auditor,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let folded = domain::Ticket::from_events(
        &doc["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| serde_json::from_value::<domain::TicketEvent>(e["payload"].clone()).unwrap())
            .collect::<Vec<_>>(),
    );
    assert_eq!(folded.version, comments as u64 + 1);
    assert_eq!(folded.comments.len(), comments);

    let res = app
        .request(
            Method::GET,
            "/api/v1/tickets/00000000-0000-0000-0000-000000000000/history",
            &auditor,
        )
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::NOT_FOUND).await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/tickets/{id}/history")))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED).await;
}
