//! The SPA's typed clients are generated from `web/schema.graphql` and
//! `web/openapi.json`; these tests keep those files equal to what the server
//! serves, so the SPA can never be typed against an interface that drifted.

use std::path::Path;

fn committed(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("web").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn same(name: &str, printed: &str, command: &str) {
    assert!(
        committed(name).trim_end() == printed.trim_end(),
        "web/{name} differs from what the server prints: run `{command} > web/{name}` \
         and rebuild the SPA"
    );
}

#[test]
fn the_committed_graphql_schema_is_the_servers() {
    same(
        "schema.graphql",
        &query_api::schema::sdl(),
        "cargo run -q -- schema graphql",
    );
}

#[test]
fn the_committed_openapi_document_is_the_servers() {
    let printed = ticketera::openapi::document_json().expect("the document serializes");
    same("openapi.json", &printed, "cargo run -q -- schema openapi");
}
