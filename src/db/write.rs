//! Writes of whole entities, as the write service ([`crate::write`]) and
//! the importer make them: insert or update the row, replace its dependent
//! rows, and append to the change log — all inside the caller's
//! transaction. References arrive resolved ([`SlugIds`]); the lookups by
//! slug and id that resolve them are here too, each one indexed query.

use std::collections::HashMap;

use diesel::prelude::*;

use super::changes::{self, Operation};
use super::harvest;
use super::models::*;
use super::schema::*;
use super::AnyConnection;
use crate::domain::records::{
    Entity, EventRecord, FieldRecord, ImageRecord, LangMap, OrganisationRecord, ProjectRecord,
    PublicationRecord,
};
use crate::domain::translit::sort_key;
use crate::domain::Lang;

/// Inserts a new row or updates the stored one, by the stamp's outcome.
macro_rules! upsert_row {
    ($conn:expr, $table:ident, $row:expr, $outcome:expr, $id:expr) => {
        match $outcome {
            Outcome::Created => {
                diesel::insert_into($table::table)
                    .values(&$row)
                    .execute($conn)?;
            }
            _ => {
                diesel::update($table::table.filter($table::id.eq($id)))
                    .set(&$row)
                    .execute($conn)?;
            }
        }
    };
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    /// The stored content already equals the record: nothing was written,
    /// and no change-log entry was made.
    Unchanged,
}

/// What is stored already under a slug.
#[derive(Debug, Clone)]
pub struct Existing {
    pub id: String,
    pub content_hash: String,
    pub created_at: String,
}

/// Slug → id of the entities records refer to: every one of the archive
/// and the file for an import, only those a record names for a single write.
#[derive(Debug, Default, Clone)]
pub struct SlugIds {
    pub organisations: HashMap<String, String>,
    pub fields: HashMap<String, String>,
    pub projects: HashMap<String, String>,
    pub events: HashMap<String, String>,
}

impl SlugIds {
    /// The map of one kind of entity; None for publications, which nothing
    /// refers to.
    pub fn of_mut(&mut self, entity: Entity) -> Option<&mut HashMap<String, String>> {
        match entity {
            Entity::Organisation => Some(&mut self.organisations),
            Entity::Field => Some(&mut self.fields),
            Entity::Project => Some(&mut self.projects),
            Entity::Event => Some(&mut self.events),
            Entity::Publication => None,
        }
    }

    /// The id of the entity with this slug, if known.
    pub fn get(&self, entity: Entity, slug: &str) -> Option<&str> {
        let map = match entity {
            Entity::Organisation => &self.organisations,
            Entity::Field => &self.fields,
            Entity::Project => &self.projects,
            Entity::Event => &self.events,
            Entity::Publication => return None,
        };
        map.get(slug).map(String::as_str)
    }

    /// How many slugs are known, over every kind.
    pub fn len(&self) -> usize {
        self.organisations.len() + self.fields.len() + self.projects.len() + self.events.len()
    }

    /// Whether no slug is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Returns a fingerprint of a record's content, to skip writes that change nothing.
pub fn content_hash<T: serde::Serialize>(record: &T) -> String {
    let bytes = serde_json::to_vec(record).unwrap_or_default();
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes))
}

/// Decides between insert, update and nothing, and stamps the times.
struct Stamp {
    outcome: Outcome,
    created_at: String,
}

fn stamp(existing: Option<&Existing>, hash: &str, now: &str) -> Stamp {
    match existing {
        None => Stamp {
            outcome: Outcome::Created,
            created_at: now.to_owned(),
        },
        Some(existing) if existing.content_hash == hash => Stamp {
            outcome: Outcome::Unchanged,
            created_at: existing.created_at.clone(),
        },
        Some(existing) => Stamp {
            outcome: Outcome::Updated,
            created_at: existing.created_at.clone(),
        },
    }
}

