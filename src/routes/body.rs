//! Request bodies: JSON only, parsed strictly (unknown fields rejected),
//! every problem a 4xx that names the field.

use actix_web::http::header;
use actix_web::HttpRequest;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, FieldError};

/// Parses a JSON request body into `T`: 415 unless it is sent as JSON, 400
/// naming the path of the first field that does not fit.
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
