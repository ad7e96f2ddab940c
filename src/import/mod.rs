//! `arkiv import`: reads an NDJSON file in the format of DESIGN.md, checks
//! every line, resolves references by slug across the whole file and the
//! archive, then writes it all in one transaction — or nothing at all.

pub mod export;
pub mod format;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::BufRead;

use diesel::prelude::*;
use indicatif::ProgressBar;

use crate::db::schema::{events, fields, organisations, projects, publications};
use crate::db::write::{self, Existing, Outcome, SlugIds};
use crate::db::AnyConnection;
use crate::domain::text::TextStatus;
use crate::domain::{self, PublicationStatus};
use format::{Entity, LangMap, Record};

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

/// Returns the path (`variants.en.title`, `authors[2]`) of the first string
/// or key of `value` with a NUL character in it: refused on either backend,
/// so an archive written to SQLite always moves to PostgreSQL.
fn nul_in(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0').then(String::new),
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            nul_in(item).map(|rest| format!("[{index}]{}", dotted(&rest)))
        }),
        Value::Object(object) => object.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(key.replace('\0', "\\u0000"));
            }
            nul_in(item).map(|rest| format!("{key}{}", dotted(&rest)))
        }),
        _ => None,
    }
}

/// Joins the rest of a path to its parent: `.title`, `[2]`, or nothing.
fn dotted(rest: &str) -> String {
    if rest.is_empty() || rest.starts_with('[') {
        rest.to_owned()
    } else {
        format!(".{rest}")
    }
}

/// Parses one line into a record, naming the field at fault on failure.
pub fn parse_line(text: &str) -> Result<Record, (String, String)> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| (String::new(), format!("is not valid JSON: {error}")))?;
    if let Some(field) = nul_in(&value) {
        return Err((
            field,
            "must not contain the NUL character \\u0000 (PostgreSQL cannot store it)".into(),
        ));
    }
    let serde_json::Value::Object(mut object) = value else {
        return Err((String::new(), "must be a JSON object".into()));
    };
    let kind =
        match object.remove("type") {
            Some(serde_json::Value::String(kind)) => kind,
            Some(_) => return Err(("type".into(), "must be a string".into())),
            None => return Err((
                "type".into(),
                "is missing; it must be one of organisation, field, project, event, publication"
                    .into(),
            )),
        };
    let value = serde_json::Value::Object(object);
    fn typed<T: serde::de::DeserializeOwned>(
        value: serde_json::Value,
    ) -> Result<T, (String, String)> {
        serde_path_to_error::deserialize(value).map_err(|error| {
            // A bad map key shows as `.?`: name the map instead.
            let path = error.path().to_string().replace(".?", "");
            let field = if path == "." { String::new() } else { path };
            (field, error.into_inner().to_string())
        })
    }
    Ok(match kind.as_str() {
        "organisation" => Record::Organisation(typed(value)?),
        "field" => Record::Field(typed(value)?),
        "project" => Record::Project(typed(value)?),
        "event" => Record::Event(typed(value)?),
        "publication" => Record::Publication(typed(value)?),
        other => {
            return Err((
                "type".into(),
                format!("{other:?} is not one of organisation, field, project, event, publication"),
            ))
        }
    })
}

/// The longest title, name or label accepted.
pub(crate) const MAX_TITLE_CHARS: usize = 1_000;

fn check_texts(field: &str, texts: &LangMap, required: bool, problems: &mut Vec<(String, String)>) {
    if required && texts.is_empty() {
        problems.push((field.into(), "needs a text in at least one language".into()));
    }
    for (lang, text) in texts {
        if text.trim().is_empty() {
            problems.push((format!("{field}.{lang}"), "must not be empty".into()));
        } else if text.chars().count() > MAX_TITLE_CHARS {
            problems.push((
                format!("{field}.{lang}"),
                format!("must be at most {MAX_TITLE_CHARS} characters"),
            ));
        }
    }
}

fn check_dates(
    starts_on: Option<chrono::NaiveDate>,
    ends_on: Option<chrono::NaiveDate>,
    problems: &mut Vec<(String, String)>,
) {
    if let (Some(starts_on), Some(ends_on)) = (starts_on, ends_on) {
        if ends_on < starts_on {
            problems.push(("ends_on".into(), "must not be before starts_on".into()));
        }
    }
}

fn check_unique<'a>(
    field: &str,
    slugs: impl Iterator<Item = &'a domain::Slug>,
    problems: &mut Vec<(String, String)>,
) {
    let mut seen = HashSet::new();
    for (index, slug) in slugs.enumerate() {
        if !seen.insert(slug) {
            problems.push((
                format!("{field}[{index}]"),
                format!("{slug:?} is listed twice"),
            ));
        }
    }
}

