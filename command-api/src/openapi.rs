//! The OpenAPI 3 document and Swagger UI, both served from this origin
//! (Swagger UI's assets are embedded in the binary: no CDN).

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Ticketera SOC REST API", description = "Commands on incident tickets, OAuth2 tokens, administration, saved views, the SIEM webhook, the CMDB and dead letters. Reads are GraphQL at /graphql."),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "tickets"), (name = "admin"), (name = "views"), (name = "integrations"), (name = "cmdb"), (name = "dead-letters")),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document's frame: info, tags, the bearer scheme. Paths come from the
/// routers that serve them (`crate::api()`, `ingest::http::api()`), merged
/// by the binary.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `/api/openapi.json` (the whole REST API's `doc`) and Swagger UI.
pub fn routes(doc: utoipa::openapi::OpenApi) -> Router {
    let docs = swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: "/api/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/api/openapi.json"),
        title: Some("Ticketera SOC API"),
    });
    Router::new()
        .route("/api/openapi.json", get(move || async move { Json(doc) }))
        .merge(docs)
}