fn replace_texts(
    conn: &mut AnyConnection,
    owner_id: &str,
    attributes: &[(&str, &LangMap)],
) -> QueryResult<()> {
    diesel::delete(texts::table.filter(texts::owner_id.eq(owner_id))).execute(conn)?;
    for (attribute, values) in attributes {
        for (lang, value) in values.iter() {
            diesel::insert_into(texts::table)
                .values(TextRow {
                    owner_id: owner_id.to_owned(),
                    attribute: (*attribute).to_owned(),
                    lang: lang.as_str().to_owned(),
                    value: value.clone(),
                })
                .execute(conn)?;
        }
    }
    Ok(())
}

fn lookup(map: &HashMap<String, String>, slug: &str) -> QueryResult<String> {
    // The importer resolves every reference before writing; a miss here is a bug.
    map.get(slug)
        .cloned()
        .ok_or(diesel::result::Error::NotFound)
}

pub fn write_organisation(
    conn: &mut AnyConnection,
    id: &str,
    record: &OrganisationRecord,
    existing: Option<&Existing>,
    now: &str,
) -> QueryResult<Outcome> {
    let hash = content_hash(record);
    let stamp = stamp(existing, &hash, now);
    if stamp.outcome == Outcome::Unchanged {
        return Ok(Outcome::Unchanged);
    }
    let roles: Vec<&str> = record.roles.iter().map(|role| role.as_str()).collect();
    let row = OrganisationRow {
        id: id.to_owned(),
        slug: record.slug.to_string(),
        roles: roles.join(","),
        website: record.website.clone(),
        ror: record.ror.clone(),
        content_hash: hash,
        created_at: stamp.created_at,
        updated_at: now.to_owned(),
        image: ImageRecord::to_stored(record.image.as_ref()),
    };
    upsert_row!(conn, organisations, row, stamp.outcome, id);
    replace_texts(
        conn,
        id,
        &[("name", &record.name), ("description", &record.description)],
    )?;
    changes::record(conn, "organisation", id, Operation::Upsert, now)?;
    Ok(stamp.outcome)
}

pub fn write_field(
    conn: &mut AnyConnection,
    id: &str,
    record: &FieldRecord,
    existing: Option<&Existing>,
    now: &str,
) -> QueryResult<Outcome> {
    let hash = content_hash(record);
    let stamp = stamp(existing, &hash, now);
    if stamp.outcome == Outcome::Unchanged {
        return Ok(Outcome::Unchanged);
    }
    let row = FieldRow {
        id: id.to_owned(),
        slug: record.slug.to_string(),
        content_hash: hash,
        created_at: stamp.created_at,
        updated_at: now.to_owned(),
    };
    upsert_row!(conn, fields, row, stamp.outcome, id);
    replace_texts(
        conn,
        id,
        &[
            ("label", &record.label),
            ("description", &record.description),
        ],
    )?;
    changes::record(conn, "field", id, Operation::Upsert, now)?;
    if stamp.outcome == Outcome::Updated {
        harvest::touch_set(conn, &format!("field:{id}"))?;
    }
    Ok(stamp.outcome)
}

