//! The NDJSON import/export format of DESIGN.md: one object a line, `type`
//! says what it is, references are by slug. The same types serialize for
//! `arkiv export`, so export → import round-trips.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::text::{TextError, TextStatus};
use crate::domain::{EventKind, Lang, PublicationKind, PublicationStatus, Role, Slug};

/// Text per language tag (`{"en": "…", "sr-Cyrl": "…"}`).
pub type LangMap = BTreeMap<Lang, String>;

/// One line of an import file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Organisation(OrganisationRecord),
    Field(FieldRecord),
    Project(ProjectRecord),
    Event(EventRecord),
    Publication(PublicationRecord),
}

impl Record {
    pub fn slug(&self) -> &Slug {
        match self {
            Record::Organisation(r) => &r.slug,
            Record::Field(r) => &r.slug,
            Record::Project(r) => &r.slug,
            Record::Event(r) => &r.slug,
            Record::Publication(r) => &r.slug,
        }
    }

    pub fn id(&self) -> Option<uuid::Uuid> {
        match self {
            Record::Organisation(r) => r.id,
            Record::Field(r) => r.id,
            Record::Project(r) => r.id,
            Record::Event(r) => r.id,
            Record::Publication(r) => r.id,
        }
    }

    /// The entity name used in the change log and in messages.
    /// Sets the record's id.
    pub fn set_id(&mut self, id: uuid::Uuid) {
        let slot = match self {
            Record::Organisation(r) => &mut r.id,
            Record::Field(r) => &mut r.id,
            Record::Project(r) => &mut r.id,
            Record::Event(r) => &mut r.id,
            Record::Publication(r) => &mut r.id,
        };
        *slot = Some(id);
    }

    pub fn entity(&self) -> Entity {
        match self {
            Record::Organisation(_) => Entity::Organisation,
            Record::Field(_) => Entity::Field,
            Record::Project(_) => Entity::Project,
            Record::Event(_) => Entity::Event,
            Record::Publication(_) => Entity::Publication,
        }
    }
}

/// The kinds of entity, in the order their references allow writing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Organisation,
    Field,
    Project,
    Event,
    Publication,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Organisation => "organisation",
            Entity::Field => "field",
            Entity::Project => "project",
            Entity::Event => "event",
            Entity::Publication => "publication",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    pub slug: Slug,
    #[schema(schema_with = names)]
    pub name: LangMap,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// An http:// or https:// URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^https?://")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ror: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    pub slug: Slug,
    #[schema(schema_with = names)]
    pub label: LangMap,
}

/// A funder of a project: a slug, or a slug with the grant number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum FunderRef {
    Slug(Slug),
    WithGrant(FunderWithGrant),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunderWithGrant {
    pub organisation: Slug,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_number: Option<String>,
}

impl FunderRef {
    pub fn organisation(&self) -> &Slug {
        match self {
            FunderRef::Slug(slug) => slug,
            FunderRef::WithGrant(funder) => &funder.organisation,
        }
    }

