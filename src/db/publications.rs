//! Queries on publications: filtered, keyset-paginated lists and one
//! publication with its variants.

use std::borrow::Cow;
use std::collections::HashMap;

use diesel::prelude::*;

use super::models::*;
use super::schema::*;
use super::{AnyConnection, Backend};
use crate::domain::lang::{negotiate, LanguageRange};
use crate::domain::markup::{plain_text, BodyFormat};
use crate::domain::Lang;
use crate::domain::{PublicationKind, PublicationStatus};

/// The order of a list. Every order ends with `id` so that it is total,
/// which is what keyset pagination needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    PublishedDesc,
    PublishedAsc,
    Title,
    UpdatedDesc,
}

impl Sort {
    pub const ALL: [Sort; 4] = [
        Sort::PublishedDesc,
        Sort::PublishedAsc,
        Sort::Title,
        Sort::UpdatedDesc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::PublishedDesc => "-published_on",
            Sort::PublishedAsc => "published_on",
            Sort::Title => "title",
            Sort::UpdatedDesc => "-updated_at",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        crate::domain::one_of(raw, &Sort::ALL, |sort| sort.as_str()).copied()
    }

    /// Returns the value of the sort key of a row, as the cursor carries it.
    pub fn key_of(self, row: &PublicationRow) -> String {
        match self {
            Sort::PublishedDesc | Sort::PublishedAsc => {
                row.published_on.clone().unwrap_or_default()
            }
            Sort::Title => row.sort_title.clone(),
            Sort::UpdatedDesc => row.updated_at.clone(),
        }
    }
}

/// Where a page starts: just after the row with this sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub key: String,
    pub id: String,
}

/// Filters, already resolved to ids. `None` means "no filter"; an empty
/// list means "matches nothing" (a slug that names nothing).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<PublicationStatus>,
    pub kinds: Vec<PublicationKind>,
    pub field_ids: Option<Vec<String>>,
    pub project_ids: Option<Vec<String>>,
    pub event_ids: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    /// Published in any of these years; empty: any year.
    pub years: Vec<i32>,
    pub published_from: Option<String>,
    pub published_to: Option<String>,
    pub updated_since: Option<String>,
}

pub(crate) type Boxed = publications::BoxedQuery<'static, Backend>;

pub(crate) fn filtered(filter: &Filter) -> Boxed {
    let mut query = publications::table.into_boxed::<Backend>();
    // One status (the public case) as `=`, so the (status, sort key) indexes
    // serve the ORDER BY without sorting.
    query = match filter.statuses.as_slice() {
        [status] => query.filter(publications::status.eq(*status)),
        statuses => query.filter(publications::status.eq_any(statuses.to_vec())),
    };
    if !filter.kinds.is_empty() {
        query = query.filter(publications::kind.eq_any(filter.kinds.clone()));
    }
    // Fields and languages as correlated EXISTS, not `id IN (subquery)`:
    // SQLite built the subquery's whole result (38,000 ids for a language
    // of the 50k archive, 80 ms) before the first row; EXISTS probes the
    // primary key row by row, in the sort index's order, and stops with
    // the page (under 1 ms).
    if let Some(field_ids) = &filter.field_ids {
        query = query.filter(diesel::dsl::exists(
            publication_fields::table
                .filter(publication_fields::publication_id.eq(publications::id))
                .filter(publication_fields::field_id.eq_any(field_ids.clone())),
        ));
    }
    if let Some(project_ids) = &filter.project_ids {
        query = query.filter(publications::project_id.eq_any(project_ids.clone()));
    }
    if let Some(event_ids) = &filter.event_ids {
        query = query.filter(publications::event_id.eq_any(event_ids.clone()));
    }
    if let Some(languages) = &filter.languages {
        query = query.filter(diesel::dsl::exists(
            variants::table
                .filter(variants::publication_id.eq(publications::id))
                .filter(variants::lang.eq_any(languages.clone())),
        ));
    }
    if let Some((first, rest)) = filter.years.split_first() {
        let year = |year: &i32| {
            publications::published_on
                .between(format!("{year:04}-01-01"), format!("{year:04}-12-31"))
        };
        let mut any: Box<
            dyn BoxableExpression<
                publications::table,
                Backend,
                SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
            >,
        > = Box::new(year(first));
        for other in rest {
            any = Box::new(any.or(year(other)));
        }
        query = query.filter(any);
    }
    if let Some(from) = &filter.published_from {
        query = query.filter(publications::published_on.ge(from.clone()));
    }
    if let Some(to) = &filter.published_to {
        query = query.filter(publications::published_on.le(to.clone()));
    }
    if let Some(since) = &filter.updated_since {
        query = query.filter(publications::updated_at.ge(since.clone()));
    }
    query
}

