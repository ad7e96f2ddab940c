//! `/v1/search`: full-text search over every language of every publication.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::negotiate::{AcceptLanguage, Requested};
use super::params::{self, names_of, Params};
use super::publications::read_filter;
use super::render::{stored_languages, Render};
use super::respond;
use super::views::PublicationSummary;
use crate::db::publications::{self, Listed};
use crate::db::{changes, AnyConnection};

use crate::domain::lang::negotiate;
use crate::domain::translit::cyrillic_to_latin;
use crate::domain::{Lang, PublicationKind, PublicationStatus};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::search::highlight::{self, Matches};
use crate::search::index::{self, Facet, Hit, Marked, SearchIndex, SearchOrder};
use crate::state::AppState;

/// The longest query accepted, in characters.
const MAX_QUERY_CHARS: usize = 1_000;
/// The deepest page: past it, narrow the query instead.
const MAX_OFFSET: usize = 10_000;

/// Query parameters of `GET /v1/search`: the text, the filters of
/// `GET /v1/publications`, and paging by offset.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "documents the query parameters; they are read through Params"
)]
pub struct SearchParams {
    /// Words (all must match), `"phrases"`, `-exclusion`, `OR`, and field
    /// prefixes: `title:`, `summary:`, `body:` (every language's), one
    /// language's (`title_en:`, `body_sr:`), `keywords:`, `authors:`. A query
    /// the parser rejects, or with another prefix, is run as plain words.
    /// Empty: every publication the filters allow, newest first.
    #[param(example = "Pristina dialogue")]
    q: Option<String>,
    /// Kinds: `report`, `policy_paper`, `discussion_conclusions`, `media_monitoring`.
    #[param(example = "report,policy_paper")]
    kind: Option<String>,
    /// Fields of work, by slug or id.
    #[param(example = "normalization-dialogue")]
    field: Option<String>,
    /// Projects, by slug or id.
    #[param(example = "dialogue-solutions-future")]
    project: Option<String>,
    /// Funders of the publication's project, by slug or id.
    #[param(example = "german-federal-foreign-office")]
    funder: Option<String>,
    /// Implementing partners of the publication's project, by slug or id.
    #[param(example = "isp-musine-kokalari")]
    partner: Option<String>,
    /// Events, by slug or id.
    #[param(example = "expert-discussion-2024-10-31")]
    event: Option<String>,
    /// Has a variant in this language.
    #[param(example = "sq")]
    language: Option<String>,
    /// Published in this year.
    #[param(value_type = Option<i32>, example = 2024)]
    year: Option<String>,
    /// Published on or after this date.
    #[param(value_type = Option<chrono::NaiveDate>, example = "2024-01-01")]
    published_from: Option<String>,
    /// Published on or before this date.
    #[param(value_type = Option<chrono::NaiveDate>, example = "2024-12-31")]
    published_to: Option<String>,
    /// Changed at or after this time (RFC 3339, or a date meaning its midnight UTC).
    #[param(value_type = Option<String>, example = "2024-01-01T00:00:00Z")]
    updated_since: Option<String>,
    /// Order: `relevance` (default with a query), `-published_on` (default without), `published_on`.
    #[param(example = "relevance")]
    sort: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    limit: Option<String>,
    /// How many hits to skip, 0 to 10,000.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 10000, example = 0)]
    offset: Option<String>,
    /// `false` leaves out the `highlights` (faster); default `true`.
    #[param(value_type = Option<bool>, example = true)]
    highlight: Option<String>,
    /// Count all matches by these: `kind`, `field`, `project`, `funder`,
    /// `language`, `year` (comma-separated).
    #[param(example = "kind,field,language,year")]
    facets: Option<String>,
    /// Language to serve (overrides `Accept-Language`).
    #[param(example = "sr-Latn")]
    lang: Option<String>,
}

/// One value of a facet, with how many matches have it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetValue {
    /// What to pass back as a filter (a slug, a wire name, a tag, a year).
    #[schema(example = "report")]
    pub value: String,
    /// The value's label in the served language.
    #[schema(example = "Report")]
    pub label: String,
    #[schema(example = 12)]
    pub count: u64,
}

/// One hit: the publication as lists show it, and its score.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    #[serde(flatten)]
    pub publication: PublicationSummary,
    /// Relevance (BM25 over every language's fields); 0 when sorted by date.
    #[schema(example = 12.7)]
    pub score: f32,
    /// What matched, from the served language's variant when it matched.
    pub highlights: Highlights,
}

