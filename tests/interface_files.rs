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

/// The GraphQL documents of the SPA (`graphql(`…`)` in its documents.ts).
fn spa_documents() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/app/src");
    let mut files = vec![];
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("web/app/src") {
            let path = entry.expect("entry").path();
            if path.is_dir() && !path.ends_with("gql") {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "documents.ts") {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty(), "no documents.ts under web/app/src");
    let mut docs = vec![];
    for file in files {
        let text = std::fs::read_to_string(&file).expect("documents.ts");
        for part in text.split("graphql(`").skip(1) {
            let doc = part.split("`)").next().expect("a closing backtick");
            docs.push(doc.trim().to_string());
        }
    }
    docs
}

/// The name after `keyword` in a document (`query Name`, `fragment Name`).
fn name_after<'a>(doc: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = doc.strip_prefix(keyword)?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The fragments `doc` spreads, transitively.
fn with_fragments(doc: &str, fragments: &[(String, String)]) -> String {
    let mut text = doc.to_string();
    let mut added: Vec<&str> = vec![];
    loop {
        let missing: Vec<&(String, String)> = fragments
            .iter()
            .filter(|(name, _)| {
                !added.contains(&name.as_str())
                    && text.split("...").skip(1).any(|s| {
                        s.trim_start().starts_with(name.as_str())
                            && s.trim_start()[name.len()..]
                                .starts_with(|c: char| !c.is_alphanumeric())
                    })
            })
            .collect();
        if missing.is_empty() {
            return text;
        }
        for (name, body) in missing {
            added.push(name);
            text.push('\n');
            text.push_str(body);
        }
    }
}

/// Values for an operation's variables, as large as the SPA sends: its
/// largest page is 50 (the queue's and the history's `PAGE_SIZE`).
fn variables_of(doc: &str) -> serde_json::Value {
    let mut vars = serde_json::Map::new();
    let Some(open) = doc.find('(').filter(|i| doc[..*i].find('{').is_none()) else {
        return vars.into();
    };
    let close = doc[open..].find(')').expect("variables close") + open;
    for def in doc[open + 1..close].split(',') {
        let Some((name, ty)) = def.split_once(':') else {
            continue;
        };
        let name = name.trim().trim_start_matches('$').to_string();
        let ty = ty.trim().trim_end_matches('!');
        let value = match (ty, name.as_str()) {
            ("Int", "first") => serde_json::json!(50),
            ("Int", _) => serde_json::json!(30),
            ("Boolean", _) => serde_json::json!(false),
            ("ID" | "String", _) => serde_json::json!("SOC-1"),
            ("DateTime", _) => serde_json::json!("2026-01-01T00:00:00Z"),
            _ => serde_json::Value::Null,
        };
        vars.insert(name, value);
    }
    vars.into()
}

#[tokio::test]
async fn every_spa_operation_fits_the_graphql_cost_budget() {
    let budget = platform::config::Settings::for_database("postgres://unused").graphql_max_cost;
    let docs = spa_documents();
    let fragments: Vec<(String, String)> = docs
        .iter()
        .filter_map(|d| name_after(d, "fragment").map(|n| (n.to_string(), d.clone())))
        .collect();
    let mut measured = 0;
    for doc in docs.iter().filter(|d| !d.starts_with("fragment")) {
        let full = with_fragments(doc, &fragments);
        let cost = query_api::cost::of_document(&full, variables_of(doc))
            .await
            .unwrap_or_else(|| panic!("the SPA's operation does not validate:\n{full}"));
        assert!(
            cost <= budget,
            "the SPA's operation costs {cost}, over the budget of {budget}:\n{doc}"
        );
        measured += 1;
    }
    assert!(measured >= 10, "only {measured} operations found");
}
