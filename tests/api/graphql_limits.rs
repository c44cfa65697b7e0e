//! GraphQL cost and rate: a list costs the rows it may read (`first`), one
//! budget per HTTP request (a batch shares it), and a token bucket per
//! principal (429 with `Retry-After`).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, spawn_app_with, TestApp};

/// Four fields a row: a page of `first` events costs 10 + 4 × first.
const HISTORY: &str = "query($id: ID!, $first: Int) {
    ticketHistory(id: $id, first: $first) { sequence type actor summary } }";

fn page(id: &str, first: i64) -> Value {
    json!({"query": HISTORY, "variables": {"id": id, "first": first}})
}

async fn graphql(app: &TestApp, token: &str, body: &Value) -> (StatusCode, Value) {
    let res = app.post_json("/graphql", token, body).await;
    let status = res.status();
    (status, res.json().await.expect("json"))
}

fn cost_error(body: &Value) -> &Value {
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "COST_LIMIT_EXCEEDED", "{body}");
    assert!(body.get("data").is_none(), "nothing ran: {body}");
    error
}

#[tokio::test]
async fn graphql_cost_follows_first_and_a_batch_shares_one_budget() {
    let app = spawn_app().await;
    let ticket = app.open_ticket(&app.admin_token, "cost").await;
    let id = ticket["id"].as_str().expect("id");
    let token = &app.admin_token;

    // Within the budget (3000): 10 + 4 × 700.
    let (status, body) = graphql(&app, token, &page(id, 700)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["data"]["ticketHistory"].is_array(), "{body}");

    // The same fields over more rows: refused before running, with the cost.
    let (status, body) = graphql(&app, token, &page(id, 800)).await;
    assert_eq!(status, StatusCode::OK, "application/json answers 200");
    let error = cost_error(&body);
    assert_eq!(error["extensions"]["cost"], 10 + 4 * 800, "{body}");
    assert_eq!(error["extensions"]["budget"], 3000, "{body}");
    assert!(error["message"]
        .as_str()
        .expect("message")
        .contains("too complex"));
    // In the GraphQL response media type: 400.
    let res = app
        .request(Method::POST, "/graphql", token)
        .header("accept", "application/graphql-response+json")
        .json(&page(id, 800))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // A batch of two pages of 400 (1610 each, 3220 together): each alone
    // fits, together they do not; none runs.
    let (status, body) = graphql(&app, token, &json!([page(id, 400), page(id, 400)])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let error = cost_error(&body);
    assert_eq!(error["extensions"]["cost"], 2 * (10 + 4 * 400), "{body}");
    // Two pages of 300 (2420 together) fit: both answered.
    let (status, body) = graphql(&app, token, &json!([page(id, 300), page(id, 300)])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answers = body.as_array().expect("one answer per operation");
    assert_eq!(answers.len(), 2);
    assert!(
        answers
            .iter()
            .all(|a| a["data"]["ticketHistory"].is_array()),
        "{body}"
    );

    // Lists without `first` cost their documented default page: the
    // ticket's history (100 rows) and comments (500 rows).
    let (_, body) = graphql(
        &app,
        token,
        &json!({"query": "query($id: ID!) { ticket(id: $id) { comments { id author body at at2: at body2: body } } }",
                "variables": {"id": id}}),
    )
    .await;
    assert_eq!(
        cost_error(&body)["extensions"]["cost"],
        5 + 5 + 500 * 6,
        "{body}"
    );
    let (_, body) = graphql(
        &app,
        token,
        &json!({"query": "query($id: ID!) { ticketAsOf(id: $id) { comments(first: 10) { body } history { sequence } } }",
                "variables": {"id": id}}),
    )
    .await;
    assert_eq!(body["data"]["ticketAsOf"]["comments"], json!([]), "{body}");
    assert_eq!(
        body["data"]["ticketAsOf"]["history"][0]["sequence"], 1,
        "{body}"
    );
}

#[tokio::test]
async fn graphql_rate_limit_is_per_principal_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.graphql_rate_per_minute = 1;
        s.graphql_rate_burst = 3;
    })
    .await;
    let (_, analyst) = app.user("analyst").await;
    let me = json!({"query": "{ me { name } }"});
    for i in 0..3 {
        let (status, body) = graphql(&app, &analyst, &me).await;
        assert_eq!(status, StatusCode::OK, "request {i}: {body}");
    }
    let res = app.post_json("/graphql", &analyst, &me).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let p = problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(p["code"], "rate_limited");

    // Another principal has its own bucket.
    let (status, body) = graphql(&app, &app.admin_token, &me).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["me"]["name"], "admin");
    // A batch takes a token per operation: two of the admin's last two.
    let (status, _) = graphql(&app, &app.admin_token, &json!([me, me])).await;
    assert_eq!(status, StatusCode::OK);
    let res = app.post_json("/graphql", &app.admin_token, &me).await;
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
}
