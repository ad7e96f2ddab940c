//! Records: whole entities as editors write them — the objects of the
//! import format of DESIGN.md (one a line, `type` says what it is,
//! references by slug) and the bodies of the write API. [`check`] says what
//! the types alone cannot; [`references`] lists the slugs a record names,
//! for the writer to resolve. The same types serialize for `arkiv export`,
//! so export → import round-trips.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::domain::images::ImageRecord;
use crate::domain::markup::BodyFormat;
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
    /// Reads a record from a JSON object whose `"type"` names its entity,
    /// naming the field at fault (a path such as `variants.en.title`, empty
    /// for the whole object) when it is not one.
    pub fn from_json(value: serde_json::Value) -> Result<Record, (String, String)> {
        Self::from_json_all(value).map_err(|mut problems| problems.swap_remove(0))
    }

    /// Reads a record as [`Record::from_json`] does, but names every field
    /// of the wrong type or unknown, not only the first (see
    /// [`typed_all`]), so that an editing form can mark them all.
    pub fn from_json_all(value: serde_json::Value) -> Result<Record, Vec<(String, String)>> {
        let one = |field: &str, message: String| vec![(field.to_owned(), message)];
        if let Some(field) = nul_in(&value) {
            return Err(one(
                &field,
                "must not contain the NUL character \\u0000 (PostgreSQL cannot store it)".into(),
            ));
        }
        let serde_json::Value::Object(mut object) = value else {
            return Err(one("", "must be a JSON object".into()));
        };
        let kind = match object.remove("type") {
            Some(serde_json::Value::String(kind)) => kind,
            Some(_) => return Err(one("type", "must be a string".into())),
            None => return Err(one(
                "type",
                "is missing; it must be one of organisation, field, project, event, publication"
                    .into(),
            )),
        };
        let value = serde_json::Value::Object(object);
        Ok(match kind.as_str() {
            "organisation" => Record::Organisation(typed_all(value)?),
            "field" => Record::Field(typed_all(value)?),
            "project" => Record::Project(typed_all(value)?),
            "event" => Record::Event(typed_all(value)?),
            "publication" => Record::Publication(typed_all(value)?),
            other => {
                return Err(one(
                    "type",
                    format!(
                        "{other:?} is not one of organisation, field, project, event, publication"
                    ),
                ))
            }
        })
    }

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

    /// The record's image, if it has one (fields have none).
    pub fn image(&self) -> Option<&ImageRecord> {
        match self {
            Record::Organisation(r) => r.image.as_ref(),
            Record::Field(_) => None,
            Record::Project(r) => r.image.as_ref(),
            Record::Event(r) => r.image.as_ref(),
            Record::Publication(r) => r.image.as_ref(),
        }
    }

    /// Sets or removes the record's image; false for a field (which has
    /// none).
    pub fn set_image(&mut self, image: Option<ImageRecord>) -> bool {
        let slot = match self {
            Record::Organisation(r) => &mut r.image,
            Record::Field(_) => return false,
            Record::Project(r) => &mut r.image,
            Record::Event(r) => &mut r.image,
            Record::Publication(r) => &mut r.image,
        };
        *slot = image;
        true
    }

    /// The kind of entity the record is.
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

/// How many wrong fields one body may have named before the parse stops.
const MAX_TYPE_ERRORS: usize = 32;

/// Deserializes `value` as `T`, naming every field of the wrong type and
/// every unknown field, not only the first: each one found is taken out
/// and the parse tried again. It stops at a required field that is
/// missing (one it took out itself is not reported twice), at an element
/// of a list (taking it out would renumber the rest) and at the object as
/// a whole. Paths read like `variants.en.title`.
pub fn typed_all<T: serde::de::DeserializeOwned>(
    mut value: serde_json::Value,
) -> Result<T, Vec<(String, String)>> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut taken_out: Vec<String> = Vec::new();
    for _ in 0..MAX_TYPE_ERRORS {
        let error = match serde_path_to_error::deserialize(value.clone()) {
            Ok(parsed) if problems.is_empty() => return Ok(parsed),
            Ok(_) => return Err(problems),
            Err(error) => error,
        };
        // A key read other than as a string shows as `.?`: name the map
        // instead. (Language tags show: `label.de`.)
        let path = error.path().to_string().replace(".?", "");
        let path = if path == "." { String::new() } else { path };
        let message = error.into_inner().to_string();
        // The member a message names (`missing field `x``), under `path`
        // unless the path already ends with it.
        let named = |prefix: &str| {
            let name = message.strip_prefix(prefix)?.split('`').next()?;
            Some(
                if path.is_empty() || path == name || path.ends_with(&format!(".{name}")) {
                    if path.is_empty() {
                        name.to_owned()
                    } else {
                        path.clone()
                    }
                } else {
                    format!("{path}.{name}")
                },
            )
        };
        if let Some(missing) = named("missing field `") {
            if !taken_out.contains(&missing) {
                problems.push((path, message));
            }
            return Err(problems);
        }
        let (field, next) = match named("unknown field `") {
            Some(unknown) => ((path, message), unknown),
            None => ((path.clone(), message), path),
        };
        problems.push(field);
        if !take_out(&mut value, &next) {
            return Err(problems);
        }
        taken_out.push(next);
    }
    Err(problems)
}

