//! The catalog: every organisation, field of work, project and event, held
//! in memory. They are few (hundreds) and on every page, so one snapshot
//! serves every request; it is reloaded when the change log shows a change
//! to any of them (see [`crate::state::AppState::catalog`]).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::domain::records::{ImageRecord, LangMap};
use crate::domain::{EventKind, Role};

#[derive(Debug, Clone)]
pub struct Organisation {
    pub id: String,
    pub slug: String,
    pub name: LangMap,
    pub description: LangMap,
    pub roles: Vec<Role>,
    pub website: Option<String>,
    pub ror: Option<String>,
    pub image: Option<ImageRecord>,
    /// The stored version (content hash): the first part of its ETag.
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub id: String,
    pub slug: String,
    pub label: LangMap,
    pub description: LangMap,
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
    pub implementer_ids: Vec<String>,
    pub field_ids: Vec<String>,
    pub image: Option<ImageRecord>,
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub slug: String,
    pub kind: EventKind,
    pub title: LangMap,
    pub description: LangMap,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub place: Option<String>,
    pub organiser_ids: Vec<String>,
    pub project_id: Option<String>,
    pub image: Option<ImageRecord>,
    pub version: String,
}

/// One kind of entity, ordered by slug and found by id or slug. Every
/// listed publication looks its project, funders, partners, event and
/// fields up by id: the ids hash with FxHash (SipHash's resistance to
/// chosen keys buys nothing for ids the archive made itself) straight to
/// the entry.
#[derive(Debug, Clone)]
pub struct Table<T> {
    entries: Vec<T>,
    ids: Vec<String>,
    by_slug: BTreeMap<String, usize>,
    by_id: FxHashMap<String, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            ids: Vec::new(),
            by_slug: BTreeMap::new(),
            by_id: FxHashMap::default(),
        }
    }
}

impl<T> Table<T> {
    /// Adds an entry, or replaces the one with the same slug.
    pub fn insert(&mut self, id: String, slug: String, value: T) {
        match self.by_slug.get(&slug) {
            Some(&at) => {
                self.by_id.remove(&self.ids[at]);
                self.entries[at] = value;
                self.ids[at] = id.clone();
                self.by_id.insert(id, at);
            }
            None => {
                let at = self.entries.len();
                self.entries.push(value);
                self.ids.push(id.clone());
                self.by_id.insert(id, at);
                self.by_slug.insert(slug, at);
            }
        }
    }

    pub fn by_id(&self, id: &str) -> Option<&T> {
        self.by_id.get(id).map(|&at| &self.entries[at])
    }

    pub fn by_slug(&self, slug: &str) -> Option<&T> {
        self.by_slug.get(slug).map(|&at| &self.entries[at])
    }

    /// Finds by UUID or slug, whichever `key` is.
    pub fn find(&self, key: &str) -> Option<&T> {
        self.by_slug(key).or_else(|| self.by_id(key))
    }

    /// Every entry, by slug.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.by_slug.values().map(|&at| &self.entries[at])
    }

    pub fn len(&self) -> usize {
        self.by_slug.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_slug.is_empty()
    }

    /// Returns the id of the entry a filter value (slug or id) names.
    pub fn id_of(&self, key: &str) -> Option<String> {
        if self.by_id.contains_key(key) {
            return Some(key.to_owned());
        }
        self.by_slug.get(key).map(|&at| self.ids[at].clone())
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

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn a_table_finds_by_id_or_slug_and_lists_by_slug() {
        let mut table = Table::default();
        table.insert("id-b".to_owned(), "bravo".to_owned(), 2);
        table.insert("id-a".to_owned(), "alpha".to_owned(), 1);
        assert_eq!(table.iter().copied().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(table.by_id("id-b"), Some(&2));
        assert_eq!(table.by_slug("alpha"), Some(&1));
        assert_eq!(table.find("id-a"), Some(&1));
        assert_eq!(table.find("bravo"), Some(&2));
        assert_eq!(table.id_of("bravo").as_deref(), Some("id-b"));
        assert_eq!(table.id_of("id-a").as_deref(), Some("id-a"));
        assert_eq!(table.id_of("charlie"), None);

        // The same slug again replaces the entry, its id included.
        table.insert("id-c".to_owned(), "bravo".to_owned(), 3);
        assert_eq!(table.len(), 2);
        assert_eq!(table.by_id("id-b"), None);
        assert_eq!(table.by_id("id-c"), Some(&3));
        assert_eq!(table.id_of("bravo").as_deref(), Some("id-c"));
        assert_eq!(table.iter().copied().collect::<Vec<_>>(), [1, 3]);
    }
}
