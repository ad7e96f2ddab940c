//! `arkiv export`: writes the whole archive, every status included, in the
//! import format, so that export → import into an empty database
//! reproduces it.

use std::io::Write;

use crate::catalog::Catalog;
use crate::db::publications::{self, Full};
use crate::db::AnyConnection;
use crate::domain::text::{TextError, TextStatus};
use crate::domain::{Lang, PublicationKind, PublicationStatus, Slug};

use crate::domain::records::*;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("the archive holds a value the format cannot carry: {0}")]
    Corrupt(String),
}

fn slug(raw: &str) -> Result<Slug, ExportError> {
    Slug::parse(raw).map_err(|message| ExportError::Corrupt(format!("slug {raw:?} {message}")))
}

fn uuid(raw: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(raw).ok()
}

fn date(raw: Option<&str>) -> Result<Option<chrono::NaiveDate>, ExportError> {
    raw.map(|raw| crate::domain::parse_date(raw).map_err(ExportError::Corrupt))
        .transpose()
}

fn slug_of<T>(
    table: &crate::catalog::Table<T>,
    id: &str,
    slug_field: impl Fn(&T) -> &str,
) -> Result<Slug, ExportError> {
    let entry = table
        .by_id(id)
        .ok_or_else(|| ExportError::Corrupt(format!("dangling reference to {id}")))?;
    slug(slug_field(entry))
}

/// Returns the catalog's entities as records, in the order import wants.
pub fn catalog_records(catalog: &Catalog) -> Result<Vec<Record>, ExportError> {
    let mut records = Vec::new();
    for org in catalog.organisations.iter() {
        records.push(Record::Organisation(OrganisationRecord {
            id: uuid(&org.id),
            slug: slug(&org.slug)?,
            name: org.name.clone(),
            roles: org.roles.clone(),
            website: org.website.clone(),
            ror: org.ror.clone(),
        }));
    }
    for field in catalog.fields.iter() {
        records.push(Record::Field(FieldRecord {
            id: uuid(&field.id),
            slug: slug(&field.slug)?,
            label: field.label.clone(),
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
            .collect::<Result<_, ExportError>>()?;
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
            fields: project
                .field_ids
                .iter()
                .map(|id| field_slug(id))
                .collect::<Result<_, _>>()?,
        }));
    }
    for event in catalog.events.iter() {
        records.push(Record::Event(EventRecord {
            id: uuid(&event.id),
            slug: slug(&event.slug)?,
            kind: event.kind,
            title: event.title.clone(),
            starts_on: date(Some(&event.starts_on))?
                .ok_or_else(|| ExportError::Corrupt("event without a date".into()))?,
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
        }));
    }
    Ok(records)
}

/// Turns a stored publication back into its import record, its
/// references named by the catalog's slugs.
pub fn publication_record(catalog: &Catalog, full: Full) -> Result<PublicationRecord, ExportError> {
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
) -> Result<PublicationRecord, ExportError> {
    let reference = |entity: Entity, id: &str| -> Result<Slug, ExportError> {
        let found = slug_of(entity, id)
            .ok_or_else(|| ExportError::Corrupt(format!("dangling reference to {id}")))?;
        slug(&found)
    };
    let Full {
        row,
        variants,
        field_ids,
    } = full;
    let corrupt = |what: String| ExportError::Corrupt(what);
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
                file,
                file_text: variant.file_text,
            },
        );
    }
    Ok(PublicationRecord {
        id: uuid(&row.id),
        slug: slug(&row.slug)?,
        kind: PublicationKind::parse(&row.kind).map_err(corrupt)?,
        status: PublicationStatus::parse(&row.status).map_err(corrupt)?,
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
    })
}

fn write_line(out: &mut dyn Write, record: &Record) -> Result<(), ExportError> {
    serde_json::to_writer(&mut *out, record).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes the whole archive to `out`; returns the number of lines.
pub fn export(conn: &mut AnyConnection, out: &mut dyn Write) -> Result<usize, ExportError> {
    export_where(conn, out, |_| true)
}

/// Writes the vocabulary and the publications `keep` accepts to `out`;
/// returns the number of lines.
pub fn export_where(
    conn: &mut AnyConnection,
    out: &mut dyn Write,
    keep: impl Fn(&Full) -> bool,
) -> Result<usize, ExportError> {
    let catalog = crate::db::vocabulary::load_catalog(conn)?;
    let mut lines = 0;
    for record in catalog_records(&catalog)? {
        write_line(out, &record)?;
        lines += 1;
    }
    let mut failure = None;
    publications::all_in_batches(conn, 500, |full| {
        if !keep(&full) {
            return Ok(());
        }
        let record = match publication_record(&catalog, full) {
            Ok(record) => record,
            Err(error) => {
                failure.get_or_insert(error);
                return Ok(());
            }
        };
        match write_line(out, &Record::Publication(record)) {
            Ok(()) => {
                lines += 1;
                Ok(())
            }
            Err(ExportError::Io(error)) => Err(error),
            Err(other) => {
                failure.get_or_insert(other);
                Ok(())
            }
        }
    })?;
    match failure {
        Some(error) => Err(error),
        None => {
            out.flush()?;
            Ok(lines)
        }
    }
}
