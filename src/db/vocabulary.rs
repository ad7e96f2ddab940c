//! Loads the [`Catalog`] of organisations, fields, projects and events.

use std::collections::HashMap;

use diesel::prelude::*;

use super::models::*;
use super::schema::*;
use super::AnyConnection;
use crate::domain::catalog::{Catalog, Event, Field, Funding, Organisation, Project};
use crate::domain::records::{ImageRecord, LangMap};
use crate::domain::{Lang, Role};

/// Texts of every owner: owner id → attribute → language → text.
type Texts = HashMap<String, HashMap<String, LangMap>>;

fn load_texts(conn: &mut AnyConnection) -> QueryResult<Texts> {
    let rows: Vec<TextRow> = texts::table.select(TextRow::as_select()).load(conn)?;
    let mut texts: Texts = HashMap::new();
    for row in rows {
        if let Some(lang) = Lang::from_stored(&row.lang) {
            texts
                .entry(row.owner_id)
                .or_default()
                .entry(row.attribute)
                .or_default()
                .insert(lang, row.value);
        }
    }
    Ok(texts)
}

fn take(texts: &mut Texts, owner_id: &str, attribute: &str) -> LangMap {
    texts
        .get_mut(owner_id)
        .and_then(|attributes| attributes.remove(attribute))
        .unwrap_or_default()
}

/// Reads a stored image; one that cannot be read is logged and left out
/// (the row itself stays readable).
pub fn stored_image(stored: Option<&str>, owner_id: &str) -> Option<ImageRecord> {
    ImageRecord::from_stored(stored).unwrap_or_else(|error| {
        tracing::warn!(%error, owner_id, "a stored image cannot be read; it is left out");
        None
    })
}

/// Loads the whole catalog in a handful of queries.
pub fn load_catalog(conn: &mut AnyConnection) -> QueryResult<Catalog> {
    conn.transaction(|conn| {
        let mut texts = load_texts(conn)?;
        let mut catalog = Catalog::default();

        for row in organisations::table
            .select(OrganisationRow::as_select())
            .load(conn)?
        {
            let roles = row
                .roles
                .split(',')
                .filter_map(|role| Role::parse(role).ok())
                .collect();
            let name = take(&mut texts, &row.id, "name");
            let description = take(&mut texts, &row.id, "description");
            let image = stored_image(row.image.as_deref(), &row.id);
            catalog.organisations.insert(
                row.id.clone(),
                row.slug.clone(),
                Organisation {
                    id: row.id,
                    slug: row.slug,
                    name,
                    description,
                    roles,
                    website: row.website,
                    ror: row.ror,
                    image,
                    version: row.content_hash,
                },
            );
        }
        for row in fields::table.select(FieldRow::as_select()).load(conn)? {
            let label = take(&mut texts, &row.id, "label");
            let description = take(&mut texts, &row.id, "description");
            catalog.fields.insert(
                row.id.clone(),
                row.slug.clone(),
                Field {
                    id: row.id,
                    slug: row.slug,
                    label,
                    description,
                    version: row.content_hash,
                },
            );
        }

        let mut funders: HashMap<String, Vec<Funding>> = HashMap::new();
        for row in project_funders::table
            .select(ProjectFunderRow::as_select())
            .order((project_funders::project_id, project_funders::position))
            .load(conn)?
        {
            funders.entry(row.project_id).or_default().push(Funding {
                organisation_id: row.organisation_id,
                grant_number: row.grant_number,
            });
        }
        let mut partners: HashMap<String, Vec<String>> = HashMap::new();
        for row in project_partners::table
            .select(ProjectPartnerRow::as_select())
            .order((project_partners::project_id, project_partners::position))
            .load(conn)?
        {
            partners
                .entry(row.project_id)
                .or_default()
                .push(row.organisation_id);
        }
        let mut implementers: HashMap<String, Vec<String>> = HashMap::new();
        for row in project_implementers::table
            .select(ProjectImplementerRow::as_select())
            .order((
                project_implementers::project_id,
                project_implementers::position,
            ))
            .load(conn)?
        {
            implementers
                .entry(row.project_id)
                .or_default()
                .push(row.organisation_id);
        }
        let mut project_field_ids: HashMap<String, Vec<String>> = HashMap::new();
        for row in project_fields::table
            .select(ProjectFieldRow::as_select())
            .order((project_fields::project_id, project_fields::position))
            .load(conn)?
        {
            project_field_ids
                .entry(row.project_id)
                .or_default()
                .push(row.field_id);
        }
        for row in projects::table.select(ProjectRow::as_select()).load(conn)? {
            let project = Project {
                title: take(&mut texts, &row.id, "title"),
                description: take(&mut texts, &row.id, "description"),
                funders: funders.remove(&row.id).unwrap_or_default(),
                partner_ids: partners.remove(&row.id).unwrap_or_default(),
                implementer_ids: implementers.remove(&row.id).unwrap_or_default(),
                field_ids: project_field_ids.remove(&row.id).unwrap_or_default(),
                id: row.id.clone(),
                slug: row.slug.clone(),
                starts_on: row.starts_on,
                ends_on: row.ends_on,
                image: stored_image(row.image.as_deref(), &row.id),
                version: row.content_hash,
            };
            catalog.projects.insert(row.id, row.slug, project);
        }

        let mut organisers: HashMap<String, Vec<String>> = HashMap::new();
        for row in event_organisers::table
            .select(EventOrganiserRow::as_select())
            .order((event_organisers::event_id, event_organisers::position))
            .load(conn)?
        {
            organisers
                .entry(row.event_id)
                .or_default()
                .push(row.organisation_id);
        }
        for row in events::table.select(EventRow::as_select()).load(conn)? {
            let kind = row.kind;
            let event = Event {
                title: take(&mut texts, &row.id, "title"),
                description: take(&mut texts, &row.id, "description"),
                organiser_ids: organisers.remove(&row.id).unwrap_or_default(),
                id: row.id.clone(),
                slug: row.slug.clone(),
                kind,
                starts_on: row.starts_on,
                ends_on: row.ends_on,
                place: row.place,
                project_id: row.project_id,
                image: stored_image(row.image.as_deref(), &row.id),
                version: row.content_hash,
            };
            catalog.events.insert(row.id, row.slug, event);
        }
        Ok(catalog)
    })
}
