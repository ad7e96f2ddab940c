//! HTTP: one function registers every endpoint (which also documents it in
//! the OpenAPI spec), one file per resource.

pub mod admin;
pub mod body;
pub mod changes;
pub mod citations;
pub mod editing;
pub mod events;
pub mod export;
pub mod feeds;
pub mod fields;
pub mod file_editing;
pub mod files;
pub mod health;
pub mod negotiate;
pub mod oai;
pub mod organisations;
pub mod params;
pub mod projects;
pub mod publications;
pub mod render;
pub mod respond;
pub mod search;
pub mod views;
pub mod vocabulary_editing;
pub mod webhooks;

use actix_web::{HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ErrorCode};

/// Registers the `/v1` endpoints.
pub fn v1(cfg: &mut ServiceConfig) {
    cfg.service(publications::list_publications)
        .service(publications::find_publication)
        .service(files::download_variant_file)
        .service(citations::cite_publication)
        .service(projects::list_projects)
        .service(projects::find_project)
        .service(organisations::list_organisations)
        .service(organisations::find_organisation)
        .service(fields::list_fields)
        .service(fields::find_field)
        .service(events::list_events)
        .service(events::find_event)
        .service(search::search_publications)
        .service(search::suggest_titles)
        .service(changes::list_changes)
        .service(export::export_archive)
        .service(publications::publications_csv)
        .service(feeds::atom_feed)
        .service(feeds::json_feed)
        .service(health::list_errors)
        .service(editing::create_publication)
        .service(editing::replace_publication)
        .service(editing::patch_publication)
        .service(editing::delete_publication)
        .service(editing::publish_publication)
        .service(editing::withdraw_publication)
        .service(file_editing::upload_variant_file)
        .service(file_editing::extract_variant_file)
        .service(file_editing::delete_variant_file)
        .service(vocabulary_editing::create_organisation)
        .service(vocabulary_editing::replace_organisation)
        .service(vocabulary_editing::patch_organisation)
        .service(vocabulary_editing::delete_organisation)
        .service(vocabulary_editing::create_field)
        .service(vocabulary_editing::replace_field)
        .service(vocabulary_editing::patch_field)
        .service(vocabulary_editing::delete_field)
        .service(vocabulary_editing::create_project)
        .service(vocabulary_editing::replace_project)
        .service(vocabulary_editing::patch_project)
        .service(vocabulary_editing::delete_project)
        .service(vocabulary_editing::create_event)
        .service(vocabulary_editing::replace_event)
        .service(vocabulary_editing::patch_event)
        .service(vocabulary_editing::delete_event)
        .service(admin::read_audit)
        .service(admin::list_keys)
        .service(admin::create_key)
        .service(admin::revoke_key)
        .service(admin::reindex_status)
        .service(admin::start_reindex)
        .service(webhooks::list_webhooks)
        .service(webhooks::create_webhook)
        .service(webhooks::find_webhook)
        .service(webhooks::delete_webhook)
        .service(webhooks::list_deliveries)
        .service(webhooks::resend_delivery);
}

/// Registers the endpoints outside `/v1`.
pub fn service(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(crate::metrics::metrics)
        .service(oai::oai_get)
        .service(oai::oai_post);
}

/// The methods a path takes, for 405 answers. Read endpoints take GET and
/// HEAD; the others are listed here.
fn allowed_methods(path: &str) -> &'static str {
    let path = path.trim_end_matches('/');
    match path {
        "/v1/admin/keys" | "/v1/admin/reindex" | "/v1/admin/webhooks" | "/v1/publications"
        | "/v1/organisations" | "/v1/fields" | "/v1/projects" | "/v1/events" | "/oai" => {
            "GET, HEAD, POST"
        }
        _ if path.starts_with("/v1/admin/keys/") => "DELETE",
        _ if path.starts_with("/v1/admin/webhooks/") && path.ends_with("/resend") => "POST",
        _ if path.starts_with("/v1/admin/webhooks/") && path.matches('/').count() == 4 => {
            "GET, HEAD, DELETE"
        }
        _ if path.starts_with("/v1/publications/")
            && (path.ends_with("/publish")
                || path.ends_with("/withdraw")
                || path.ends_with("/file/extract")) =>
        {
            "POST"
        }
        _ if path.starts_with("/v1/publications/") && path.ends_with("/file") => {
            "GET, HEAD, PUT, DELETE"
        }
        _ if [
            "/v1/publications/",
            "/v1/organisations/",
            "/v1/fields/",
            "/v1/projects/",
            "/v1/events/",
        ]
        .iter()
        .any(|prefix| path.starts_with(prefix))
            && path.matches('/').count() == 3 =>
        {
            "GET, HEAD, PUT, PATCH, DELETE"
        }
        _ => "GET, HEAD",
    }
}

/// Answers any request no endpoint takes: 405 when the path exists, 404
/// when it does not.
pub async fn route_not_found(req: HttpRequest) -> HttpResponse {
    if req.resource_map().has_resource(req.path()) {
        let allowed = allowed_methods(req.path());
        let error = ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("{} takes {allowed}, not {}", req.path(), req.method()),
        );
        let mut response = actix_web::ResponseError::error_response(&error);
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            actix_web::http::header::HeaderValue::from_static(allowed),
        );
        return response;
    }
    let error = ApiError::new(
        ErrorCode::RouteNotFound,
        format!("no endpoint answers {} {}", req.method(), req.path()),
    );
    actix_web::ResponseError::error_response(&error)
}