/// What matched, marked with `<mark>`; the rest of the text is HTML-escaped.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Highlights {
    /// The title, when it matched.
    #[schema(
        example = "Conclusions: Challenges in the Kosovo-Serbia <mark>normalization</mark> process"
    )]
    pub title: Option<String>,
    /// The best-matching fragments of the body.
    #[schema(
        example = json!(["… the expert discussion on the <mark>normalization</mark> process between Kosovo and Serbia …"])
    )]
    pub body: Vec<String>,
}

/// Picks the highlights of a hit: from the variant it is served in when that
/// matched, otherwise from the first variant that did. Latin derived from
/// Cyrillic is highlighted in Latin too.
fn choose_highlights(
    marked: &HashMap<(String, Lang), Marked>,
    id: &str,
    hit: &PublicationSummary,
) -> Highlights {
    let source = hit.derived_from.unwrap_or(hit.language);
    let key = |lang: Lang| (id.to_owned(), lang);
    let (lang, found) = match marked.get(&key(source)) {
        Some(found) => (source, found),
        None => match Lang::ALL
            .into_iter()
            .find_map(|lang| marked.get(&key(lang)).map(|found| (lang, found)))
        {
            Some(pair) => pair,
            None => return Highlights::default(),
        },
    };
    let convert = |text: &String| {
        if lang == Lang::SrCyrl && hit.language == Lang::SrLatn {
            cyrillic_to_latin(text)
        } else {
            text.clone()
        }
    };
    Highlights {
        title: found.title.as_ref().map(convert),
        body: found.body.iter().map(convert).collect(),
    }
}

/// A page of search results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchHit>,
    /// How many publications match, over all pages.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// True when nothing matched as typed and these results allow one typo
    /// in each word of five letters or more, though not in its first letter.
    pub fuzzy: bool,
    /// With `facets=`: counts over all matches, not just this page.
    pub facets: BTreeMap<String, Vec<FacetValue>>,
    pub requested_languages: Vec<String>,
}

/// Turns index values into filter values and labels, most frequent first
/// (years newest first).
fn facet_values(
    facet: Facet,
    counts: HashMap<String, u64>,
    render: &Render<'_>,
) -> Vec<FacetValue> {
    let label_language = render.label_language(Lang::En);
    let catalog = render.catalog;
    let mut values: Vec<FacetValue> = counts
        .into_iter()
        .filter_map(|(value, count)| {
            let (value, label) = match facet {
                Facet::Kind => {
                    let kind = PublicationKind::parse(&value).ok()?;
                    (value, kind.label(label_language).to_owned())
                }
                Facet::Field => {
                    let field = catalog.fields.by_id(&value)?;
                    (field.slug.clone(), render.pick(&field.label).text)
                }
                Facet::Project => {
                    let project = catalog.projects.by_id(&value)?;
                    (project.slug.clone(), render.pick(&project.title).text)
                }
                Facet::Funder => {
                    let funder = catalog.organisations.by_id(&value)?;
                    (funder.slug.clone(), render.pick(&funder.name).text)
                }
                Facet::Language => {
                    let label = Lang::from_stored(&value)?.name_in(label_language);
                    (value, label.to_owned())
                }
                Facet::Year => (value.clone(), value),
            };
            Some(FacetValue {
                value,
                label,
                count,
            })
        })
        .collect();
    if facet == Facet::Year {
        values.sort_by(|a, b| b.value.cmp(&a.value));
    } else {
        values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    }
    values
}

/// The orders `sort` takes, by wire name.
pub const SORTS: [(&str, SearchOrder); 3] = [
    ("relevance", SearchOrder::Relevance),
    ("-published_on", SearchOrder::PublishedDesc),
    ("published_on", SearchOrder::PublishedAsc),
];

fn parse_sort(raw: &str) -> Result<SearchOrder, String> {
    crate::domain::one_of(raw, &SORTS, |(name, _)| *name).map(|(_, order)| *order)
}

/// Reads `q`: control characters dropped, at most [`MAX_QUERY_CHARS`].
fn query_text(params: &Params) -> Result<String, ApiError> {
    let text: String = params
        .one("q")?
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::invalid(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    Ok(text)
}

/// Returns the search index, or 503 on a server without one.
fn search_busy() -> ApiError {
    ApiError::busy(
        "every search slot and queue place is taken; try again in a moment",
        1,
    )
}

/// Takes a place among the searches running or waiting: the index runs
/// on blocking threads, and a burst must not queue there without bound.
fn admit_search(state: &AppState) -> Result<crate::bounded::Ticket, ApiError> {
    state.search_queue.admit().map_err(|_| search_busy())
}

fn search_index(state: &AppState) -> Result<Arc<SearchIndex>, ApiError> {
    state
        .search
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::Unavailable, "this server has no search index"))
}

