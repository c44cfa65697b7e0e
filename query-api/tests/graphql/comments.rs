//! A ticket's comments: the first or the newest, from the read model and
//! as of a version.

use domain::command::OpenTicket;
use domain::{Command, Role, Severity, Source};
use serde_json::json;
use uuid::Uuid;

use crate::harness::spawn;

/// A long ticket's page asks for its newest comments: `newest: true` gives
/// the last `first` (oldest first), from the read model and as of a version.
#[tokio::test]
async fn comments_give_the_first_or_the_newest() {
    let h = spawn().await;
    let lead = h.user("lena", Role::Lead).await;
    let id = Uuid::now_v7();
    h.exec(
        id,
        "lena",
        Command::Open(OpenTicket {
            ticket_id: id,
            title: "chatty".into(),
            description: String::new(),
            severity: Severity::Low,
            source: Source::Manual,
            source_ip: None,
            destination_ip: None,
            tags: vec![],
            origin: None,
        }),
    )
    .await;
    for i in 1..=5 {
        h.exec(
            id,
            "lena",
            Command::Comment {
                body: format!("c{i}"),
            },
        )
        .await;
    }
    h.project().await;
    let data = h
        .data(
            &lead,
            "query($id: ID!) {
               ticket(id: $id) { first: comments(first: 2) { body } newest: comments(first: 2, newest: true) { body } }
               ticketAsOf(id: $id, version: 5) { first: comments(first: 2) { body } newest: comments(first: 2, newest: true) { body } } }",
            json!({"id": id}),
        )
        .await;
    let bodies = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .expect("comments")
            .iter()
            .map(|c| c["body"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(bodies(&data["ticket"]["first"]), ["c1", "c2"]);
    assert_eq!(bodies(&data["ticket"]["newest"]), ["c4", "c5"]);
    // Version 5: the opening and four comments.
    assert_eq!(bodies(&data["ticketAsOf"]["first"]), ["c1", "c2"]);
    assert_eq!(bodies(&data["ticketAsOf"]["newest"]), ["c3", "c4"]);
}
