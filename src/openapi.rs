//! The whole REST API's OpenAPI document: the command API's and ingest's
//! routes, each documented where it is registered (utoipa-axum), so the
//! document is made from the same registrations the routers serve.

use utoipa::openapi::OpenApi;

pub fn document() -> OpenApi {
    let mut doc = command_api::openapi::base();
    doc.merge(command_api::api().into_openapi());
    doc.merge(ingest::http::api().into_openapi());
    doc
}

/// The document as `/api/openapi.json` serves it, pretty-printed.
pub fn document_json() -> Result<String, serde_json::Error> {
    document().to_pretty_json()
}