pub fn write_project(
    conn: &mut AnyConnection,
    id: &str,
    record: &ProjectRecord,
    ids: &SlugIds,
    existing: Option<&Existing>,
    now: &str,
) -> QueryResult<Outcome> {
    let hash = content_hash(record);
    let stamp = stamp(existing, &hash, now);
    if stamp.outcome == Outcome::Unchanged {
        return Ok(Outcome::Unchanged);
    }
    let row = ProjectRow {
        id: id.to_owned(),
        slug: record.slug.to_string(),
        starts_on: record.starts_on.map(|d| d.to_string()),
        ends_on: record.ends_on.map(|d| d.to_string()),
        content_hash: hash,
        created_at: stamp.created_at,
        updated_at: now.to_owned(),
        image: ImageRecord::to_stored(record.image.as_ref()),
    };
    upsert_row!(conn, projects, row, stamp.outcome, id);
    diesel::delete(project_funders::table.filter(project_funders::project_id.eq(id)))
        .execute(conn)?;
    diesel::delete(project_partners::table.filter(project_partners::project_id.eq(id)))
        .execute(conn)?;
    diesel::delete(project_implementers::table.filter(project_implementers::project_id.eq(id)))
        .execute(conn)?;
    diesel::delete(project_fields::table.filter(project_fields::project_id.eq(id)))
        .execute(conn)?;
    for (position, funder) in (0..).zip(&record.funders) {
        diesel::insert_into(project_funders::table)
            .values(ProjectFunderRow {
                project_id: id.to_owned(),
                organisation_id: lookup(&ids.organisations, funder.organisation().as_str())?,
                grant_number: funder.grant_number().map(str::to_owned),
                position,
            })
            .execute(conn)?;
    }
    for (position, partner) in (0..).zip(&record.partners) {
        diesel::insert_into(project_partners::table)
            .values(ProjectPartnerRow {
                project_id: id.to_owned(),
                organisation_id: lookup(&ids.organisations, partner.as_str())?,
                position,
            })
            .execute(conn)?;
    }
    for (position, implementer) in (0..).zip(&record.implementers) {
        diesel::insert_into(project_implementers::table)
            .values(ProjectImplementerRow {
                project_id: id.to_owned(),
                organisation_id: lookup(&ids.organisations, implementer.as_str())?,
                position,
            })
            .execute(conn)?;
    }
    for (position, field) in (0..).zip(&record.fields) {
        diesel::insert_into(project_fields::table)
            .values(ProjectFieldRow {
                project_id: id.to_owned(),
                field_id: lookup(&ids.fields, field.as_str())?,
                position,
            })
            .execute(conn)?;
    }
    replace_texts(
        conn,
        id,
        &[
            ("title", &record.title),
            ("description", &record.description),
        ],
    )?;
    changes::record(conn, "project", id, Operation::Upsert, now)?;
    if stamp.outcome == Outcome::Updated {
        harvest::touch_set(conn, &format!("project:{id}"))?;
    }
    Ok(stamp.outcome)
}

pub fn write_event(
    conn: &mut AnyConnection,
    id: &str,
    record: &EventRecord,
    ids: &SlugIds,
    existing: Option<&Existing>,
    now: &str,
) -> QueryResult<Outcome> {
    let hash = content_hash(record);
    let stamp = stamp(existing, &hash, now);
    if stamp.outcome == Outcome::Unchanged {
        return Ok(Outcome::Unchanged);
    }
    let project_id = match &record.project {
        Some(slug) => Some(lookup(&ids.projects, slug.as_str())?),
        None => None,
    };
    let row = EventRow {
        id: id.to_owned(),
        slug: record.slug.to_string(),
        kind: record.kind,
        starts_on: record.starts_on.to_string(),
        ends_on: record.ends_on.map(|d| d.to_string()),
        place: record.place.clone(),
        project_id,
        content_hash: hash,
        created_at: stamp.created_at,
        updated_at: now.to_owned(),
        image: ImageRecord::to_stored(record.image.as_ref()),
    };
    upsert_row!(conn, events, row, stamp.outcome, id);
    diesel::delete(event_organisers::table.filter(event_organisers::event_id.eq(id)))
        .execute(conn)?;
    for (position, organiser) in (0..).zip(&record.organisers) {
        diesel::insert_into(event_organisers::table)
            .values(EventOrganiserRow {
                event_id: id.to_owned(),
                organisation_id: lookup(&ids.organisations, organiser.as_str())?,
                position,
            })
            .execute(conn)?;
    }
    replace_texts(
        conn,
        id,
        &[
            ("title", &record.title),
            ("description", &record.description),
        ],
    )?;
    changes::record(conn, "event", id, Operation::Upsert, now)?;
    Ok(stamp.outcome)
}

/// Returns the title a publication sorts by: English first, then the other
/// tags in order, folded across scripts and diacritics.
pub fn publication_sort_title(record: &PublicationRecord) -> String {
    Lang::ALL
        .iter()
        .find_map(|lang| record.variants.get(lang))
        .map(|variant| sort_key(&variant.title))
        .unwrap_or_default()
}

