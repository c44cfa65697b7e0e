//! The OpenAPI 3 document and Swagger UI, both served from this origin
//! (Swagger UI's assets are embedded in the binary: no CDN).

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{admin, tickets, token, views};

#[derive(OpenApi)]
#[openapi(
    info(title = "Ticketera SOC command API", description = "Commands on incident tickets, OAuth2 tokens and administration. Reads are GraphQL at /graphql."),
    paths(
        token::token, token::logout, token::jwks, token::me,
        tickets::open_ticket, tickets::get_ticket, tickets::assign, tickets::unassign, tickets::start,
        tickets::hold, tickets::resume, tickets::resolve, tickets::close, tickets::reopen,
        tickets::change_severity, tickets::comment, tickets::tag, tickets::untag,
        tickets::add_observable, tickets::mark_duplicate,
        admin::create_user, admin::list_users, admin::get_user, admin::update_user,
        admin::reset_password, admin::user_audit, admin::create_client,
        views::list_views, views::create_view, views::delete_view,
    ),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "tickets"), (name = "admin"), (name = "views")),
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

/// The document as `/api/openapi.json` serves it, pretty-printed.
pub fn document_json() -> Result<String, serde_json::Error> {
    ApiDoc::openapi().to_pretty_json()
}

pub fn routes() -> Router {
    let doc = ApiDoc::openapi();
    let docs = swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: "/api/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/api/openapi.json"),
        title: Some("Ticketera SOC API"),
    });
    Router::new()
        .route("/api/openapi.json", get(move || async move { Json(doc) }))
        .merge(docs)
}
