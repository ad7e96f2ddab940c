//! Builds the actix application: the same for `arkiv serve` and the tests.

use actix_web::body::MessageBody;
use actix_web::dev::Service;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{web, App, HttpRequest, HttpResponse};
use utoipa_swagger_ui::SwaggerUi;

use crate::http::error::ApiError;
use crate::routes;
use crate::state::AppState;

/// The spec as served, serialized once per worker.
struct SpecJson(serde_json::Value);

/// Where the spec is served.
const OPENAPI_PATH: &str = "/openapi.json";
/// Where the API docs are served.
const DOCS_PATH: &str = "/docs/{_:.*}";

/// The routes served beside the documented endpoints, with their methods:
/// 405 answers list them with the spec's. (`/docs` itself redirects
/// whatever the method.)
pub const UNDOCUMENTED_ROUTES: [(&str, &[&str]); 2] = [
    (OPENAPI_PATH, &["GET", "HEAD"]),
    (DOCS_PATH, &["GET", "HEAD"]),
];

async fn openapi_json(
    req: HttpRequest,
    spec: web::Data<SpecJson>,
) -> Result<HttpResponse, ApiError> {
    crate::http::params::Params::parse(&req, &[])?;
    crate::http::respond::json(&req, &spec.0, &[])
}

/// Builds the application around shared state.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, mut api) = crate::openapi::utoipa_app().split_for_parts();
    crate::openapi::state_parameter_rules(&mut api);
    crate::openapi::state_shared_responses(&mut api);
    crate::openapi::state_body_limits(&mut api, state.upload_limit);
    let spec = serde_json::to_value(&api).unwrap_or_default();
    let methods = routes::RouteMethods::from_spec(&api, &UNDOCUMENTED_ROUTES);
    let cors = state.cors.middleware();
    let path_config = web::PathConfig::default().error_handler(|error, _| {
        ApiError::invalid("path", format!("is not valid: {error}")).into()
    });
    app.app_data(state)
        .app_data(web::Data::new(SpecJson(spec)))
        .app_data(web::Data::new(methods))
        .app_data(path_config)
        .service(
            // Guarded, so that other methods reach the 405 of the default service.
            web::resource(OPENAPI_PATH)
                .guard(actix_web::guard::Get())
                .to(openapi_json),
        )
        .service(SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, api))
        .service(web::redirect("/docs", "/docs/"))
        .default_service(web::to(routes::route_not_found))
        .wrap(actix_web::middleware::from_fn(
            crate::http::edge::check_path,
        ))
        .wrap(actix_web::middleware::from_fn(
            crate::http::middleware::idempotent,
        ))
        .wrap(actix_web::middleware::from_fn(
            crate::http::middleware::limit,
        ))
        .wrap(actix_web::middleware::from_fn(
            crate::http::middleware::authenticate,
        ))
        // HEAD is GET without the body; the HTTP layer drops the body.
        .wrap_fn(|mut req, service| {
            if req.method() == Method::HEAD {
                req.head_mut().method = Method::GET;
                actix_web::HttpMessage::extensions_mut(&req).insert(crate::http::HeadRequest);
            }
            service.call(req)
        })
        .wrap(actix_web::middleware::Compress::default())
        .wrap(actix_web::middleware::from_fn(
            crate::http::middleware::headers,
        ))
        .wrap(actix_web::middleware::from_fn(
            crate::http::middleware::observe,
        ))
        .wrap(cors)
        .wrap(actix_web::middleware::from_fn(
            crate::http::middleware::cors,
        ))
        .wrap(actix_web::middleware::from_fn(crate::http::edge::finish))
}

/// Builds the app of the metrics listener (`ARKIV_METRICS_BIND`): `/metrics`
/// without a key, and nothing else.
pub fn metrics_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(web::Data::new(crate::http::metrics::OwnListener))
        .service(routes::metrics::metrics)
        .default_service(web::to(routes::route_not_found))
        .wrap(actix_web::middleware::from_fn(
            crate::http::edge::check_path,
        ))
        .wrap(actix_web::middleware::from_fn(crate::http::edge::finish))
}
