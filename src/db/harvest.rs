//! What OAI-PMH harvesters see: one record per publication that has ever
//! been public, written in the same transaction as the publication. A
//! record stays when its publication is withdrawn, unpublished or deleted,
//! marked deleted, so a harvester learns of the deletion however late it
//! comes back. A draft that was never public has no record.
//!
//! Records are listed in (seq, publication id) order, seq being the
//! change-log number of the record's newest change. A resumption token is
//! the last pair sent: nothing is kept between requests, and a record that
//! changes during a harvest comes again at the end rather than being
//! skipped.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::{changes, harvest_records};
use super::{AnyConnection, Backend};
use crate::domain::PublicationStatus;

/// How many ids one `IN (…)` list carries.
const CHUNK: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = harvest_records)]
pub struct HarvestRow {
    pub publication_id: String,
    pub seq: i64,
    /// `YYYY-MM-DDThh:mm:ssZ`: OAI-PMH's seconds granularity.
    pub datestamp: String,
    pub deleted: bool,
    /// Set tokens between spaces: see [`set_tokens`].
    pub sets: String,
}

/// One publication a write just changed, as the harvest table needs it.
pub struct Written {
    pub id: String,
    pub status: PublicationStatus,
    pub sets: String,
}

/// The sets a publication belongs to, as stored: ` kind:report
/// field:<id> project:<id> language:en language:sr language:sr-Latn `.
/// Fields and projects go by id (their slugs can change); Serbian in either
/// script is also in `language:sr`. The spaces at both ends let a set be
/// matched with `LIKE '% token %'`.
pub fn set_tokens<'a>(
    kind: &str,
    field_ids: impl IntoIterator<Item = &'a str>,
    project_id: Option<&str>,
    langs: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut tokens = vec![format!("kind:{kind}")];
    tokens.extend(field_ids.into_iter().map(|id| format!("field:{id}")));
    tokens.extend(project_id.map(|id| format!("project:{id}")));
    // One order whatever order the variants came in.
    let mut langs: Vec<&str> = langs.into_iter().collect();
    langs.sort_by_key(|tag| (crate::domain::Lang::from_stored(tag), *tag));
    langs.dedup();
    for lang in langs {
        if lang.starts_with("sr-") && !tokens.iter().any(|token| token == "language:sr") {
            tokens.push("language:sr".to_owned());
        }
        tokens.push(format!("language:{lang}"));
    }
    format!(" {} ", tokens.join(" "))
}

/// A stored timestamp (`…T06:15:35.123456Z`) cut to the second.
pub fn datestamp(changed_at: &str) -> String {
    match changed_at.get(..19) {
        Some(seconds) => format!("{seconds}Z"),
        None => changed_at.to_owned(),
    }
}

/// What a change meant to the public: the events webhooks deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicEvent {
    /// It became public (for the first time, or again).
    Published,
    /// It was public and still is, changed.
    Updated,
    /// It was public and is not any more: withdrawn, or back to draft.
    Withdrawn,
    /// It had been public and is now deleted.
    Deleted,
}

impl PublicEvent {
    pub const ALL: [PublicEvent; 4] = [
        PublicEvent::Published,
        PublicEvent::Updated,
        PublicEvent::Withdrawn,
        PublicEvent::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PublicEvent::Published => "publication.published",
            PublicEvent::Updated => "publication.updated",
            PublicEvent::Withdrawn => "publication.withdrawn",
            PublicEvent::Deleted => "publication.deleted",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == raw)
    }

    /// The event of a write that leaves a publication with `status`, given
    /// whether it was public before.
    pub fn of_write(was_public: bool, status: PublicationStatus) -> Option<Self> {
        match (was_public, status) {
            (true, PublicationStatus::Published) => Some(PublicEvent::Updated),
            (false, PublicationStatus::Published) => Some(PublicEvent::Published),
            (true, _) => Some(PublicEvent::Withdrawn),
            (false, _) => None,
        }
    }
}

/// A record as it was before a write.
#[derive(Debug, Clone)]
pub struct Prior {
    pub deleted: bool,
    pub sets: String,
}

impl Prior {
    /// Whether the publication was public before the write.
    pub fn was_public(prior: Option<&Prior>) -> bool {
        prior.is_some_and(|prior| !prior.deleted)
    }
}

/// The records of some publications before a write, by id. A publication
/// missing from it was never public.
pub fn prior(conn: &mut AnyConnection, ids: &[&str]) -> QueryResult<HashMap<String, Prior>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        for (id, deleted, sets) in harvest_records::table
            .filter(harvest_records::publication_id.eq_any(chunk))
            .select((
                harvest_records::publication_id,
                harvest_records::deleted,
                harvest_records::sets,
            ))
            .load::<(String, bool, String)>(conn)?
        {
            found.insert(id, Prior { deleted, sets });
        }
    }
    Ok(found)
}

