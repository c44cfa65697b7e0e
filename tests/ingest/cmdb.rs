//! CMDB: admin routes, most specific network wins, critical destinations
//! escalate severity, CSV import all or nothing with bad rows by line.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, TestApp};
use crate::process::sample;

const ASSETS: &str = "/api/v1/admin/assets";

async fn create(app: &TestApp, body: Value) -> Value {
    let res = app.post_json(ASSETS, &app.admin_token, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{body}");
    res.json().await.expect("asset")
}

async fn ticket(app: &TestApp, id: &str) -> Value {
    app.request(
        Method::GET,
        &format!("/api/v1/tickets/{id}"),
        &app.admin_token,
    )
    .send()
    .await
    .expect("ticket")
    .json()
    .await
    .expect("json")
}

async fn webhook(app: &TestApp, body: String) -> Value {
    let res = app
        .request(
            Method::POST,
            "/api/v1/integrations/webhook",
            &app.admin_token,
        )
        .header("content-type", "application/xml")
        .body(body)
        .send()
        .await
        .expect("webhook");
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    res.json().await.expect("json")
}

#[tokio::test]
async fn most_specific_network_wins_and_critical_destinations_escalate() {
    let app = spawn_app().await;
    create(
        &app,
        json!({"network": "10.0.0.0/8", "criticality": "LOW", "owner": "corp"}),
    )
    .await;
    create(
        &app,
        json!({"network": "10.20.0.0/16", "criticality": "HIGH"}),
    )
    .await;
    create(&app, json!({"network": "10.20.1.0/24", "criticality": "CRITICAL", "hostname": "dc-net", "owner": "dc-team", "business_unit": "IT"})).await;
    let host = create(
        &app,
        json!({"network": "10.20.1.22", "criticality": "medium", "hostname": "fw-22"}),
    )
    .await;
    assert_eq!(host["network"], "10.20.1.22/32");
    assert_eq!(host["criticality"], "MEDIUM");

    // Refusals: duplicate network, host bits, bad criticality, roles.
    let res = app
        .post_json(
            ASSETS,
            &app.admin_token,
            &json!({"network": "10.20.1.0/24"}),
        )
        .await;
    problem(res, StatusCode::CONFLICT).await;
    let res = app
        .post_json(
            ASSETS,
            &app.admin_token,
            &json!({"network": "10.20.1.1/24"}),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let res = app
        .post_json(
            ASSETS,
            &app.admin_token,
            &json!({"network": "10.9.9.9", "criticality": "SEVERE"}),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    // One CMDB read policy: every role reads it (as over GraphQL); only
    // admins change it.
    let (_, analyst) = app.user("analyst").await;
    let res = app
        .request(Method::GET, ASSETS, &analyst)
        .send()
        .await
        .expect("list");
    assert_eq!(res.status(), StatusCode::OK);
    let (_, lead) = app.user("lead").await;
    let res = app
        .post_json(
            ASSETS,
            &lead,
            &json!({"network": "10.9.9.8", "criticality": "LOW"}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;
    let res = app
        .request(Method::GET, ASSETS, &app.admin_token)
        .send()
        .await
        .expect("list");
    assert_eq!(res.status(), StatusCode::OK);
    let all: Vec<Value> = res.json().await.expect("json");
    assert_eq!(all.len(), 4);

    // A manual ticket to a host of the critical /24: escalated one step.
    let res = app
        .post_json(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"title": "Log4j attempt", "severity": "HIGH", "source_ip": "203.0.113.45", "destination_ip": "10.20.1.15"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let t = ticket(&app, &id).await;
    assert_eq!(t["severity"], "CRITICAL", "{t}");
    assert_eq!(t["destination_asset"]["network"], "10.20.1.0/24");
    assert_eq!(t["destination_asset"]["owner"], "dc-team");

    // The webhook's incident targets 10.20.1.22: its /32 (MEDIUM) wins over
    // the critical /24, so no escalation.
    let xml = String::from_utf8(sample("fortisiem-incident.xml")).expect("utf-8");
    let a = webhook(&app, xml.clone()).await;
    let t = ticket(&app, a["ticket_id"].as_str().expect("id")).await;
    assert_eq!(t["severity"], "HIGH", "{t}");
    assert_eq!(t["destination_asset"]["hostname"], "fw-22");

    // Without the /32, the /24 decides: CRITICAL.
    let res = app
        .request(
            Method::DELETE,
            &format!("{ASSETS}/{}", host["id"].as_str().expect("id")),
            &app.admin_token,
        )
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let b = webhook(
        &app,
        xml.replace("incidentId=\"40211\"", "incidentId=\"40300\""),
    )
    .await;
    let t = ticket(&app, b["ticket_id"].as_str().expect("id")).await;
    assert_eq!(t["severity"], "CRITICAL", "{t}");
    assert_eq!(t["destination_asset"]["hostname"], "dc-net");

    // Update: the /24 is no longer critical.
    let net24 = all
        .iter()
        .find(|a| a["network"] == "10.20.1.0/24")
        .expect("asset");
    let res = app
        .request(
            Method::PATCH,
            &format!("{ASSETS}/{}", net24["id"].as_str().expect("id")),
            &app.admin_token,
        )
        .json(&json!({"criticality": "LOW", "owner": ""}))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), StatusCode::OK);
    let updated: Value = res.json().await.expect("json");
    assert_eq!(
        (updated["criticality"].as_str(), updated["owner"].as_str()),
        (Some("LOW"), None)
    );
}

async fn import(app: &TestApp, csv: &str) -> reqwest::Response {
    app.request(Method::POST, &format!("{ASSETS}/import"), &app.admin_token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .expect("import")
}

#[tokio::test]
async fn csv_import_is_all_or_nothing_with_bad_rows_by_line() {
    let app = spawn_app().await;
    let bad = "network,hostname,owner,business_unit,criticality\n\
               10.0.0.0/8,,corp,IT,LOW\n\
               10.20.1.300,web,,,HIGH\n\
               192.0.2.0/24,dmz,,,CRITICAL\n\
               198.51.100.7,x,,,SEVERE\n\
               10.0.0.0/8,again,,,LOW\n";
    let res = import(&app, bad).await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["code"], "invalid_csv");
    let lines: Vec<i64> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["line"].as_i64().expect("line"))
        .collect();
    assert_eq!(lines, vec![3, 5, 6], "{p}");
    assert!(p["errors"][1]["reason"]
        .as_str()
        .expect("reason")
        .contains("SEVERE"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM assets")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing of a bad file is imported");

    let res = import(
        &app,
        "criticality,network,hostname\nLOW,10.0.0.0/8,\nCRITICAL,10.20.1.0/24,dc\n",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        (body["created"].as_i64(), body["updated"].as_i64()),
        (Some(2), Some(0))
    );
    // Upsert by network.
    let res = import(
        &app,
        "network,criticality\n10.20.1.0/24,HIGH\n172.16.0.0/12,LOW\n",
    )
    .await;
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        (body["created"].as_i64(), body["updated"].as_i64()),
        (Some(1), Some(1))
    );
    let crit: String =
        sqlx::query_scalar("SELECT criticality FROM assets WHERE network = '10.20.1.0/24'")
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(crit, "HIGH");

    let res = app
        .request(Method::POST, &format!("{ASSETS}/import"), &app.admin_token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("import");
    problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

/// A CSV of `rows` distinct hosts (10.a.b.c/32), the header on line 1.
fn large_csv(rows: u32) -> String {
    let mut csv = String::from("network,hostname,owner,business_unit,criticality\n");
    for i in 0..rows {
        let (a, b, c) = ((i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
        csv.push_str(&format!(
            "10.{a}.{b}.{c},host-{i},team-{},IT,HIGH\n",
            i % 50
        ));
    }
    csv
}

#[tokio::test]
async fn csv_import_of_100000_rows_is_linear_and_reports_a_bad_line_by_number() {
    let app = spawn_app().await;
    const ROWS: u32 = 100_000;
    let bound = std::time::Duration::from_secs(120);

    // One bad row deep in the file: its line (header = line 1), nothing imported.
    let bad_line = 87_654usize;
    let mut lines: Vec<String> = large_csv(ROWS).lines().map(str::to_string).collect();
    lines[bad_line - 1] = "10.300.0.1,broken,,,LOW".into();
    let bad = lines.join("\n") + "\n";
    let res = tokio::time::timeout(bound, import(&app, &bad))
        .await
        .expect("the bad file is answered in time");
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(1), "{p}");
    assert_eq!(p["errors"][0]["line"], bad_line as i64, "{p}");
    assert!(p["errors"][0]["reason"]
        .as_str()
        .expect("reason")
        .contains("10.300.0.1"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM assets")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing of a bad file is imported");

    // The whole good file: every row, in one go.
    let res = tokio::time::timeout(bound, import(&app, &large_csv(ROWS)))
        .await
        .expect("100,000 rows import in time");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["created"].as_i64(), Some(i64::from(ROWS)), "{body}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM assets")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(count, i64::from(ROWS));
}
