//! Query strings: decoded strictly (bad percent-encoding or UTF-8 is a 400),
//! checked against the parameters an endpoint documents (an unknown one is
//! a 400 that lists the allowed ones), then read one typed value at a time.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use actix_web::HttpRequest;
use percent_encoding::percent_decode_str;
use utoipa::openapi::path::ParameterIn;
use utoipa::IntoParams;

use crate::error::{ApiError, ErrorCode};

/// The longest query string accepted.
pub const MAX_QUERY_LEN: usize = 8 * 1024;

/// The decoded query parameters of one request.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Returns the names of the query parameters a documented params type takes.
///
/// Worked out once per type: building a type's documented parameters
/// (descriptions, schemas, examples) only to read their names cost more
/// than parsing the query string, on every request.
pub fn names_of<T: IntoParams + 'static>() -> &'static [String] {
    static NAMES: OnceLock<Mutex<HashMap<TypeId, &'static [String]>>> = OnceLock::new();
    let mut known = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    known.entry(TypeId::of::<T>()).or_insert_with(|| {
        let names: Vec<String> = T::into_params(|| Some(ParameterIn::Query))
            .into_iter()
            .map(|param| param.name)
            .collect();
        // One small list per params type, kept for the life of the process.
        Box::leak(names.into_boxed_slice())
    })
}

/// Decodes percent escapes strictly: every `%` starts an escape of two
/// hex digits, and the bytes must be UTF-8. (Lenient decoders keep a
/// stray `%zz` as it is, so that one spelling would mean two things.)
pub fn percent_decoded(raw: &str) -> Result<std::borrow::Cow<'_, str>, String> {
    let bytes = raw.as_bytes();
    for (at, _) in bytes.iter().enumerate().filter(|(_, byte)| **byte == b'%') {
        let escape = bytes.get(at + 1..at + 3);
        if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
            return Err(format!(
                "has a \"%\" at byte {at} that is not followed by two hex digits"
            ));
        }
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| "has percent escapes that do not decode to UTF-8".to_owned())
}

fn decode(raw: &str) -> Result<String, ApiError> {
    let spaced = raw.replace('+', " ");
    percent_decoded(&spaced)
        .map(|text| text.into_owned())
        .map_err(|why| {
            ApiError::new(
                ErrorCode::InvalidQueryString,
                format!("{raw:?} is not percent-encoded UTF-8: it {why}"),
            )
        })
}

impl Params {
    /// Decodes the query string and rejects parameters not in `allowed`.
    pub fn parse(req: &HttpRequest, allowed: &[String]) -> Result<Self, ApiError> {
        let query = req.query_string();
        if query.len() > MAX_QUERY_LEN {
            return Err(ApiError::new(
                ErrorCode::QueryTooLong,
                format!("the query string is longer than {MAX_QUERY_LEN} bytes"),
            ));
        }
        let mut pairs = Vec::new();
        for piece in query.split('&').filter(|piece| !piece.is_empty()) {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            pairs.push((decode(name)?, decode(value)?));
        }
        let unknown: Vec<&str> = pairs
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| !allowed.iter().any(|a| a == name))
            .collect();
        if let Some(first) = unknown.first() {
            let mut error = ApiError::new(
                ErrorCode::UnknownQueryParameter,
                format!(
                    "unknown query parameter {first:?}; this endpoint takes: {}",
                    allowed.join(", ")
                ),
            );
            error.errors = unknown
                .iter()
                .map(|name| crate::error::FieldError {
                    field: (*name).to_owned(),
                    message: "is not a parameter of this endpoint".into(),
                })
                .collect();
            error.allowed = Some(allowed.to_vec());
            return Err(error);
        }
        Ok(Self { pairs })
    }

    /// Every decoded (name, value) pair, in request order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Returns the single value of a parameter; giving it twice is an error.
    pub fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::invalid(name, "must be given at most once"));
        }
        Ok(first)
    }

    /// Returns every value of a list parameter, given repeatedly
    /// (`kind=a&kind=b`) or comma-separated (`kind=a,b`).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Parses a single value with `parse`, naming the parameter on failure.
    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ApiError> {
        match self.one(name)? {
            None => Ok(None),
            Some(raw) => parse(raw)
                .map(Some)
                .map_err(|message| ApiError::invalid(name, message)),
        }
    }

    /// Parses every value of a list parameter with `parse`.
    pub fn parsed_list<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, ApiError> {
        self.list(name)
            .iter()
            .map(|raw| parse(raw).map_err(|message| ApiError::invalid(name, message)))
            .collect()
    }
}

/// Parses a whole number written in plain digits (no sign) within `min..=max`.
pub fn parse_bounded(raw: &str, min: u64, max: u64) -> Result<u64, String> {
    match raw.parse::<u64>() {
        Ok(value) if (min..=max).contains(&value) && raw.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(value)
        }
        _ => Err(format!("{raw:?} is not an integer from {min} to {max}")),
    }
}

/// Parses a page size: an integer from 1 to 100.
pub fn parse_limit(raw: &str) -> Result<i64, String> {
    parse_bounded(raw, 1, 100).map(|limit| limit as i64)
}

/// Parses a year from 1000 to 9999.
pub fn parse_year(raw: &str) -> Result<i32, String> {
    match raw.parse::<i32>() {
        Ok(year) if (1000..=9999).contains(&year) && raw.len() == 4 => Ok(year),
        _ => Err(format!("{raw:?} is not a four-digit year")),
    }
}

/// Parses a filter value that names an entity, a UUID or a slug, into its
/// canonical spelling.
pub fn parse_key(raw: &str) -> Result<String, String> {
    crate::domain::IdOrSlug::parse(raw).map(|key| key.canonical())
}

/// Parses the `{id_or_slug}` path segment into its canonical spelling.
pub fn path_key(raw: &str) -> Result<String, ApiError> {
    parse_key(raw).map_err(|message| ApiError::invalid("id_or_slug", message))
}
