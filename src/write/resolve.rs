//! Placing a record in the archive: deciding its id and what it replaces,
//! and resolving the slugs it refers to. The rules are the same for one
//! record written through the API and for every line of an import file;
//! only where they look things up differs ([`Lookup`]): one indexed query
//! per slug or id ([`Archive`]), or maps of the whole archive loaded once.

use diesel::QueryResult;

use crate::db::write::{self, Existing, SlugIds};
use crate::db::AnyConnection;
use crate::domain;
use crate::domain::records::{references, Entity, Record};

/// One problem with a record: the field at fault (a path such as
/// `funders[1]`) and what is wrong.
pub type Problem = (String, String);

/// Where the write rules look up what is stored.
pub trait Lookup {
    /// What is stored under `slug`.
    fn by_slug(&mut self, entity: Entity, slug: &str) -> QueryResult<Option<Existing>>;
    /// What is stored under `id` among the entities of one kind.
    fn by_id(&mut self, entity: Entity, id: &str) -> QueryResult<Option<Existing>>;
    /// The kind of entity, other than `entity`, that has this id, if any
    /// (ids are unique across every kind: texts are keyed by owner id).
    fn other_kind_with_id(&mut self, entity: Entity, id: &str) -> QueryResult<Option<Entity>>;
}

/// Every kind of entity, in the order their references allow writing them.
pub const ENTITIES: [Entity; 5] = [
    Entity::Organisation,
    Entity::Field,
    Entity::Project,
    Entity::Event,
    Entity::Publication,
];

/// The archive itself, asked one indexed query at a time: what a single
/// write costs does not grow with the archive.
pub struct Archive<'c>(pub &'c mut AnyConnection);

impl Lookup for Archive<'_> {
    fn by_slug(&mut self, entity: Entity, slug: &str) -> QueryResult<Option<Existing>> {
        write::existing_by_slug(self.0, entity, slug)
    }

    fn by_id(&mut self, entity: Entity, id: &str) -> QueryResult<Option<Existing>> {
        write::existing_by_id(self.0, entity, id)
    }

    fn other_kind_with_id(&mut self, entity: Entity, id: &str) -> QueryResult<Option<Entity>> {
        for other in ENTITIES.into_iter().filter(|other| *other != entity) {
            if write::existing_by_id(self.0, other, id)?.is_some() {
                return Ok(Some(other));
            }
        }
        Ok(None)
    }
}

/// A record's place in the archive: the id it is written under and what
/// it replaces (None: it is new).
#[derive(Debug, Clone)]
pub struct Placed {
    pub id: String,
    pub existing: Option<Existing>,
}

/// Decides a record's id: the stored one of its slug; else the id it
/// gives (which, when the archive knows it under another slug, renames
/// that entity); else a new one. A given id that differs from its slug's,
/// or that another kind of entity has, is a problem on `id`.
pub fn place(lookup: &mut dyn Lookup, record: &Record) -> QueryResult<Result<Placed, Problem>> {
    let entity = record.entity();
    let slug = record.slug().as_str();
    let mut existing = lookup.by_slug(entity, slug)?;
    let id = match (record.id(), &existing) {
        (Some(given), Some(stored)) if given.hyphenated().to_string() != stored.id => {
            return Ok(Err((
                "id".into(),
                format!(
                    "{given} differs from the id {} that {slug:?} already has",
                    stored.id
                ),
            )));
        }
        (Some(given), None) => {
            let given = given.hyphenated().to_string();
            if let Some(other) = lookup.other_kind_with_id(entity, &given)? {
                return Ok(Err((
                    "id".into(),
                    format!("{given} is already the id of an {}", other.as_str()),
                )));
            }
            // An id the archive knows under another slug: a rename.
            if let Some(renamed) = lookup.by_id(entity, &given)? {
                existing = Some(renamed);
            }
            given
        }
        (_, Some(stored)) => stored.id.clone(),
        (None, None) => domain::new_id(),
    };
    Ok(Ok(Placed { id, existing }))
}

/// The message for a reference to a slug nobody has.
pub fn unknown_reference(entity: Entity, slug: &str) -> String {
    format!(
        "no {} has the slug {slug:?} in this file or in the archive",
        entity.as_str()
    )
}

/// Resolves the slugs `record` names, and only those, one indexed query
/// each: the ids found, and a problem for each slug that names nothing.
pub fn resolve_references(
    conn: &mut AnyConnection,
    record: &Record,
) -> QueryResult<(SlugIds, Vec<Problem>)> {
    let mut ids = SlugIds::default();
    let mut problems = Vec::new();
    for (field, entity, slug) in references(record) {
        if ids.get(entity, slug).is_some() {
            continue;
        }
        match write::id_by_slug(conn, entity, slug)? {
            Some(id) => {
                if let Some(map) = ids.of_mut(entity) {
                    map.insert(slug.to_owned(), id);
                }
            }
            None => problems.push((field, unknown_reference(entity, slug))),
        }
    }
    Ok((ids, problems))
}
