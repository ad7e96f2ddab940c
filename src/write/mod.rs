//! The write service: one record (publication, project, organisation,
//! event or field) checked, placed, its references resolved and written
//! with its change-log entry, in one transaction. It looks up only the
//! slugs and ids the record names, each with an indexed query, so a write
//! costs the same in an archive of fifty publications as in one of fifty
//! thousand. The API's write routes save through it; `arkiv import` is its
//! batch form (the same rules and per-entity writers, with the whole file
//! resolved at once).

pub mod resolve;

use std::collections::HashMap;

use crate::db::publications::Full;
use crate::db::write::{self, Outcome, PublicationWrite};
use crate::db::AnyConnection;
use crate::domain::records::{check, Entity, PublicationRecord, Record};
use resolve::{place, resolve_references, Archive, Problem};

/// Why a record was not written; nothing of it was.
#[derive(Debug)]
pub enum Rejected {
    /// The record has problems, each with the field at fault.
    Invalid(Vec<Problem>),
    /// The database refused the write.
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for Rejected {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

/// What a write did, and to which id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub id: String,
    pub outcome: Outcome,
}

/// Writes one record: checks it, decides its id (see [`resolve::place`]),
/// resolves the slugs it names, and writes it with its change-log entry
/// in a transaction of its own (a savepoint inside the caller's, when
/// there is one). A record equal to the stored one writes nothing.
pub fn save(conn: &mut AnyConnection, record: &Record) -> Result<Saved, Rejected> {
    let problems = check(record);
    if !problems.is_empty() {
        return Err(Rejected::Invalid(problems));
    }
    write::write_transaction(conn, |conn| {
        let placed = place(&mut Archive(conn), record)?.map_err(|p| Rejected::Invalid(vec![p]))?;
        let (ids, problems) = resolve_references(conn, record)?;
        if !problems.is_empty() {
            return Err(Rejected::Invalid(problems));
        }
        let start_seq = crate::db::changes::latest_seq(conn)?;
        let now = crate::domain::now_timestamp();
        let (id, existing) = (placed.id.as_str(), placed.existing.as_ref());
        let outcome = match record {
            Record::Organisation(r) => write::write_organisation(conn, id, r, existing, &now)?,
            Record::Field(r) => write::write_field(conn, id, r, existing, &now)?,
            Record::Project(r) => write::write_project(conn, id, r, &ids, existing, &now)?,
            Record::Event(r) => write::write_event(conn, id, r, &ids, existing, &now)?,
            Record::Publication(record) => {
                let one = PublicationWrite {
                    id,
                    record,
                    existing,
                };
                let outcomes = write::write_publications(conn, &[one], &ids, &now)?;
                outcomes.first().copied().unwrap_or(Outcome::Unchanged)
            }
        };
        // As an import does before it commits: no harvest made meanwhile
        // may have a responseDate after this write's datestamp.
        crate::db::harvest::restamp_after(conn, start_seq)?;
        Ok(Saved {
            id: placed.id,
            outcome,
        })
    })
}

/// The record of a stored publication, for an edit to start from. The
/// slugs of its project, event and fields are read by id, each with one
/// query: the vocabulary as it is inside the caller's transaction.
pub fn stored_publication(
    conn: &mut AnyConnection,
    full: &Full,
) -> Result<PublicationRecord, StoredError> {
    let mut slugs: HashMap<(Entity, String), String> = HashMap::new();
    let named = full
        .row
        .project_id
        .iter()
        .map(|id| (Entity::Project, id))
        .chain(full.row.event_id.iter().map(|id| (Entity::Event, id)))
        .chain(full.field_ids.iter().map(|id| (Entity::Field, id)));
    for (entity, id) in named {
        if let Some(slug) = write::slug_by_id(conn, entity, id)? {
            slugs.insert((entity, id.clone()), slug);
        }
    }
    let record = crate::db::records::publication_record_with(full.clone(), |entity, id| {
        slugs.get(&(entity, id.to_owned())).cloned()
    })?;
    Ok(record)
}

/// Why a stored publication could not be read back as a record.
#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Corrupt(#[from] crate::db::records::Corrupt),
}
