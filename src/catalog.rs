//! The catalog: every organisation, field of work, project and event, held
//! in memory. They are few (hundreds) and on every page, so one snapshot
//! serves every request; it is reloaded when the change log shows a change
//! to any of them (see [`crate::state::AppState::catalog`]).

use std::collections::{BTreeMap, HashMap};

use crate::domain::{EventKind, Role};
use crate::import::format::LangMap;

#[derive(Debug, Clone)]
pub struct Organisation {
    pub id: String,
    pub slug: String,
    pub name: LangMap,
    pub roles: Vec<Role>,
    pub website: Option<String>,
    pub ror: Option<String>,
    /// The stored version (content hash): the first part of its ETag.
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub id: String,
    pub slug: String,
    pub label: LangMap,
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct Funding {
    pub organisation_id: String,
    pub grant_number: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub slug: String,
    pub title: LangMap,
    pub description: LangMap,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub funders: Vec<Funding>,
    pub partner_ids: Vec<String>,
    pub field_ids: Vec<String>,
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub slug: String,
    pub kind: EventKind,
    pub title: LangMap,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub place: Option<String>,
    pub organiser_ids: Vec<String>,
    pub project_id: Option<String>,
    pub version: String,
}

/// One kind of entity, ordered by slug and found by id or slug.
#[derive(Debug, Clone)]
pub struct Table<T> {
    by_slug: BTreeMap<String, T>,
    slug_of_id: HashMap<String, String>,
    id_of_slug: HashMap<String, String>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            by_slug: BTreeMap::new(),
            slug_of_id: HashMap::new(),
            id_of_slug: HashMap::new(),
        }
    }
}

impl<T> Table<T> {
    pub fn insert(&mut self, id: String, slug: String, value: T) {
        self.slug_of_id.insert(id.clone(), slug.clone());
        self.id_of_slug.insert(slug.clone(), id);
        self.by_slug.insert(slug, value);
    }

    pub fn by_id(&self, id: &str) -> Option<&T> {
        self.slug_of_id
            .get(id)
            .and_then(|slug| self.by_slug.get(slug))
    }

    pub fn by_slug(&self, slug: &str) -> Option<&T> {
        self.by_slug.get(slug)
    }

    /// Finds by UUID or slug, whichever `key` is.
    pub fn find(&self, key: &str) -> Option<&T> {
        self.by_slug(key).or_else(|| self.by_id(key))
    }

    /// Every entry, by slug.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.by_slug.values()
    }

    pub fn len(&self) -> usize {
        self.by_slug.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_slug.is_empty()
    }

    /// Returns the id of the entry a filter value (slug or id) names.
    pub fn id_of(&self, key: &str) -> Option<String> {
        if self.slug_of_id.contains_key(key) {
            return Some(key.to_owned());
        }
        self.id_of_slug.get(key).cloned()
    }
}

/// A snapshot of all vocabulary entities.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub organisations: Table<Organisation>,
    pub fields: Table<Field>,
    pub projects: Table<Project>,
    pub events: Table<Event>,
}
