//! Request bodies: read up to a limit of each endpoint's own, never
//! further; JSON parsed strictly (unknown fields rejected), every problem a
//! 4xx that names the field.

use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::HttpRequest;
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;

use crate::http::error::{ApiError, ErrorCode, FieldError};

/// The deepest nesting of arrays and objects a JSON body may have: far
/// more than any record needs, and half of serde_json's own recursion
/// limit, whose error names no field and only says the limit was hit.
pub const MAX_JSON_DEPTH: usize = 64;

/// The largest publication body (create, PUT, PATCH): a publication
/// carries the whole text of each variant, and a long report in four
/// variants runs to a few MiB.
pub const PUBLICATION_BODY_LIMIT: usize = 16 << 20;

/// The largest organisation, field, project or event body: names, labels
/// and a description or two in a few languages (the demo's largest is
/// 2.4 KB).
pub const VOCABULARY_BODY_LIMIT: usize = 1 << 20;

/// The largest small body: a withdrawal reason (at most 2,000 characters),
/// a new key, a webhook registration, an OAI-PMH request.
pub const SMALL_BODY_LIMIT: usize = 64 << 10;

/// The OpenAPI extension on a request body that gives its limit in bytes.
pub const LIMIT_EXTENSION: &str = "x-max-body-bytes";

/// Refuses a body before a byte of it is read: one sent with a content
/// coding (415: a few compressed bytes can inflate to gigabytes, and would
/// be inflated before any limit could count them), or one whose
/// `Content-Length` is over `limit` (413).
pub fn check_declared(req: &HttpRequest, limit: u64) -> Result<(), ApiError> {
    if let Some(coding) = req.headers().get(header::CONTENT_ENCODING) {
        let coding = String::from_utf8_lossy(coding.as_bytes());
        if !coding.trim().eq_ignore_ascii_case("identity") {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "request bodies are taken as they are, without a Content-Encoding ({:?} was sent)",
                    coding.trim()
                ),
            ));
        }
    }
    let Some(declared) = req.headers().get(header::CONTENT_LENGTH) else {
        return Ok(());
    };
    let declared = declared
        .to_str()
        .ok()
        .and_then(|value| value.trim().parse::<u64>().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "Content-Length is not a number"))?;
    if declared > limit {
        return Err(too_large(limit));
    }
    Ok(())
}

/// Reads a whole request body of at most `limit` bytes: refused as
/// [`check_declared`] says before reading, and at the first chunk that
/// takes it past `limit` when it comes without a length (chunked).
pub async fn read(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Bytes, ApiError> {
    check_declared(req, limit as u64)?;
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(broke_off)?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit as u64));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// 413 `payload_too_large`, naming the endpoint's limit.
pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "this endpoint takes a body of at most {} ({limit} bytes)",
            size_text(limit)
        ),
    )
}

/// 400 for a body the connection stopped sending part way.
pub fn broke_off(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidBody,
        format!("the body broke off: {error}"),
    )
}

/// A size as people write it: `16 MiB`, `64 KiB`, else in bytes.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        0 => "0 bytes".to_owned(),
        _ if bytes % (1 << 20) == 0 => format!("{} MiB", bytes >> 20),
        _ if bytes % (1 << 10) == 0 => format!("{} KiB", bytes >> 10),
        _ => format!("{bytes} bytes"),
    }
}

/// Reads a JSON request body of at most `limit` bytes into `T`: refused
/// before reading as [`check_declared`] says, or with 415 unless it is
/// sent as JSON; 413 past the limit; then as [`parse_json`] says.
pub async fn json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<T, ApiError> {
    check_declared(req, limit as u64)?;
    check_json_type(req)?;
    let body = read(req, payload, limit).await?;
    parse_json(&body)
}

/// 415 unless the body is declared as JSON (`application/json` or any
/// `+json` type).
fn check_json_type(req: &HttpRequest) -> Result<(), ApiError> {
    let media_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    let is_json = media_type
        .as_deref()
        .is_some_and(|t| t == "application/json" || t.ends_with("+json"));
    if !is_json {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as Content-Type: application/json",
        ));
    }
    Ok(())
}

