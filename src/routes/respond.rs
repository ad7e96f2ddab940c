//! JSON responses with the headers every GET carries: a strong `ETag` over
//! the body (answering `If-None-Match` with 304), `Content-Language` and
//! `Vary: Accept-Language`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::ApiError;

/// Returns the strong entity tag of a body.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body))
}

/// Returns true when an `If-None-Match` header matches the tag.
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate == etag || candidate.strip_prefix("W/") == Some(etag)
    })
}

/// Serializes `body` and answers with it, or with 304 when the client's copy
/// is current. `languages` are the served tags, for `Content-Language`.
pub fn json<T: Serialize>(
    req: &HttpRequest,
    body: &T,
    languages: &[&str],
) -> Result<HttpResponse, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(ApiError::internal)?;
    let etag = etag_of(&bytes);
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| matches(value, &etag));
    let mut response = if not_modified {
        HttpResponse::build(StatusCode::NOT_MODIFIED).finish()
    } else {
        HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes)
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let mut tags: Vec<&str> = languages.to_vec();
    tags.sort_unstable();
    tags.dedup();
    if !tags.is_empty() {
        if let Ok(value) = HeaderValue::from_str(&tags.join(", ")) {
            headers.insert(header::CONTENT_LANGUAGE, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let etag = "\"abc\"";
        assert!(matches("\"abc\"", etag));
        assert!(matches("\"x\", W/\"abc\"", etag));
        assert!(matches("*", etag));
        assert!(!matches("\"abd\"", etag));
    }
}
