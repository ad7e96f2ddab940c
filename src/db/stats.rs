//! Reader statistics: daily counts per publication and language, and
//! all-time totals per publication (D84). Counts are only ever added to,
//! so any number of processes may flush into the same rows.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::upsert::excluded;

use super::publications::Filter;
use super::schema::{publication_stats_daily as daily, publication_stats_totals as totals};
use super::AnyConnection;

/// Views and downloads to add to one publication, language and day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    pub publication_id: String,
    pub lang: String,
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub views: i64,
    pub downloads: i64,
}

/// One publication's all-time totals, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Totals {
    pub publication_id: String,
    pub views: i64,
    pub downloads: i64,
    pub updated_at: String,
}

/// Counts of one publication in one language on one day.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Day {
    pub lang: String,
    pub day: String,
    pub views: i64,
    pub downloads: i64,
}

/// Adds each delta to its day row and to its publication's totals, in one
/// transaction; `now` stamps the totals changed. Deltas of publications no
/// longer in the archive are dropped. Returns the rows added to.
pub fn add(conn: &mut AnyConnection, deltas: &[Delta], now: &str) -> QueryResult<usize> {
    if deltas.is_empty() {
        return Ok(0);
    }
    super::write::write_transaction(conn, |conn| {
        let mut ids: Vec<&str> = deltas.iter().map(|d| d.publication_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut live = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            live.extend(
                super::schema::publications::table
                    .filter(super::schema::publications::id.eq_any(chunk))
                    .select(super::schema::publications::id)
                    .load::<String>(conn)?,
            );
        }
        let mut added = 0;
        let mut by_publication: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
        for delta in deltas.iter().filter(|d| live.contains(&d.publication_id)) {
            let row = (
                daily::publication_id.eq(&delta.publication_id),
                daily::lang.eq(&delta.lang),
                daily::day.eq(&delta.day),
                daily::views.eq(delta.views),
                daily::downloads.eq(delta.downloads),
            );
            // The same statement on both backends; diesel's multi-backend
            // connection has no upsert, so each arm names its own.
            macro_rules! upsert_day {
                ($conn:expr) => {
                    diesel::insert_into(daily::table)
                        .values(row)
                        .on_conflict((daily::publication_id, daily::lang, daily::day))
                        .do_update()
                        .set((
                            daily::views.eq(daily::views + excluded(daily::views)),
                            daily::downloads.eq(daily::downloads + excluded(daily::downloads)),
                        ))
                        .execute($conn)?
                };
            }
            added += match conn {
                AnyConnection::Postgres(conn) => upsert_day!(conn),
                AnyConnection::Sqlite(conn) => upsert_day!(conn),
            };
            let sum = by_publication
                .entry(delta.publication_id.as_str())
                .or_default();
            sum.0 += delta.views;
            sum.1 += delta.downloads;
        }
        for (id, (views, downloads)) in by_publication {
            let row = (
                totals::publication_id.eq(id),
                totals::views.eq(views),
                totals::downloads.eq(downloads),
                totals::updated_at.eq(now),
            );
            macro_rules! upsert_total {
                ($conn:expr) => {
                    diesel::insert_into(totals::table)
                        .values(row)
                        .on_conflict(totals::publication_id)
                        .do_update()
                        .set((
                            totals::views.eq(totals::views + excluded(totals::views)),
                            totals::downloads.eq(totals::downloads + excluded(totals::downloads)),
                            totals::updated_at.eq(excluded(totals::updated_at)),
                        ))
                        .execute($conn)?
                };
            }
            match conn {
                AnyConnection::Postgres(conn) => upsert_total!(conn),
                AnyConnection::Sqlite(conn) => upsert_total!(conn),
            };
        }
        Ok(added)
    })
}

/// The totals changed at or after `since` (all of them without it).
pub fn totals_since(conn: &mut AnyConnection, since: Option<&str>) -> QueryResult<Vec<Totals>> {
    let mut query = totals::table.into_boxed::<super::Backend>();
    if let Some(since) = since {
        query = query.filter(totals::updated_at.ge(since.to_owned()));
    }
    query
        .select((
            totals::publication_id,
            totals::views,
            totals::downloads,
            totals::updated_at,
        ))
        .load(conn)
}

/// One publication's counts per language and day, `from` to `to` (days,
/// both included), in day order.
pub fn days(
    conn: &mut AnyConnection,
    publication_id: &str,
    from: &str,
    to: &str,
) -> QueryResult<Vec<Day>> {
    daily::table
        .filter(daily::publication_id.eq(publication_id))
        .filter(daily::day.between(from, to))
        .order((daily::day, daily::lang))
        .select((daily::lang, daily::day, daily::views, daily::downloads))
        .load(conn)
}

