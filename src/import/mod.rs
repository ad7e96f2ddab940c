//! `arkiv import`: reads an NDJSON file of [records](crate::domain::records)
//! in the format of DESIGN.md, checks every line, resolves references by
//! slug across the whole file and the archive, then writes it all in one
//! transaction — or nothing at all. A file is the batch form of the write
//! service ([`crate::write`]): the same checks and the same per-entity
//! writers, with the slugs of the whole file and archive resolved at once
//! instead of one by one.

pub mod export;

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

use diesel::prelude::*;

use crate::db::schema::{events, fields, organisations, projects, publications};
use crate::db::write::{self, Existing, Outcome, SlugIds};
use crate::db::AnyConnection;
use crate::domain;
use crate::domain::records::{check, references, Entity, Record};
use crate::progress::Progress;
use crate::write::resolve::{place, unknown_reference, Lookup, Placed};

/// How many publications are written per batch of multi-row inserts.
const PUBLICATIONS_PER_BATCH: usize = 1_000;

/// How many problems an import reports before it stops looking for more.
const MAX_REPORTED_ERRORS: usize = 100;

/// One problem with one line of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the file.
    pub line: usize,
    /// The field at fault, as a path (`variants.sq.title`), or empty for the line.
    pub field: String,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(f, "line {}: {}: {}", self.line, self.field, self.message)
        }
    }
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportError {
    /// The file has bad lines; nothing was written.
    Invalid(Vec<LineError>),
    /// The file could not be read.
    Io(std::io::Error),
    /// The database refused the write; nothing was written.
    Database(diesel::result::Error),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Invalid(errors) => {
                writeln!(
                    f,
                    "the file has {} problem(s); nothing was imported:",
                    errors.len()
                )?;
                for error in errors {
                    writeln!(f, "  {error}")?;
                }
                Ok(())
            }
            ImportError::Io(error) => write!(f, "cannot read the file: {error}"),
            ImportError::Database(error) => write!(
                f,
                "the database refused the import; nothing was imported: {error}"
            ),
        }
    }
}

impl std::error::Error for ImportError {}

/// Counts of what an import did, per entity.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub created: HashMap<Entity, usize>,
    pub updated: HashMap<Entity, usize>,
    pub unchanged: HashMap<Entity, usize>,
}

impl ImportReport {
    fn count(&mut self, entity: Entity, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Created => &mut self.created,
            Outcome::Updated => &mut self.updated,
            Outcome::Unchanged => &mut self.unchanged,
        };
        *counter.entry(entity).or_default() += 1;
    }

    pub fn total(map: &HashMap<Entity, usize>) -> usize {
        map.values().sum()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entities = [
            Entity::Organisation,
            Entity::Field,
            Entity::Project,
            Entity::Event,
            Entity::Publication,
        ];
        for entity in entities {
            let get = |map: &HashMap<Entity, usize>| map.get(&entity).copied().unwrap_or(0);
            writeln!(
                f,
                "{:<13} {:>7} created {:>7} updated {:>7} unchanged",
                entity.as_str(),
                get(&self.created),
                get(&self.updated),
                get(&self.unchanged)
            )?;
        }
        Ok(())
    }
}

/// A parsed line and where it came from.
#[derive(Debug, Clone)]
pub struct Line {
    pub number: usize,
    pub record: Record,
}

/// Reads and checks every line, collecting every problem rather than
/// stopping at the first.
pub fn parse(reader: impl BufRead) -> Result<Vec<Line>, ImportError> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let number = index + 1;
        let text = match line {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
                errors.push(LineError {
                    line: number,
                    field: String::new(),
                    message: "is not valid UTF-8".into(),
                });
                continue;
            }
            Err(error) => return Err(ImportError::Io(error)),
        };
        let text = if number == 1 {
            text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned()
        } else {
            text
        };
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(&text) {
            Ok(record) => {
                for (field, message) in check(&record) {
                    errors.push(LineError {
                        line: number,
                        field,
                        message,
                    });
                }
                lines.push(Line { number, record });
            }
            Err((field, message)) => errors.push(LineError {
                line: number,
                field,
                message,
            }),
        }
        if errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(ImportError::Invalid(errors))
    }
}

/// Parses one line into a record, naming the field at fault on failure.
pub fn parse_line(text: &str) -> Result<Record, (String, String)> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| (String::new(), format!("is not valid JSON: {error}")))?;
    Record::from_json(value)
}