/// Removes the member at a dotted path of objects; false when the path
/// is empty, goes through a list, or names nothing.
fn take_out(value: &mut serde_json::Value, path: &str) -> bool {
    if path.is_empty() || path.contains('[') {
        return false;
    }
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else {
        return false;
    };
    let mut at = value;
    for part in parts {
        match at.get_mut(part) {
            Some(inner) => at = inner,
            None => return false,
        }
    }
    at.as_object_mut()
        .is_some_and(|object| object.remove(last).is_some())
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
    /// A text about it per language, for its page: plain text (no
    /// Markdown, unlike a publication's body); left out of exports when
    /// there is none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(schema_with = descriptions)]
    pub description: LangMap,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// An http:// or https:// URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^https?://")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ror: Option<String>,
    /// Its image (a cover, a logo): set by uploading one (`PUT …/image`);
    /// `alt` and `credit` are edited here. Left out when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    pub slug: Slug,
    #[schema(schema_with = names)]
    pub label: LangMap,
    /// A text about it per language, for its page: plain text (no
    /// Markdown, unlike a publication's body); left out of exports when
    /// there is none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(schema_with = descriptions)]
    pub description: LangMap,
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
    /// A text about it per language, for its page: plain text (no
    /// Markdown, unlike a publication's body); left out of exports when
    /// there is none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(schema_with = descriptions)]
    pub description: LangMap,
    #[serde(default, with = "optional_date")]
    pub starts_on: Option<NaiveDate>,
    #[serde(default, with = "optional_date")]
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub funders: Vec<FunderRef>,
    #[serde(default)]
    pub partners: Vec<Slug>,
    /// The organisations that carry the project out (the archive's own,
    /// usually). Left out of exports when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implementers: Vec<Slug>,
    #[serde(default)]
    pub fields: Vec<Slug>,
    /// Its image (a cover, a logo): set by uploading one (`PUT …/image`);
    /// `alt` and `credit` are edited here. Left out when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRecord>,
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
    /// A text about it per language, for its page: plain text (no
    /// Markdown, unlike a publication's body); left out of exports when
    /// there is none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(schema_with = descriptions)]
    pub description: LangMap,
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
    /// Its image (a cover, a logo): set by uploading one (`PUT …/image`);
    /// `alt` and `credit` are edited here. Left out when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRecord>,
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
    /// Its cover image: set by uploading one (`PUT …/image`);
    /// `alt` and `credit` are edited here. Left out when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantRecord {
    #[schema(schema_with = title)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    /// The full text; how it is written is `body_format`.
    #[serde(default)]
    pub body: String,
    /// `plain` (the default, left out of exports) or `markdown`. The
    /// summary is plain text whatever the body's format.
    #[serde(default, skip_serializing_if = "BodyFormat::is_plain")]
    pub body_format: BodyFormat,
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
/// [`MAX_TITLE_CHARS`] characters.
fn title() -> utoipa::openapi::ObjectBuilder {
    use utoipa::openapi::{schema::Type, ObjectBuilder};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_TITLE_CHARS))
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

/// Longer texts (alt texts), in any of the languages.
pub(crate) fn texts() -> utoipa::openapi::Object {
    use utoipa::openapi::{schema::Type, ObjectBuilder};
    let text = ObjectBuilder::new().schema_type(Type::String);
    per_language("The text in each language it exists in", text, false)
}

/// Descriptions of organisations, fields, projects and events: plain
/// text, in any of the languages.
fn descriptions() -> utoipa::openapi::Object {
    use utoipa::openapi::{schema::Type, ObjectBuilder};
    let text = ObjectBuilder::new().schema_type(Type::String);
    per_language(
        "Plain text in each language it exists in: shown as it is, never read as Markdown \
         or HTML (only a publication's body has a `body_format`)",
        text,
        false,
    )
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
            crate::domain::files::ALLOWED_MEDIA_TYPES
                .iter()
                .map(|(_, media_type)| *media_type),
        ))
        .build()
}

