//! Query strings: decoded strictly (bad percent-encoding or UTF-8 is a 400),
//! checked against the parameters an endpoint documents (an unknown one is
//! a 400 that lists the allowed ones), then read into that endpoint's
//! parameter struct.
//!
//! One struct per endpoint names each parameter once: it derives
//! `IntoParams` (the OpenAPI document) and `Deserialize` (the handler reads
//! it with [`read`]). Each field reads its raw text through a
//! `deserialize_with` function built on [`one`] or [`list`] and a parser
//! such as [`parse_year`], whose message becomes the 400's. A single value
//! given twice is a 400; a list takes repeated (`kind=a&kind=b`) and
//! comma-separated (`kind=a,b`) values.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use actix_web::HttpRequest;
use percent_encoding::percent_decode_str;
use serde::de::value::SeqDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use utoipa::openapi::path::ParameterIn;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ErrorCode};

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

/// Whether a parameter is one every endpoint ignores rather than refuses:
/// `_` (a cache-buster some HTTP libraries add) and the tracking tags that
/// links shared by newsletters and social sites carry (`utm_*`, `fbclid`,
/// `gclid`, `mc_cid`, `mc_eid`), so such a link to the API still works.
pub fn is_ignored(name: &str) -> bool {
    matches!(name, "_" | "fbclid" | "gclid" | "mc_cid" | "mc_eid") || name.starts_with("utm_")
}

/// Reads the query of `req` into `T`, an endpoint's parameter struct: an
/// unknown parameter, a bad value or a single value given twice is a 400.
pub fn read<T>(req: &HttpRequest) -> Result<T, ApiError>
where
    T: IntoParams + DeserializeOwned + 'static,
{
    Params::of::<T>(req)?.read()
}

impl Params {
    /// Decodes the query string and rejects parameters `T` does not document.
    pub fn of<T: IntoParams + 'static>(req: &HttpRequest) -> Result<Self, ApiError> {
        Self::parse(req, names_of::<T>())
    }

    /// Reads the parameters `T` has into `T`; others are left to other
    /// structs read from the same query.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        T::deserialize(Query { pairs: &self.pairs }).map_err(|error| match error.name {
            Some(name) => ApiError::invalid(name, error.message),
            // Only a struct that is not a parameter struct fails unnamed.
            None => ApiError::new(ErrorCode::Internal, error.message),
        })
    }

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
            let name = decode(name)?;
            let value = decode(value)?;
            if !is_ignored(&name) {
                pairs.push((name, value));
            }
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
                .map(|name| crate::http::error::FieldError {
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

/// Why a value could not be read: the parameter (once known) and the
/// parser's message.
#[derive(Debug)]
pub struct ValueError {
    name: Option<&'static str>,
    message: String,
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name {
            Some(name) => write!(f, "{name}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ValueError {}

impl de::Error for ValueError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Self {
            name: None,
            message: message.to_string(),
        }
    }
}

/// The decoded query, as a serde deserializer of a parameter struct.
struct Query<'a> {
    pairs: &'a [(String, String)],
}

impl<'de> Deserializer<'de> for Query<'_> {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ValueError> {
        Err(de::Error::custom(
            "a query is read into a struct of parameters",
        ))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_map(Fields {
            pairs: self.pairs,
            fields: fields.iter(),
            current: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// The struct's fields that the query gives, in the struct's order.
struct Fields<'a> {
    pairs: &'a [(String, String)],
    fields: std::slice::Iter<'static, &'static str>,
    current: Option<&'static str>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        let pairs = self.pairs;
        let Some(name) = self
            .fields
            .by_ref()
            .find(|name| pairs.iter().any(|(given, _)| given == *name))
        else {
            return Ok(None);
        };
        self.current = Some(name);
        seed.deserialize((*name).into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ValueError> {
        let name = self.current.take().unwrap_or_default();
        let values = self
            .pairs
            .iter()
            .filter(|(given, _)| given == name)
            .map(|(_, value)| value.as_str())
            .collect();
        seed.deserialize(Values { values })
            .map_err(|error| ValueError {
                name: Some(name),
                ..error
            })
    }
}

/// Every value given for one parameter.
struct Values<'a> {
    values: Vec<&'a str>,
}

impl<'de> Deserializer<'de> for Values<'_> {
    type Error = ValueError;

    /// Reads the single value.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.values.as_slice() {
            [value] => visitor.visit_str(value),
            _ => Err(de::Error::custom("must be given at most once")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_some(self)
    }

    /// Reads every value, repeated or comma-separated.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        let items = self
            .values
            .into_iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned);
        visitor.visit_seq(SeqDeserializer::new(items))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// Reads a parameter's single value with `parse`: the body of a field's
/// `deserialize_with` function.
pub fn one<'de, D, T>(
    deserializer: D,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw = String::deserialize(deserializer)?;
    parse(&raw).map(Some).map_err(de::Error::custom)
}

/// Reads every value of a list parameter with `parse`.
pub fn list<'de, D, T>(
    deserializer: D,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
{
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|raw| parse(raw).map_err(de::Error::custom))
        .collect()
}