/// One publication to write: its id, its record and what it replaces.
pub struct PublicationWrite<'a> {
    pub id: &'a str,
    pub record: &'a PublicationRecord,
    pub existing: Option<&'a Existing>,
}

/// How many rows one multi-row INSERT carries; well under both backends'
/// limits on bound parameters (14 columns × 500 < 32,766).
const ROWS_PER_INSERT: usize = 500;

/// Writes publications in bulk: one multi-row INSERT per table for up to
/// [`ROWS_PER_INSERT`] rows, which saves a round trip per row on PostgreSQL.
/// Returns what happened to each, in order.
pub fn write_publications(
    conn: &mut AnyConnection,
    writes: &[PublicationWrite<'_>],
    ids: &SlugIds,
    now: &str,
) -> QueryResult<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(writes.len());
    let mut created = Vec::new();
    let mut updated = Vec::new();
    let mut field_rows = Vec::new();
    let mut variant_rows = Vec::new();
    let mut changed_ids = Vec::new();
    let mut harvested = Vec::new();
    for write in writes {
        let hash = content_hash(write.record);
        let stamp = stamp(write.existing, &hash, now);
        outcomes.push(stamp.outcome);
        if stamp.outcome == Outcome::Unchanged {
            continue;
        }
        let record = write.record;
        let id = write.id;
        let row = PublicationRow {
            id: id.to_owned(),
            slug: record.slug.to_string(),
            kind: record.kind,
            status: record.status,
            withdrawn_reason: record.withdrawn_reason.clone(),
            published_on: record.published_on.map(|d| d.to_string()),
            project_id: record
                .project
                .as_ref()
                .map(|slug| lookup(&ids.projects, slug.as_str()))
                .transpose()?,
            event_id: record
                .event
                .as_ref()
                .map(|slug| lookup(&ids.events, slug.as_str()))
                .transpose()?,
            authors: serde_json::to_string(&record.authors).unwrap_or_else(|_| "[]".into()),
            keywords: serde_json::to_string(&record.keywords).unwrap_or_else(|_| "[]".into()),
            sort_title: publication_sort_title(record),
            content_hash: hash,
            created_at: stamp.created_at,
            updated_at: now.to_owned(),
            image: ImageRecord::to_stored(record.image.as_ref()),
        };
        let project_id = row.project_id.clone();
        match stamp.outcome {
            Outcome::Created => created.push(row),
            _ => updated.push(row),
        }
        let first_field = field_rows.len();
        for (position, field) in (0..).zip(&record.fields) {
            field_rows.push(PublicationFieldRow {
                publication_id: id.to_owned(),
                field_id: lookup(&ids.fields, field.as_str())?,
                position,
            });
        }
        harvested.push(harvest::Written {
            id: id.to_owned(),
            status: record.status,
            sets: harvest::set_tokens(
                record.kind.as_str(),
                field_rows[first_field..]
                    .iter()
                    .map(|row| row.field_id.as_str()),
                project_id.as_deref(),
                record.variants.keys().map(|lang| lang.as_str()),
            ),
        });
        for (lang, variant) in &record.variants {
            let file = variant.file.as_ref();
            variant_rows.push(VariantRow {
                publication_id: id.to_owned(),
                lang: lang.as_str().to_owned(),
                title: variant.title.clone(),
                summary: variant.summary.clone(),
                body: variant.body.clone(),
                file_sha256: file.map(|f| f.sha256.clone()),
                file_size: file.map(|f| f.size),
                file_media_type: file.map(|f| f.media_type.clone()),
                file_name: file.map(|f| f.name.clone()),
                file_text: variant.file_text.clone(),
                file_text_status: file
                    .and_then(|f| f.text_status)
                    .map(|s| s.as_str().to_owned()),
                file_text_error: file
                    .and_then(|f| f.text_error)
                    .map(|e| e.as_str().to_owned()),
                body_format: variant.body_format,
            });
        }
        changed_ids.push(id);
    }

    let updated_ids: Vec<&str> = updated.iter().map(|row| row.id.as_str()).collect();
    for chunk in updated_ids.chunks(ROWS_PER_INSERT) {
        diesel::delete(
            publication_fields::table.filter(publication_fields::publication_id.eq_any(chunk)),
        )
        .execute(conn)?;
        diesel::delete(variants::table.filter(variants::publication_id.eq_any(chunk)))
            .execute(conn)?;
    }
    for row in &updated {
        diesel::update(publications::table.filter(publications::id.eq(&row.id)))
            .set(row)
            .execute(conn)?;
    }
    for chunk in created.chunks(ROWS_PER_INSERT) {
        insert_many!(conn, publications::table, chunk);
    }
    for chunk in field_rows.chunks(ROWS_PER_INSERT) {
        insert_many!(conn, publication_fields::table, chunk);
    }
    for chunk in variant_rows.chunks(ROWS_PER_INSERT) {
        insert_many!(conn, variants::table, chunk);
    }
    let prior = harvest::prior(conn, &changed_ids)?;
    let change_rows: Vec<NewChange<'_>> = harvested
        .iter()
        .map(|written| NewChange {
            entity: "publication",
            entity_id: &written.id,
            operation: Operation::Upsert.as_str(),
            changed_at: now,
            event: harvest::PublicEvent::of_write(
                harvest::Prior::was_public(prior.get(&written.id)),
                written.status,
            )
            .map(harvest::PublicEvent::as_str),
        })
        .collect();
    changes::serialize(conn)?;
    for chunk in change_rows.chunks(ROWS_PER_INSERT) {
        insert_many!(conn, super::schema::changes::table, chunk);
    }
    harvest::record_writes(conn, &harvested, &prior)?;
    Ok(outcomes)
}

