//! GraphQL and roles, against a table written out here: the schema holds no
//! mutation (changes go through REST, where each route checks its action),
//! and every query field is the `Read` action, which every role holds.

use domain::Role;
use serde_json::json;

use crate::harness::spawn;

/// Every query field and whether each role may read it, in the order
/// admin, lead, analyst, auditor, integration.
const QUERY_FIELDS: &[(&str, [bool; 5])] = &[
    ("ticket(number: \"SOC-1\") { id }", [true; 5]),
    ("tickets(first: 1) { totalCount }", [true; 5]),
    (
        "ticketHistory(id: \"SOC-1\", first: 1) { sequence }",
        [true; 5],
    ),
    ("ticketAsOf(id: \"SOC-1\") { id }", [true; 5]),
    ("assets(first: 1) { totalCount }", [true; 5]),
    ("assetFor(ip: \"10.0.0.1\") { network }", [true; 5]),
    ("stats { openTickets }", [true; 5]),
    ("users { username }", [true; 5]),
    ("me { name }", [true; 5]),
    ("livePosition", [true; 5]),
];

#[tokio::test]
async fn no_mutation_exists_and_every_role_reads_every_query_field() {
    let h = spawn().await;
    let sdl = h.api.sdl();
    assert!(
        !sdl.contains("type Mutation") && !sdl.contains("mutation:"),
        "GraphQL changes nothing: {sdl}"
    );
    let roles = [
        Role::Admin,
        Role::Lead,
        Role::Analyst,
        Role::Auditor,
        Role::Integration,
    ];
    for (i, role) in roles.iter().enumerate() {
        let token = h.user(&format!("user{i}"), *role).await;
        for (field, allowed) in QUERY_FIELDS {
            let body = h.gql(&token, &format!("{{ {field} }}"), json!({})).await;
            let forbidden = body["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["extensions"]["code"] == "FORBIDDEN"));
            assert_eq!(!forbidden, allowed[i], "{role:?} reads {field}: {body}");
            assert!(body.get("errors").is_none(), "{role:?} {field}: {body}");
        }
        let (_, body) = h
            .post(Some(&token), &json!({"query": "mutation { __typename }"}))
            .await;
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("not configured for mutations")),
            "{role:?}: no mutation: {body}"
        );
    }
    // Every query field of the schema is in the table.
    let query = sdl
        .split("type Query {")
        .nth(1)
        .and_then(|s| s.split("\n}").next())
        .expect("type Query");
    let names: Vec<&str> = query
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('"') && !l.starts_with('#'))
        .filter_map(|l| l.split(['(', ':']).next())
        .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric()) && !n.is_empty())
        .collect();
    assert!(names.len() >= QUERY_FIELDS.len(), "{names:?}");
    for name in &names {
        assert!(
            QUERY_FIELDS
                .iter()
                .any(|(f, _)| f.starts_with(&format!("{name}("))
                    || f.starts_with(&format!("{name} "))
                    || f == name),
            "query field {name} is missing from the table"
        );
    }
}