/// What to rank the most read by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rank {
    Views,
    Downloads,
}

/// Counts summed over a period: (publication id, language or "" when
/// summed over languages, views, downloads).
pub type Summed = (String, String, i64, i64);

/// Every language tag a count is made under.
const ALL_LANGUAGES: [&str; 4] = ["en", "sq", "sr-Latn", "sr-Cyrl"];

/// Keeps the rows whose publication `filter` matches, asking in chunks,
/// in the rows' order, stopping once `limit` are kept.
fn matching(
    conn: &mut AnyConnection,
    filter: &Filter,
    rows: Vec<Summed>,
    limit: usize,
) -> QueryResult<Vec<Summed>> {
    let mut kept = Vec::new();
    for chunk in rows.chunks(500) {
        let mut ids: Vec<&str> = chunk.iter().map(|row| row.0.as_str()).collect();
        ids.dedup();
        let live: std::collections::HashSet<String> = super::publications::filtered(filter)
            .filter(super::schema::publications::id.eq_any(ids))
            .select(super::schema::publications::id)
            .load(conn)?
            .into_iter()
            .collect();
        for row in chunk {
            if kept.len() == limit {
                return Ok(kept);
            }
            if live.contains(&row.0) {
                kept.push(row.clone());
            }
        }
    }
    Ok(kept)
}

/// The publications that `filter` matches ranked by their counts in the
/// days `from` to `to` (read in one of `languages`, when given): the
/// first `limit`, each with its views and downloads; ties by id. Only
/// publications with a count of what is ranked above zero.
pub fn top(
    conn: &mut AnyConnection,
    filter: &Filter,
    languages: Option<&[String]>,
    (from, to): (&str, &str),
    rank: Rank,
    limit: usize,
) -> QueryResult<Vec<Summed>> {
    let languages: Vec<String> = match languages {
        Some(languages) => languages.to_vec(),
        None => ALL_LANGUAGES.map(str::to_owned).to_vec(),
    };
    let mut rows: Vec<Summed> = daily::table
        .filter(daily::day.between(from, to))
        .filter(daily::lang.eq_any(languages))
        .group_by(daily::publication_id)
        .select((
            daily::publication_id,
            sql::<Text>("''"),
            sql::<BigInt>("CAST(SUM(views) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(downloads) AS BIGINT)"),
        ))
        .load(conn)?;
    let ranked = |row: &Summed| match rank {
        Rank::Views => row.2,
        Rank::Downloads => row.3,
    };
    rows.retain(|row| ranked(row) > 0);
    rows.sort_by(|a, b| ranked(b).cmp(&ranked(a)).then_with(|| a.0.cmp(&b.0)));
    matching(conn, filter, rows, limit)
}

/// The counts of each publication that `filter` matches, per language,
/// summed over the days `from` to `to`, in publication id and language
/// order: the rows of a funder report.
pub fn by_language(
    conn: &mut AnyConnection,
    filter: &Filter,
    (from, to): (&str, &str),
) -> QueryResult<Vec<Summed>> {
    let rows: Vec<Summed> = daily::table
        .filter(daily::day.between(from, to))
        .group_by((daily::publication_id, daily::lang))
        .select((
            daily::publication_id,
            daily::lang,
            sql::<BigInt>("CAST(SUM(views) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(downloads) AS BIGINT)"),
        ))
        .order((daily::publication_id, daily::lang))
        .load(conn)?;
    matching(conn, filter, rows, usize::MAX)
}

/// A publication as a reader's view of it is checked: its id, status and
/// the stored languages of its variants. None when no publication has
/// this id or slug.
pub fn editions(
    conn: &mut AnyConnection,
    id: Option<&str>,
    slug: Option<&str>,
) -> QueryResult<Option<(String, String, Vec<String>)>> {
    use super::schema::{publications, variants};
    let found: Option<(String, String)> = match (id, slug) {
        (Some(id), _) => publications::table
            .filter(publications::id.eq(id))
            .select((publications::id, publications::status))
            .first(conn)
            .optional()?,
        (None, Some(slug)) => publications::table
            .filter(publications::slug.eq(slug))
            .select((publications::id, publications::status))
            .first(conn)
            .optional()?,
        (None, None) => None,
    };
    let Some((id, status)) = found else {
        return Ok(None);
    };
    let langs = variants::table
        .filter(variants::publication_id.eq(&id))
        .select(variants::lang)
        .load(conn)?;
    Ok(Some((id, status, langs)))
}