/// Counts the published publications of each project that has any.
pub fn published_by_project(conn: &mut AnyConnection) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(Option<String>, i64)> = publications::table
        .filter(publications::status.eq(PublicationStatus::Published))
        .filter(publications::project_id.is_not_null())
        .group_by(publications::project_id)
        .select((publications::project_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(project, count)| Some((project?, count)))
        .collect())
}

/// Loads one page: at most `limit` rows after `after`, plus one more row
/// when there is a next page.
pub fn page(
    conn: &mut AnyConnection,
    filter: &Filter,
    sort: Sort,
    after: Option<&After>,
    limit: i64,
) -> QueryResult<Vec<PublicationRow>> {
    let mut query = filtered(filter);
    if let Some(After { key, id }) = after.cloned() {
        query = match sort {
            Sort::PublishedDesc => query.filter(
                publications::published_on
                    .lt(key.clone())
                    .or(publications::published_on
                        .eq(key)
                        .and(publications::id.lt(id))),
            ),
            Sort::PublishedAsc => query.filter(
                publications::published_on
                    .gt(key.clone())
                    .or(publications::published_on
                        .eq(key)
                        .and(publications::id.gt(id))),
            ),
            Sort::Title => query.filter(
                publications::sort_title
                    .gt(key.clone())
                    .or(publications::sort_title
                        .eq(key)
                        .and(publications::id.gt(id))),
            ),
            Sort::UpdatedDesc => query.filter(
                publications::updated_at
                    .lt(key.clone())
                    .or(publications::updated_at
                        .eq(key)
                        .and(publications::id.lt(id))),
            ),
        };
    }
    query = match sort {
        Sort::PublishedDesc => {
            query.order((publications::published_on.desc(), publications::id.desc()))
        }
        Sort::PublishedAsc => {
            query.order((publications::published_on.asc(), publications::id.asc()))
        }
        Sort::Title => query.order((publications::sort_title.asc(), publications::id.asc())),
        Sort::UpdatedDesc => {
            query.order((publications::updated_at.desc(), publications::id.desc()))
        }
    };
    query
        .limit(limit + 1)
        .select(PublicationRow::as_select())
        .load(conn)
}

/// Titles and summaries of the variants of some publications.
pub fn variant_heads(
    conn: &mut AnyConnection,
    ids: &[String],
) -> QueryResult<HashMap<String, Vec<VariantHeadRow>>> {
    let rows: Vec<VariantHeadRow> = variants::table
        .filter(variants::publication_id.eq_any(ids))
        .select(VariantHeadRow::as_select())
        .load(conn)?;
    let mut by_publication: HashMap<String, Vec<VariantHeadRow>> = HashMap::new();
    for row in rows {
        by_publication
            .entry(row.publication_id.clone())
            .or_default()
            .push(row);
    }
    Ok(by_publication)
}

/// Field ids of some publications, in their stored order.
pub fn field_ids(
    conn: &mut AnyConnection,
    ids: &[String],
) -> QueryResult<HashMap<String, Vec<String>>> {
    let rows: Vec<PublicationFieldRow> = publication_fields::table
        .filter(publication_fields::publication_id.eq_any(ids))
        .order((
            publication_fields::publication_id,
            publication_fields::position,
        ))
        .select(PublicationFieldRow::as_select())
        .load(conn)?;
    let mut by_publication: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows {
        by_publication
            .entry(row.publication_id)
            .or_default()
            .push(row.field_id);
    }
    Ok(by_publication)
}

/// A publication with everything stored about it.
#[derive(Debug, Clone)]
pub struct Full {
    pub row: PublicationRow,
    pub variants: Vec<VariantRow>,
    pub field_ids: Vec<String>,
}

/// The row of the publication with this id (else this slug).
fn find_row(
    conn: &mut AnyConnection,
    id: Option<&str>,
    slug: Option<&str>,
) -> QueryResult<Option<PublicationRow>> {
    // Two static queries rather than one boxed one: diesel keeps prepared
    // statements only for queries whose SQL it knows at compile time, and
    // this is the hottest query of the API.
    match (id, slug) {
        (Some(id), _) => publications::table
            .filter(publications::id.eq(id))
            .select(PublicationRow::as_select())
            .first(conn)
            .optional(),
        (None, Some(slug)) => publications::table
            .filter(publications::slug.eq(slug))
            .select(PublicationRow::as_select())
            .first(conn)
            .optional(),
        (None, None) => Ok(None),
    }
}

