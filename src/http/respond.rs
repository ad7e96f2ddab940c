//! JSON responses with the headers every GET carries: a strong `ETag` over
//! the body (answering `If-None-Match` with 304), `Content-Language` and
//! `Vary: Accept-Language`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::http::error::ApiError;

/// A serialized response body with its entity tag and languages: what the
/// response cache keeps.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub body: Bytes,
    pub etag: HeaderValue,
    pub content_language: Option<HeaderValue>,
    /// `Link: <…>; rel="next"` of a list page.
    pub link: Option<HeaderValue>,
    /// The media type, when not `application/json`.
    pub content_type: Option<&'static str>,
    /// The publication and language a detail shows, for reader counts.
    pub subject: Option<Subject>,
}

/// What a publication detail is of: counted as a view each time it is sent.
#[derive(Debug, Clone)]
pub struct Subject {
    pub publication_id: String,
    pub lang: String,
}

/// Returns the strong entity tag of a body.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body))
}

/// Returns true when an `If-None-Match` header matches the tag.
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|candidate| {
        let candidate = crate::http::caching::without_coding(candidate);
        candidate == "*" || candidate == etag || candidate.strip_prefix("W/") == Some(etag)
    })
}

/// Serializes `body`; `languages` are the served tags, for `Content-Language`.
pub fn encode<T: Serialize>(body: &T, languages: &[&str]) -> Result<Encoded, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(ApiError::internal)?;
    encode_bytes(bytes, languages)
}

/// [`encode`] for a body already made (a feed, a citation).
pub fn encode_bytes(bytes: Vec<u8>, languages: &[&str]) -> Result<Encoded, ApiError> {
    let etag = HeaderValue::from_str(&etag_of(&bytes)).map_err(ApiError::internal)?;
    let mut tags: Vec<&str> = languages.to_vec();
    tags.sort_unstable();
    tags.dedup();
    let content_language = (!tags.is_empty())
        .then(|| HeaderValue::from_str(&tags.join(", ")).ok())
        .flatten();
    Ok(Encoded {
        body: Bytes::from(bytes),
        etag,
        content_language,
        link: None,
        content_type: None,
        subject: None,
    })
}

/// `Link: <…>; rel="next"` to this request with `cursor` in place of its
/// own (and without the parameters `replaced`, such as an `offset`): the
/// other parameters as the client sent them.
pub fn next_link(req: &HttpRequest, cursor: &str, replaced: &[&str]) -> Option<HeaderValue> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if name != "cursor" && !replaced.contains(&name.as_ref()) {
            query.append_pair(&name, &value);
        }
    }
    query.append_pair("cursor", cursor);
    HeaderValue::from_str(&format!(
        "<{}?{}>; rel=\"next\"",
        req.path(),
        query.finish()
    ))
    .ok()
}

/// Answers with an encoded body, or with 304 when the client's copy is current.
pub fn send(req: &HttpRequest, encoded: &Encoded) -> HttpResponse {
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .zip(encoded.etag.to_str().ok())
        .is_some_and(|(value, etag)| matches(value, etag));
    let mut response = if not_modified {
        HttpResponse::build(StatusCode::NOT_MODIFIED).finish()
    } else {
        HttpResponse::Ok()
            .content_type(encoded.content_type.unwrap_or("application/json"))
            .body(encoded.body.clone())
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, encoded.etag.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    if let Some(languages) = &encoded.content_language {
        headers.insert(header::CONTENT_LANGUAGE, languages.clone());
    }
    if let Some(link) = &encoded.link {
        headers.insert(header::LINK, link.clone());
    }
    response
}

/// Puts a stored version in front of an encoded body's ETag:
/// `"<version>.<representation>"`. `If-None-Match` still compares whole
/// tags (each language has its own); `If-Match` on a write compares only
/// the version (see `editing`).
pub fn with_version(mut encoded: Encoded, version: &str) -> Result<Encoded, ApiError> {
    let representation = encoded
        .etag
        .to_str()
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned();
    encoded.etag = HeaderValue::from_str(&format!("\"{version}.{representation}\""))
        .map_err(ApiError::internal)?;
    Ok(encoded)
}

/// [`json`] for a writable resource: the ETag starts with its version.
pub fn json_versioned<T: Serialize>(
    req: &HttpRequest,
    body: &T,
    languages: &[&str],
    version: &str,
) -> Result<HttpResponse, ApiError> {
    Ok(send(req, &with_version(encode(body, languages)?, version)?))
}

/// Serializes `body` and answers with it (or 304).
pub fn json<T: Serialize>(
    req: &HttpRequest,
    body: &T,
    languages: &[&str],
) -> Result<HttpResponse, ApiError> {
    Ok(send(req, &encode(body, languages)?))
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
