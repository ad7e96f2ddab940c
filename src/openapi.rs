//! The OpenAPI document: collected from the handlers as they are
//! registered, plus the document-level information below.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;

/// Document-level information; paths and schemas come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "arkiv",
        description = "The publications archive of New Social Initiative: reports, policy papers, \
discussion conclusions and media-monitoring reports in English, Albanian and Serbian (Latin and \
Cyrillic), with their projects, funders, partners, events and fields of work.\n\n\
Every read endpoint negotiates the language: `?lang=` over `Accept-Language` over `en`, falling \
back to the other Serbian script, then English, then any variant. Errors are RFC 9457 \
`application/problem+json` with a stable `code` (see `GET /v1/errors`). Every GET answers with \
an `ETag` and honours `If-None-Match`; answers are compressed (gzip, brotli) on request.\n\n\
Each client has a limit of requests a minute (by address without a key, by key with one): every \
answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`, and past the \
limit the answer is `429 rate_limited` with `Retry-After`.",
        license(name = "AGPL-3.0-or-later")
    ),
    tags(
        (name = "publications", description = "Reports, policy papers, conclusions and media monitoring"),
        (name = "search", description = "Full-text search in every language and script"),
        (name = "projects", description = "Projects with their funders and partners"),
        (name = "organisations", description = "Funders, partners and implementers"),
        (name = "fields", description = "Fields of work"),
        (name = "events", description = "Discussions, summits, focus groups, conferences"),
        (name = "service", description = "Health and the error table"),
        (name = "partners", description = "For mirrors and harvesters: OAI-PMH, the change feed, feeds, citations, bulk export"),
        (name = "editing", description = "Create, change, publish, withdraw and delete publications (editor and admin keys)"),
        (name = "admin", description = "API keys and the search index (admin keys only)"),
    ),
    components(schemas(Problem)),
    modifiers(&BearerKeys)
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme: an arkiv API key sent as
/// `Authorization: Bearer <key>`.
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("arkiv API key")
                    .description(Some(
                        "An API key made with `arkiv keys create` or `POST /v1/admin/keys`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Builds the OpenAPI document exactly as the server serves it.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, api) = crate::app::utoipa_app().split_for_parts();
    api
}

/// The document as `arkiv openapi` prints it and `openapi/openapi.json` holds it.
pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
