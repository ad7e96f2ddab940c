//! Row types: what diesel reads from and writes to each table.

use diesel::prelude::*;

use super::schema::*;
use crate::domain::markup::BodyFormat;
use crate::domain::{EventKind, PublicationKind, PublicationStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
pub struct OrganisationRow {
    pub id: String,
    pub slug: String,
    pub roles: String,
    pub website: Option<String>,
    pub ror: Option<String>,
    pub content_hash: String,
    pub created_at: String,
    pub updated_at: String,
    /// The image as JSON ([`crate::domain::images::ImageRecord`]).
    pub image: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = fields)]
pub struct FieldRow {
    pub id: String,
    pub slug: String,
    pub content_hash: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = projects, treat_none_as_null = true)]
pub struct ProjectRow {
    pub id: String,
    pub slug: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub content_hash: String,
    pub created_at: String,
    pub updated_at: String,
    /// The image as JSON ([`crate::domain::images::ImageRecord`]).
    pub image: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_funders)]
pub struct ProjectFunderRow {
    pub project_id: String,
    pub organisation_id: String,
    pub grant_number: Option<String>,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_partners)]
pub struct ProjectPartnerRow {
    pub project_id: String,
    pub organisation_id: String,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_implementers)]
pub struct ProjectImplementerRow {
    pub project_id: String,
    pub organisation_id: String,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_fields)]
pub struct ProjectFieldRow {
    pub project_id: String,
    pub field_id: String,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
pub struct EventRow {
    pub id: String,
    pub slug: String,
    pub kind: EventKind,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub place: Option<String>,
    pub project_id: Option<String>,
    pub content_hash: String,
    pub created_at: String,
    pub updated_at: String,
    /// The image as JSON ([`crate::domain::images::ImageRecord`]).
    pub image: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_organisers)]
pub struct EventOrganiserRow {
    pub event_id: String,
    pub organisation_id: String,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = texts)]
pub struct TextRow {
    pub owner_id: String,
    pub attribute: String,
    pub lang: String,
    pub value: String,
}

#[derive(
    Debug,
    Clone,
    Queryable,
    Selectable,
    Insertable,
    AsChangeset,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = publications, treat_none_as_null = true)]
pub struct PublicationRow {
    pub id: String,
    pub slug: String,
    pub kind: PublicationKind,
    pub status: PublicationStatus,
    pub withdrawn_reason: Option<String>,
    pub published_on: Option<String>,
    pub project_id: Option<String>,
    pub event_id: Option<String>,
    pub authors: String,
    pub keywords: String,
    pub sort_title: String,
    pub content_hash: String,
    pub created_at: String,
    pub updated_at: String,
    /// The image as JSON ([`crate::domain::images::ImageRecord`]); absent
    /// from search listings stored before images existed.
    #[serde(default)]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = publication_fields)]
pub struct PublicationFieldRow {
    pub publication_id: String,
    pub field_id: String,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = variants)]
pub struct VariantRow {
    pub publication_id: String,
    pub lang: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub file_sha256: Option<String>,
    pub file_size: Option<i64>,
    pub file_media_type: Option<String>,
    pub file_name: Option<String>,
    pub file_text: Option<String>,
    pub file_text_status: Option<String>,
    pub file_text_error: Option<String>,
    pub body_format: BodyFormat,
}

/// A variant without its body, and with only the start of its extracted
/// file text: what a publication detail reads for each language before
/// it reads the one body it shows. Loaded by
/// [`find_edition`](super::publications::find_edition), in this order.
#[derive(Debug, Clone, Queryable)]
pub struct VariantMetaRow {
    pub publication_id: String,
    pub lang: String,
    pub title: String,
    pub summary: String,
    pub file_sha256: Option<String>,
    pub file_size: Option<i64>,
    pub file_media_type: Option<String>,
    pub file_name: Option<String>,
    /// The extracted text after leading ASCII white space, at most 64
    /// characters of it: enough to tell whether there is any (a detail
    /// says `text_extracted`), not the whole text of a long PDF.
    pub file_text_start: Option<String>,
    pub file_text_status: Option<String>,
    pub file_text_error: Option<String>,
    pub body_format: BodyFormat,
}

impl VariantMetaRow {
    /// The variant with `body`, its file text being the start read.
    pub fn with_body(self, body: String) -> VariantRow {
        VariantRow {
            publication_id: self.publication_id,
            lang: self.lang,
            title: self.title,
            summary: self.summary,
            body,
            file_sha256: self.file_sha256,
            file_size: self.file_size,
            file_media_type: self.file_media_type,
            file_name: self.file_name,
            file_text: self.file_text_start,
            file_text_status: self.file_text_status,
            file_text_error: self.file_text_error,
            body_format: self.body_format,
        }
    }
}

/// How much of a body [`VariantHeadRow::body_start`] holds, in characters:
/// the figure in its select expression, which takes only a literal.
pub const BODY_START_CHARS: usize = 1200;

/// A variant without its body and file text: what lists need.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = variants)]
pub struct VariantHeadRow {
    pub publication_id: String,
    pub lang: String,
    pub title: String,
    pub summary: String,
    /// The start of the body, read only when there is no summary: what a
    /// list item's excerpt is made of then.
    #[diesel(select_expression = diesel::dsl::sql::<diesel::sql_types::Text>(
        "CASE WHEN variants.summary = '' THEN substr(variants.body, 1, 1200) ELSE '' END"
    ))]
    #[diesel(select_expression_type = diesel::expression::SqlLiteral<diesel::sql_types::Text>)]
    #[serde(default)]
    pub body_start: String,
    /// How the body is written, so that the excerpt leaves its syntax out;
    /// plain in search listings stored before formats existed.
    #[serde(default)]
    pub body_format: BodyFormat,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = changes)]
pub struct ChangeRow {
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    pub operation: String,
    pub changed_at: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = changes)]
pub struct NewChange<'a> {
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub operation: &'a str,
    pub changed_at: &'a str,
    /// What the change meant to the public, for webhooks
    /// (`publication.published`, …); None when nothing public changed.
    pub event: Option<&'a str>,
}