/// Brings the records of just-written publications up to date; call it in
/// the write's transaction, after its change-log entries, with their
/// [`prior`] records. A published publication gets a live record, a
/// withdrawn one a deleted record; a draft marks its record deleted if it
/// had one (it was unpublished) and otherwise stays unseen.
///
/// The datestamp is the time now, at the end of the write, not when its
/// transaction began: a harvester that read the list meanwhile took a
/// later `responseDate`, and its next `from=` must still reach this. A
/// record that is not public keeps the sets it was last public in, so
/// edits to a withdrawn or unpublished publication show nothing new.
pub fn record_writes(
    conn: &mut AnyConnection,
    written: &[Written],
    prior: &HashMap<String, Prior>,
) -> QueryResult<()> {
    if written.is_empty() {
        return Ok(());
    }
    let seq = super::changes::latest_seq(conn)?;
    let stamp = datestamp(&crate::domain::now_timestamp());
    let rows: Vec<HarvestRow> = written
        .iter()
        .filter(|w| w.status != PublicationStatus::Draft || prior.contains_key(&w.id))
        .map(|w| {
            let public = w.status == PublicationStatus::Published;
            HarvestRow {
                publication_id: w.id.clone(),
                seq,
                datestamp: stamp.clone(),
                deleted: !public,
                sets: match prior.get(&w.id) {
                    Some(before) if !public => before.sets.clone(),
                    _ => w.sets.clone(),
                },
            }
        })
        .collect();
    replace(conn, &rows)
}

/// Dates every record written after change `seq` now: what a long
/// transaction (an import) does just before it commits, so that no
/// harvest made while it ran has a `responseDate` after its datestamps.
pub fn restamp_after(conn: &mut AnyConnection, seq: i64) -> QueryResult<()> {
    diesel::update(harvest_records::table.filter(harvest_records::seq.gt(seq)))
        .set(harvest_records::datestamp.eq(datestamp(&crate::domain::now_timestamp())))
        .execute(conn)?;
    Ok(())
}

/// Marks every record in a set changed: a field's label or a project's
/// slug is part of its records' metadata (`dc:subject`, `dc:relation`,
/// `setSpec`), so incremental harvests must fetch them again.
pub fn touch_set(conn: &mut AnyConnection, token: &str) -> QueryResult<usize> {
    let seq = super::changes::latest_seq(conn)?;
    diesel::update(harvest_records::table.filter(in_set(token)))
        .set((
            harvest_records::seq.eq(seq),
            harvest_records::datestamp.eq(datestamp(&crate::domain::now_timestamp())),
        ))
        .execute(conn)
}

/// Records in the set `token` or below it. Set tokens hold letters,
/// digits, `-`, `_` and `:`; `_` is escaped, as LIKE takes it for any
/// character.
fn in_set(
    token: &str,
) -> Box<dyn BoxableExpression<harvest_records::table, Backend, SqlType = diesel::sql_types::Bool>>
{
    let escaped = token
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Box::new(
        harvest_records::sets
            .like(format!("% {escaped} %"))
            .escape('\\')
            .or(harvest_records::sets
                .like(format!("% {escaped}:%"))
                .escape('\\')),
    )
}

/// Whether the table needs [`backfill`]: it is empty while public or
/// withdrawn publications exist (a database from before it, or a
/// migration whose backfill did not finish).
pub fn needs_backfill(conn: &mut AnyConnection) -> QueryResult<bool> {
    use super::schema::publications;
    let has_rows: bool = diesel::select(diesel::dsl::exists(
        harvest_records::table.select(harvest_records::publication_id),
    ))
    .get_result(conn)?;
    if has_rows {
        return Ok(false);
    }
    diesel::select(diesel::dsl::exists(publications::table.filter(
        publications::status.eq_any([PublicationStatus::Published, PublicationStatus::Withdrawn]),
    )))
    .get_result(conn)
}

/// Deletes the rows of these publications and inserts these in their place.
fn replace(conn: &mut AnyConnection, rows: &[HarvestRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|r| r.publication_id.as_str()).collect();
        diesel::delete(harvest_records::table.filter(harvest_records::publication_id.eq_any(ids)))
            .execute(conn)?;
        insert_many!(conn, harvest_records::table, chunk);
    }
    Ok(())
}

/// Marks the record of a deleted publication deleted, keeping its sets so
/// set-wise harvests hear of it too.
pub fn record_deletion(conn: &mut AnyConnection, id: &str, now: &str) -> QueryResult<()> {
    let seq = super::changes::latest_seq(conn)?;
    diesel::update(harvest_records::table.filter(harvest_records::publication_id.eq(id)))
        .set((
            harvest_records::seq.eq(seq),
            harvest_records::datestamp.eq(datestamp(now)),
            harvest_records::deleted.eq(true),
        ))
        .execute(conn)?;
    Ok(())
}

