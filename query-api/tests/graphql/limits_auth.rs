//! Limits (depth, complexity, aliases, directives, batches, introspection)
//! and authentication on HTTP and WebSocket; GraphQL over HTTP media types.

use domain::{ActorKind, Role, Severity};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{spawn, spawn_with, Harness};

fn error_text(body: &Value) -> String {
    body["errors"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .unwrap_or_default()
}

/// Rejected before anything ran: 400, errors, no `data`.
async fn assert_rejected(h: &Harness, token: &str, query: &str, needle: &str) {
    let (status, body) = h.post(Some(token), &json!({"query": query})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let text = error_text(&body).to_lowercase();
    assert!(text.contains(needle), "expected '{needle}' in: {text}");
}

#[tokio::test]
async fn limits_reject_deep_complex_aliased_directive_heavy_and_large_batches() {
    let h = spawn().await;
    let token = h.user("lead", Role::Lead).await;
    let (id, _) = h.open("lead", "limits", Severity::Low).await;
    h.project().await;

    // Within the limits: fine.
    let ok = format!("{{ ticket(id: \"{id}\") {{ history {{ ticket {{ number }} }} }} }}");
    let data = h.data(&token, &ok, json!({})).await;
    assert_eq!(
        data["ticket"]["history"][0]["ticket"]["number"], "SOC-1",
        "{data}"
    );

    // Too deep (the ticket ↔ history cycle): refused for its depth alone,
    // with the complexity limit lifted.
    let lax = spawn_with(|_, o| o.limits.max_complexity = usize::MAX / 4).await;
    let lax_token = lax.user("lead", Role::Lead).await;
    let (lax_id, _) = lax.open("lead", "deep", Severity::Low).await;
    lax.project().await;
    let mut deep = String::from("number");
    for _ in 0..4 {
        deep = format!("history {{ ticket {{ {deep} }} }}");
    }
    let within = format!("{{ ticket(id: \"{lax_id}\") {{ {deep} }} }}");
    lax.data(&lax_token, &within, json!({})).await;
    let deeper = format!("{{ ticket(id: \"{lax_id}\") {{ history {{ ticket {{ {deep} }} }} }} }}");
    assert_rejected(&lax, &lax_token, &deeper, "nested too deep").await;

    // Too complex: a wide page with nested lists.
    assert_rejected(
        &h,
        &token,
        "{ tickets(first: 100) { edges { node { number timeline { summary payload } comments { body } } } } }",
        "complex",
    )
    .await;

    // Too many aliases: each cheap, together too much.
    let aliases: String = (0..2000).map(|i| format!("a{i}: me {{ name }} ")).collect();
    assert_rejected(&h, &token, &format!("{{ {aliases} }}"), "complex").await;

    // Too many directives on one field.
    let directives = "@include(if: true) ".repeat(6);
    assert_rejected(
        &h,
        &token,
        &format!("{{ me {directives} {{ name }} }}"),
        "directives",
    )
    .await;

    // Batches: a few operations are fine, too many are refused whole.
    let op = json!({"query": "{ me { name } }"});
    let (status, body) = h.post(Some(&token), &json!([op, op])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    assert_eq!(body[1]["data"]["me"]["name"], "lead");
    let (status, body) = h
        .post(Some(&token), &Value::Array(vec![op.clone(); 11]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BATCH_TOO_LARGE");
    let (status, _) = h.post(Some(&token), &json!([])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Introspection is off by default...
    let (_, body) = h
        .post(
            Some(&token),
            &json!({"query": "{ __schema { queryType { name } } }"}),
        )
        .await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
}

#[tokio::test]
async fn introspection_when_configured() {
    let h = spawn_with(|_, o| o.limits.introspection = true).await;
    let token = h.user("lead", Role::Lead).await;
    let data = h
        .data(
            &token,
            "{ __schema { queryType { name } subscriptionType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    assert_eq!(data["__schema"]["subscriptionType"]["name"], "Subscription");
}

#[tokio::test]
async fn http_requires_a_valid_live_token_and_every_role_reads() {
    let h = spawn().await;
    let query = json!({"query": "{ me { name kind roles } }"});

    // No token, garbage, a token signed by another key set: 401 problem JSON.
    for token in [None, Some("not-a-jwt"), Some("Bearer")] {
        let (status, body) = h.post(token, &query).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}: {body}");
        assert_eq!(body["code"], "unauthenticated");
    }
    let res = h
        .client
        .post(format!("{}/graphql", h.base))
        .header("content-type", "application/json")
        .body(query.to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap_or_default(),
        "application/problem+json"
    );
    let (other_url, other_pool) = crate::harness::fresh_database().await;
    drop(other_url);
    let stranger = platform::auth::tokens::TokenKeys::load_or_create(
        &other_pool,
        platform::auth::tokens::TokenSettings {
            issuer: "ticketera".into(),
            audience: "ticketera".into(),
            access_ttl: chrono::Duration::minutes(5),
            leeway_secs: 5,
        },
    )
    .await
    .expect("keys");
    let (foreign, _) = stranger
        .issue("lead", ActorKind::User, &[Role::Lead])
        .expect("issue");
    let (status, _) = h.post(Some(&foreign), &query).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Every role may query.
    for role in [Role::Admin, Role::Lead, Role::Analyst, Role::Auditor] {
        let name = format!("u_{role}");
        let token = h.user(&name, role).await;
        let data = h.data(&token, "{ me { name roles } }", json!({})).await;
        assert_eq!(data["me"]["name"], name.as_str());
        assert_eq!(data["me"]["roles"][0], role.as_str());
    }
    let (client_id, _secret) = h
        .identity
        .create_client("siem", Role::Integration, "test", None)
        .await
        .expect("client");
    let (client_token, _) = h
        .keys
        .issue(&client_id, ActorKind::Client, &[Role::Integration])
        .expect("issue");
    let data = h
        .data(
            &client_token,
            "{ me { name kind } tickets { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["me"]["kind"], "CLIENT");

    // A disabled user's token dies at once.
    let token = h.user("leaver", Role::Analyst).await;
    h.data(&token, "{ me { name } }", json!({})).await;
    h.identity
        .set_enabled("leaver", false, "test", None)
        .await
        .expect("disable");
    let (status, _) = h.post(Some(&token), &query).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn websocket_refuses_missing_and_bad_tokens_with_4403() {
    let h = spawn().await;
    let good = h.user("lead", Role::Lead).await;
    for payload in [
        json!(null),
        json!({}),
        json!({"Authorization": "Bearer nope"}),
        json!({"Authorization": good.clone()}),
    ] {
        let mut ws = h.ws().await;
        let mut init = json!({"type": "connection_init"});
        if !payload.is_null() {
            init["payload"] = payload.clone();
        }
        ws.send(init).await;
        ws.expect_close(4403).await;
    }
    // The right one is acknowledged; "authorization" in any case.
    let mut ws = h.ws().await;
    ws.send(
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {good}")}}),
    )
    .await;
    assert_eq!(ws.recv().await["type"], "connection_ack");
}

#[tokio::test]
async fn graphql_over_http_media_types_and_status_codes() {
    let h = spawn().await;
    let token = h.user("lead", Role::Lead).await;
    let url = format!("{}/graphql", h.base);
    let post = |accept: Option<&'static str>, body: &'static str| {
        let mut req = h
            .client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json");
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        req.body(body)
    };
    let grj = Some("application/graphql-response+json");
    let json_ = Some("application/json");

    let res = post(grj, r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("application/graphql-response+json"));
    let res = post(None, r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .expect("send");
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("application/json"));
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        json!({"data": {"__typename": "Query"}})
    );

    // Well-formed JSON requests that fail: 400 with graphql-response+json,
    // 200 with errors under application/json (bodies that are no request at
    // all: see `bodies_that_are_no_graphql_request_are_400_in_either_media_type`).
    for (body, what) in [
        (r#"{"qeury":"{ __typename }"}"#, "missing query"),
        (r#"{"query":{"obj":"ect"}}"#, "query object"),
        (
            r#"{"query":"{ __typename }","variables":"x"}"#,
            "variables string",
        ),
        (
            r#"{"query":"{ __typename }","operationName":0}"#,
            "operationName number",
        ),
        (
            r#"{"query":"{ __typename }","extensions":[1]}"#,
            "extensions array",
        ),
        (r#"{"query":"{"}"#, "document parse failure"),
        (r#"{"query":"{ nosuchfield }"}"#, "validation failure"),
    ] {
        let res = post(grj, body).send().await.expect("send");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{what}");
        let v: Value = res.json().await.expect("json");
        assert!(
            v.get("data").is_none() && v.get("errors").is_some(),
            "{what}: {v}"
        );
        let res = post(json_, body).send().await.expect("send");
        assert_eq!(res.status(), StatusCode::OK, "{what}");
        let v: Value = res.json().await.expect("json");
        assert!(v.get("errors").is_some(), "{what}: {v}");
    }
    for body in [
        r#"{"query":"{ __typename }","variables":null,"operationName":null,"extensions":null}"#,
        r#"{"query":"query Q { __typename }","operationName":"Q","extensions":{"some":"value"}}"#,
    ] {
        let v: Value = post(json_, body)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert!(v.get("errors").is_none(), "{v}");
    }

    // No content type: 415. Not acceptable: 406.
    let res = h
        .client
        .post(&url)
        .bearer_auth(&token)
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = post(Some("text/plain"), r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NOT_ACCEPTABLE);

    // GET: queries from the URL; mutations refused; a browser gets GraphiQL.
    let res = h
        .client
        .get(format!("{url}?query=%7B__typename%7D"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.expect("json")["data"]["__typename"],
        "Query"
    );
    let res = h
        .client
        .get(format!("{url}?query=mutation%20%7B__typename%7D"))
        .bearer_auth(&token)
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let res = h
        .client
        .get(format!("{url}?query=%7B__typename%7D"))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bodies_that_are_no_graphql_request_are_400_in_either_media_type() {
    let h = spawn().await;
    let token = h.user("lead", Role::Lead).await;
    let url = format!("{}/graphql", h.base);
    let bodies = [
        (r#"{ "not a JSON"#, "JSON parse failure"),
        ("NONSENSE", "not JSON at all"),
        (r#"{"query":"#, "truncated JSON"),
        ("", "empty body"),
        (r#"{"query":"{ __typename }"} trailing"#, "trailing bytes"),
        (r#""{ __typename }""#, "a JSON string"),
        ("42", "a JSON number"),
        ("null", "JSON null"),
        ("true", "a JSON boolean"),
        (
            r#"[{"query":"{ __typename }"}, 7]"#,
            "a batch with a number",
        ),
        (r#"[["{ __typename }"]]"#, "a batch of arrays"),
    ];
    for accept in [
        None,
        Some("application/json"),
        Some("application/graphql-response+json"),
    ] {
        for (body, what) in bodies {
            let mut req = h
                .client
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json");
            if let Some(a) = accept {
                req = req.header("accept", a);
            }
            let res = req.body(body).send().await.expect("send");
            assert_eq!(
                res.status(),
                StatusCode::BAD_REQUEST,
                "{what}, accept {accept:?}"
            );
            let content_type = res.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .to_string();
            assert!(
                content_type.starts_with(accept.unwrap_or("application/json")),
                "{what}, accept {accept:?}: {content_type}"
            );
            let v: Value = res.json().await.expect("a JSON body");
            assert!(v.get("data").is_none(), "{what}: {v}");
            assert_eq!(
                v["errors"][0]["extensions"]["code"], "BAD_REQUEST",
                "{what}: {v}"
            );
            assert!(
                v["errors"][0]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{what}: {v}"
            );
        }
    }

    // Still a request: a batch of objects answers per item, 200.
    let (status, body) = h
        .post(
            Some(&token),
            &json!([{"query": "{ __typename }"}, {"qeury": "{ __typename }"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["data"]["__typename"], "Query", "{body}");
    assert_eq!(body[1]["errors"][0]["extensions"]["code"], "BAD_REQUEST");
}

#[tokio::test]
async fn graphiql_is_served_from_this_origin_or_says_it_is_not_built() {
    let dir = std::env::temp_dir().join(format!("ticketera-web-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("graphiql/assets")).expect("mkdir");
    std::fs::write(
        dir.join("graphiql/index.html"),
        "<!doctype html><title>GraphiQL</title>",
    )
    .expect("write");
    std::fs::write(dir.join("graphiql/assets/app-1.js"), "console.log(1)").expect("write");
    let web = dir.clone();
    let h = spawn_with(move |s, _| s.web_dir = web).await;
    let page = h
        .client
        .get(format!("{}/graphql", h.base))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/html"));
    assert!(page.text().await.expect("html").contains("GraphiQL"));
    let js = h
        .client
        .get(format!("{}/graphql/assets/app-1.js", h.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/javascript"));
    for bad in [
        "../graphiql/index.html",
        "%2e%2e/%2e%2e/etc/passwd",
        "nope.js",
    ] {
        let res = h
            .client
            .get(format!("{}/graphql/assets/{bad}", h.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    std::fs::remove_dir_all(&dir).ok();

    let h = spawn_with(|s, _| s.web_dir = "/nonexistent/web/dist".into()).await;
    let page = h
        .client
        .get(format!("{}/graphql", h.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = page.json().await.expect("problem");
    assert_eq!(
        body["detail"],
        "GraphiQL assets are not built: run scripts/run"
    );
}

#[tokio::test]
async fn schema_offers_the_contract_minimum() {
    let h = spawn().await;
    let sdl = h.api.sdl();
    for needle in [
        "ticket(id: ID, number: String, minPosition: String): Ticket",
        "tickets(first: Int, after: String, filter: TicketFilter, orderBy: TicketOrder, minPosition: String): TicketConnection!",
        // The contract's `ticketHistory(id: ID!)`, with optional paging.
        "ticketHistory(id: ID!, first: Int, after: String, reverse: Boolean): [TicketEvent!]!",
        "ticketAsOf(id: ID!, at: DateTime, version: Int): Ticket",
        "ticketEvents(afterPosition: String, filter: TicketFilter): TicketEvent!",
        "enum Status",
        "enum Severity",
        "enum Resolution",
        "enum Source",
    ] {
        assert!(sdl.contains(needle), "SDL lacks {needle}:\n{sdl}");
    }
}
