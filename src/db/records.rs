//! Stored rows read back as the records editors write
//! ([`crate::domain::records`]): what export writes, and what a PATCH
//! merges into.

use crate::db::publications::Full;
use crate::domain::catalog::Catalog;
use crate::domain::records::*;
use crate::domain::text::{TextError, TextStatus};
use crate::domain::{Lang, Slug};

/// A stored value that no record can carry: a dangling reference, a slug
/// or date that no longer parses. Only a database changed behind the
/// archive's back holds one.
#[derive(Debug, thiserror::Error)]
#[error("the archive holds a value the format cannot carry: {0}")]
pub struct Corrupt(pub String);

fn slug(raw: &str) -> Result<Slug, Corrupt> {
    Slug::parse(raw).map_err(|message| Corrupt(format!("slug {raw:?} {message}")))
}

fn uuid(raw: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(raw).ok()
}

fn date(raw: Option<&str>) -> Result<Option<chrono::NaiveDate>, Corrupt> {
    raw.map(|raw| crate::domain::parse_date(raw).map_err(Corrupt))
        .transpose()
}

fn slug_of<T>(
    table: &crate::domain::catalog::Table<T>,
    id: &str,
    slug_field: impl Fn(&T) -> &str,
) -> Result<Slug, Corrupt> {
    let entry = table
        .by_id(id)
        .ok_or_else(|| Corrupt(format!("dangling reference to {id}")))?;
    slug(slug_field(entry))
}

/// Returns the catalog's entities as records, in the order import wants.
pub fn catalog_records(catalog: &Catalog) -> Result<Vec<Record>, Corrupt> {
    let mut records = Vec::new();
    for org in catalog.organisations.iter() {
        records.push(Record::Organisation(OrganisationRecord {
            id: uuid(&org.id),
            slug: slug(&org.slug)?,
            name: org.name.clone(),
            description: org.description.clone(),
            roles: org.roles.clone(),
            website: org.website.clone(),
            ror: org.ror.clone(),
            image: org.image.clone(),
        }));
    }
    for field in catalog.fields.iter() {
        records.push(Record::Field(FieldRecord {
            id: uuid(&field.id),
            slug: slug(&field.slug)?,
            label: field.label.clone(),
            description: field.description.clone(),
        }));
    }
    let org_slug = |id: &str| slug_of(&catalog.organisations, id, |o| &o.slug);
    let field_slug = |id: &str| slug_of(&catalog.fields, id, |f| &f.slug);
    for project in catalog.projects.iter() {
        let funders = project
            .funders
            .iter()
            .map(|funding| {
                let organisation = org_slug(&funding.organisation_id)?;
                Ok(match &funding.grant_number {
                    None => FunderRef::Slug(organisation),
                    Some(grant) => FunderRef::WithGrant(FunderWithGrant {
                        organisation,
                        grant_number: Some(grant.clone()),
                    }),
                })
            })
            .collect::<Result<_, Corrupt>>()?;
        records.push(Record::Project(ProjectRecord {
            id: uuid(&project.id),
            slug: slug(&project.slug)?,
            title: project.title.clone(),
            description: project.description.clone(),
            starts_on: date(project.starts_on.as_deref())?,
            ends_on: date(project.ends_on.as_deref())?,
            funders,
            partners: project
                .partner_ids
                .iter()
                .map(|id| org_slug(id))
                .collect::<Result<_, _>>()?,
            implementers: project
                .implementer_ids
                .iter()
                .map(|id| org_slug(id))
                .collect::<Result<_, _>>()?,
            fields: project
                .field_ids
                .iter()
                .map(|id| field_slug(id))
                .collect::<Result<_, _>>()?,
            image: project.image.clone(),
        }));
    }
    for event in catalog.events.iter() {
        records.push(Record::Event(EventRecord {
            id: uuid(&event.id),
            slug: slug(&event.slug)?,
            kind: event.kind,
            title: event.title.clone(),
            description: event.description.clone(),
            starts_on: date(Some(&event.starts_on))?
                .ok_or_else(|| Corrupt("event without a date".into()))?,
            ends_on: date(event.ends_on.as_deref())?,
            place: event.place.clone(),
            organisers: event
                .organiser_ids
                .iter()
                .map(|id| org_slug(id))
                .collect::<Result<_, _>>()?,
            project: event
                .project_id
                .as_deref()
                .map(|id| slug_of(&catalog.projects, id, |p| &p.slug))
                .transpose()?,
            image: event.image.clone(),
        }));
    }
    Ok(records)
}