/// Checks what the types alone cannot: required texts, date order, the
/// status rules. Returns (field, message) pairs.
pub fn check(record: &Record) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    match record {
        Record::Organisation(org) => {
            check_texts("name", &org.name, true, &mut problems);
            if let Some(website) = &org.website {
                if !(website.starts_with("https://") || website.starts_with("http://")) {
                    problems.push((
                        "website".into(),
                        "must be an http:// or https:// URL".into(),
                    ));
                }
            }
        }
        Record::Field(field) => check_texts("label", &field.label, true, &mut problems),
        Record::Project(project) => {
            check_texts("title", &project.title, true, &mut problems);
            check_dates(project.starts_on, project.ends_on, &mut problems);
            check_unique(
                "funders",
                project.funders.iter().map(|f| f.organisation()),
                &mut problems,
            );
            check_unique("partners", project.partners.iter(), &mut problems);
            check_unique("fields", project.fields.iter(), &mut problems);
        }
        Record::Event(event) => {
            check_texts("title", &event.title, true, &mut problems);
            check_dates(Some(event.starts_on), event.ends_on, &mut problems);
            check_unique("organisers", event.organisers.iter(), &mut problems);
        }
        Record::Publication(publication) => {
            if publication.variants.is_empty() {
                problems.push((
                    "variants".into(),
                    "needs at least one language variant".into(),
                ));
            }
            for (lang, variant) in &publication.variants {
                if let Some(file) = &variant.file {
                    if !crate::files::is_sha256(&file.sha256) {
                        problems.push((
                            format!("variants.{lang}.file.sha256"),
                            "must be 64 lowercase hex digits".into(),
                        ));
                    }
                    if file.size < 0 {
                        problems.push((
                            format!("variants.{lang}.file.size"),
                            "must not be negative".into(),
                        ));
                    }
                    if !crate::files::ALLOWED_MEDIA_TYPES
                        .iter()
                        .any(|(_, allowed)| *allowed == file.media_type)
                    {
                        let allowed: Vec<&str> = crate::files::ALLOWED_MEDIA_TYPES
                            .iter()
                            .map(|(_, media_type)| *media_type)
                            .collect();
                        problems.push((
                            format!("variants.{lang}.file.media_type"),
                            format!("must be one of {}", allowed.join(", ")),
                        ));
                    }
                    let failed = file.text_status == Some(TextStatus::Failed);
                    if failed != file.text_error.is_some() {
                        problems.push((
                            format!("variants.{lang}.file.text_error"),
                            "is given exactly when text_status is \"failed\"".into(),
                        ));
                    }
                    if file.name.trim().is_empty() || file.name.chars().count() > 255 {
                        problems.push((
                            format!("variants.{lang}.file.name"),
                            "must be 1 to 255 characters".into(),
                        ));
                    }
                }
                if variant.title.trim().is_empty() {
                    problems.push((format!("variants.{lang}.title"), "must not be empty".into()));
                } else if variant.title.chars().count() > MAX_TITLE_CHARS {
                    problems.push((
                        format!("variants.{lang}.title"),
                        format!("must be at most {MAX_TITLE_CHARS} characters"),
                    ));
                }
            }
            if publication.status == PublicationStatus::Published
                && publication.published_on.is_none()
            {
                problems.push((
                    "published_on".into(),
                    "is required when status is published".into(),
                ));
            }
            match (publication.status, &publication.withdrawn_reason) {
                (PublicationStatus::Withdrawn, None) => problems.push((
                    "withdrawn_reason".into(),
                    "is required when status is withdrawn".into(),
                )),
                (PublicationStatus::Draft | PublicationStatus::Published, Some(_)) => problems
                    .push((
                        "withdrawn_reason".into(),
                        "is only allowed when status is withdrawn".into(),
                    )),
                _ => {}
            }
            check_unique("fields", publication.fields.iter(), &mut problems);
            for (index, author) in publication.authors.iter().enumerate() {
                if author.trim().is_empty() {
                    problems.push((format!("authors[{index}]"), "must not be empty".into()));
                }
            }
        }
    }
    problems
}

/// What the archive already holds, by slug and by id, per entity.
#[derive(Default)]
struct Stored {
    by_slug: HashMap<Entity, HashMap<String, Existing>>,
    slug_of_id: HashMap<Entity, HashMap<String, String>>,
}