/// A publication's field ids, in its order.
fn field_ids_of(conn: &mut AnyConnection, id: &str) -> QueryResult<Vec<String>> {
    publication_fields::table
        .filter(publication_fields::publication_id.eq(id))
        .order(publication_fields::position)
        .select(publication_fields::field_id)
        .load(conn)
}

/// Finds a publication by id or slug, whatever its status.
pub fn find(
    conn: &mut AnyConnection,
    id: Option<&str>,
    slug: Option<&str>,
) -> QueryResult<Option<Full>> {
    let Some(row) = find_row(conn, id, slug)? else {
        return Ok(None);
    };
    let variants = variants::table
        .filter(variants::publication_id.eq(&row.id))
        .select(VariantRow::as_select())
        .load(conn)?;
    let field_ids = field_ids_of(conn, &row.id)?;
    Ok(Some(Full {
        row,
        variants,
        field_ids,
    }))
}

diesel::define_sql_function! {
    /// `ltrim(text, characters)`, the same in SQLite and PostgreSQL.
    fn ltrim(text: diesel::sql_types::Nullable<diesel::sql_types::Text>, characters: diesel::sql_types::Text) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

diesel::define_sql_function! {
    /// `substr(text, start, length)`, the same in SQLite and PostgreSQL.
    fn substr(text: diesel::sql_types::Nullable<diesel::sql_types::Text>, start: diesel::sql_types::Integer, length: diesel::sql_types::Integer) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// Whose bodies [`find_edition`] reads.
#[derive(Debug, Clone)]
pub enum Bodies {
    /// Every variant's (`?lang=all`).
    Every,
    /// Only the variant these ranges are served (what a reader sees).
    Served(Vec<LanguageRange>),
    /// None (a file download, a publication's counts).
    None,
}

/// [`find`] for reading: the variants without their extracted file text
/// (only whether there is some) and with the bodies `bodies` names, the
/// others left empty. A detail shows one language, so this reads about a
/// quarter of what [`find`] reads for a publication in four languages.
pub fn find_edition(
    conn: &mut AnyConnection,
    id: Option<&str>,
    slug: Option<&str>,
    bodies: &Bodies,
) -> QueryResult<Option<Full>> {
    let Some(row) = find_row(conn, id, slug)? else {
        return Ok(None);
    };
    let metas: Vec<VariantMetaRow> = variants::table
        .filter(variants::publication_id.eq(&row.id))
        .select((
            variants::publication_id,
            variants::lang,
            variants::title,
            variants::summary,
            variants::file_sha256,
            variants::file_size,
            variants::file_media_type,
            variants::file_name,
            // SQL functions with bound arguments rather than an SQL
            // literal: diesel caches the statement then.
            substr(ltrim(variants::file_text, " \t\n\r"), 1, 64),
            variants::file_text_status,
            variants::file_text_error,
            variants::body_format,
        ))
        .load(conn)?;
    let served = match bodies {
        Bodies::Every => None,
        Bodies::None => Some(None),
        Bodies::Served(ranges) => {
            let stored: Vec<Lang> = metas
                .iter()
                .filter_map(|meta| Lang::from_stored(&meta.lang))
                .collect();
            Some(negotiate(ranges, &stored).map(|served| served.source().as_str()))
        }
    };
    let mut texts: HashMap<String, String> = match served {
        None => variants::table
            .filter(variants::publication_id.eq(&row.id))
            .select((variants::lang, variants::body))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect(),
        Some(None) => HashMap::new(),
        Some(Some(lang)) => variants::table
            .filter(variants::publication_id.eq(&row.id))
            .filter(variants::lang.eq(lang))
            .select(variants::body)
            .first::<String>(conn)
            .optional()?
            .map(|body| (lang.to_owned(), body))
            .into_iter()
            .collect(),
    };
    let variants = metas
        .into_iter()
        .map(|meta| {
            let body = texts.remove(&meta.lang).unwrap_or_default();
            meta.with_body(body)
        })
        .collect();
    let field_ids = field_ids_of(conn, &row.id)?;
    Ok(Some(Full {
        row,
        variants,
        field_ids,
    }))
}

/// Loads every publication in slug order, `batch` at a time, and hands each
/// to `each` (export, reindex, harvest stamps); the first error stops it.
pub fn all_in_batches<E: From<diesel::result::Error>>(
    conn: &mut AnyConnection,
    batch: i64,
    mut each: impl FnMut(Full) -> Result<(), E>,
) -> Result<(), E> {
    let mut after: Option<String> = None;
    loop {
        let mut query = publications::table.into_boxed::<Backend>();
        if let Some(after) = &after {
            query = query.filter(publications::slug.gt(after.clone()));
        }
        let rows: Vec<PublicationRow> = query
            .order(publications::slug.asc())
            .limit(batch)
            .select(PublicationRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some(last.slug.clone());
        let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
        let mut variants_of: HashMap<String, Vec<VariantRow>> = HashMap::new();
        for variant in variants::table
            .filter(variants::publication_id.eq_any(&ids))
            .select(VariantRow::as_select())
            .load(conn)?
        {
            variants_of
                .entry(variant.publication_id.clone())
                .or_default()
                .push(variant);
        }
        let mut fields_of = field_ids(conn, &ids)?;
        for row in rows {
            let variants = variants_of.remove(&row.id).unwrap_or_default();
            let field_ids = fields_of.remove(&row.id).unwrap_or_default();
            each(Full {
                row,
                variants,
                field_ids,
            })?;
        }
    }
}

/// Publications with their variant heads and field ids, by publication id.
#[derive(Default)]
pub struct Listed {
    pub rows: Vec<PublicationRow>,
    pub heads: HashMap<String, Vec<VariantHeadRow>>,
    pub field_ids: HashMap<String, Vec<String>>,
}

impl Listed {
    /// Adds one publication as a list shows it.
    pub fn push(&mut self, listing: Listing) {
        let id = listing.row.id.clone();
        self.heads.insert(id.clone(), listing.heads);
        self.field_ids.insert(id, listing.field_ids);
        self.rows.push(listing.row);
    }

    /// Adds what another load found.
    pub fn extend(&mut self, other: Listed) {
        self.rows.extend(other.rows);
        self.heads.extend(other.heads);
        self.field_ids.extend(other.field_ids);
    }
}

/// One publication as lists show it: what the search index stores beside
/// each document, so that a page of hits needs no database rows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Listing {
    pub row: PublicationRow,
    pub heads: Vec<VariantHeadRow>,
    pub field_ids: Vec<String>,
}

impl Listing {
    pub fn of(full: &Full) -> Self {
        Self {
            row: full.row.clone(),
            heads: full
                .variants
                .iter()
                .map(|variant| VariantHeadRow {
                    publication_id: variant.publication_id.clone(),
                    lang: variant.lang.clone(),
                    title: variant.title.clone(),
                    summary: variant.summary.clone(),
                    body_start: if variant.summary.is_empty() {
                        variant.body.chars().take(BODY_START_CHARS).collect()
                    } else {
                        String::new()
                    },
                    body_format: variant.body_format,
                })
                .collect(),
            field_ids: full.field_ids.clone(),
        }
    }
}

/// Loads publications by id, with their variant heads and fields.
pub fn by_ids(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<Listed> {
    let rows = publications::table
        .filter(publications::id.eq_any(ids))
        .select(PublicationRow::as_select())
        .load(conn)?;
    Ok(Listed {
        rows,
        heads: variant_heads(conn, ids)?,
        field_ids: field_ids(conn, ids)?,
    })
}

/// Titles and bodies of some variants, each given as (publication id,
/// stored language tag), for highlights: (publication id, language tag,
/// title, body), the body as the search index holds it (the text of a
/// Markdown body, whose words are the ones the index numbered).
///
/// One statement of the shape `(id = ? AND lang = ?) OR …`: unlike an
/// `IN (…)` list, it is prepared once per number of variants and then
/// taken from the statement cache, and it reads no variant not asked for.
pub fn variant_texts(
    conn: &mut AnyConnection,
    wanted: &[(&str, &str)],
) -> QueryResult<Vec<(String, String, String, String)>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = variants::table
        .select((
            variants::publication_id,
            variants::lang,
            variants::title,
            variants::body,
            variants::body_format,
        ))
        .into_boxed::<Backend>();
    for (id, lang) in wanted {
        query = query.or_filter(
            variants::publication_id
                .eq(*id)
                .and(variants::lang.eq(*lang)),
        );
    }
    let rows: Vec<(String, String, String, String, BodyFormat)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, lang, title, body, format)| {
            let body = match plain_text(format, &body) {
                Cow::Borrowed(_) => body,
                Cow::Owned(text) => text,
            };
            (id, lang, title, body)
        })
        .collect())
}

/// Every file hash a variant or an image names: what the file store must
/// keep.
pub fn referenced_files(
    conn: &mut AnyConnection,
) -> QueryResult<std::collections::HashSet<String>> {
    let hashes: Vec<Option<String>> = variants::table
        .select(variants::file_sha256)
        .filter(variants::file_sha256.is_not_null())
        .distinct()
        .load(conn)?;
    let mut referenced: std::collections::HashSet<String> = hashes.into_iter().flatten().collect();
    referenced.extend(super::images::referenced_sources(conn)?);
    Ok(referenced)
}