/// Reads a single value as it is (once at most).
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    one(deserializer, |raw| Ok(raw.to_owned()))
}

/// Reads years (four digits), repeated or comma-separated.
pub fn years<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i32>, D::Error> {
    list(deserializer, parse_year)
}

/// Reads a page size from 1 to 100.
pub fn limit<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    one(deserializer, parse_limit)
}

/// Reads a list of entity keys (UUIDs or slugs) in their canonical spelling.
pub fn keys<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    list(deserializer, parse_key)
}

/// Returns the field names of a parameter struct, in order, as its
/// `Deserialize` implementation states them: what [`names_of`] must list.
pub fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe(Option<&'static [&'static str]>);
    impl<'de> Deserializer<'de> for &mut Probe {
        type Error = ValueError;
        fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ValueError> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, ValueError> {
            self.0 = Some(fields);
            Err(de::Error::custom("probed"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or_default()
}

/// The cursor of a list page that starts at `offset`, for lists read in a
/// fixed order (the vocabulary, search): opaque to clients.
pub fn cursor_at(offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

/// Reads a cursor [`cursor_at`] issued: where its page starts.
pub fn offset_of(cursor: &str) -> Result<usize, ApiError> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("o:")?.parse().ok())
        .ok_or_else(|| invalid_cursor("is not a cursor this list issued"))
}

/// A 400 `invalid_cursor` saying what is wrong with the cursor.
pub fn invalid_cursor(why: &str) -> ApiError {
    ApiError {
        code: ErrorCode::InvalidCursor,
        ..ApiError::invalid("cursor", why)
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

/// The `If-Match` request header of the writes that replace, change or
/// delete something, as the OpenAPI document shows it (the handlers read
/// the header itself; without it they answer 428).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "documents the header; the handlers read it")]
pub struct IfMatch {
    /// The ETag of the version the change was made against, from a GET.
    #[param(rename = "If-Match", required = true)]
    if_match: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{
        admin, changes, citations, events, feeds, organisations, projects, publications, webhooks,
    };

    /// Asserts that a parameter struct reads exactly the names it documents.
    fn reads_what_it_documents<T: IntoParams + DeserializeOwned + 'static>() {
        assert_eq!(
            fields_of::<T>(),
            names_of::<T>(),
            "{}",
            std::any::type_name::<T>()
        );
    }

    #[test]
    fn every_parameter_struct_reads_the_names_it_documents() {
        reads_what_it_documents::<admin::AuditParams>();
        reads_what_it_documents::<changes::ChangeParams>();
        reads_what_it_documents::<citations::CitationParams>();
        reads_what_it_documents::<events::EventListParams>();
        reads_what_it_documents::<feeds::FeedParams>();
        reads_what_it_documents::<crate::routes::fields::FieldListParams>();
        reads_what_it_documents::<crate::routes::labels::LabelsParams>();
        reads_what_it_documents::<organisations::LangParams>();
        reads_what_it_documents::<organisations::OrganisationListParams>();
        reads_what_it_documents::<projects::ProjectListParams>();
        reads_what_it_documents::<publications::FilterParams>();
        reads_what_it_documents::<publications::ListingParams>();
        reads_what_it_documents::<publications::PageParams>();
        reads_what_it_documents::<publications::PublicationDetailParams>();
        reads_what_it_documents::<webhooks::DeliveryParams>();
        reads_what_it_documents::<crate::routes::search::SearchParams>();
        reads_what_it_documents::<crate::routes::search::SuggestParams>();
        reads_what_it_documents::<crate::routes::sitemap::SitemapParams>();
        reads_what_it_documents::<crate::routes::stats::PublicationStatsParams>();
        reads_what_it_documents::<crate::routes::stats::TopParams>();
        reads_what_it_documents::<crate::routes::stats::ReportParams>();
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Example {
        #[serde(deserialize_with = "keys")]
        tag: Vec<String>,
        #[serde(deserialize_with = "single_year")]
        year: Option<i32>,
    }

    fn single_year<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i32>, D::Error> {
        one(deserializer, parse_year)
    }

    fn read_pairs(pairs: &[(&str, &str)]) -> Result<Example, ApiError> {
        Params {
            pairs: pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        }
        .read()
    }

    #[test]
    fn lists_take_repeats_and_commas_and_single_values_come_once() {
        let read = read_pairs(&[
            ("tag", "a, b"),
            ("other", "x"),
            ("tag", "c"),
            ("year", "2024"),
        ]);
        assert_eq!(
            read.ok(),
            Some(Example {
                tag: vec!["a".into(), "b".into(), "c".into()],
                year: Some(2024),
            })
        );
        assert_eq!(read_pairs(&[]).ok(), Some(Example::default()));
        let twice = read_pairs(&[("year", "2024"), ("year", "2025")]).err();
        assert_eq!(
            twice.map(|error| error.detail),
            Some("year: must be given at most once".to_owned())
        );
        let bad = read_pairs(&[("year", "24")]).err();
        assert_eq!(
            bad.map(|error| (error.code, error.detail)),
            Some((
                ErrorCode::InvalidParameter,
                "year: \"24\" is not a four-digit year".to_owned()
            ))
        );
    }
}