impl Stored {
    /// Returns which kind of entity has this id, if any.
    fn entity_of_id(&self, id: &str) -> Option<Entity> {
        self.slug_of_id
            .iter()
            .find(|(_, ids)| ids.contains_key(id))
            .map(|(entity, _)| *entity)
    }

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
    progress: &ProgressBar,
) -> Result<ImportReport, ImportError> {
    let result = write::write_transaction::<_, ImportTransactionError>(conn, |conn| {
        let stored = Stored::load(conn)?;
        let start_seq = crate::db::changes::latest_seq(conn)?;
        let (plan, ids) = plan(lines, &stored).map_err(ImportTransactionError::Invalid)?;
        let now = domain::now_timestamp();
        let mut report = ImportReport::default();
        progress.set_length(plan.len() as u64);
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
            progress.inc(1);
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
            progress.inc(batch.len() as u64);
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
    stored: &Stored,
) -> Result<(Vec<Planned<'a>>, SlugIds), Vec<LineError>> {
    let mut errors = Vec::new();
    let mut plan = Vec::with_capacity(lines.len());
    let mut first_line: HashMap<(Entity, &str), usize> = HashMap::new();
    let mut ids = SlugIds::default();
    let empty = HashMap::new();
    for (entity, stored_map) in &stored.by_slug {
        let target = slug_ids_mut(&mut ids, *entity);
        if let Some(target) = target {
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
        let by_slug = stored.by_slug.get(&entity).unwrap_or(&empty);
        let slug_of_id = stored.slug_of_id.get(&entity);
        let mut existing = by_slug.get(slug).cloned();
        let id = match (line.record.id(), &existing) {
            (Some(given), Some(stored)) if given.hyphenated().to_string() != stored.id => {
                errors.push(LineError {
                    line: line.number,
                    field: "id".into(),
                    message: format!(
                        "{given} differs from the id {} that {slug:?} already has",
                        stored.id
                    ),
                });
                continue;
            }
            (Some(given), None) => {
                let given = given.hyphenated().to_string();
                if let Some(other) = stored.entity_of_id(&given).filter(|other| *other != entity) {
                    errors.push(LineError {
                        line: line.number,
                        field: "id".into(),
                        message: format!("{given} is already the id of an {}", other.as_str()),
                    });
                    continue;
                }
                // An id the archive knows under another slug: a rename.
                if let Some(old_slug) = slug_of_id.and_then(|map| map.get(&given)) {
                    existing = by_slug.get(old_slug).cloned();
                }
                given
            }
            (_, Some(stored)) => stored.id.clone(),
            (None, None) => domain::new_id(),
        };
        if let Some(first) = ids_in_file.insert(id.clone(), line.number) {
            errors.push(LineError {
                line: line.number,
                field: "id".into(),
                message: format!("the id {id} is already used on line {first}"),
            });
            continue;
        }
        if let Some(map) = slug_ids_mut(&mut ids, entity) {
            map.insert(slug.to_owned(), id.clone());
        }
        plan.push(Planned { line, id, existing });
    }
    for planned in &plan {
        for (field, entity, slug) in references(&planned.line.record) {
            let known = match entity {
                Entity::Organisation => ids.organisations.contains_key(slug),
                Entity::Field => ids.fields.contains_key(slug),
                Entity::Project => ids.projects.contains_key(slug),
                Entity::Event => ids.events.contains_key(slug),
                Entity::Publication => true,
            };
            if !known {
                errors.push(LineError {
                    line: planned.line.number,
                    field,
                    message: format!(
                        "no {} has the slug {slug:?} in this file or in the archive",
                        entity.as_str()
                    ),
                });
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|error| error.line);
        errors.truncate(MAX_REPORTED_ERRORS);
        return Err(errors);
    }
    // Write what others refer to first; keep file order within an entity.
    plan.sort_by_key(|planned| (planned.line.record.entity(), planned.line.number));
    Ok((plan, ids))
}

fn slug_ids_mut(ids: &mut SlugIds, entity: Entity) -> Option<&mut HashMap<String, String>> {
    match entity {
        Entity::Organisation => Some(&mut ids.organisations),
        Entity::Field => Some(&mut ids.fields),
        Entity::Project => Some(&mut ids.projects),
        Entity::Event => Some(&mut ids.events),
        Entity::Publication => None,
    }
}

/// Lists a record's references: (field path, entity referred to, slug).
fn references(record: &Record) -> Vec<(String, Entity, &str)> {
    fn list<'r>(
        refs: &mut Vec<(String, Entity, &'r str)>,
        field: &str,
        entity: Entity,
        slugs: impl Iterator<Item = &'r domain::Slug>,
    ) {
        for (index, slug) in slugs.enumerate() {
            refs.push((format!("{field}[{index}]"), entity, slug.as_str()));
        }
    }
    let mut refs = Vec::new();
    match record {
        Record::Organisation(_) | Record::Field(_) => {}
        Record::Project(project) => {
            list(
                &mut refs,
                "funders",
                Entity::Organisation,
                project.funders.iter().map(|f| f.organisation()),
            );
            list(
                &mut refs,
                "partners",
                Entity::Organisation,
                project.partners.iter(),
            );
            list(&mut refs, "fields", Entity::Field, project.fields.iter());
        }
        Record::Event(event) => {
            list(
                &mut refs,
                "organisers",
                Entity::Organisation,
                event.organisers.iter(),
            );
            if let Some(project) = &event.project {
                refs.push(("project".into(), Entity::Project, project.as_str()));
            }
        }
        Record::Publication(publication) => {
            list(
                &mut refs,
                "fields",
                Entity::Field,
                publication.fields.iter(),
            );
            if let Some(project) = &publication.project {
                refs.push(("project".into(), Entity::Project, project.as_str()));
            }
            if let Some(event) = &publication.event {
                refs.push(("event".into(), Entity::Event, event.as_str()));
            }
        }
    }
    refs
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
                (3, "label"),
                (4, "variants.en.title"),
                (4, "published_on"),
                (5, "colour"),
                (6, "")
            ],
            "{errors:#?}"
        );
    }
}
