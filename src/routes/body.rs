//! Request bodies: JSON only, parsed strictly (unknown fields rejected),
//! every problem a 4xx that names the field.

use actix_web::http::header;
use actix_web::HttpRequest;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, FieldError};

/// The deepest nesting of arrays and objects a JSON body may have: far
/// more than any record needs, and half of serde_json's own recursion
/// limit, whose error names no field and only says the limit was hit.
pub const MAX_JSON_DEPTH: usize = 64;

/// Parses a JSON request body into `T`: 415 unless it is sent as JSON, 400
/// `json_too_deep` past [`MAX_JSON_DEPTH`], 400 `invalid_body` for a NUL
/// character in a string, 400 naming the path of the first field that does
/// not fit.
pub fn json<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, ApiError> {
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
