//! Domain types: values parsed once at the edge (HTTP, import) and trusted
//! afterwards. Nothing in here does I/O.

pub mod catalog;
pub mod files;
pub mod images;
pub mod keys;
pub mod lang;
pub mod links;
pub mod markup;
pub mod net;
pub mod reading;
pub mod records;
pub mod text;
pub mod translit;
pub mod vocabulary;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use lang::{Lang, LanguageRange, Served};
pub use vocabulary::{EventKind, PublicationKind, PublicationStatus, Role};

/// The longest slug accepted anywhere.
pub const MAX_SLUG_LEN: usize = 200;

/// A resource's stable, URL-safe name: lowercase ASCII letters and digits in
/// groups joined by single hyphens (`conclusions-expert-discussion-2024-10-31`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// Parses a slug, saying what is wrong with it when it is not one.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("must not be empty".into());
        }
        if raw.len() > MAX_SLUG_LEN {
            return Err(format!("must be at most {MAX_SLUG_LEN} characters"));
        }
        let well_formed = raw.split('-').all(|group| {
            !group.is_empty()
                && group
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if !well_formed {
            return Err(
                "must be lowercase letters a-z and digits in groups joined by single hyphens"
                    .into(),
            );
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`Slug::parse`] takes, as the OpenAPI document states it (with
/// `maxLength` [`MAX_SLUG_LEN`]).
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

impl utoipa::PartialSchema for Slug {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A URL-safe name: lowercase letters a-z and digits in groups joined by single hyphens",
            ))
            .pattern(Some(SLUG_PATTERN))
            .max_length(Some(MAX_SLUG_LEN))
            .examples([serde_json::json!("dialogue-solutions-future")])
            .into()
    }
}

impl utoipa::ToSchema for Slug {}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Slug::parse(&raw)
            .map_err(|message| serde::de::Error::custom(format!("invalid slug {raw:?}: {message}")))
    }
}

/// How a path segment names a resource: by its UUID or by its slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdOrSlug {
    Id(uuid::Uuid),
    Slug(Slug),
}

/// What [`IdOrSlug::parse`] takes, as the OpenAPI document states it: a
/// hyphenated UUID (either case) or a slug (at most [`MAX_SLUG_LEN`]).
pub const ID_OR_SLUG_PATTERN: &str = "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[a-z0-9]+(-[a-z0-9]+)*)$";

impl IdOrSlug {
    /// Parses a path segment; a UUID wins over a slug of the same spelling.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Ok(id) = uuid::Uuid::parse_str(raw) {
            if raw.len() == 36 {
                return Ok(Self::Id(id));
            }
        }
        Slug::parse(raw)
            .map(Self::Slug)
            .map_err(|message| format!("is neither a UUID nor a slug: the slug {message}"))
    }

    /// Returns the canonical spelling: a lowercase hyphenated UUID, or the slug.
    pub fn canonical(&self) -> String {
        match self {
            Self::Id(id) => id.hyphenated().to_string(),
            Self::Slug(slug) => slug.to_string(),
        }
    }

    /// Returns the value to compare with the `id` column and with `slug`.
    pub fn key(&self) -> (Option<String>, Option<&str>) {
        match self {
            Self::Id(id) => (Some(id.hyphenated().to_string()), None),
            Self::Slug(slug) => (None, Some(slug.as_str())),
        }
    }
}

/// Finds the one of `values` that `name` calls `raw`, or says which names
/// there are: how every closed list of wire names (kinds, sorts, facets)
/// is parsed, so that each error lists the names the parser takes.
pub fn one_of<'a, T>(
    raw: &str,
    values: &'a [T],
    name: impl Fn(&'a T) -> &'a str,
) -> Result<&'a T, String> {
    values
        .iter()
        .find(|value| name(value) == raw)
        .ok_or_else(|| {
            let names: Vec<&str> = values.iter().map(&name).collect();
            format!("{raw:?} is not one of {}", names.join(", "))
        })
}

/// Parses an ISO calendar date `YYYY-MM-DD`: four digits of year, no sign.
/// (chrono alone takes `-001-01-01` and `+001-01-01`, which are stored and
/// served as `-0001-01-01` and `0001-01-01`: no longer the text that was
/// sent, and the first not even a date this parser takes back.)
pub fn parse_date(raw: &str) -> Result<chrono::NaiveDate, String> {
    let shaped = raw.len() == 10
        && raw.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !shaped {
        return Err(format!("{raw:?} is not a date in the form YYYY-MM-DD"));
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| format!("{raw:?} is not a valid date in the form YYYY-MM-DD"))
}

/// Formats a timestamp the way every timestamp is stored and served: UTC,
/// microseconds, fixed width, so that text order is time order.
pub fn format_timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Returns the current time in the stored timestamp format.
pub fn now_timestamp() -> String {
    format_timestamp(chrono::Utc::now())
}

/// Parses a timestamp given by a client: RFC 3339, or a bare date meaning
/// its midnight UTC.
pub fn parse_timestamp(raw: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(date) = parse_date(raw) {
        if let Some(midnight) = date.and_hms_opt(0, 0, 0) {
            return Ok(midnight.and_utc());
        }
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|at| at.with_timezone(&chrono::Utc))
        .map_err(|_| format!("{raw:?} is neither a date YYYY-MM-DD nor an RFC 3339 timestamp"))
}

/// Returns a new time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_finds_a_name_or_lists_them_all() {
        let sorts = [("relevance", 1), ("-published_on", 2)];
        assert_eq!(
            one_of("-published_on", &sorts, |(name, _)| *name),
            Ok(&sorts[1])
        );
        assert_eq!(
            one_of("Relevance", &sorts, |(name, _)| *name),
            Err(r#""Relevance" is not one of relevance, -published_on"#.to_owned())
        );
    }

    #[test]
    fn slugs_are_lowercase_groups_joined_by_single_hyphens() {
        assert!(Slug::parse("conclusions-2024-10-31").is_ok());
        assert!(Slug::parse("publication-000001").is_ok());
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "A",
            "a b",
            "č",
            "a_b",
            &"a".repeat(201),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn a_uuid_is_an_id_and_anything_slug_shaped_is_a_slug() {
        let id = "0192f5e4-1c2b-7cc3-9a4e-6f1d2b3c4d5e";
        assert!(matches!(IdOrSlug::parse(id), Ok(IdOrSlug::Id(_))));
        assert!(matches!(
            IdOrSlug::parse("some-report"),
            Ok(IdOrSlug::Slug(_))
        ));
        assert!(IdOrSlug::parse("Not A Slug").is_err());
    }

    #[test]
    fn timestamps_sort_as_text() {
        let earlier = parse_timestamp("2024-01-02T03:04:05Z").map(format_timestamp);
        let later = parse_timestamp("2024-01-02T03:04:05.5+00:00").map(format_timestamp);
        assert_eq!(earlier.as_deref(), Ok("2024-01-02T03:04:05.000000Z"));
        assert!(earlier < later);
        assert!(parse_timestamp("yesterday").is_err());
        assert!(parse_date("2024-02-30").is_err());
    }

    #[test]
    fn dates_have_four_digits_of_year_and_no_sign() {
        assert_eq!(
            parse_date("0001-01-01").map(|date| date.to_string()),
            Ok("0001-01-01".to_owned())
        );
        for raw in [
            "-001-01-01",
            "+001-01-01",
            "2024-1-011",
            "2024/01/01",
            "２０２４-01-01",
        ] {
            assert!(parse_date(raw).is_err(), "{raw}");
        }
    }
}
