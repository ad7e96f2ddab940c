//! The `total` of a publication list without counting rows (D92).
//!
//! Counting what a filter matches cost SQLite 50–200 ms on 50,000
//! publications whenever the filter reached past the (status, sort key)
//! indexes (a kind, a language, a field): every matching row was read. So
//! each process keeps what the list filters look at — status, kind,
//! project, event, fields, languages, dates — for every publication
//! (about 250 bytes each with the allocations, 12 MB for 50,000) and
//! counts there (a pass over 50,000 entries takes about a millisecond). It
//! is brought up to date from the change log before each count: the
//! publications changed since it last looked are read again (all of them
//! past [`REFRESH_LIMIT`] changes), so a total is never older than the
//! request.

use std::collections::HashMap;
use std::sync::Mutex;

use diesel::prelude::*;

use super::publications::Filter;
use super::schema::{publication_fields, publications, variants};
use super::{changes, AnyConnection};
use crate::domain::{PublicationKind, PublicationStatus};

/// Past this many changes since the last look, everything is read again.
const REFRESH_LIMIT: i64 = 5_000;

/// What the list filters look at of one publication. Project, event,
/// field and language ids are interned as small numbers.
#[derive(Debug, Clone)]
struct Entry {
    status: PublicationStatus,
    kind: PublicationKind,
    project: Option<u32>,
    event: Option<u32>,
    fields: Vec<u32>,
    languages: Vec<u32>,
    published_on: Option<String>,
    updated_at: String,
}

#[derive(Debug, Default)]
struct Tally {
    /// The change-log position the entries reflect; None before the first
    /// load.
    seq: Option<i64>,
    entries: HashMap<String, Entry>,
    names: HashMap<String, u32>,
}

impl Tally {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&number) = self.names.get(name) {
            return number;
        }
        let number = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.insert(name.to_owned(), number);
        number
    }

    /// The numbers of `names` (those never seen match nothing).
    fn numbers(&self, names: &[String]) -> Vec<u32> {
        names
            .iter()
            .filter_map(|name| self.names.get(name).copied())
            .collect()
    }

    /// Reads the publications with these ids again (all when None).
    fn load(&mut self, conn: &mut AnyConnection, ids: Option<&[String]>) -> QueryResult<()> {
        type Head = (
            String,
            PublicationStatus,
            PublicationKind,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
        );
        /// (publication id, field or language id).
        type Pair = (String, String);
        let columns = (
            publications::id,
            publications::status,
            publications::kind,
            publications::project_id,
            publications::event_id,
            publications::published_on,
            publications::updated_at,
        );
        let (heads, fields, languages): (Vec<Head>, Vec<Pair>, Vec<Pair>) = match ids {
            None => (
                publications::table.select(columns).load(conn)?,
                publication_fields::table
                    .order((
                        publication_fields::publication_id,
                        publication_fields::position,
                    ))
                    .select((
                        publication_fields::publication_id,
                        publication_fields::field_id,
                    ))
                    .load(conn)?,
                variants::table
                    .select((variants::publication_id, variants::lang))
                    .load(conn)?,
            ),
            Some(ids) => (
                publications::table
                    .filter(publications::id.eq_any(ids))
                    .select(columns)
                    .load(conn)?,
                publication_fields::table
                    .filter(publication_fields::publication_id.eq_any(ids))
                    .select((
                        publication_fields::publication_id,
                        publication_fields::field_id,
                    ))
                    .load(conn)?,
                variants::table
                    .filter(variants::publication_id.eq_any(ids))
                    .select((variants::publication_id, variants::lang))
                    .load(conn)?,
            ),
        };
        match ids {
            None => self.entries.clear(),
            Some(ids) => {
                for id in ids {
                    self.entries.remove(id);
                }
            }
        }
        for (id, status, kind, project, event, published_on, updated_at) in heads {
            let project = project.map(|project| self.intern(&project));
            let event = event.map(|event| self.intern(&event));
            self.entries.insert(
                id,
                Entry {
                    status,
                    kind,
                    project,
                    event,
                    fields: Vec::new(),
                    languages: Vec::new(),
                    published_on,
                    updated_at,
                },
            );
        }
        for (id, field) in fields {
            let field = self.intern(&field);
            if let Some(entry) = self.entries.get_mut(&id) {
                entry.fields.push(field);
            }
        }
        for (id, lang) in languages {
            let lang = self.intern(&lang);
            if let Some(entry) = self.entries.get_mut(&id) {
                entry.languages.push(lang);
            }
        }
        Ok(())
    }

    fn count(&self, filter: &Filter) -> i64 {
        let any_of = |wanted: &Option<Vec<String>>| wanted.as_deref().map(|w| self.numbers(w));
        let fields = any_of(&filter.field_ids);
        let projects = any_of(&filter.project_ids);
        let events = any_of(&filter.event_ids);
        let languages = any_of(&filter.languages);
        let years: Vec<(String, String)> = filter
            .years
            .iter()
            .map(|year| (format!("{year:04}-01-01"), format!("{year:04}-12-31")))
            .collect();
        let in_list = |own: Option<u32>, wanted: &Option<Vec<u32>>| match wanted {
            None => true,
            Some(wanted) => own.is_some_and(|own| wanted.contains(&own)),
        };
        let shares = |own: &[u32], wanted: &Option<Vec<u32>>| match wanted {
            None => true,
            Some(wanted) => own.iter().any(|own| wanted.contains(own)),
        };
        let matched = self
            .entries
            .values()
            .filter(|entry| filter.statuses.contains(&entry.status))
            .filter(|entry| filter.kinds.is_empty() || filter.kinds.contains(&entry.kind))
            .filter(|entry| in_list(entry.project, &projects))
            .filter(|entry| in_list(entry.event, &events))
            .filter(|entry| shares(&entry.fields, &fields))
            .filter(|entry| shares(&entry.languages, &languages))
            .filter(|entry| {
                let on = entry.published_on.as_deref();
                (years.is_empty()
                    || on.is_some_and(|on| {
                        years
                            .iter()
                            .any(|(first, last)| on >= first.as_str() && on <= last.as_str())
                    }))
                    && filter
                        .published_from
                        .as_deref()
                        .is_none_or(|from| on.is_some_and(|on| on >= from))
                    && filter
                        .published_to
                        .as_deref()
                        .is_none_or(|to| on.is_some_and(|on| on <= to))
                    && filter
                        .updated_since
                        .as_deref()
                        .is_none_or(|since| entry.updated_at.as_str() >= since)
            })
            .count();
        i64::try_from(matched).unwrap_or(i64::MAX)
    }
}

/// The per-process totals (see the module's documentation).
#[derive(Debug, Default)]
pub struct Totals {
    tally: Mutex<Tally>,
}

impl Totals {
    /// How many publications `filter` matches now.
    pub fn count(&self, conn: &mut AnyConnection, filter: &Filter) -> QueryResult<i64> {
        let latest = changes::latest_seq(conn)?;
        let mut tally = self
            .tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match tally.seq {
            Some(seq) if seq == latest => {}
            Some(seq) if seq < latest => {
                match changes::publications_changed_after(conn, seq, REFRESH_LIMIT)? {
                    Some(changed) => {
                        let changed: Vec<String> = changed.into_iter().collect();
                        for ids in changed.chunks(500) {
                            tally.load(conn, Some(ids))?;
                        }
                    }
                    None => tally.load(conn, None)?,
                }
            }
            // The first count, or the log went back (a restored backup):
            // read everything.
            _ => tally.load(conn, None)?,
        }
        tally.seq = Some(latest);
        Ok(tally.count(filter))
    }
}
