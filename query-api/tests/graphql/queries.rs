//! Queries over the read models: filters, ordering, keyset pagination,
//! read-your-writes, users, me, stats.

use std::time::Duration;

use domain::{Command, ObservableKind, Resolution, Role, Severity};
use serde_json::{json, Value};

use crate::harness::spawn;

const PAGE: &str = "query($first: Int, $after: String, $filter: TicketFilter, $orderBy: TicketOrder) {
  tickets(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id number title status severity assignee assigneeName tags createdAt version position } }
  }
}";

fn numbers(data: &Value) -> Vec<String> {
    data["tickets"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["number"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn tickets_filter_order_and_paginate_over_the_read_model() {
    let h = spawn().await;
    let lead = h.user("lead", Role::Lead).await;
    h.identity
        .create_user(
            "ana",
            Some("Ana Analyst"),
            crate::harness::PASSWORD,
            Role::Analyst,
            "t",
            None,
        )
        .await
        .expect("ana");
    let severities = [
        Severity::Low,
        Severity::High,
        Severity::Critical,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
        Severity::Low,
    ];
    let mut ids = vec![];
    for (i, s) in severities.iter().enumerate() {
        let (id, _) = h
            .open("lead", &format!("ticket number {i} alpha"), *s)
            .await;
        ids.push(id);
    }
    // SOC-2 and SOC-5: assigned to ana and in progress; SOC-3: resolved.
    for id in [ids[1], ids[4]] {
        h.exec(
            id,
            "lead",
            Command::Assign {
                assignee: "ana".into(),
            },
        )
        .await;
        h.exec(id, "lead", Command::Start).await;
    }
    h.exec(
        ids[2],
        "lead",
        Command::Resolve {
            resolution: Some(Resolution::FalsePositive),
            summary: "noise".into(),
        },
    )
    .await;
    h.exec(
        ids[3],
        "lead",
        Command::Comment {
            body: "the exfiltration went to zanzibar".into(),
        },
    )
    .await;
    h.exec(
        ids[6],
        "lead",
        Command::AddObservable {
            kind: ObservableKind::Domain,
            value: "kraken.example.test".into(),
        },
    )
    .await;
    h.exec(
        ids[6],
        "lead",
        Command::Tag {
            tags: vec!["ransomware".into()],
        },
    )
    .await;
    h.project().await;

    // Default: newest first, every ticket.
    let data = h.data(&lead, PAGE, json!({})).await;
    assert_eq!(data["tickets"]["totalCount"], 7);
    assert_eq!(
        numbers(&data),
        ["SOC-7", "SOC-6", "SOC-5", "SOC-4", "SOC-3", "SOC-2", "SOC-1"]
    );
    assert_eq!(data["tickets"]["pageInfo"]["hasNextPage"], false);

    // Filters.
    let page = |filter: Value| {
        let lead = lead.clone();
        let h = &h;
        async move { numbers(&h.data(&lead, PAGE, json!({"filter": filter})).await) }
    };
    assert_eq!(
        page(json!({"status": ["IN_PROGRESS"]})).await,
        ["SOC-5", "SOC-2"]
    );
    assert_eq!(
        page(json!({"status": ["NEW"], "severity": ["CRITICAL"]})).await,
        ["SOC-6"]
    );
    assert_eq!(
        page(json!({"severity": ["HIGH", "CRITICAL"]})).await,
        ["SOC-6", "SOC-5", "SOC-3", "SOC-2"]
    );
    assert_eq!(page(json!({"assignee": "ana"})).await, ["SOC-5", "SOC-2"]);
    assert_eq!(
        page(json!({"unassigned": true, "status": ["NEW"]})).await,
        ["SOC-7", "SOC-6", "SOC-4", "SOC-1"]
    );
    assert_eq!(
        page(json!({"source": ["MANUAL"], "tag": "ransomware"})).await,
        ["SOC-7"]
    );
    assert_eq!(
        page(json!({"source": ["SYSLOG"]})).await,
        Vec::<String>::new()
    );
    assert_eq!(page(json!({"text": "zanzibar"})).await, ["SOC-4"]);
    assert_eq!(
        page(json!({"text": "kraken.example.test"})).await,
        ["SOC-7"]
    );
    assert_eq!(
        page(json!({"text": "number alpha", "severity": ["LOW"]})).await,
        ["SOC-7", "SOC-1"]
    );
    assert_eq!(
        page(json!({"ids": [ids[0], ids[3]]})).await,
        ["SOC-4", "SOC-1"]
    );
    let all = h
        .data(
            &lead,
            PAGE,
            json!({"orderBy": {"field": "CREATED_AT", "direction": "ASC"}}),
        )
        .await;
    let third_created = all["tickets"]["edges"][2]["node"]["createdAt"].clone();
    assert_eq!(
        page(json!({"createdBefore": third_created})).await,
        ["SOC-2", "SOC-1"]
    );
    assert_eq!(
        page(json!({"createdAfter": third_created})).await,
        ["SOC-7", "SOC-6", "SOC-5", "SOC-4", "SOC-3"]
    );
    assert_eq!(
        numbers(&all),
        ["SOC-1", "SOC-2", "SOC-3", "SOC-4", "SOC-5", "SOC-6", "SOC-7"]
    );

    // Orderings.
    let ordered = |field: &str, direction: &str| {
        let lead = lead.clone();
        let h = &h;
        let order = json!({"field": field, "direction": direction});
        async move { numbers(&h.data(&lead, PAGE, json!({"orderBy": order})).await) }
    };
    assert_eq!(
        ordered("NUMBER", "ASC").await,
        ["SOC-1", "SOC-2", "SOC-3", "SOC-4", "SOC-5", "SOC-6", "SOC-7"]
    );
    let by_severity = ordered("SEVERITY", "DESC").await;
    let rank = |n: &String| match severities
        [n.trim_start_matches("SOC-").parse::<usize>().unwrap_or(1) - 1]
    {
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    };
    assert!(
        by_severity.windows(2).all(|w| rank(&w[0]) >= rank(&w[1])),
        "{by_severity:?}"
    );
    assert_eq!(by_severity.len(), 7);

    // Keyset pagination in every ordering: the pages add up to the whole list.
    for (field, direction) in [
        ("CREATED_AT", "DESC"),
        ("UPDATED_AT", "ASC"),
        ("SEVERITY", "DESC"),
        ("NUMBER", "ASC"),
    ] {
        let order = json!({"field": field, "direction": direction});
        let whole = numbers(&h.data(&lead, PAGE, json!({"orderBy": order})).await);
        let mut seen = vec![];
        let mut after = Value::Null;
        loop {
            let data = h
                .data(
                    &lead,
                    PAGE,
                    json!({"first": 3, "after": after, "orderBy": order}),
                )
                .await;
            seen.extend(numbers(&data));
            let info = &data["tickets"]["pageInfo"];
            assert_eq!(info["hasPreviousPage"], !after.is_null());
            if info["hasNextPage"] == false {
                break;
            }
            after = info["endCursor"].clone();
        }
        assert_eq!(seen, whole, "{field} {direction}");
    }

    // A cursor is bound to its ordering; garbage is refused.
    let data = h.data(&lead, PAGE, json!({"first": 1})).await;
    let cursor = data["tickets"]["pageInfo"]["endCursor"].clone();
    let body = h
        .gql(
            &lead,
            PAGE,
            json!({"after": cursor, "orderBy": {"field": "NUMBER"}}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    let body = h.gql(&lead, PAGE, json!({"after": "garbage"})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_CURSOR",
        "{body}"
    );
    let body = h.gql(&lead, PAGE, json!({"first": 101})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );

    // One ticket, by id or number; details from the read model.
    let one = "query($id: ID, $number: String) { ticket(id: $id, number: $number) {
        id number status assignee assigneeName observables { kind value } tags commentCount
        comments { author body } timeline { sequence type summary actor } history { sequence type } } }";
    let by_id = h.data(&lead, one, json!({"id": ids[1]})).await;
    assert_eq!(by_id["ticket"]["number"], "SOC-2");
    assert_eq!(by_id["ticket"]["assigneeName"], "Ana Analyst");
    assert_eq!(by_id["ticket"]["status"], "IN_PROGRESS");
    assert_eq!(
        by_id["ticket"]["timeline"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(by_id["ticket"]["history"].as_array().map(Vec::len), Some(3));
    let by_number = h.data(&lead, one, json!({"number": "soc-4"})).await;
    assert_eq!(
        by_number["ticket"]["comments"][0]["body"],
        "the exfiltration went to zanzibar"
    );
    let seventh = h.data(&lead, one, json!({"id": "SOC-7"})).await;
    assert_eq!(
        seventh["ticket"]["observables"][0],
        json!({"kind": "DOMAIN", "value": "kraken.example.test"})
    );
    let none = h
        .data(&lead, one, json!({"id": uuid::Uuid::new_v4()}))
        .await;
    assert!(none["ticket"].is_null());
    let body = h.gql(&lead, one, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // Users for assignee pickers; me; stats.
    let data = h.data(&lead, "{ users { username displayName role } assignable: users(assignable: true) { username } me { name displayName kind } }", json!({})).await;
    let users: Vec<&str> = data["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(users, ["ana", "lead"]);
    assert_eq!(data["users"][0]["displayName"], "Ana Analyst");
    assert_eq!(data["users"][0]["role"], "analyst");
    assert_eq!(data["me"]["name"], "lead");
    assert_eq!(data["me"]["kind"], "USER");
    let stats = h
        .data(&lead, "{ stats { openTickets openByStatusSeverity { status severity count } daily(days: 3) { day opened resolved meanTimeToResolveSeconds } topRules { ruleName } } }", json!({}))
        .await;
    assert_eq!(stats["stats"]["openTickets"], 6, "{stats}");
    let opened: i64 = stats["stats"]["daily"]
        .as_array()
        .expect("daily")
        .iter()
        .filter_map(|d| d["opened"].as_i64())
        .sum();
    assert_eq!(opened, 7);
}

#[tokio::test]
async fn read_your_writes_waits_for_the_position_or_says_not_yet_projected() {
    let h = spawn().await;
    let lead = h.user("lead", Role::Lead).await;
    let (id, opened) = h.open("lead", "read your writes", Severity::Low).await;
    h.project().await;
    let started = h.exec(id, "lead", Command::Start).await;
    let position = started.position.expect("position").cursor();
    let q =
        "query($id: ID!, $min: String) { ticket(id: $id, minPosition: $min) { status version } }";

    // Without a minimum: the read model as it is (not yet started).
    let data = h.data(&lead, q, json!({"id": id})).await;
    assert_eq!(data["ticket"]["status"], "NEW");

    // Nobody projects: NOT_YET_PROJECTED after the bounded wait.
    let t0 = std::time::Instant::now();
    let body = h.gql(&lead, q, json!({"id": id, "min": position})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_YET_PROJECTED",
        "{body}"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        t0.elapsed()
    );

    // The projector catches up while the query waits: it answers the new state.
    let pool = h.pool.clone();
    let projecting = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        projector::Projector::new(pool)
            .catch_up()
            .await
            .expect("project")
    });
    let data = h.data(&lead, q, json!({"id": id, "min": position})).await;
    assert_eq!(data["ticket"]["status"], "IN_PROGRESS");
    assert_eq!(data["ticket"]["version"], 2);
    projecting.await.expect("projector task");

    // The header works too, and an old position answers at once.
    let res = h
        .client
        .post(format!("{}/graphql", h.base))
        .bearer_auth(&lead)
        .header("content-type", "application/json")
        .header("x-min-position", opened.position.expect("position").cursor())
        .body(json!({"query": "query($id: ID!) { ticket(id: $id) { status } }", "variables": {"id": id}}).to_string())
        .send()
        .await
        .expect("POST");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["data"]["ticket"]["status"], "IN_PROGRESS");
    let res = h
        .client
        .post(format!("{}/graphql", h.base))
        .bearer_auth(&lead)
        .header("content-type", "application/json")
        .header("x-min-position", "garbage")
        .body(json!({"query": "{ me { name } }"}).to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);
}