/// The changes a hit's stored listing may be behind by before every hit is
/// read from the database instead (the indexer is catching up).
const MAX_PENDING_CHANGES: i64 = 1_000;

/// The publications of some hits as lists show them: as the index stored
/// them (taken out of the hits), except those changed since the index
/// applied change `applied` (or with a listing it can't read), which come
/// from the database.
fn listings(
    conn: &mut AnyConnection,
    hits: &mut [Hit],
    applied: u64,
) -> diesel::QueryResult<Listed> {
    let mut listed = Listed::default();
    if hits.is_empty() {
        return Ok(listed);
    }
    let changed = changes::publications_changed_after(conn, applied as i64, MAX_PENDING_CHANGES)?;
    let mut stale = Vec::new();
    for hit in hits {
        match (hit.listing.take(), &changed) {
            (Some(listing), Some(changed)) if !changed.contains(&hit.id) => listed.push(listing),
            _ => stale.push(hit.id.clone()),
        }
    }
    if !stale.is_empty() {
        listed.extend(publications::by_ids(conn, &stale)?);
    }
    Ok(listed)
}

/// Marks what matched in each hit, reading as few texts as it can: first
/// the variant each hit is served in (with the variants before it in the
/// same field, which number their words first), then, for the hits where
/// that one matched nothing, the other variants of the fields that matched.
fn mark_hits(
    conn: &mut AnyConnection,
    matches: &HashMap<String, Matches>,
    listed: &Listed,
    preferred: &HashMap<String, Lang>,
) -> diesel::QueryResult<HashMap<(String, Lang), Marked>> {
    let stored = |id: &str| -> Vec<Lang> {
        listed
            .heads
            .get(id)
            .map(|heads| stored_languages(heads))
            .unwrap_or_default()
    };
    let mut first: Vec<(String, Lang)> = Vec::new();
    for (id, found) in matches {
        let Some(&served) = preferred.get(id) else {
            continue;
        };
        let field = index::slot(served);
        if found.in_slot(field) {
            first.extend(
                stored(id)
                    .into_iter()
                    .filter(|lang| index::slot(*lang) == field && lang.as_str() <= served.as_str())
                    .map(|lang| (id.clone(), lang)),
            );
        }
    }
    let mut texts = variant_texts(conn, &first)?;
    let mut marked = highlight::mark(&texts, matches, preferred);
    let done: HashSet<&str> = marked.keys().map(|(id, _)| id.as_str()).collect();
    let unmarked: HashMap<String, Matches> = matches
        .iter()
        .filter(|(id, _)| !done.contains(id.as_str()))
        .map(|(id, found)| (id.clone(), found.clone()))
        .collect();
    let rest: Vec<(String, Lang)> = unmarked
        .iter()
        .flat_map(|(id, found)| {
            stored(id)
                .into_iter()
                .filter(|lang| found.in_slot(index::slot(*lang)))
                .map(|lang| (id.clone(), lang))
        })
        .filter(|pair| !first.contains(pair))
        .collect();
    if !rest.is_empty() {
        texts.extend(variant_texts(conn, &rest)?);
        marked.extend(highlight::mark(&texts, &unmarked, preferred));
    }
    Ok(marked)
}

/// The titles and bodies of some variants.
fn variant_texts(
    conn: &mut AnyConnection,
    wanted: &[(String, Lang)],
) -> diesel::QueryResult<Vec<highlight::VariantText>> {
    let wanted: Vec<(&str, &str)> = wanted
        .iter()
        .map(|(id, lang)| (id.as_str(), lang.as_str()))
        .collect();
    publications::variant_texts(conn, &wanted)
}

fn parse_offset(raw: &str) -> Result<usize, String> {
    params::parse_bounded(raw, 0, MAX_OFFSET as u64).map(|offset| offset as usize)
}

