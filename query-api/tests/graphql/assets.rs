//! CMDB assets over GraphQL: `assets` (by network, paginated, searched) and
//! `assetFor` (the most specific network holding an address); bad input and
//! callers without a token are refused.

use domain::{ActorKind, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{spawn, Harness};

const PAGE: &str = "query($first: Int, $after: String, $search: String) {
  assets(first: $first, after: $after, search: $search) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id network hostname owner businessUnit criticality createdAt updatedAt } }
  }
}";

const ASSET_FOR: &str = "query($ip: String!) {
  assetFor(ip: $ip) { id network hostname owner businessUnit criticality }
}";

/// (network, hostname, owner, business unit, criticality).
type Row = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

/// Inserted out of order; `BY_NETWORK` is the order Postgres sorts them in.
const ASSETS: &[Row] = &[
    (
        "10.20.1.15/32",
        Some("web-01"),
        Some("Web Team"),
        Some("E-commerce"),
        "CRITICAL",
    ),
    ("192.168.0.0/16", None, Some("IT"), Some("Office"), "LOW"),
    (
        "10.20.0.0/16",
        Some("dc-core"),
        Some("Network Ops"),
        Some("Finance"),
        "HIGH",
    ),
    ("2001:db8::/32", Some("v6-lab"), None, None, "MEDIUM"),
    ("10.0.0.0/8", None, Some("IT"), Some("Corporate"), "LOW"),
    (
        "10.20.1.0/24",
        Some("web-farm"),
        Some("Web Team"),
        Some("E-commerce"),
        "HIGH",
    ),
];

const BY_NETWORK: &[&str] = &[
    "10.0.0.0/8",
    "10.20.0.0/16",
    "10.20.1.0/24",
    "10.20.1.15/32",
    "192.168.0.0/16",
    "2001:db8::/32",
];

async fn seed(h: &Harness) {
    for (network, hostname, owner, unit, criticality) in ASSETS {
        sqlx::query(
            "INSERT INTO assets (network, hostname, owner, business_unit, criticality)
             VALUES ($1::cidr, $2, $3, $4, $5)",
        )
        .bind(network)
        .bind(hostname)
        .bind(owner)
        .bind(unit)
        .bind(criticality)
        .execute(&h.pool)
        .await
        .expect("insert asset");
    }
}