/// Turns a stored publication back into its import record, its
/// references named by the catalog's slugs.
pub fn publication_record(catalog: &Catalog, full: Full) -> Result<PublicationRecord, Corrupt> {
    publication_record_with(full, |entity, id| {
        let slug = match entity {
            Entity::Project => &catalog.projects.by_id(id)?.slug,
            Entity::Event => &catalog.events.by_id(id)?.slug,
            Entity::Field => &catalog.fields.by_id(id)?.slug,
            Entity::Organisation | Entity::Publication => return None,
        };
        Some(slug.clone())
    })
}

/// Turns a stored publication back into its import record, with
/// `slug_of(entity, id)` naming each entity it refers to.
pub fn publication_record_with(
    full: Full,
    slug_of: impl Fn(Entity, &str) -> Option<String>,
) -> Result<PublicationRecord, Corrupt> {
    let reference = |entity: Entity, id: &str| -> Result<Slug, Corrupt> {
        let found =
            slug_of(entity, id).ok_or_else(|| Corrupt(format!("dangling reference to {id}")))?;
        slug(&found)
    };
    let Full {
        row,
        variants,
        field_ids,
    } = full;
    let corrupt = |what: String| Corrupt(what);
    let mut variant_records = std::collections::BTreeMap::new();
    for variant in variants {
        let lang = Lang::from_stored(&variant.lang)
            .ok_or_else(|| corrupt(format!("language {:?}", variant.lang)))?;
        let text_status = variant
            .file_text_status
            .as_deref()
            .map(TextStatus::parse)
            .transpose()
            .map_err(corrupt)?;
        let text_error = variant
            .file_text_error
            .as_deref()
            .map(TextError::parse)
            .transpose()
            .map_err(corrupt)?;
        let file = match (
            variant.file_sha256,
            variant.file_size,
            variant.file_media_type,
            variant.file_name,
        ) {
            (Some(sha256), Some(size), Some(media_type), Some(name)) => Some(FileRecord {
                sha256,
                size,
                media_type,
                name,
                text_status,
                text_error,
            }),
            _ => None,
        };
        variant_records.insert(
            lang,
            VariantRecord {
                title: variant.title,
                summary: variant.summary,
                body: variant.body,
                body_format: variant.body_format,
                file,
                file_text: variant.file_text,
            },
        );
    }
    Ok(PublicationRecord {
        id: uuid(&row.id),
        slug: slug(&row.slug)?,
        kind: row.kind,
        status: row.status,
        withdrawn_reason: row.withdrawn_reason,
        published_on: date(row.published_on.as_deref())?,
        project: row
            .project_id
            .as_deref()
            .map(|id| reference(Entity::Project, id))
            .transpose()?,
        event: row
            .event_id
            .as_deref()
            .map(|id| reference(Entity::Event, id))
            .transpose()?,
        fields: field_ids
            .iter()
            .map(|id| reference(Entity::Field, id))
            .collect::<Result<_, _>>()?,
        authors: serde_json::from_str(&row.authors).map_err(|e| corrupt(e.to_string()))?,
        keywords: serde_json::from_str(&row.keywords).map_err(|e| corrupt(e.to_string()))?,
        variants: variant_records,
        image: crate::domain::records::ImageRecord::from_stored(row.image.as_deref())
            .map_err(|e| corrupt(format!("image: {e}")))?,
    })
}