/// Search publications
///
/// Finds publications through any of their language variants — English,
/// Albanian, Serbian in either script, with or without diacritics — and
/// returns each once, in the negotiated language, with its score.
#[utoipa::path(
    tag = "search",
    params(SearchParams, AcceptLanguage),
    responses(
        (status = 200, description = "A page of hits", body = SearchResults, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server has no search index (`unavailable`), or every search slot and queue place is taken (`busy`, with Retry-After)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32))),
    )
)]
#[get("/search")]
pub async fn search_publications(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(&req, names_of::<SearchParams>())?;
    let requested = Requested::from_request(&req, &params, false)?;
    let text = query_text(&params)?;
    let default_sort = if text.trim().is_empty() {
        SearchOrder::PublishedDesc
    } else {
        SearchOrder::Relevance
    };
    let sort = params.parsed("sort", parse_sort)?.unwrap_or(default_sort);
    let limit = params.parsed("limit", params::parse_limit)?.unwrap_or(20) as usize;
    let offset = params.parsed("offset", parse_offset)?.unwrap_or(0);
    let highlight = params
        .parsed("highlight", |raw| match raw {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(format!("{other:?} is not true or false")),
        })?
        .unwrap_or(true);
    let mut facets = params.parsed_list("facets", Facet::parse)?;
    facets.sort();
    facets.dedup();
    let index = search_index(&state)?;
    let snapshot = state.snapshot().await?;
    let filter = read_filter(&params, &snapshot.catalog)?;
    // Hits come from the index, which follows the database a moment behind:
    // cached results live as long as the index stays where it is.
    let seq = index.applied_seq() as i64;
    respond::cached(&state, &req, &requested, seq, async {
        let ticket = admit_search(&state)?;
        let _slot = ticket.slot().await.ok_or_else(search_busy)?;
        let want_highlights = highlight && !text.trim().is_empty();
        // One trip to a blocking thread for the index, the database and the
        // highlights: each hop to the thread pool and back is a context
        // switch, and on two cores those add up.
        let db = state.db.clone();
        let ranges = requested.ranges.clone();
        let (hits, total, counts, fuzzy, listed, marked) = actix_web::rt::task::spawn_blocking({
            let (index, text, filter) = (Arc::clone(&index), text.clone(), filter.clone());
            move || -> Result<_, ApiError> {
                let (mut query, parsed) = index.search_query(&text, &filter);
                let mut page = index
                    .search(&*query, sort, limit, offset)
                    .map_err(ApiError::internal)?;
                // Nothing found as typed: allow one typo in each longer word.
                let mut fuzzy = false;
                if page.total == 0 {
                    let tolerant = parsed
                        .as_ref()
                        .and_then(|parsed| index.fuzzy_query(parsed, &filter));
                    if let Some(tolerant) = tolerant {
                        page = index
                            .search(&*tolerant, sort, limit, offset)
                            .map_err(ApiError::internal)?;
                        query = tolerant;
                        fuzzy = true;
                    }
                }
                let counts = if facets.is_empty() {
                    Vec::new()
                } else {
                    index
                        .facet_counts(&*query, &facets)
                        .map_err(ApiError::internal)?
                };
                let matches = if want_highlights {
                    index
                        .matches(&page, &*query, parsed.as_ref())
                        .map_err(ApiError::internal)?
                } else {
                    HashMap::new()
                };
                let mut conn = db.conn()?;
                let listed = listings(&mut conn, &mut page.hits, seq as u64)?;
                let hits: Vec<(String, f32)> = page
                    .hits
                    .into_iter()
                    .map(|hit| (hit.id, hit.score))
                    .collect();
                // The variant each hit will be served in, to highlight first.
                let preferred: HashMap<String, Lang> = listed
                    .heads
                    .iter()
                    .filter_map(|(id, heads)| {
                        negotiate(&ranges, &stored_languages(heads))
                            .map(|served| (id.clone(), served.source()))
                    })
                    .collect();
                let marked = mark_hits(&mut conn, &matches, &listed, &preferred)?;
                Ok((hits, page.total, counts, fuzzy, listed, marked))
            }
        })
        .await
        .map_err(ApiError::internal)??;

        let rows: HashMap<&str, _> = listed
            .rows
            .iter()
            .map(|row| (row.id.as_str(), row))
            .collect();
        let render = Render::new(&snapshot.catalog, &requested.ranges);
        let published = PublicationStatus::Published.as_str();
        let items: Vec<SearchHit> = hits
            .iter()
            .filter_map(|(id, score)| {
                // The index may lag the database by a moment: skip what is no longer public.
                let row = rows
                    .get(id.as_str())
                    .filter(|row| row.status == published)?;
                let heads = listed.heads.get(id).map(Vec::as_slice).unwrap_or_default();
                let fields = listed
                    .field_ids
                    .get(id)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let publication = render.publication_summary(row, heads, fields);
                let highlights = choose_highlights(&marked, id, &publication);
                Some(SearchHit {
                    publication,
                    score: *score,
                    highlights,
                })
            })
            .collect();
        let languages = requested.list_languages(items.iter().map(|hit| hit.publication.language));
        let facets = counts
            .into_iter()
            .map(|(facet, counts)| {
                (
                    facet.as_str().to_owned(),
                    facet_values(facet, counts, &render),
                )
            })
            .collect();
        let results = SearchResults {
            items,
            total,
            offset,
            limit,
            fuzzy,
            facets,
            requested_languages: requested.tags(),
        };
        respond::encode(&results, &languages)
    })
    .await
}

