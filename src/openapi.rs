//! The OpenAPI document: collected from the handlers as they are
//! registered, plus the document-level information below.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::App;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt, UtoipaApp};

use crate::http::error::Problem;

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
One rule for absent values: a field a response schema lists is always present, and a value \
that is absent (no image, no description, no next page, nothing derived) is `null`, never left \
out; such fields are marked required and nullable. Every list answers `{items, total, \
next_cursor}`, takes `limit` and `cursor`, and sends `Link: <…>; rel=\"next\"` while there is \
a next page (the change feed always, for polling).\n\n\
Each client has a limit of requests a minute (by address without a key, by key with one): every \
answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`, and past the \
limit the answer is `429 rate_limited` with `Retry-After`.\n\n\
When browser origins are configured for cross-origin requests (CORS), a request or preflight \
from any other origin is refused with `403 cors_origin_forbidden`, and a preflight that asks \
for a method or header cross-origin requests may not use with `403 cors_preflight_refused`. \
Absolute links in answers (feeds, OAI-PMH, citations) start with the server's configured \
public URL, never with the request's `Host`.",
        license(name = "AGPL-3.0-or-later")
    ),
    tags(
        (name = "publications", description = "Reports, policy papers, conclusions and media monitoring"),
        (name = "search", description = "Full-text search in every language and script"),
        (name = "projects", description = "Projects with their funders and partners"),
        (name = "organisations", description = "Funders, partners and implementers"),
        (name = "fields", description = "Fields of work"),
        (name = "events", description = "Discussions, summits, focus groups, conferences"),
        (name = "statistics", description = "Readers: views and downloads per publication and language, most read, funder reports"),
        (name = "site", description = "For the organisation's website: every vocabulary's labels, the sitemap"),
        (name = "service", description = "Health and the error table"),
        (name = "partners", description = "For mirrors and harvesters: OAI-PMH, the change feed, feeds, citations, bulk export"),
        (name = "editing", description = "Create, change, publish, withdraw and delete publications (editor and admin keys)"),
        (name = "admin", description = "API keys and the search index (admin keys only)"),
    ),
    components(schemas(Problem, crate::domain::records::VariantRecord)),
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

/// Registers every documented endpoint.
pub fn utoipa_app() -> UtoipaApp<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope::scope("/v1").configure(crate::routes::v1))
        .configure(crate::routes::service)
}

/// Builds the OpenAPI document exactly as a server with the default
/// settings serves it.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut api) = utoipa_app().split_for_parts();
    state_parameter_rules(&mut api);
    state_shared_responses(&mut api);
    state_body_limits(&mut api, crate::config::DEFAULT_MAX_UPLOAD_MB << 20);
    api
}

/// The document as `arkiv openapi` prints it and `openapi/openapi.json` holds it.
pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

/// How a query or path parameter that the handlers read as text is
/// written: one value, or a comma-separated list of them.
enum Written {
    One(serde_json::Value),
    List(serde_json::Value),
}

/// The schema a parameter's parser enforces, for the parameters the
/// handlers read as plain strings (see `http::params`): the values of
/// the closed vocabularies, the shape of language tags, UUIDs and slugs.
/// They are named here once, from the lists and patterns the parsers use,
/// rather than on each of the endpoints that share them.
fn written(path: &str, name: &str, location: &ParameterIn) -> Option<Written> {
    use crate::domain::{lang::LANGUAGE_TAG_PATTERN, ID_OR_SLUG_PATTERN, MAX_SLUG_LEN};
    use crate::domain::{EventKind, Lang, PublicationKind, PublicationStatus, Role};
    use serde_json::json;
    use Written::{List, One};

    let names = |names: &mut dyn Iterator<Item = &'static str>| -> serde_json::Value {
        json!({ "type": "string", "enum": names.collect::<Vec<_>>() })
    };
    let key = json!({ "type": "string", "pattern": ID_OR_SLUG_PATTERN, "maxLength": MAX_SLUG_LEN });
    let tag = json!({ "type": "string", "pattern": LANGUAGE_TAG_PATTERN });
    if matches!(location, ParameterIn::Path) {
        return match name {
            "id_or_slug" => Some(One(key)),
            "lang" => Some(One(names(&mut Lang::ALL.into_iter().map(Lang::as_str)))),
            _ => None,
        };
    }
    if !matches!(location, ParameterIn::Query) {
        return None;
    }
    Some(match (path, name) {
        (_, "lang") => One(tag),
        ("/v1/events", "kind") => List(names(&mut EventKind::ALL.iter().map(|k| k.as_str()))),
        (_, "kind") => List(names(&mut PublicationKind::ALL.iter().map(|k| k.as_str()))),
        (_, "status") => List(names(
            &mut PublicationStatus::ALL.iter().map(|s| s.as_str()),
        )),
        ("/v1/organisations", "role") => List(names(&mut Role::ALL.iter().map(|r| r.as_str()))),
        (_, "field" | "project" | "funder" | "partner" | "event") => List(key),
        (_, "language") => List(names(
            &mut crate::routes::publications::LANGUAGE_FILTERS.into_iter(),
        )),
        ("/v1/search", "sort") => One(names(
            &mut crate::routes::search::SORTS.iter().map(|(name, _)| *name),
        )),
        ("/v1/search", "facets") => List(names(
            &mut crate::search::index::Facet::ALL
                .into_iter()
                .map(|f| f.as_str()),
        )),
        (_, "sort") => One(names(
            &mut crate::db::publications::Sort::ALL
                .into_iter()
                .map(|s| s.as_str()),
        )),
        (_, "year") => List(json!({
            "type": "integer", "format": "int32", "minimum": 1000, "maximum": 9999
        })),
        (_, "format") => One(names(
            &mut crate::routes::citations::Format::ALL
                .into_iter()
                .map(|f| f.name()),
        )),
        ("/v1/changes", "include") => One(names(&mut ["publication"].into_iter())),
        _ => return None,
    })
}

/// Gives every parameter that [`written`] knows its exact schema; a list
/// is declared as an array written with commas (`form`, not exploded),
/// with its example split the same way.
pub fn state_parameter_rules(api: &mut utoipa::openapi::OpenApi) {
    let too_long = format!(
        "The query string is longer than {} bytes",
        crate::http::params::MAX_QUERY_LEN
    );
    for (path, item) in api.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for parameter in operation.parameters.iter_mut().flatten() {
                if let Some(rule) = written(path, &parameter.name, &parameter.parameter_in) {
                    restate(parameter, rule);
                }
                if parameter.name == "id_or_slug" {
                    if let Some(slug) = demo_slug(path) {
                        give_example(parameter, slug);
                    }
                }
            }
        }
        // Every read parses its query string strictly (`http::params`),
        // but OAI-PMH, which reports errors in its own XML.
        if let Some(read) = item.get.as_mut().filter(|_| path != "/oai") {
            let responses = &mut read.responses.responses;
            for (status, description) in [
                ("400", "A malformed or unknown parameter"),
                ("414", too_long.as_str()),
            ] {
                if !responses.contains_key(status) {
                    if let Ok(response) = serde_json::from_value(problem_response(description)) {
                        responses.insert(status.to_owned(), response);
                    }
                }
            }
        }
    }
}

/// A response with a problem+json body, as the rules below add them.
fn problem_response(description: &str) -> serde_json::Value {
    serde_json::json!({
        "description": description,
        "content": { "application/problem+json": {
            "schema": { "$ref": "#/components/schemas/Problem" }
        } }
    })
}

/// Answers that many operations share, defined once under
/// `components.responses` and referred to by rule rather than repeated on
/// every path:
/// - 401: `Unauthorized` where the `bearer` key is required, else
///   `InvalidKey` (a header that is not a valid key is refused everywhere);
/// - 403: `NotEditor` or `NotAdmin`, where the requirement names the role
///   (`security(("bearer" = ["admin"]))`, OpenAPI 3.1's role names);
/// - 428: `IfMatchMissing`, where `If-Match` is a parameter;
/// - 429: `TooManyRequests`, everywhere but the probes.
///
/// A response an operation states itself is kept.
pub fn state_shared_responses(api: &mut utoipa::openapi::OpenApi) {
    let mut too_many = problem_response(
        "Past the client's requests a minute (`rate_limited`): by address without a key, by key with one",
    );
    too_many["headers"] = serde_json::json!({
        "Retry-After": {
            "description": "Seconds until the client's window starts over",
            "schema": { "type": "integer", "minimum": 0 }
        }
    });
    let shared = [
        ("Unauthorized", problem_response("No valid key was sent")),
        (
            "InvalidKey",
            problem_response(
                "An Authorization header was sent that is not a valid key (none is needed here)",
            ),
        ),
        (
            "NotEditor",
            problem_response("The key's role is below editor"),
        ),
        ("NotAdmin", problem_response("The key is not an admin's")),
        ("IfMatchMissing", problem_response("If-Match is missing")),
        ("TooManyRequests", too_many),
        (
            "IdempotencyKeyInUse",
            problem_response(
                "A request with this Idempotency-Key is still running (`idempotency_key_in_use`); ask again after Retry-After",
            ),
        ),
    ];
    let idempotency_key: Option<Parameter> = serde_json::from_value(serde_json::json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "Makes a retry safe: a repeat of this request (same method, path, query, media type and body) with the same key and API key within 24 hours gets the first answer again, with `Idempotent-Replayed: true`, instead of writing again. The same key with a different request is 422 `idempotency_key_reused`; while the first still runs, 409 `idempotency_key_in_use`. Answers of 500 and above are not kept. 1 to 255 visible ASCII characters; a UUID is a good choice.",
        "schema": { "type": "string", "minLength": 1, "maxLength": 255 },
        "example": "6f1c2d9e-0a51-4c47-b0b3-2b8d0f1e9a10"
    }))
    .ok();
    let components = api.components.get_or_insert_with(Default::default);
    for (name, response) in shared {
        if let Ok(response) = serde_json::from_value(response) {
            components
                .responses
                .insert(name.to_owned(), RefOr::T(response));
        }
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let probe = crate::http::is_probe(path);
        if let (Some(post), Some(parameter)) = (item.post.as_mut(), &idempotency_key) {
            if !serde_json::to_value(&post.security)
                .unwrap_or_default()
                .as_array()
                .is_none_or(Vec::is_empty)
            {
                post.parameters
                    .get_or_insert_with(Vec::new)
                    .push(parameter.clone());
                post.responses
                    .responses
                    .entry("409".to_owned())
                    .or_insert_with(|| {
                        RefOr::Ref(utoipa::openapi::Ref::from_response_name(
                            "IdempotencyKeyInUse",
                        ))
                    });
            }
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            let security = serde_json::to_value(&operation.security).unwrap_or_default();
            let requirements = security.as_array().cloned().unwrap_or_default();
            let optional = requirements
                .iter()
                .any(|requirement| requirement.as_object().is_some_and(|r| r.is_empty()));
            let role = requirements
                .iter()
                .find_map(|requirement| requirement["bearer"][0].as_str().map(str::to_owned));
            let key_required = !optional && requirements.iter().any(|r| r.get("bearer").is_some());
            let if_match = operation
                .parameters
                .iter()
                .flatten()
                .any(|parameter| parameter.name == "If-Match");
            let mut rules = vec![(
                "401",
                if key_required {
                    "Unauthorized"
                } else {
                    "InvalidKey"
                },
            )];
            match role.as_deref() {
                Some("editor") => rules.push(("403", "NotEditor")),
                Some("admin") => rules.push(("403", "NotAdmin")),
                _ => {}
            }
            if if_match {
                rules.push(("428", "IfMatchMissing"));
            }
            if !probe {
                rules.push(("429", "TooManyRequests"));
            }
            let responses = &mut operation.responses.responses;
            for (status, name) in rules {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(utoipa::openapi::Ref::from_response_name(name)));
            }
        }
    }
}

/// A slug of the demo archive for the collection `path` is in, as the
/// example of its `{id_or_slug}`: "try it out" in the docs, and a fuzzer
/// starting from the examples, reach a real resource.
fn demo_slug(path: &str) -> Option<&'static str> {
    let collection = path.strip_prefix("/v1/")?.split('/').next()?;
    Some(match collection {
        "publications" => "conclusions-expert-discussion-2024-10-31",
        "projects" => "dialogue-solutions-future",
        "organisations" => "german-federal-foreign-office",
        "fields" => "normalization-dialogue",
        "events" => "expert-discussion-2024-10-31",
        _ => return None,
    })
}

/// Gives a parameter an example unless it has one (through its JSON form,
/// as [`restate`]).
fn give_example(parameter: &mut Parameter, example: &str) {
    let Ok(serde_json::Value::Object(mut json)) = serde_json::to_value(&*parameter) else {
        return;
    };
    json.entry("example").or_insert_with(|| example.into());
    if let Ok(restated) = serde_json::from_value(serde_json::Value::Object(json)) {
        *parameter = restated;
    }
}

/// Rewrites one parameter by its JSON form (its example has no setter).
fn restate(parameter: &mut Parameter, rule: Written) {
    use serde_json::Value;
    let Ok(Value::Object(mut json)) = serde_json::to_value(&*parameter) else {
        return;
    };
    let schema = match rule {
        Written::One(schema) => schema,
        Written::List(item) => {
            json.insert("style".into(), "form".into());
            json.insert("explode".into(), false.into());
            if let Some(Value::String(example)) = json.get("example") {
                let items: Vec<Value> = example.split(',').map(Value::from).collect();
                json.insert("example".into(), items.into());
            }
            serde_json::json!({ "type": "array", "items": item })
        }
    };
    json.insert("schema".into(), schema);
    if let Ok(restated) = serde_json::from_value(Value::Object(json)) {
        *parameter = restated;
    }
}

/// States each request body's size limit in words, from the
/// `x-max-body-bytes` extension its handler's attribute gives (the number
/// the handler reads up to), the 413 answer past it, and the 415 answer to
/// a compressed body (see [`crate::routes::body::check_declared`]). The
/// PDF upload's limit is a setting: `upload_limit` is the one this server
/// enforces (and the image uploads', when smaller than theirs).
pub fn state_body_limits(api: &mut utoipa::openapi::OpenApi, upload_limit: u64) {
    use crate::routes::body::{size_text, LIMIT_EXTENSION};
    for item in api.paths.paths.values_mut() {
        let operations = [&mut item.put, &mut item.post, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let Some(body) = operation.request_body.as_mut() else {
                continue;
            };
            let extensions = body.extensions.get_or_insert_with(Default::default);
            if body.content.contains_key("application/pdf") {
                extensions.insert(LIMIT_EXTENSION.to_owned(), upload_limit.into());
            }
            if body.content.contains_key("image/*") {
                let limit = crate::routes::images::image_limit(upload_limit);
                extensions.insert(LIMIT_EXTENSION.to_owned(), limit.into());
            }
            let Some(limit) = extensions
                .get(LIMIT_EXTENSION)
                .and_then(serde_json::Value::as_u64)
            else {
                continue;
            };
            let size = size_text(limit);
            let said = body.description.take().unwrap_or_default();
            body.description = Some(format!(
                "{said}. At most {size} ({limit} bytes); past that, 413 `payload_too_large`."
            ));
            let responses = &mut operation.responses.responses;
            let compressed = "comes with a Content-Encoding (bodies are taken uncompressed)";
            let unsupported = match responses.get("415") {
                Some(RefOr::T(response)) => format!("{}, or {compressed}", response.description),
                _ if body.content.contains_key("application/json") => {
                    format!("The body is not JSON, or {compressed}")
                }
                _ => format!("The body {compressed}"),
            };
            for (status, description) in [
                ("413", format!("The body is larger than {size}")),
                ("415", unsupported),
            ] {
                if let Ok(response) = serde_json::from_value(problem_response(&description)) {
                    responses.insert(status.to_owned(), response);
                }
            }
        }
    }
}