/// Deletes a publication with its variants and fields, and logs the
/// deletion: the change log keeps its tombstone (id and time).
pub fn delete_publication(conn: &mut AnyConnection, id: &str, now: &str) -> QueryResult<bool> {
    diesel::delete(publication_fields::table.filter(publication_fields::publication_id.eq(id)))
        .execute(conn)?;
    diesel::delete(variants::table.filter(variants::publication_id.eq(id))).execute(conn)?;
    let deleted =
        diesel::delete(publications::table.filter(publications::id.eq(id))).execute(conn)?;
    if deleted == 1 {
        // Deleting what had been public is news to subscribers; deleting a
        // draft nobody saw is not.
        let event = harvest::find(conn, id)?.map(|_| harvest::PublicEvent::Deleted.as_str());
        changes::record_event(conn, "publication", id, Operation::Delete, event, now)?;
        harvest::record_deletion(conn, id, now)?;
    }
    Ok(deleted == 1)
}

/// Runs `$body` with `$table` bound to the table of a vocabulary entity.
macro_rules! with_vocabulary_table {
    ($entity:expr, $table:ident => $body:expr) => {
        match $entity {
            Entity::Organisation => {
                use super::schema::organisations as $table;
                $body
            }
            Entity::Field => {
                use super::schema::fields as $table;
                $body
            }
            Entity::Project => {
                use super::schema::projects as $table;
                $body
            }
            Entity::Event => {
                use super::schema::events as $table;
                $body
            }
            Entity::Publication => {
                use super::schema::publications as $table;
                $body
            }
        }
    };
}

/// The stored version (content hash) of an entity, None when it is gone.
pub fn version_of(
    conn: &mut AnyConnection,
    entity: Entity,
    id: &str,
) -> QueryResult<Option<String>> {
    with_vocabulary_table!(entity, table => table::table
        .filter(table::id.eq(id))
        .select(table::content_hash)
        .first::<String>(conn)
        .optional())
}

/// Takes the write lock on an entity at a known version: touches its row
/// only if its content hash is still `expected`. Returns false when it
/// changed (or is gone). From then on no other writer can change the row
/// until the transaction commits (SQLite holds the database's write lock,
/// PostgreSQL the row's lock), so two editors can never both win against
/// the same version.
pub fn lock_version(
    conn: &mut AnyConnection,
    entity: Entity,
    id: &str,
    expected: &str,
) -> QueryResult<bool> {
    let touched = with_vocabulary_table!(entity, table => diesel::update(
        table::table
            .filter(table::id.eq(id))
            .filter(table::content_hash.eq(expected)),
    )
    .set(table::content_hash.eq(expected))
    .execute(conn))?;
    Ok(touched == 1)
}