/// What the archive already holds, by slug and by id, per entity: a file
/// names thousands of slugs, so they are loaded at once rather than looked
/// up one by one as a single write does.
#[derive(Default)]
struct Stored {
    by_slug: HashMap<Entity, HashMap<String, Existing>>,
    slug_of_id: HashMap<Entity, HashMap<String, String>>,
}

impl Lookup for Stored {
    fn by_slug(&mut self, entity: Entity, slug: &str) -> QueryResult<Option<Existing>> {
        Ok(self
            .by_slug
            .get(&entity)
            .and_then(|stored| stored.get(slug))
            .cloned())
    }

    fn by_id(&mut self, entity: Entity, id: &str) -> QueryResult<Option<Existing>> {
        let slug = self.slug_of_id.get(&entity).and_then(|ids| ids.get(id));
        match slug {
            Some(slug) => {
                let slug = slug.clone();
                self.by_slug(entity, &slug)
            }
            None => Ok(None),
        }
    }

    fn other_kind_with_id(&mut self, entity: Entity, id: &str) -> QueryResult<Option<Entity>> {
        Ok(self
            .slug_of_id
            .iter()
            .find(|(other, ids)| **other != entity && ids.contains_key(id))
            .map(|(other, _)| *other))
    }
}

impl Stored {
    fn load(conn: &mut AnyConnection) -> QueryResult<Self> {
        let mut stored = Stored::default();
        macro_rules! load {
            ($entity:expr, $table:ident) => {{
                let rows: Vec<(String, String, String, String)> = $table::table
                    .select((
                        $table::id,
                        $table::slug,
                        $table::content_hash,
                        $table::created_at,
                    ))
                    .load(conn)?;
                let by_slug = stored.by_slug.entry($entity).or_default();
                let slug_of_id = stored.slug_of_id.entry($entity).or_default();
                for (id, slug, content_hash, created_at) in rows {
                    slug_of_id.insert(id.clone(), slug.clone());
                    by_slug.insert(
                        slug,
                        Existing {
                            id,
                            content_hash,
                            created_at,
                        },
                    );
                }
            }};
        }
        load!(Entity::Organisation, organisations);
        load!(Entity::Field, fields);
        load!(Entity::Project, projects);
        load!(Entity::Event, events);
        load!(Entity::Publication, publications);
        Ok(stored)
    }
}

/// A record with its id decided and what it replaces.
struct Planned<'a> {
    line: &'a Line,
    id: String,
    existing: Option<Existing>,
}

/// Imports parsed lines: resolves references, then writes everything in one
/// transaction. Nothing is written when any line has a problem.
pub fn import(
    conn: &mut AnyConnection,
    lines: &[Line],
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let result = write::write_transaction::<_, ImportTransactionError>(conn, |conn| {
        let mut stored = Stored::load(conn)?;
        let start_seq = crate::db::changes::latest_seq(conn)?;
        let (plan, ids) = plan(lines, &mut stored)?;
        let now = domain::now_timestamp();
        let mut report = ImportReport::default();
        progress.set_total(plan.len() as u64);
        // The plan lists vocabulary first, then publications.
        let split =
            plan.partition_point(|planned| planned.line.record.entity() != Entity::Publication);
        let (vocabulary, publications) = plan.split_at(split);
        for planned in vocabulary {
            let existing = planned.existing.as_ref();
            let id = planned.id.as_str();
            let outcome = match &planned.line.record {
                Record::Organisation(r) => write::write_organisation(conn, id, r, existing, &now)?,
                Record::Field(r) => write::write_field(conn, id, r, existing, &now)?,
                Record::Project(r) => write::write_project(conn, id, r, &ids, existing, &now)?,
                Record::Event(r) => write::write_event(conn, id, r, &ids, existing, &now)?,
                Record::Publication(_) => unreachable!("publications come after the vocabulary"),
            };
            report.count(planned.line.record.entity(), outcome);
            progress.advance(1);
        }
        for batch in publications.chunks(PUBLICATIONS_PER_BATCH) {
            let writes: Vec<write::PublicationWrite<'_>> = batch
                .iter()
                .filter_map(|planned| match &planned.line.record {
                    Record::Publication(record) => Some(write::PublicationWrite {
                        id: &planned.id,
                        record,
                        existing: planned.existing.as_ref(),
                    }),
                    _ => None,
                })
                .collect();
            for outcome in write::write_publications(conn, &writes, &ids, &now)? {
                report.count(Entity::Publication, outcome);
            }
            progress.advance(batch.len() as u64);
        }
        crate::db::harvest::restamp_after(conn, start_seq)?;
        Ok(report)
    });
    result.map_err(|error| match error {
        ImportTransactionError::Invalid(errors) => ImportError::Invalid(errors),
        ImportTransactionError::Database(error) => ImportError::Database(error),
    })
}