/// Query parameters of `GET /v1/search/suggest`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "documents the query parameters; they are read through Params"
)]
pub struct SuggestParams {
    /// What the user has typed so far; the last word may be unfinished.
    #[param(example = "normaliz")]
    q: Option<String>,
    /// How many completions, 1 to 20 (default 8).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 20, example = 8)]
    limit: Option<String>,
    /// Language to serve (overrides `Accept-Language`).
    #[param(example = "sr-Latn")]
    lang: Option<String>,
}

/// One completion: a publication's title in the served language.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    pub id: String,
    #[schema(example = "conclusions-expert-discussion-2024-10-31")]
    pub slug: String,
    #[schema(
        example = "Conclusions: Challenges and opportunities in the Kosovo-Serbia normalization process"
    )]
    pub title: String,
    pub language: Lang,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<Lang>,
}

/// Title completions, newest publication first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
    pub requested_languages: Vec<String>,
}

fn parse_suggest_limit(raw: &str) -> Result<usize, String> {
    params::parse_bounded(raw, 1, 20).map(|limit| limit as usize)
}

/// Complete a title
///
/// For a search box, on every keystroke: publications whose title, in any
/// language or script, has every finished word typed and a word starting
/// with the last one — `pri` finds Priština, Prishtinë and Приштина —
/// with the title in the served language.
#[utoipa::path(
    tag = "search",
    params(SuggestParams, AcceptLanguage),
    responses(
        (status = 200, description = "Completions", body = Suggestions, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server has no search index (`unavailable`), or every search slot and queue place is taken (`busy`, with Retry-After)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32))),
    )
)]
#[get("/search/suggest")]
pub async fn suggest_titles(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(&req, names_of::<SuggestParams>())?;
    let requested = Requested::from_request(&req, &params, false)?;
    let text = query_text(&params)?;
    let limit = params.parsed("limit", parse_suggest_limit)?.unwrap_or(8);
    let index = search_index(&state)?;
    let snapshot = state.snapshot().await?;
    let seq = index.applied_seq() as i64;
    respond::cached(&state, &req, &requested, seq, async {
        let ticket = admit_search(&state)?;
        let _slot = ticket.slot().await.ok_or_else(search_busy)?;
        let db = state.db.clone();
        let (order, listed) =
            actix_web::rt::task::spawn_blocking(move || -> Result<_, ApiError> {
                let mut hits = index.suggest(&text, limit).map_err(ApiError::internal)?;
                let listed = listings(&mut *db.conn()?, &mut hits, seq as u64)?;
                let order: Vec<String> = hits.into_iter().map(|hit| hit.id).collect();
                Ok((order, listed))
            })
            .await
            .map_err(ApiError::internal)??;
        let render = Render::new(&snapshot.catalog, &requested.ranges);
        let published = PublicationStatus::Published.as_str();
        let items: Vec<Suggestion> = order
            .iter()
            .filter_map(|id| {
                let row = listed
                    .rows
                    .iter()
                    .find(|row| &row.id == id && row.status == published)?;
                let heads = listed.heads.get(id).map(Vec::as_slice).unwrap_or_default();
                let summary = render.publication_summary(row, heads, &[]);
                Some(Suggestion {
                    id: summary.id,
                    slug: summary.slug,
                    title: summary.title,
                    language: summary.language,
                    derived_from: summary.derived_from,
                })
            })
            .collect();
        let languages = requested.list_languages(items.iter().map(|item| item.language));
        respond::encode(
            &Suggestions {
                items,
                requested_languages: requested.tags(),
            },
            &languages,
        )
    })
    .await
}