    pub fn grant_number(&self) -> Option<&str> {
        match self {
            FunderRef::Slug(_) => None,
            FunderRef::WithGrant(funder) => funder.grant_number.as_deref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    pub slug: Slug,
    #[schema(schema_with = names)]
    pub title: LangMap,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(schema_with = texts)]
    pub description: LangMap,
    #[serde(default, with = "optional_date")]
    pub starts_on: Option<NaiveDate>,
    #[serde(default, with = "optional_date")]
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub funders: Vec<FunderRef>,
    #[serde(default)]
    pub partners: Vec<Slug>,
    #[serde(default)]
    pub fields: Vec<Slug>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    pub slug: Slug,
    pub kind: EventKind,
    #[schema(schema_with = names)]
    pub title: LangMap,
    #[serde(with = "date")]
    pub starts_on: NaiveDate,
    #[serde(default, with = "optional_date")]
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub organisers: Vec<Slug>,
    #[serde(default)]
    pub project: Option<Slug>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    pub slug: Slug,
    pub kind: PublicationKind,
    /// `draft` when a new publication leaves it out; a replacement that
    /// leaves it out keeps the status it had.
    #[schema(required = false)]
    pub status: PublicationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_reason: Option<String>,
    #[serde(default, with = "optional_date")]
    pub published_on: Option<NaiveDate>,
    #[serde(default)]
    pub project: Option<Slug>,
    #[serde(default)]
    pub event: Option<Slug>,
    #[serde(default)]
    pub fields: Vec<Slug>,
    #[serde(default)]
    #[schema(inline, schema_with = author_names)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[schema(schema_with = variants)]
    pub variants: BTreeMap<Lang, VariantRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantRecord {
    #[schema(schema_with = title)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRecord>,
    /// Text extracted from the file, kept so an export carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_text: Option<String>,
}

/// What is known of a variant's file (the bytes live in the file store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    /// The SHA-256 of its bytes, in lowercase hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    #[schema(minimum = 0)]
    pub size: i64,
    #[schema(schema_with = media_type)]
    pub media_type: String,
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub name: String,
    /// What became of its text; left out when never extracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_status: Option<TextStatus>,
    /// Why its text could not be extracted (with `text_status: "failed"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_error: Option<TextError>,
}

/// The schema of one title or name: not blank, at most
/// [`MAX_TITLE_CHARS`](crate::import::MAX_TITLE_CHARS) characters.
fn title() -> utoipa::openapi::ObjectBuilder {
    use utoipa::openapi::{schema::Type, ObjectBuilder};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(crate::import::MAX_TITLE_CHARS))
        .pattern(Some("\\S"))
}

/// A map from stored language tags (`en`, `sq`, `sr-Latn`, `sr-Cyrl`) to
/// `text`.
fn per_language(
    description: &str,
    text: impl Into<utoipa::openapi::schema::AdditionalProperties<utoipa::openapi::Schema>>,
    at_least_one: bool,
) -> utoipa::openapi::Object {
    use utoipa::openapi::{schema::Type, ObjectBuilder};
    let tags = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Lang::ALL.map(Lang::as_str)));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .property_names(Some(tags))
        .additional_properties(Some(text))
        .min_properties(at_least_one.then_some(1))
        .build()
}

/// Names, labels and titles: at least one language, each text a [`title`].
fn names() -> utoipa::openapi::Object {
    per_language("The text in each language it exists in", title(), true)
}

/// Longer texts (descriptions), in any of the languages.
fn texts() -> utoipa::openapi::Object {
    use utoipa::openapi::{schema::Type, ObjectBuilder};
    let text = ObjectBuilder::new().schema_type(Type::String);
    per_language("The text in each language it exists in", text, false)
}

/// A publication's variants: at least one. ([`VariantRecord`] is listed
/// among the document's schemas in [`crate::openapi`], since this refers to
/// it by name.)
fn variants() -> utoipa::openapi::Object {
    let variant = utoipa::openapi::schema::RefBuilder::new()
        .ref_location_from_schema_name(<VariantRecord as ToSchema>::name());
    per_language("The variant in each language", variant, true)
}

/// Authors' names: none blank.
fn author_names() -> utoipa::openapi::Array {
    use utoipa::openapi::{schema::Type, ArrayBuilder, ObjectBuilder};
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("\\S"));
    ArrayBuilder::new().items(name).build()
}

/// The media types a stored file may have.
fn media_type() -> utoipa::openapi::Object {
    use utoipa::openapi::{schema::Type, ObjectBuilder};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(
            crate::files::ALLOWED_MEDIA_TYPES
                .iter()
                .map(|(_, media_type)| *media_type),
        ))
        .build()
}

/// Dates as `YYYY-MM-DD`, with a message that says what is wrong.
mod date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(date)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        let raw = String::deserialize(deserializer)?;
        crate::domain::parse_date(&raw).map_err(serde::de::Error::custom)
    }
}

/// Optional dates as `YYYY-MM-DD` or null.
mod optional_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        date: &Option<NaiveDate>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => serializer.collect_str(date),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|raw| crate::domain::parse_date(&raw).map_err(serde::de::Error::custom))
            .transpose()
    }
}
