//! The CMDB on the ticket, end to end: an alert over syslog to a critical
//! CMDB asset opens a ticket that GraphQL shows with `asset` (the
//! destination's) and `sourceAsset`, in `ticket`, after `ticketera
//! projector rebuild`, and in `ticketAsOf`; a later CMDB edit changes
//! neither (the ticket keeps what it opened with).

use std::process::Command;

use domain::Role;
use serde_json::{json, Value};

use crate::helpers::fresh_database;
use crate::process::*;

const ASSET_FIELDS: &str = "{ owner hostname criticality network businessUnit }";

async fn create_asset(app: &Proc, admin: &str, body: Value) -> Value {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/admin/assets"))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .expect("create asset");
    assert_eq!(res.status(), 201, "{body}");
    res.json().await.expect("asset")
}

async fn ticket_assets(app: &Proc, token: &str, id: &str) -> Value {
    let query = format!(
        "{{ ticket(id: \"{id}\") {{ severity asset {ASSET_FIELDS} sourceAsset {ASSET_FIELDS} }}
           ticketAsOf(id: \"{id}\", version: 1) {{ asset {ASSET_FIELDS} sourceAsset {ASSET_FIELDS} }} }}"
    );
    let body = graphql(app, token, &query).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn an_alert_to_a_critical_asset_shows_both_assets_live_rebuilt_and_as_of() {
    let (db_url, pool) = fresh_database().await;
    let app = spawn("serve", &db_url, &[]);
    let admin = token(&pool, Role::Admin).await;
    let analyst = token(&pool, Role::Analyst).await;
    let dc = create_asset(
        &app,
        &admin,
        json!({"network": "10.20.1.0/24", "criticality": "CRITICAL", "hostname": "dc-net",
               "owner": "Directory team", "business_unit": "IT"}),
    )
    .await;
    create_asset(
        &app,
        &admin,
        json!({"network": "10.20.5.77", "criticality": "LOW", "hostname": "WS-0231",
               "owner": "jdoe"}),
    )
    .await;

    // cef.log:1 is CRITICAL already; fortigate.log:2 goes from
    // 10.20.5.77 (known) to 198.51.100.20 (unknown); the Snare 4625 has
    // no destination. The Log4j alert of fortigate.log:1 targets the
    // critical /24.
    let lines = vec![
        sample_lines("fortigate.log").remove(0),
        sample_lines("fortigate.log").remove(1),
    ];
    app.send_udp(&lines).await;
    let found = eventually(30, "both tickets", || async {
        let t = tickets(&app, &analyst).await;
        (t.len() == 2).then_some(t)
    })
    .await;
    let id_of = |rule: &str| {
        found
            .iter()
            .find(|t| t["ruleName"] == rule)
            .and_then(|t| t["id"].as_str())
            .unwrap_or_else(|| panic!("no ticket for {rule}: {found:?}"))
            .to_string()
    };
    let log4j = id_of("Apache.Log4j.Error.Log.Remote.Code.Execution");
    let eicar = id_of("EICAR_TEST_FILE");

    let expect_dc = json!({"owner": "Directory team", "hostname": "dc-net",
        "criticality": "CRITICAL", "network": "10.20.1.0/24", "businessUnit": "IT"});
    let expect_ws = json!({"owner": "jdoe", "hostname": "WS-0231", "criticality": "LOW",
        "network": "10.20.5.77/32", "businessUnit": null});
    let check = |data: &Value, what: &str| {
        let t = &data["ticket"];
        let then = &data["ticketAsOf"];
        assert_eq!(t["asset"], expect_dc, "{what}: {data}");
        assert_eq!(t["sourceAsset"], Value::Null, "{what}: {data}");
        assert_eq!(then["asset"], expect_dc, "{what} (as of): {data}");
        assert_eq!(then["sourceAsset"], Value::Null, "{what} (as of): {data}");
    };
    let check_eicar = |data: &Value, what: &str| {
        assert_eq!(data["ticket"]["asset"], Value::Null, "{what}: {data}");
        assert_eq!(data["ticket"]["sourceAsset"], expect_ws, "{what}: {data}");
        assert_eq!(
            data["ticketAsOf"]["sourceAsset"], expect_ws,
            "{what}: {data}"
        );
    };
    let live = ticket_assets(&app, &analyst, &log4j).await;
    assert_eq!(live["ticket"]["severity"], "CRITICAL");
    check(&live, "live");
    check_eicar(&ticket_assets(&app, &analyst, &eicar).await, "live");

    // The CMDB changes later: the tickets keep what they opened with.
    let res = reqwest::Client::new()
        .patch(app.url(&format!(
            "/api/v1/admin/assets/{}",
            dc["id"].as_str().expect("id")
        )))
        .bearer_auth(&admin)
        .json(&json!({"criticality": "LOW", "owner": "Someone else"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), 200);

    // A rebuild from the first event gives the same.
    let out = Command::new(env!("CARGO_BIN_EXE_ticketera"))
        .args(["projector", "rebuild", "tickets"])
        .env("DATABASE_URL", &db_url)
        .output()
        .expect("projector rebuild");
    assert!(
        out.status.success(),
        "rebuild: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check(&ticket_assets(&app, &analyst, &log4j).await, "rebuilt");
    check_eicar(&ticket_assets(&app, &analyst, &eicar).await, "rebuilt");
}
