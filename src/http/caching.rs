//! What HTTP caches may do with an answer, and entity tags that tell the
//! compressed forms of a body apart.
//!
//! Public reads (no key) that succeeded may be kept by any cache for
//! `ARKIV_CACHE_MAX_AGE` seconds and revalidated with their ETag after;
//! anything read with a key is private to the caller and revalidated every
//! time; errors are not stored. A handler that set `Cache-Control` itself
//! (the change feed, which pollers want fresh) keeps it.
//!
//! Compression (gzip, brotli) happens after the handler has set the ETag,
//! so this middleware, running outside it, appends the coding to a strong
//! tag (`"…-br"`): a cache must not take one coding's bytes for another's.
//! `If-None-Match` drops the suffix again before comparing (see
//! `http::respond`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// The codings whose names are appended to ETags.
pub const CODINGS: [&str; 3] = ["br", "gzip", "deflate"];

/// Middleware (outside compression): sets `Cache-Control` and marks ETags
/// with the content coding.
pub async fn headers<B: MessageBody>(
    max_age: u32,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let is_read = matches!(*req.method(), Method::GET | Method::HEAD);
    // Probes must see the server as it is now.
    let is_probe = crate::http::is_probe(req.path());
    let with_key = req.headers().contains_key(header::AUTHORIZATION);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut response = next.call(req).await?;
    if !is_read {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers_mut();
    let policy = if is_probe {
        Some("no-store".to_owned())
    } else if with_key {
        Some("private, no-cache".to_owned())
    } else if headers.contains_key(header::CACHE_CONTROL) {
        None
    } else if status.is_success() || status == actix_web::http::StatusCode::NOT_MODIFIED {
        Some(if max_age == 0 {
            "public, no-cache".to_owned()
        } else {
            format!("public, max-age={max_age}")
        })
    } else {
        Some("no-store".to_owned())
    };
    if let Some(policy) = policy.and_then(|p| HeaderValue::from_str(&p).ok()) {
        headers.insert(header::CACHE_CONTROL, policy);
    }
    // Every read may come compressed, so caches must key on the coding
    // asked for, also when this answer was not compressed.
    let varies = headers
        .get_all(header::VARY)
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.to_ascii_lowercase().contains("accept-encoding"));
    if !varies {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    let coding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| CODINGS.iter().find(|coding| **coding == value));
    if status == actix_web::http::StatusCode::NOT_MODIFIED {
        // A 304 has no body to compress, but it must name the tag the
        // client holds: the coded one, if that is what it sent.
        let current = headers
            .get(header::ETAG)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let held = current.zip(if_none_match).and_then(|(current, sent)| {
            sent.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .find(|tag| *tag != current && without_coding(tag) == current.as_str())
                .and_then(|tag| HeaderValue::from_str(tag).ok())
        });
        if let Some(held) = held {
            headers.insert(header::ETAG, held);
        }
    } else if let Some(coding) = coding {
        let tagged = headers
            .get(header::ETAG)
            .and_then(|value| value.to_str().ok())
            .and_then(|tag| tag.strip_prefix('"')?.strip_suffix('"'))
            .and_then(|opaque| HeaderValue::from_str(&format!("\"{opaque}-{coding}\"")).ok());
        if let Some(tagged) = tagged {
            headers.insert(header::ETAG, tagged);
        }
    }
    Ok(response)
}

/// An entity tag from a request with the coding suffix this server
/// appended taken off: `"abc-br"` → `"abc"`.
pub fn without_coding(tag: &str) -> std::borrow::Cow<'_, str> {
    if let Some(opaque) = tag.strip_suffix('"') {
        for coding in CODINGS {
            if let Some(base) = opaque
                .strip_suffix(coding)
                .and_then(|b| b.strip_suffix('-'))
            {
                return format!("{base}\"").into();
            }
        }
    }
    tag.into()
}

#[cfg(test)]
mod tests {
    use super::without_coding;

    #[test]
    fn coding_suffixes_come_off_and_nothing_else() {
        assert_eq!(without_coding("\"abc-br\""), "\"abc\"");
        assert_eq!(without_coding("W/\"v.r-gzip\""), "W/\"v.r\"");
        assert_eq!(without_coding("\"abc\""), "\"abc\"");
        assert_eq!(without_coding("\"abcbr\""), "\"abcbr\"");
        assert_eq!(without_coding("*"), "*");
    }
}
