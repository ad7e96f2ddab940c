//! The edge of the application: what every request meets first and every
//! answer passes last.
//!
//! - A path that does not decode (a stray `%`, bytes that are not UTF-8)
//!   is refused before routing with 400 `invalid_path`, rather than
//!   matched in its lossy form.
//! - Every error leaves as `application/problem+json` with a `code`,
//!   including those the framework or a library answers by itself in
//!   plain text (a body over the size limit, a path the API docs do not
//!   know, a malformed header an extractor rejects).
//! - Every answer carries `X-Content-Type-Options: nosniff`, so that no
//!   browser takes a JSON or text body for HTML or script.
//! - `Vary` is one header naming each request header once: the layers
//!   that add to it (content negotiation, compression, CORS) append, and
//!   the names are merged here.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::http::error::{ApiError, ErrorCode};

/// Middleware, innermost: refuses paths that do not percent-decode to
/// UTF-8 before any handler reads them.
pub async fn check_path<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if let Err(detail) = decodes(req.uri().path()) {
        let error = ApiError::new(ErrorCode::InvalidPath, detail);
        return Ok(req
            .into_response(error.error_response())
            .map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Checks that a raw path's percent escapes are well formed and decode
/// to UTF-8.
fn decodes(path: &str) -> Result<(), String> {
    if path.contains('%') {
        crate::http::params::percent_decoded(path).map_err(|why| format!("the path {why}"))?;
    }
    Ok(())
}

/// Middleware, outermost: makes every error a problem, adds `nosniff`,
/// and merges `Vary`.
pub async fn finish<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match next.call(req).await {
        Ok(response) => {
            let mut response = if needs_problem(response.response()) {
                let (req, original) = response.into_parts();
                let replaced = problem(&original, Some(&req));
                ServiceResponse::new(req, replaced).map_into_right_body()
            } else {
                response.map_into_left_body()
            };
            finish_headers(response.headers_mut());
            Ok(response)
        }
        // An error that comes back instead of an answer is answered by the
        // server with this response as it is.
        Err(error) => {
            let original = error.error_response();
            let mut replaced = if needs_problem(&original) {
                problem(&original, None)
            } else {
                original
            };
            finish_headers(replaced.headers_mut());
            Err(actix_web::error::InternalError::from_response(error.to_string(), replaced).into())
        }
    }
}

/// The headers every answer leaves with.
fn finish_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    merge_vary(headers);
}

/// Whether an answer is an error whose body is not a problem document.
fn needs_problem<B>(response: &HttpResponse<B>) -> bool {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/problem+json"));
    (status.is_client_error() || status.is_server_error()) && !is_problem
}

/// A problem for an error answer made in plain text, with its status and
/// headers; `req`, when known, names the route in a 404.
fn problem<B>(original: &HttpResponse<B>, req: Option<&HttpRequest>) -> HttpResponse {
    let status = original.status();
    let cause = original.error().map(ToString::to_string);
    let code = match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::URI_TOO_LONG => ErrorCode::QueryTooLong,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        status if status.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    };
    let detail = match (code, req) {
        (ErrorCode::RouteNotFound, Some(req)) => {
            format!("no endpoint answers {} {}", req.method(), req.path())
        }
        (ErrorCode::PayloadTooLarge, _) => {
            "the request body is larger than this endpoint takes (its limit is in the OpenAPI document)".to_owned()
        }
        (ErrorCode::Internal, _) => {
            tracing::error!(
                cause = cause.as_deref().unwrap_or("none given"),
                %status,
                "an error was answered outside the handlers"
            );
            "the server failed to answer this request".to_owned()
        }
        _ => cause.unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("the request was refused")
                .to_lowercase()
        }),
    };
    let mut problem = ApiError::new(code, detail).problem();
    // A status without a row of its own (416, 431, …) keeps its number.
    problem.status = status.as_u16();
    let mut replaced = HttpResponse::build(status)
        .content_type("application/problem+json")
        .body(serde_json::to_vec(&problem).unwrap_or_default());
    for (name, value) in original.headers() {
        if !matches!(
            *name,
            header::CONTENT_TYPE | header::CONTENT_LENGTH | header::CONTENT_ENCODING
        ) {
            replaced.headers_mut().append(name.clone(), value.clone());
        }
    }
    replaced
}

/// Rewrites every `Vary` header as one, each name once (compared without
/// regard to case), in the order they were first given; `*` alone when
/// any layer said `*`.
fn merge_vary(headers: &mut HeaderMap) {
    let mut names: Vec<String> = Vec::new();
    for value in headers.get_all(header::VARY) {
        let Ok(value) = value.to_str() else { continue };
        for name in value
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            if !names.iter().any(|known| known.eq_ignore_ascii_case(name)) {
                names.push(name.to_owned());
            }
        }
    }
    if names.is_empty() {
        return;
    }
    let merged = if names.iter().any(|name| name == "*") {
        "*".to_owned()
    } else {
        names.join(", ")
    };
    if let Ok(value) = HeaderValue::from_str(&merged) {
        headers.insert(header::VARY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_percent_decode_to_utf8() {
        for good in ["/v1/publications", "/v1/%C3%ABshtu", "/a%2Fb", "/%41"] {
            assert!(decodes(good).is_ok(), "{good}");
        }
        for bad in [
            "/v1/publications/%FF",
            "/%C3%28",
            "/%",
            "/%4",
            "/%zz",
            "/a%4g",
        ] {
            assert!(decodes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vary_names_each_header_once() {
        let mut headers = HeaderMap::new();
        for value in [
            "Accept-Language",
            "accept-language, Accept-Encoding",
            "Origin, Accept-Encoding",
        ] {
            headers.append(header::VARY, HeaderValue::from_static(value));
        }
        merge_vary(&mut headers);
        let values: Vec<_> = headers.get_all(header::VARY).collect();
        assert_eq!(values, ["Accept-Language, Accept-Encoding, Origin"]);
        headers.append(header::VARY, HeaderValue::from_static("*"));
        merge_vary(&mut headers);
        assert_eq!(headers.get(header::VARY).unwrap(), "*");
    }
}