/// The longest title, name or label accepted.
pub const MAX_TITLE_CHARS: usize = 1_000;

fn check_texts(field: &str, texts: &LangMap, required: bool, problems: &mut Vec<(String, String)>) {
    if required && texts.is_empty() {
        problems.push((field.into(), "needs a text in at least one language".into()));
    }
    for (lang, text) in texts {
        if text.trim().is_empty() {
            problems.push((format!("{field}.{lang}"), "must not be empty".into()));
        } else if text.chars().count() > MAX_TITLE_CHARS {
            problems.push((
                format!("{field}.{lang}"),
                format!("must be at most {MAX_TITLE_CHARS} characters"),
            ));
        }
    }
}

fn check_dates(
    starts_on: Option<chrono::NaiveDate>,
    ends_on: Option<chrono::NaiveDate>,
    problems: &mut Vec<(String, String)>,
) {
    if let (Some(starts_on), Some(ends_on)) = (starts_on, ends_on) {
        if ends_on < starts_on {
            problems.push(("ends_on".into(), "must not be before starts_on".into()));
        }
    }
}

fn check_unique<'a>(
    field: &str,
    slugs: impl Iterator<Item = &'a Slug>,
    problems: &mut Vec<(String, String)>,
) {
    let mut seen = HashSet::new();
    for (index, slug) in slugs.enumerate() {
        if !seen.insert(slug) {
            problems.push((
                format!("{field}[{index}]"),
                format!("{slug:?} is listed twice"),
            ));
        }
    }
}

/// Checks what the types alone cannot: required texts, date order, the
/// status rules. Returns (field, message) pairs.
pub fn check(record: &Record) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    match record {
        Record::Organisation(org) => {
            check_texts("name", &org.name, true, &mut problems);
            check_texts("description", &org.description, false, &mut problems);
            if let Some(website) = &org.website {
                if !(website.starts_with("https://") || website.starts_with("http://")) {
                    problems.push((
                        "website".into(),
                        "must be an http:// or https:// URL".into(),
                    ));
                }
            }
        }
        Record::Field(field) => {
            check_texts("label", &field.label, true, &mut problems);
            check_texts("description", &field.description, false, &mut problems);
        }
        Record::Project(project) => {
            check_texts("title", &project.title, true, &mut problems);
            check_texts("description", &project.description, false, &mut problems);
            check_dates(project.starts_on, project.ends_on, &mut problems);
            check_unique(
                "funders",
                project.funders.iter().map(|f| f.organisation()),
                &mut problems,
            );
            check_unique("partners", project.partners.iter(), &mut problems);
            check_unique("implementers", project.implementers.iter(), &mut problems);
            check_unique("fields", project.fields.iter(), &mut problems);
        }
        Record::Event(event) => {
            check_texts("title", &event.title, true, &mut problems);
            check_texts("description", &event.description, false, &mut problems);
            check_dates(Some(event.starts_on), event.ends_on, &mut problems);
            check_unique("organisers", event.organisers.iter(), &mut problems);
        }
        Record::Publication(publication) => {
            if publication.variants.is_empty() {
                problems.push((
                    "variants".into(),
                    "needs at least one language variant".into(),
                ));
            }
            for (lang, variant) in &publication.variants {
                if variant.body_format == BodyFormat::Markdown
                    && crate::domain::markup::markdown_nesting(&variant.body)
                        > crate::domain::markup::MAX_NESTING
                {
                    problems.push((
                        format!("variants.{lang}.body"),
                        format!(
                            "nests deeper than {} levels (lists, quotes, HTML elements)",
                            crate::domain::markup::MAX_NESTING
                        ),
                    ));
                }
                if let Some(file) = &variant.file {
                    if !crate::domain::files::is_sha256(&file.sha256) {
                        problems.push((
                            format!("variants.{lang}.file.sha256"),
                            "must be 64 lowercase hex digits".into(),
                        ));
                    }
                    if file.size < 0 {
                        problems.push((
                            format!("variants.{lang}.file.size"),
                            "must not be negative".into(),
                        ));
                    }
                    if !crate::domain::files::ALLOWED_MEDIA_TYPES
                        .iter()
                        .any(|(_, allowed)| *allowed == file.media_type)
                    {
                        let allowed: Vec<&str> = crate::domain::files::ALLOWED_MEDIA_TYPES
                            .iter()
                            .map(|(_, media_type)| *media_type)
                            .collect();
                        problems.push((
                            format!("variants.{lang}.file.media_type"),
                            format!("must be one of {}", allowed.join(", ")),
                        ));
                    }
                    let failed = file.text_status == Some(TextStatus::Failed);
                    if failed != file.text_error.is_some() {
                        problems.push((
                            format!("variants.{lang}.file.text_error"),
                            "is given exactly when text_status is \"failed\"".into(),
                        ));
                    }
                    if file.name.trim().is_empty() || file.name.chars().count() > 255 {
                        problems.push((
                            format!("variants.{lang}.file.name"),
                            "must be 1 to 255 characters".into(),
                        ));
                    }
                }
                if variant.title.trim().is_empty() {
                    problems.push((format!("variants.{lang}.title"), "must not be empty".into()));
                } else if variant.title.chars().count() > MAX_TITLE_CHARS {
                    problems.push((
                        format!("variants.{lang}.title"),
                        format!("must be at most {MAX_TITLE_CHARS} characters"),
                    ));
                }
            }
            if publication.status == PublicationStatus::Published
                && publication.published_on.is_none()
            {
                problems.push((
                    "published_on".into(),
                    "is required when status is published".into(),
                ));
            }
            match (publication.status, &publication.withdrawn_reason) {
                (PublicationStatus::Withdrawn, None) => problems.push((
                    "withdrawn_reason".into(),
                    "is required when status is withdrawn".into(),
                )),
                (PublicationStatus::Draft | PublicationStatus::Published, Some(_)) => problems
                    .push((
                        "withdrawn_reason".into(),
                        "is only allowed when status is withdrawn".into(),
                    )),
                _ => {}
            }
            check_unique("fields", publication.fields.iter(), &mut problems);
            for (index, author) in publication.authors.iter().enumerate() {
                if author.trim().is_empty() {
                    problems.push((format!("authors[{index}]"), "must not be empty".into()));
                }
            }
        }
    }
    if let Some(image) = record.image() {
        problems.extend(image.problems());
    }
    problems
}

