//! A page of plain ticket fields is written without the executor
//! (`query-api/src/page_rows.rs`); a directive anywhere in the selection
//! sends the same page through the executor. Both must give the same answer,
//! key for key and in the same order.

use domain::{Command, Resolution, Role, Severity};
use serde_json::{json, Value};

use crate::harness::spawn;

/// Every plain field of `Ticket`, a fragment spread, an inline fragment,
/// aliases and `__typename` at both levels.
const FAST: &str = "
fragment Plain on Ticket {
  id number title description status severity resolution resolutionSummary
  duplicateOf source sourceIp destinationIp ruleName vendor fingerprint
  assignee assigneeName tags commentCount alertCount firstSeen lastSeen
  createdAt updatedAt acknowledgedAt resolvedAt version position
}
query($first: Int) {
  tickets(first: $first, orderBy: {field: NUMBER, direction: ASC}) {
    edges {
      __typename cursor again: cursor
      node { __typename ...Plain n: number ... on Ticket { heading: title } ... { s: status } }
    }
    nodes { ...Plain kind: __typename }
  }
}";

/// The same selection with a directive that changes nothing: the edges and
/// the nodes each fall back to the executor.
fn slow() -> String {
    FAST.replace("__typename cursor", "__typename @include(if: true) cursor")
        .replace("kind: __typename", "kind: __typename @skip(if: false)")
}

#[tokio::test]
async fn a_page_of_plain_fields_reads_the_same_as_through_the_executor() {
    let h = spawn().await;
    let lead = h.user("lead", Role::Lead).await;
    let mut ids = vec![];
    for (i, s) in [
        Severity::Low,
        Severity::High,
        Severity::Critical,
        Severity::Medium,
    ]
    .into_iter()
    .enumerate()
    {
        ids.push(h.open("lead", &format!("página {i} «ñ»"), s).await.0);
    }
    h.exec(
        ids[1],
        "lead",
        Command::Assign {
            assignee: "lead".into(),
        },
    )
    .await;
    h.exec(ids[1], "lead", Command::Start).await;
    h.exec(ids[1], "lead", Command::Comment { body: "uno".into() })
        .await;
    h.exec(
        ids[2],
        "lead",
        Command::Resolve {
            resolution: Some(Resolution::TruePositive),
            summary: "contenido".into(),
        },
    )
    .await;
    h.exec(
        ids[3],
        "lead",
        Command::MarkDuplicate {
            of: ids[0],
            of_number: Some("SOC-1".into()),
            summary: "igual que SOC-1".into(),
        },
    )
    .await;
    h.project().await;

    let text = |query: String| {
        let h = &h;
        let lead = lead.clone();
        async move {
            let (status, text) = h
                .post_text(
                    Some(&lead),
                    &json!({"query": query, "variables": {"first": 10}}),
                )
                .await;
            assert_eq!(status, 200, "{text}");
            text
        }
    };
    let fast_text = text(FAST.to_string()).await;
    let slow_text = text(slow()).await;
    // Byte for byte: the same keys, values and order.
    assert_eq!(fast_text, slow_text);
    assert!(!fast_text.contains("\"errors\""), "{fast_text}");
    // The order is the selection's, as the executor writes it.
    assert!(
        fast_text.contains(r#"{"__typename":"TicketEdge","cursor":"#),
        "{fast_text}"
    );
    assert!(
        fast_text.contains(r#""n":"SOC-4","heading":"página 3 «ñ»","s":"RESOLVED"}"#),
        "{fast_text}"
    );
    let fast: Value = serde_json::from_str(&fast_text).expect("JSON");
    let fast = &fast["data"];
    let edge = &fast["tickets"]["edges"][3];
    assert_eq!(edge["cursor"], edge["again"]);

    // What was set reads back: nulls where nothing is, values where it is.
    let nodes = fast["tickets"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 4);
    assert_eq!(nodes[0]["kind"], "Ticket");
    assert_eq!(nodes[0]["resolution"], Value::Null);
    assert_eq!(nodes[0]["tags"], json!(["phishing"]));
    assert_eq!(nodes[1]["status"], "IN_PROGRESS");
    assert_eq!(nodes[1]["assignee"], "lead");
    assert_eq!(nodes[1]["commentCount"], 1);
    assert!(nodes[1]["acknowledgedAt"].is_string());
    assert_eq!(nodes[2]["resolution"], "TRUE_POSITIVE");
    assert_eq!(nodes[2]["resolutionSummary"], "contenido");
    assert!(nodes[2]["resolvedAt"].is_string());
    assert_eq!(nodes[3]["duplicateOf"], ids[0].to_string());
    assert_eq!(nodes[3]["title"], "página 3 «ñ»");
    assert!(nodes[3]["position"].is_string());
    assert_eq!(edge["node"]["heading"], nodes[3]["title"]);

    // A page fetches only the columns its fields read: what a fragment
    // asks for is fetched, what nothing asks for is not shown.
    let heavy = h
        .data(
            &lead,
            "fragment Heavy on Ticket { description tags observables { value } }
             { tickets(first: 10, orderBy: {field: NUMBER, direction: ASC}) {
                 edges { node { number ...Heavy } } } }",
            json!({}),
        )
        .await;
    let heavy_node = &heavy["tickets"]["edges"][3]["node"];
    assert_eq!(heavy_node["description"], nodes[3]["description"]);
    assert_eq!(heavy_node["tags"], json!(["phishing"]));
    assert_eq!(heavy_node["observables"], json!([]));
    let narrow = h
        .data(
            &lead,
            "{ tickets(first: 10) { nodes { number } } }",
            json!({}),
        )
        .await;
    assert_eq!(narrow["tickets"]["nodes"].as_array().map(Vec::len), Some(4));

    // A field that resolves on its own (here `timeline`) takes the
    // executor's path and still answers.
    let mixed = h
        .data(
            &lead,
            "{ tickets(first: 2) { nodes { number timeline(first: 1) { summary } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mixed["tickets"]["nodes"].as_array().map(Vec::len), Some(2));
    assert!(mixed["tickets"]["nodes"][0]["timeline"][0]["summary"].is_string());
}