/// Deletes a vocabulary entity (its texts, its own link rows, the row) and
/// logs the deletion. Fails with a foreign-key violation while anything
/// still refers to it; the caller's transaction then rolls back.
pub fn delete_vocabulary(
    conn: &mut AnyConnection,
    entity: Entity,
    id: &str,
    now: &str,
) -> QueryResult<bool> {
    diesel::delete(texts::table.filter(texts::owner_id.eq(id))).execute(conn)?;
    let deleted = with_vocabulary_table!(entity, table => diesel::delete(
        table::table.filter(table::id.eq(id))
    )
    .execute(conn))?;
    if deleted == 1 {
        changes::record(conn, entity.as_str(), id, Operation::Delete, now)?;
    }
    Ok(deleted == 1)
}

/// What is stored under a slug: its id, version and creation time.
pub fn existing_by_slug(
    conn: &mut AnyConnection,
    entity: Entity,
    slug: &str,
) -> QueryResult<Option<Existing>> {
    let found = with_vocabulary_table!(entity, table => table::table
        .filter(table::slug.eq(slug))
        .select((table::id, table::content_hash, table::created_at))
        .first::<(String, String, String)>(conn)
        .optional())?;
    Ok(found.map(|(id, content_hash, created_at)| Existing {
        id,
        content_hash,
        created_at,
    }))
}

/// What is stored under an id, for one kind of entity.
pub fn existing_by_id(
    conn: &mut AnyConnection,
    entity: Entity,
    id: &str,
) -> QueryResult<Option<Existing>> {
    let found = with_vocabulary_table!(entity, table => table::table
        .filter(table::id.eq(id))
        .select((table::id, table::content_hash, table::created_at))
        .first::<(String, String, String)>(conn)
        .optional())?;
    Ok(found.map(|(id, content_hash, created_at)| Existing {
        id,
        content_hash,
        created_at,
    }))
}

/// The slug of the entity with this id.
pub fn slug_by_id(
    conn: &mut AnyConnection,
    entity: Entity,
    id: &str,
) -> QueryResult<Option<String>> {
    with_vocabulary_table!(entity, table => table::table
        .filter(table::id.eq(id))
        .select(table::slug)
        .first::<String>(conn)
        .optional())
}

/// The id of the entity with this slug.
pub fn id_by_slug(
    conn: &mut AnyConnection,
    entity: Entity,
    slug: &str,
) -> QueryResult<Option<String>> {
    with_vocabulary_table!(entity, table => table::table
        .filter(table::slug.eq(slug))
        .select(table::id)
        .first::<String>(conn)
        .optional())
}

/// Runs `work` in a transaction that holds the write lock from its start.
/// On SQLite the transaction begins IMMEDIATE: a transaction that reads
/// first and writes later fails at once (`SQLITE_BUSY_SNAPSHOT`, which no
/// busy timeout helps) when another writer — the server, `arkiv import` —
/// committed in between, while one that takes the lock first waits its
/// turn for up to the busy timeout instead. PostgreSQL's transactions need
/// no such care: row locks and unique indexes order writers.
pub fn write_transaction<T, E>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let AnyConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(work);
    };
    match AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
        Ok(()) => {}
        // Already inside a write transaction (an API edit that saves
        // through the write service): the lock is held, a savepoint is
        // enough.
        Err(diesel::result::Error::AlreadyInTransaction) => return conn.transaction(work),
        Err(error) => return Err(error.into()),
    }
    let result = work(conn);
    let AnyConnection::Sqlite(sqlite) = conn else {
        unreachable!("a connection does not change its backend");
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(sqlite)?;
            Ok(value)
        }
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            Err(error)
        }
    }
}