/// Lists a record's references: (field path, entity referred to, slug).
pub fn references(record: &Record) -> Vec<(String, Entity, &str)> {
    fn list<'r>(
        refs: &mut Vec<(String, Entity, &'r str)>,
        field: &str,
        entity: Entity,
        slugs: impl Iterator<Item = &'r Slug>,
    ) {
        for (index, slug) in slugs.enumerate() {
            refs.push((format!("{field}[{index}]"), entity, slug.as_str()));
        }
    }
    let mut refs = Vec::new();
    match record {
        Record::Organisation(_) | Record::Field(_) => {}
        Record::Project(project) => {
            list(
                &mut refs,
                "funders",
                Entity::Organisation,
                project.funders.iter().map(|f| f.organisation()),
            );
            list(
                &mut refs,
                "partners",
                Entity::Organisation,
                project.partners.iter(),
            );
            list(
                &mut refs,
                "implementers",
                Entity::Organisation,
                project.implementers.iter(),
            );
            list(&mut refs, "fields", Entity::Field, project.fields.iter());
        }
        Record::Event(event) => {
            list(
                &mut refs,
                "organisers",
                Entity::Organisation,
                event.organisers.iter(),
            );
            if let Some(project) = &event.project {
                refs.push(("project".into(), Entity::Project, project.as_str()));
            }
        }
        Record::Publication(publication) => {
            list(
                &mut refs,
                "fields",
                Entity::Field,
                publication.fields.iter(),
            );
            if let Some(project) = &publication.project {
                refs.push(("project".into(), Entity::Project, project.as_str()));
            }
            if let Some(event) = &publication.event {
                refs.push(("event".into(), Entity::Event, event.as_str()));
            }
        }
    }
    refs
}

/// Returns the path (`variants.en.title`, `authors[2]`) of the first string
/// or key of `value` with a NUL character in it: refused on either backend,
/// so an archive written to SQLite always moves to PostgreSQL.
fn nul_in(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0').then(String::new),
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            nul_in(item).map(|rest| format!("[{index}]{}", dotted(&rest)))
        }),
        Value::Object(object) => object.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(key.replace('\0', "\\u0000"));
            }
            nul_in(item).map(|rest| format!("{key}{}", dotted(&rest)))
        }),
        _ => None,
    }
}

/// Joins the rest of a path to its parent: `.title`, `[2]`, or nothing.
fn dotted(rest: &str) -> String {
    if rest.is_empty() || rest.starts_with('[') {
        rest.to_owned()
    } else {
        format!(".{rest}")
    }
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
