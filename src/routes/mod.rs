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
pub mod images;
pub mod labels;
pub mod metrics;
pub mod oai;
pub mod organisations;
pub mod projects;
pub mod publications;
pub mod render;
pub mod search;
pub mod sitemap;
pub mod stats;
pub mod views;
pub mod vocabulary;
pub mod vocabulary_editing;
pub mod webhooks;

use actix_web::{HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::error::{ApiError, ErrorCode};

/// Registers the `/v1` endpoints.
pub fn v1(cfg: &mut ServiceConfig) {
    cfg.service(publications::list_publications)
        .service(publications::find_publication)
        .service(files::download_variant_file)
        .service(stats::publication_stats)
        .service(stats::view_beacon)
        .service(stats::top)
        .service(stats::report_csv)
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
        .service(labels::list_labels)
        .service(editing::create_publication)
        .service(editing::replace_publication)
        .service(editing::patch_publication)
        .service(editing::delete_publication)
        .service(editing::publish_publication)
        .service(editing::withdraw_publication)
        .service(file_editing::upload_variant_file)
        .service(file_editing::extract_variant_file)
        .service(file_editing::delete_variant_file)
        .service(images::get_rendition)
        .service(images::put_publication_image)
        .service(images::delete_publication_image)
        .service(images::put_organisation_image)
        .service(images::delete_organisation_image)
        .service(images::put_project_image)
        .service(images::delete_project_image)
        .service(images::put_event_image)
        .service(images::delete_event_image)
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
        .service(metrics::metrics)
        .service(sitemap::sitemap)
        .service(oai::oai_get)
        .service(oai::oai_post);
}

/// The methods each path takes, for 405 answers: read from the OpenAPI
/// document the routes registered, so a path is listed with the methods of
/// the routes it matches, whatever it looks like (`/v1/publications/publish`
/// is a publication's slug, which takes GET, PUT, PATCH and DELETE).
pub struct RouteMethods(Vec<(actix_web::dev::ResourceDef, Vec<&'static str>)>);

/// The order methods are listed in.
const METHOD_ORDER: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
];

impl RouteMethods {
    /// Collects every documented path's methods (GET brings HEAD), and
    /// those of `undocumented`, the routes served beside the spec.
    pub fn from_spec(
        api: &utoipa::openapi::OpenApi,
        undocumented: &[(&str, &[&'static str])],
    ) -> Self {
        let mut routes: Vec<_> = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods = Vec::new();
                for (operation, method) in [
                    (&item.get, "GET"),
                    (&item.head, "HEAD"),
                    (&item.post, "POST"),
                    (&item.put, "PUT"),
                    (&item.patch, "PATCH"),
                    (&item.delete, "DELETE"),
                    (&item.options, "OPTIONS"),
                    (&item.trace, "TRACE"),
                ] {
                    if operation.is_some() {
                        methods.push(method);
                    }
                }
                if item.get.is_some() && item.head.is_none() {
                    methods.push("HEAD");
                }
                (actix_web::dev::ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        for (path, methods) in undocumented {
            routes.push((actix_web::dev::ResourceDef::new(*path), methods.to_vec()));
        }
        Self(routes)
    }

    /// Every route's path pattern and the methods it takes.
    pub fn routes(&self) -> impl Iterator<Item = (&str, &[&'static str])> {
        self.0.iter().filter_map(|(route, methods)| {
            route.pattern().map(|pattern| (pattern, methods.as_slice()))
        })
    }

    /// The methods the routes matching `path` take, as `Allow` lists
    /// them; None when no route matches.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let mut taken = [false; METHOD_ORDER.len()];
        for (_, methods) in self.0.iter().filter(|(route, _)| route.is_match(path)) {
            for method in methods {
                if let Some(i) = METHOD_ORDER.iter().position(|known| known == method) {
                    taken[i] = true;
                }
            }
        }
        let listed: Vec<&str> = METHOD_ORDER
            .iter()
            .zip(taken)
            .filter_map(|(method, taken)| taken.then_some(*method))
            .collect();
        (!listed.is_empty()).then(|| listed.join(", "))
    }
}

/// Answers any request no endpoint takes: 405 when the path exists, 404
/// when it does not.
pub async fn route_not_found(req: HttpRequest) -> HttpResponse {
    let allowed = req
        .app_data::<actix_web::web::Data<RouteMethods>>()
        .and_then(|methods| methods.allowed(req.path()));
    if let Some(allowed) = allowed {
        let error = ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("{} takes {allowed}, not {}", req.path(), req.method()),
        );
        let mut response = actix_web::ResponseError::error_response(&error);
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed) {
            response
                .headers_mut()
                .insert(actix_web::http::header::ALLOW, value);
        }
        return response;
    }
    let error = ApiError::new(
        ErrorCode::RouteNotFound,
        format!("no endpoint answers {} {}", req.method(), req.path()),
    );
    actix_web::ResponseError::error_response(&error)
}