/// Parses a JSON body into `T`: 400 `json_too_deep` past
/// [`MAX_JSON_DEPTH`], 400 `invalid_body` for a NUL character in a string,
/// 400 naming the path of the first field that does not fit.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    check_depth(body)?;
    check_no_nul(body)?;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = error.path().to_string();
        let message = error.inner().to_string();
        let mut problem = ApiError::new(
            ErrorCode::InvalidBody,
            if field == "." {
                message.clone()
            } else {
                format!("{field}: {message}")
            },
        );
        problem.errors.push(FieldError { field, message });
        problem
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::new(ErrorCode::InvalidBody, error.to_string()))?;
    Ok(parsed)
}

/// Checks, before parsing, that no array or object in a JSON text nests
/// deeper than [`MAX_JSON_DEPTH`]: one pass over the bytes that skips
/// strings. Whether the text is JSON at all is the parser's to say.
fn check_depth(body: &[u8]) -> Result<(), ApiError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (offset, &byte) in body.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(ApiError::new(
                        ErrorCode::JsonTooDeep,
                        format!(
                            "arrays and objects nest deeper than {MAX_JSON_DEPTH} levels (at byte {offset})"
                        ),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a JSON text with a NUL character (`\u0000`, the only way one can
/// be written in JSON) in a string or a key. No text of the archive has a
/// use for it, and PostgreSQL cannot store it in a `text` column: refused
/// here, it is the same clear 400 on either backend instead of a failed
/// write.
fn check_no_nul(body: &[u8]) -> Result<(), ApiError> {
    let (mut in_string, mut escaped) = (false, false);
    for (offset, &byte) in body.iter().enumerate() {
        if !in_string {
            in_string = byte == b'"';
        } else if escaped {
            escaped = false;
            if byte == b'u' && body.get(offset + 1..offset + 5) == Some(b"0000".as_slice()) {
                return Err(ApiError::new(
                    ErrorCode::InvalidBody,
                    format!(
                        "strings must not contain the NUL character \\u0000 (at byte {})",
                        offset - 1
                    ),
                ));
            }
        } else if byte == b'\\' {
            escaped = true;
        } else if byte == b'"' {
            in_string = false;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_in_the_largest_whole_unit() {
        assert_eq!(size_text(PUBLICATION_BODY_LIMIT as u64), "16 MiB");
        assert_eq!(size_text(SMALL_BODY_LIMIT as u64), "64 KiB");
        assert_eq!(size_text(3 << 10), "3 KiB");
        assert_eq!(size_text(1536), "1536 bytes");
        assert_eq!(size_text(1000), "1000 bytes");
        assert_eq!(size_text(0), "0 bytes");
    }

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        assert!(check_depth(nested(MAX_JSON_DEPTH).as_bytes()).is_ok());
        let error = check_depth(nested(MAX_JSON_DEPTH + 1).as_bytes()).unwrap_err();
        assert_eq!(error.code, ErrorCode::JsonTooDeep);
        let objects = format!("{}{}", r#"{"a":"#.repeat(65), "}".repeat(65));
        assert!(check_depth(objects.as_bytes()).is_err());
        // Brackets inside strings, escaped quotes included, are text.
        let text = format!(r#"{{"title": "{}\"{}"}}"#, "[".repeat(100), "{".repeat(100));
        assert!(check_depth(text.as_bytes()).is_ok());
        // Siblings do not add up.
        let wide = format!("[{}]", vec!["[[]]"; 1000].join(","));
        assert!(check_depth(wide.as_bytes()).is_ok());
    }

    #[test]
    fn a_nul_escape_is_refused_in_strings_only() {
        let error = check_no_nul(br#"{"title": "a\u0000b"}"#).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidBody);
        assert!(error.detail.contains("at byte 12"), "{}", error.detail);
        assert!(check_no_nul(br#"{"a\u0000": 1}"#).is_err());
        // An escaped backslash followed by the letters is text; a NUL after
        // it is still found.
        assert!(check_no_nul(br#"{"path": "C:\\u0000"}"#).is_ok());
        assert!(check_no_nul(br#"{"path": "C:\\u0000", "x": "\u00001"}"#).is_err());
        // Other escapes and code points are text too.
        assert!(check_no_nul(br#"{"t": "\u0001\"\u1000"}"#).is_ok());
        assert!(check_no_nul(b"[0000, \"u0000\"]").is_ok());
    }
}