fn networks(data: &Value) -> Vec<String> {
    data["assets"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            e["node"]["network"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn assets_page_by_network_with_opaque_cursors() {
    let h = spawn().await;
    let token = h.user("auditor", Role::Auditor).await;
    seed(&h).await;

    let first = h.data(&token, PAGE, json!({"first": 4})).await;
    assert_eq!(networks(&first), BY_NETWORK[..4], "{first}");
    assert_eq!(first["assets"]["totalCount"], 6);
    let info = &first["assets"]["pageInfo"];
    assert_eq!(info["hasNextPage"], true);
    assert_eq!(info["hasPreviousPage"], false);
    let node = &first["assets"]["edges"][3]["node"];
    assert_eq!(node["hostname"], "web-01");
    assert_eq!(node["owner"], "Web Team");
    assert_eq!(node["businessUnit"], "E-commerce");
    assert_eq!(node["criticality"], "CRITICAL");
    assert!(node["id"].as_str().is_some_and(|s| s.len() == 36), "{node}");
    assert!(node["createdAt"].is_string() && node["updatedAt"].is_string());
    assert_eq!(
        info["endCursor"], first["assets"]["edges"][3]["cursor"],
        "{info}"
    );

    let rest = h
        .data(
            &token,
            PAGE,
            json!({"first": 4, "after": info["endCursor"].clone()}),
        )
        .await;
    assert_eq!(networks(&rest), BY_NETWORK[4..], "{rest}");
    assert_eq!(rest["assets"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(rest["assets"]["pageInfo"]["hasPreviousPage"], true);

    // The default page holds them all; an empty page is fine.
    let all = h.data(&token, PAGE, json!({})).await;
    assert_eq!(networks(&all), BY_NETWORK);
    let none = h.data(&token, PAGE, json!({"first": 0})).await;
    assert_eq!(networks(&none), Vec::<String>::new());
    assert_eq!(none["assets"]["pageInfo"]["hasNextPage"], true);

    // Beyond the cap, negative, or a forged cursor: refused, never internal.
    for first in [101, -1] {
        let body = h.gql(&token, PAGE, json!({"first": first})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
    for cursor in [
        "nope",
        "a1_!!!",
        // base64url of "10.0.0.1/8": host bits set, Postgres would refuse the cast.
        "a1_MTAuMC4wLjEvOA",
        // base64url of "not-a-network".
        "a1_bm90LWEtbmV0d29yaw",
    ] {
        let body = h.gql(&token, PAGE, json!({"after": cursor})).await;
        assert_eq!(error_code(&body), "BAD_CURSOR", "{cursor}: {body}");
    }
}

/// Addresses of another digit count sort as addresses, not as text:
/// 10.81.9.2 comes before 10.81.9.10 and no page repeats or skips one.
#[tokio::test]
async fn asset_pages_follow_address_order_across_digit_counts() {
    let h = spawn().await;
    let token = h.user("auditor", Role::Auditor).await;
    for i in 1..=30 {
        sqlx::query("INSERT INTO assets (network, criticality) VALUES ($1::cidr, 'LOW')")
            .bind(format!("10.81.9.{i}"))
            .execute(&h.pool)
            .await
            .expect("insert asset");
    }
    let first = h.data(&token, PAGE, json!({"first": 25})).await;
    let after = first["assets"]["pageInfo"]["endCursor"].clone();
    let second = h
        .data(&token, PAGE, json!({"first": 25, "after": after}))
        .await;
    let mut seen = networks(&first);
    seen.extend(networks(&second));
    let expected: Vec<String> = (1..=30).map(|i| format!("10.81.9.{i}/32")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn assets_search_is_a_case_insensitive_part_of_any_field() {
    let h = spawn().await;
    let token = h.user("analyst", Role::Analyst).await;
    seed(&h).await;

    for (search, expected) in [
        // hostname, any case
        ("WEB", &["10.20.1.0/24", "10.20.1.15/32"][..]),
        // owner
        ("network ops", &["10.20.0.0/16"][..]),
        // business unit
        ("finance", &["10.20.0.0/16"][..]),
        // the network's text
        ("10.20.1", &["10.20.1.0/24", "10.20.1.15/32"][..]),
        ("db8", &["2001:db8::/32"][..]),
        // blank is no search at all
        ("  ", BY_NETWORK),
        // no LIKE wildcards
        ("%", &[][..]),
        ("_", &[][..]),
    ] {
        let data = h.data(&token, PAGE, json!({"search": search})).await;
        assert_eq!(networks(&data), expected, "search {search:?}: {data}");
        assert_eq!(
            data["assets"]["totalCount"],
            expected.len(),
            "search {search:?}"
        );
    }

    // Pages of a search stay within it.
    let page = h
        .data(&token, PAGE, json!({"search": "it", "first": 1}))
        .await;
    assert_eq!(networks(&page), ["10.0.0.0/8"]);
    assert_eq!(page["assets"]["totalCount"], 2);
    let next = h
        .data(
            &token,
            PAGE,
            json!({"search": "it", "first": 1, "after": page["assets"]["pageInfo"]["endCursor"].clone()}),
        )
        .await;
    assert_eq!(networks(&next), ["192.168.0.0/16"]);
    assert_eq!(next["assets"]["pageInfo"]["hasNextPage"], false);

    for bad in ["a\u{0}b".to_string(), "x".repeat(501)] {
        let body = h.gql(&token, PAGE, json!({"search": bad})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
}

#[tokio::test]
async fn asset_for_picks_the_most_specific_network() {
    let h = spawn().await;
    let token = h.user("lead", Role::Lead).await;
    seed(&h).await;

    for (ip, expected) in [
        ("10.20.1.15", Some("10.20.1.15/32")),
        ("10.20.1.99", Some("10.20.1.0/24")),
        ("10.20.200.1", Some("10.20.0.0/16")),
        ("10.99.0.1", Some("10.0.0.0/8")),
        (" 192.168.3.4 ", Some("192.168.0.0/16")),
        ("2001:db8::1", Some("2001:db8::/32")),
        ("8.8.8.8", None),
        ("2001:db9::1", None),
    ] {
        let data = h.data(&token, ASSET_FOR, json!({"ip": ip})).await;
        assert_eq!(
            data["assetFor"]["network"].as_str(),
            expected,
            "{ip}: {data}"
        );
    }
    let data = h.data(&token, ASSET_FOR, json!({"ip": "10.20.1.15"})).await;
    assert_eq!(
        data["assetFor"],
        json!({
            "id": data["assetFor"]["id"].clone(),
            "network": "10.20.1.15/32",
            "hostname": "web-01",
            "owner": "Web Team",
            "businessUnit": "E-commerce",
            "criticality": "CRITICAL",
        })
    );

    // Not an address: a clear bad-input error, the field null, 200.
    for bad in [
        "",
        "not-an-ip",
        "10.20.1",
        "10.20.1.0/24",
        "999.1.1.1",
        "a\u{0}",
    ] {
        let (status, body) = h
            .post(
                Some(&token),
                &json!({"query": ASSET_FOR, "variables": {"ip": bad}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{bad:?}: {body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad:?}: {body}");
        assert_eq!(body["data"]["assetFor"], Value::Null, "{bad:?}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("not an IP address"), "{message}");
    }
}

#[tokio::test]
async fn assets_need_a_token_and_every_role_reads_them() {
    let h = spawn().await;
    seed(&h).await;
    let both = "{ assets { totalCount } assetFor(ip: \"10.20.1.15\") { hostname } }";

    // Over HTTP: no token or a bad one is 401 before anything runs.
    for token in [None, Some("not-a-jwt")] {
        let (status, body) = h.post(token, &json!({"query": both})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}: {body}");
        assert_eq!(body["code"], "unauthenticated", "{body}");
    }
    // The schema itself: without a viewer, the guard refuses both fields.
    let resp = h.api.schema().execute(both).await;
    let codes: Vec<_> = resp
        .errors
        .iter()
        .filter_map(|e| match e.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        codes,
        ["UNAUTHENTICATED", "UNAUTHENTICATED"],
        "{:?}",
        resp.errors
    );

    for role in [Role::Admin, Role::Lead, Role::Analyst, Role::Auditor] {
        let token = h.user(&format!("u_{role}"), role).await;
        let data = h.data(&token, both, json!({})).await;
        assert_eq!(data["assets"]["totalCount"], 6, "{role}");
        assert_eq!(data["assetFor"]["hostname"], "web-01", "{role}");
    }
    let (client_id, _) = h
        .identity
        .create_client("siem", Role::Integration, "test", None)
        .await
        .expect("client");
    let (token, _) = h
        .keys
        .issue(&client_id, ActorKind::Client, &[Role::Integration])
        .expect("issue");
    let data = h.data(&token, both, json!({})).await;
    assert_eq!(data["assets"]["totalCount"], 6);
}
