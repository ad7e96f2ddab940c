//! Cross-origin requests from browser front ends: off unless origins are
//! configured; credentials (cookies, browser-managed auth) are not allowed
//! unless asked for, and never together with any-origin.

use actix_cors::Cors;
use actix_web::http::{header, Method};
use actix_web::middleware::Condition;

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
            .map(|origin| origin.trim().trim_end_matches('/').to_owned())
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

    /// The middleware: answers preflight requests and adds the CORS headers
    /// for allowed origins; does nothing when no origin is configured.
    pub fn middleware(&self) -> Condition<Cors> {
        let mut cors = Cors::default()
            .allowed_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allowed_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::ACCEPT_LANGUAGE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                header::RANGE,
            ])
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
        Condition::new(!self.origins.is_empty(), cors)
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