/// Errors inside the import transaction; any of them rolls it back.
enum ImportTransactionError {
    Invalid(Vec<LineError>),
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for ImportTransactionError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

/// Decides ids, checks duplicates and id conflicts, and resolves every
/// reference against the file and the archive.
fn plan<'a>(
    lines: &'a [Line],
    stored: &mut Stored,
) -> Result<(Vec<Planned<'a>>, SlugIds), ImportTransactionError> {
    let mut errors = Vec::new();
    let mut plan = Vec::with_capacity(lines.len());
    let mut first_line: HashMap<(Entity, &str), usize> = HashMap::new();
    let mut ids = SlugIds::default();
    for (entity, stored_map) in &stored.by_slug {
        if let Some(target) = ids.of_mut(*entity) {
            target.extend(
                stored_map
                    .iter()
                    .map(|(slug, existing)| (slug.clone(), existing.id.clone())),
            );
        }
    }
    // Ids are unique across every kind of entity: texts are keyed by owner id.
    let mut ids_in_file: HashMap<String, usize> = HashMap::new();
    for line in lines {
        let entity = line.record.entity();
        let slug = line.record.slug().as_str();
        if let Some(first) = first_line.insert((entity, slug), line.number) {
            errors.push(LineError {
                line: line.number,
                field: "slug".into(),
                message: format!(
                    "the {} {slug:?} already appears on line {first}",
                    entity.as_str()
                ),
            });
            continue;
        }
        let Placed { id, existing } = match place(stored, &line.record)? {
            Ok(placed) => placed,
            Err((field, message)) => {
                errors.push(LineError {
                    line: line.number,
                    field,
                    message,
                });
                continue;
            }
        };
        if let Some(first) = ids_in_file.insert(id.clone(), line.number) {
            errors.push(LineError {
                line: line.number,
                field: "id".into(),
                message: format!("the id {id} is already used on line {first}"),
            });
            continue;
        }
        if let Some(map) = ids.of_mut(entity) {
            map.insert(slug.to_owned(), id.clone());
        }
        plan.push(Planned { line, id, existing });
    }
    for planned in &plan {
        for (field, entity, slug) in references(&planned.line.record) {
            let known = entity == Entity::Publication || ids.get(entity, slug).is_some();
            if !known {
                errors.push(LineError {
                    line: planned.line.number,
                    field,
                    message: unknown_reference(entity, slug),
                });
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|error| error.line);
        errors.truncate(MAX_REPORTED_ERRORS);
        return Err(ImportTransactionError::Invalid(errors));
    }
    // Write what others refer to first; keep file order within an entity.
    plan.sort_by_key(|planned| (planned.line.record.entity(), planned.line.number));
    Ok((plan, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_reported_by_line_and_field() {
        let file = concat!(
            "{\"type\":\"field\",\"slug\":\"a\",\"label\":{\"en\":\"A\"}}\n",
            "\n",
            "{\"type\":\"field\",\"slug\":\"b\",\"label\":{\"de\":\"B\"}}\n",
            "{\"type\":\"publication\",\"slug\":\"p\",\"kind\":\"report\",\"status\":\"published\",\"variants\":{\"en\":{\"title\":\"\"}}}\n",
            "{\"type\":\"field\",\"slug\":\"c\",\"label\":{\"en\":\"C\"},\"colour\":\"red\"}\n",
            "not json\n",
        );
        let Err(ImportError::Invalid(errors)) = parse(file.as_bytes()) else {
            panic!("the file must be rejected");
        };
        let located: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            located,
            vec![
                (3, "label.de"),
                (4, "variants.en.title"),
                (4, "published_on"),
                (5, "colour"),
                (6, "")
            ],
            "{errors:#?}"
        );
    }
}
