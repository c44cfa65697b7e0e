//! The OpenAPI document is the REST API: every operation it lists is served
//! (never the router's fallback 404 or a 405), with the schemas of its
//! bodies; and REST routes are registered only together with their
//! documentation (utoipa-axum's `routes!`), never with a bare `.route`.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::spawn_app;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[tokio::test]
async fn every_documented_operation_is_served_with_its_schemas() {
    let app = spawn_app().await;
    let served: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let printed: Value =
        serde_json::from_str(&ticketera::openapi::document_json().unwrap()).unwrap();
    assert_eq!(served, printed, "the served document is the printed one");

    let paths = served["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{username}", "nobody")
            .replace("{client_id}", "cli_nobody")
            .replace("{tag}", "x");
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            operations += 1;
            let res = app
                .client
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    app.url(&concrete),
                )
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let fallback = status == StatusCode::NOT_FOUND
                && body["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("resource"));
            assert!(
                !fallback && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not served: {status} {body}"
            );
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{method} {path} has responses");
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (media, c) in content {
                    assert!(
                        c.get("schema").is_some(),
                        "{method} {path}: {media} request has a schema"
                    );
                }
            }
            for (code, r) in responses {
                if !code.starts_with('2') {
                    continue;
                }
                if let Some(content) = r["content"].as_object() {
                    for (media, c) in content {
                        assert!(
                            c.get("schema").is_some(),
                            "{method} {path} {code}: {media} has a schema"
                        );
                    }
                }
            }
        }
    }
    // The command API's, the saved views', the webhook's, the CMDB's and the dead letters'.
    for path in [
        "/api/v1/auth/token",
        "/api/v1/tickets/{id}/assign",
        "/api/v1/admin/users/{username}",
        "/api/v1/me/views",
        "/api/v1/integrations/webhook",
        "/api/v1/admin/assets/import",
        "/api/v1/admin/assets/{id}",
        "/api/v1/admin/dead-letters",
        "/api/v1/admin/dead-letters/{id}",
        "/api/v1/admin/clients/{client_id}/secret",
        "/api/v1/tickets/{id}/history",
    ] {
        assert!(paths.contains_key(path), "{path} documented");
    }
    assert!(operations >= 36, "{operations} operations");
}

#[test]
fn rest_routes_are_registered_only_with_their_documentation() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("command-api/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        // The document's own route and Swagger UI's are not REST operations.
        .filter(|p| !p.ends_with("openapi.rs"))
        .collect();
    files.push(root.join("ingest/src/http.rs"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains(".route(\""),
            "{} registers a route without its OpenAPI operation: use routes!(handler)",
            file.display()
        );
    }
}