/// Fills the table from the publications stored before it existed: public
/// and withdrawn ones, dated by their newest change. (Publications deleted
/// before then left no trace of having been public, so they stay unseen.)
pub fn backfill(conn: &mut AnyConnection) -> anyhow::Result<usize> {
    let mut newest: HashMap<String, (i64, String)> = HashMap::new();
    for (seq, id, at) in changes::table
        .filter(changes::entity.eq("publication"))
        .order(changes::seq.asc())
        .select((changes::seq, changes::entity_id, changes::changed_at))
        .load::<(i64, String, String)>(conn)?
    {
        newest.insert(id, (seq, at));
    }
    let mut rows = Vec::new();
    super::publications::all_in_batches(conn, 500, |full| -> diesel::QueryResult<()> {
        let status = full.row.status;
        if status == PublicationStatus::Draft {
            return Ok(());
        }
        let (seq, at) = newest
            .get(&full.row.id)
            .cloned()
            .unwrap_or_else(|| (0, full.row.updated_at.clone()));
        rows.push(HarvestRow {
            sets: set_tokens(
                full.row.kind.as_str(),
                full.field_ids.iter().map(String::as_str),
                full.row.project_id.as_deref(),
                full.variants.iter().map(|v| v.lang.as_str()),
            ),
            publication_id: full.row.id,
            seq,
            datestamp: datestamp(&at),
            deleted: status != PublicationStatus::Published,
        });
        Ok(())
    })?;
    replace(conn, &rows)?;
    Ok(rows.len())
}

/// Which records a list request asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Inclusive bounds on the datestamp, in its own format.
    pub from: Option<String>,
    pub until: Option<String>,
    /// A stored set token (`kind:report`, `field:<id>`) or a top-level set
    /// (`kind`): records in it or below it.
    pub set: Option<String>,
}

/// The filtered query, before ordering and paging.
fn selected(selection: &Selection) -> harvest_records::BoxedQuery<'static, Backend> {
    let mut query = harvest_records::table.into_boxed::<Backend>();
    if let Some(from) = &selection.from {
        query = query.filter(harvest_records::datestamp.ge(from.clone()));
    }
    if let Some(until) = &selection.until {
        query = query.filter(harvest_records::datestamp.le(until.clone()));
    }
    if let Some(set) = &selection.set {
        query = query.filter(in_set(set));
    }
    query
}

/// Up to `limit` records after `after` (seq, id), in list order.
pub fn page(
    conn: &mut AnyConnection,
    selection: &Selection,
    after: Option<(i64, &str)>,
    limit: i64,
) -> QueryResult<Vec<HarvestRow>> {
    let mut query = selected(selection);
    if let Some((seq, id)) = after {
        query = query.filter(
            harvest_records::seq.gt(seq).or(harvest_records::seq
                .eq(seq)
                .and(harvest_records::publication_id.gt(id.to_owned()))),
        );
    }
    query
        .order((
            harvest_records::seq.asc(),
            harvest_records::publication_id.asc(),
        ))
        .limit(limit)
        .select(HarvestRow::as_select())
        .load(conn)
}

/// How many records the selection holds, and how many of them come at or
/// before `through` in list order (what earlier pages sent).
pub fn count(
    conn: &mut AnyConnection,
    selection: &Selection,
    through: Option<(i64, &str)>,
) -> QueryResult<(i64, i64)> {
    let total = selected(selection).count().get_result(conn)?;
    let sent = match through {
        Some((seq, id)) => selected(selection)
            .filter(
                harvest_records::seq.lt(seq).or(harvest_records::seq
                    .eq(seq)
                    .and(harvest_records::publication_id.le(id.to_owned()))),
            )
            .count()
            .get_result(conn)?,
        None => 0,
    };
    Ok((total, sent))
}

/// The record of one publication, if it has ever been public.
pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<HarvestRow>> {
    harvest_records::table
        .filter(harvest_records::publication_id.eq(id))
        .select(HarvestRow::as_select())
        .first(conn)
        .optional()
}

/// The oldest datestamp of any record.
pub fn earliest(conn: &mut AnyConnection) -> QueryResult<Option<String>> {
    harvest_records::table
        .select(diesel::dsl::min(harvest_records::datestamp))
        .first(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_put_serbian_scripts_under_sr_once() {
        let sets = set_tokens("report", ["f1"], Some("p1"), ["sr-Cyrl", "en", "sr-Latn"]);
        assert_eq!(
            sets,
            " kind:report field:f1 project:p1 language:en language:sr language:sr-Latn language:sr-Cyrl "
        );
    }

    #[test]
    fn datestamps_are_cut_to_the_second() {
        assert_eq!(
            datestamp("2026-11-28T06:15:35.123456Z"),
            "2026-11-28T06:15:35Z"
        );
    }
}
