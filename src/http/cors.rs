//! Cross-origin requests from browser front ends: off unless origins are
//! configured; credentials (cookies, browser-managed auth) are not allowed
//! unless asked for, and never together with any-origin.
//!
//! actix-cors answers preflights and adds the CORS headers; [`guard`],
//! around it, refuses other origins with a problem (403
//! `cors_origin_forbidden`) before anything runs for them, turns a refused
//! preflight into a problem too, and appends `Origin` to `Vary`, which
//! actix-cors would otherwise overwrite, dropping `Accept-Encoding` and
//! `Accept-Language` (a CDN would then serve one reader's Brotli body or
//! language to the next).

use actix_cors::{Cors, CorsError};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{Condition, Next};
use actix_web::ResponseError;

use crate::http::error::{ApiError, ErrorCode};

/// The methods cross-origin requests may use.
const METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// The request headers cross-origin requests may send (besides the ones
/// browsers always may).
const REQUEST_HEADERS: [&str; 12] = [
    "authorization",
    "content-type",
    "content-disposition",
    "accept",
    "accept-language",
    "if-match",
    "if-none-match",
    "range",
    "idempotency-key",
    "x-requested-with",
    "cache-control",
    "pragma",
];

/// Which browser origins may call the API.
#[derive(Debug, Clone, Default)]
pub struct CorsSettings {
    /// Exact origins (`https://example.org`), or `*` for any.
    pub origins: Vec<String>,
    /// Whether browsers may send credentials cross-origin.
    pub credentials: bool,
}

impl CorsSettings {
    /// Checks the settings: each origin is `*` or `scheme://host[:port]`;
    /// credentials need exact origins.
    pub fn new(origins: Vec<String>, credentials: bool) -> Result<Self, String> {
        let origins: Vec<String> = origins
            .into_iter()
            .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|origin| !origin.is_empty())
            .collect();
        for origin in &origins {
            let well_formed = origin == "*"
                || ((origin.starts_with("https://") || origin.starts_with("http://"))
                    && !origin
                        .split_once("://")
                        .is_some_and(|(_, rest)| rest.is_empty() || rest.contains('/')));
            if !well_formed {
                return Err(format!(
                    "CORS origin {origin:?} must be \"*\" or like \"https://example.org\""
                ));
            }
        }
        if credentials && origins.iter().any(|origin| origin == "*") {
            return Err("CORS credentials cannot be allowed for any origin (\"*\")".into());
        }
        Ok(Self {
            origins,
            credentials,
        })
    }

    /// Whether cross-origin requests are answered at all.
    pub fn enabled(&self) -> bool {
        !self.origins.is_empty()
    }

    /// Whether pages on `origin` may call the API: a configured origin,
    /// any with `*`, or the API's own (its docs page).
    fn allows(&self, origin: &[u8], own: &str) -> bool {
        origin == own.as_bytes()
            || self
                .origins
                .iter()
                .any(|allowed| allowed == "*" || allowed.as_bytes() == origin)
    }

    /// The middleware: answers preflight requests and adds the CORS headers
    /// for allowed origins; does nothing when no origin is configured.
    /// Its own `Vary` is off: [`guard`] appends `Origin` instead.
    pub fn middleware(&self) -> Condition<Cors> {
        let mut cors = Cors::default()
            .allowed_methods(METHODS)
            .allowed_headers(REQUEST_HEADERS.map(header::HeaderName::from_static))
            .expose_headers([
                header::ETAG,
                header::LINK,
                header::LOCATION,
                header::CONTENT_LANGUAGE,
                header::CONTENT_DISPOSITION,
                header::RETRY_AFTER,
                header::HeaderName::from_static("ratelimit-limit"),
                header::HeaderName::from_static("ratelimit-remaining"),
                header::HeaderName::from_static("ratelimit-reset"),
            ])
            .disable_vary_header()
            .max_age(3600);
        for origin in &self.origins {
            cors = if origin == "*" {
                cors.allow_any_origin().send_wildcard()
            } else {
                cors.allowed_origin(origin)
            };
        }
        if self.credentials {
            cors = cors.supports_credentials();
        }
        Condition::new(self.enabled(), cors)
    }
}

/// Middleware around [`CorsSettings::middleware`], with CORS on: refuses
/// requests from origins that may not call the API (403, before any
/// handler runs), turns refused preflights into problems, and says in
/// `Vary` that answers depend on `Origin` (and, for preflights, on what
/// they ask for).
pub async fn guard<B: MessageBody>(
    settings: &CorsSettings,
    public_origin: &str,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if !settings.enabled() {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let vary = if preflight {
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    } else {
        "Origin"
    };
    let vary = header::HeaderValue::from_static(vary);
    let origin = req.headers().get(header::ORIGIN).cloned();
    if let Some(origin) = origin {
        if !settings.allows(origin.as_bytes(), public_origin) {
            let error = ApiError::new(
                ErrorCode::CorsOriginForbidden,
                format!(
                    "pages on {} may not call this API from a browser",
                    String::from_utf8_lossy(origin.as_bytes())
                ),
            );
            let mut response = req.into_response(error.error_response());
            response.headers_mut().append(header::VARY, vary);
            return Ok(response.map_into_right_body());
        }
    }
    let response = next.call(req).await?;
    let refusal = response
        .response()
        .error()
        .and_then(|error| error.as_error::<CorsError>())
        .map(refused_preflight);
    let mut response = match refusal {
        Some(error) => {
            let (req, _) = response.into_parts();
            ServiceResponse::new(req, error.error_response()).map_into_right_body()
        }
        None => response.map_into_left_body(),
    };
    response.headers_mut().append(header::VARY, vary);
    Ok(response)
}

/// What a preflight refused by actix-cors is told.
fn refused_preflight(error: &CorsError) -> ApiError {
    match error {
        CorsError::OriginNotAllowed => ApiError::new(
            ErrorCode::CorsOriginForbidden,
            "pages on this origin may not call this API from a browser",
        ),
        CorsError::MethodNotAllowed | CorsError::BadRequestMethod => ApiError::new(
            ErrorCode::CorsPreflightRefused,
            format!(
                "cross-origin requests may use {}",
                METHODS.map(|method| method.to_string()).join(", ")
            ),
        ),
        _ => ApiError::new(
            ErrorCode::CorsPreflightRefused,
            format!(
                "cross-origin requests may send these headers: {}",
                REQUEST_HEADERS.join(", ")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        assert!(CorsSettings::new(vec!["https://example.org/".into()], true).is_ok());
        assert!(CorsSettings::new(vec!["*".into()], false).is_ok());
        assert!(CorsSettings::new(vec!["*".into()], true).is_err());
        assert!(CorsSettings::new(vec!["example.org".into()], false).is_err());
        assert!(CorsSettings::new(vec!["https://example.org/path".into()], false).is_err());
    }
}
