//! `/v1/search` and `/v1/search/suggest`: the query string read into a
//! typed request for the search service (`crate::search::service`), and
//! its result rendered as the wire views, cached under the index's
//! change-log position.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};

use super::organisations::LangParams;
use super::publications::{filter_of, FilterParams};
use super::render::Render;
use super::views::PublicationSummary;
use crate::db::publications::Filter;
use crate::domain::{Lang, PublicationKind};
use crate::http::error::{ApiError, ErrorCode, Problem};
use crate::http::negotiate::{AcceptLanguage, Requested};
use crate::http::params::{self, Params};
use crate::http::respond;
use crate::search::facets::Facet;
use crate::search::index::{SearchIndex, SearchOrder};
use crate::search::service::{
    self, SearchError, SearchOutcome, SearchRequest, Searcher, SuggestRequest,
};
use crate::state::AppState;

/// The longest query accepted, in characters.
const MAX_QUERY_CHARS: usize = 1_000;
/// The deepest page: past it, narrow the query instead.
const MAX_OFFSET: usize = 10_000;
/// The page size without `limit`.
const DEFAULT_LIMIT: usize = 20;
/// The completions without `limit`.
const DEFAULT_SUGGESTIONS: usize = 8;

/// The query parameters of `GET /v1/search` besides the filters of
/// `GET /v1/publications` ([`FilterParams`]) and `lang`
/// ([`LangParams`]), each parsed into its type (the bad ones named, with
/// why). The spec lists all three, in [`SearchQuery`]'s order.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words (all must match), `"phrases"`, `-exclusion`, `OR`, and field
    /// prefixes: `title:`, `summary:`, `body:` (every language's), one
    /// language's (`title_en:`, `body_sr:`), `keywords:`, `authors:`. A query
    /// the parser rejects, or with another prefix, is run as plain words.
    /// Empty: every publication the filters allow, newest first.
    #[param(value_type = Option<String>, example = "Pristina dialogue")]
    #[serde(deserialize_with = "query_text")]
    q: Option<String>,
    /// Order: `relevance` (default with a query), `-published_on` (default without), `published_on`.
    #[param(value_type = Option<String>, example = "relevance")]
    #[serde(deserialize_with = "sort")]
    sort: Option<SearchOrder>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    #[serde(deserialize_with = "params::limit")]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(deserialize_with = "params::text")]
    cursor: Option<String>,
    /// How many hits to skip, 0 to 10,000: the older way to page, kept for
    /// clients that use it (not together with `cursor`).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 10000, example = 0)]
    #[serde(deserialize_with = "offset")]
    offset: Option<usize>,
    /// `false` answers `highlights: null` (faster); default `true`.
    #[param(value_type = Option<bool>, example = true)]
    #[serde(deserialize_with = "boolean")]
    highlight: Option<bool>,
    /// Count all matches by these: `kind`, `field`, `project`, `funder`,
    /// `language`, `year` (comma-separated).
    #[param(value_type = Option<String>, example = "kind,field,language,year")]
    #[serde(deserialize_with = "facets")]
    facets: Vec<Facet>,
}

impl SearchParams {
    /// The search these parameters ask for: by relevance when there is a
    /// text, newest first when there is none.
    fn into_request(
        self,
        filter: Filter,
        requested: &Requested,
    ) -> Result<SearchRequest, ApiError> {
        let offset = match (self.offset, self.cursor.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "cursor",
                    "give cursor or offset, not both",
                ))
            }
            (_, Some(cursor)) => match params::offset_of(cursor)? {
                offset if offset <= MAX_OFFSET => offset,
                _ => return Err(params::invalid_cursor("is past the last page a search has")),
            },
            (offset, None) => offset.unwrap_or(0),
        };
        let text = self.q.unwrap_or_default();
        let default_order = if text.trim().is_empty() {
            SearchOrder::PublishedDesc
        } else {
            SearchOrder::Relevance
        };
        let mut facets = self.facets;
        facets.sort();
        facets.dedup();
        Ok(SearchRequest {
            order: self.sort.unwrap_or(default_order),
            text,
            filter,
            limit: self.limit.map_or(DEFAULT_LIMIT, |limit| limit as usize),
            offset,
            facets,
            highlight: self.highlight.unwrap_or(true),
            languages: requested.ranges.clone(),
        })
    }
}

fn sort<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<SearchOrder>, D::Error> {
    params::one(deserializer, parse_sort)
}

fn offset<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    params::one(deserializer, parse_offset)
}

fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    params::one(deserializer, parse_bool)
}

fn facets<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Facet>, D::Error> {
    params::list(deserializer, Facet::parse)
}

/// Every query parameter of `GET /v1/search`, as the spec lists them: the
/// text, the filters of `GET /v1/publications`, the order, paging by
/// offset, highlights, facets, and the language to serve.
pub struct SearchQuery;

impl IntoParams for SearchQuery {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut own = SearchParams::into_params(&parameter_in).into_iter();
        let mut all: Vec<Parameter> = own.next().into_iter().collect();
        all.extend(FilterParams::into_params(&parameter_in));
        all.extend(own);
        all.extend(LangParams::into_params(parameter_in));
        all
    }
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
    /// What matched, from the served language's variant when it matched;
    /// null with `highlight=false`.
    #[schema(required = true)]
    pub highlights: Option<Highlights>,
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

/// A page of search results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchHit>,
    /// How many publications match, over all pages.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// Pass as `cursor` to get the next page; null on the last page (or
    /// past 10,000 hits, as far as a search pages).
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// True when nothing matched as typed and these results allow one typo
    /// in each word of five letters or more, though not in its first letter.
    pub fuzzy: bool,
    /// With `facets=`: counts over all matches, not just this page.
    pub facets: BTreeMap<String, Vec<FacetValue>>,
    pub requested_languages: Vec<String>,
}

impl From<service::Highlight> for Highlights {
    fn from(found: service::Highlight) -> Self {
        Self {
            title: found.title,
            body: found.body,
        }
    }
}

/// Turns index values into filter values and labels, most frequent first
/// (years newest first).
fn facet_values(
    facet: Facet,
    counts: HashMap<String, u64>,
    render: &Render<'_>,
) -> Vec<FacetValue> {
    let label_language = render.labels();
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

fn parse_offset(raw: &str) -> Result<usize, String> {
    params::parse_bounded(raw, 0, MAX_OFFSET as u64).map(|offset| offset as usize)
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(format!("{other:?} is not true or false")),
    }
}

/// Reads `q`: control characters dropped, at most [`MAX_QUERY_CHARS`].
fn query_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    params::one(deserializer, |raw| {
        let text: String = raw.chars().filter(|c| !c.is_control()).collect();
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(format!("must be at most {MAX_QUERY_CHARS} characters"));
        }
        Ok(text)
    })
}

fn search_busy() -> ApiError {
    ApiError::busy(
        "every search slot and queue place is taken; try again in a moment",
        1,
    )
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::Busy => search_busy(),
            SearchError::Database(error) => error.into(),
            SearchError::Pool(error) => error.into(),
            SearchError::Index(error) => ApiError::internal(error),
            SearchError::Thread(error) => ApiError::internal(error),
        }
    }
}

/// The search service of this server, or 503 on a server without an index.
fn searcher(state: &AppState) -> Result<Searcher, ApiError> {
    let index: &Arc<SearchIndex> = state
        .search
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::Unavailable, "this server has no search index"))?;
    Ok(Searcher::new(
        Arc::clone(index),
        Arc::clone(&state.search_queue),
        state.db.clone(),
    ))
}

/// A search's outcome as the wire shows it, in the served language.
fn render_results(
    req: &HttpRequest,
    outcome: SearchOutcome,
    render: &Render<'_>,
    requested: &Requested,
    (offset, limit, highlighted): (usize, usize, bool),
) -> Result<respond::Encoded, ApiError> {
    let items: Vec<SearchHit> = outcome
        .hits
        .into_iter()
        .map(|hit| {
            let listing = &hit.listing;
            SearchHit {
                publication: render.publication_summary(
                    &listing.row,
                    &listing.heads,
                    &listing.field_ids,
                ),
                score: hit.score,
                highlights: highlighted.then(|| hit.highlight.into()),
            }
        })
        .collect();
    let languages = requested.list_languages(items.iter().map(|hit| hit.publication.language));
    let facets = outcome
        .facets
        .into_iter()
        .map(|(facet, counts)| {
            (
                facet.as_str().to_owned(),
                facet_values(facet, counts, render),
            )
        })
        .collect();
    let end = offset.saturating_add(limit);
    let next_cursor = (end < outcome.total && end <= MAX_OFFSET).then(|| params::cursor_at(end));
    let results = SearchResults {
        items,
        total: outcome.total,
        offset,
        limit,
        next_cursor: next_cursor.clone(),
        fuzzy: outcome.fuzzy,
        facets,
        requested_languages: requested.tags(),
    };
    let mut encoded = respond::encode(&results, &languages)?;
    encoded.link = next_cursor.and_then(|cursor| respond::next_link(req, &cursor, &["offset"]));
    Ok(encoded)
}

/// Search publications
///
/// Finds publications through any of their language variants — English,
/// Albanian, Serbian in either script, with or without diacritics — and
/// returns each once, in the negotiated language, with its score.
#[utoipa::path(
    tag = "search",
    params(SearchQuery, AcceptLanguage),
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
    let params = Params::of::<SearchQuery>(&req)?;
    let requested = Requested::from_request(&req, &params, false)?;
    let search: SearchParams = params.read()?;
    let filter: FilterParams = params.read()?;
    let searcher = searcher(&state)?;
    let snapshot = state.snapshot().await?;
    let filter = filter_of(&filter, &snapshot.catalog);
    let request = search.into_request(filter, &requested)?;
    let (offset, limit, highlighted) = (request.offset, request.limit, request.highlight);
    // Hits come from the index, which follows the database a moment behind:
    // cached results live as long as the index stays where it is.
    let seq = searcher.applied_seq() as i64;
    state
        .cache
        .respond(&req, &requested, seq, async {
            let outcome = searcher.search(request).await?;
            let render = Render::new(&state, &snapshot.catalog, &requested.ranges);
            let page = (offset, limit, highlighted);
            render_results(&req, outcome, &render, &requested, page)
        })
        .await
}

/// Query parameters of `GET /v1/search/suggest` besides `lang`
/// ([`LangParams`]).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// What the user has typed so far; the last word may be unfinished.
    #[param(value_type = Option<String>, example = "normaliz")]
    #[serde(deserialize_with = "query_text")]
    q: Option<String>,
    /// How many completions, 1 to 20 (default 8).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 20, example = 8)]
    #[serde(deserialize_with = "suggest_limit")]
    limit: Option<usize>,
}

fn suggest_limit<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    params::one(deserializer, parse_suggest_limit)
}

/// Every query parameter of `GET /v1/search/suggest`.
pub struct SuggestQuery;

impl IntoParams for SuggestQuery {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut all = SuggestParams::into_params(&parameter_in);
        all.extend(LangParams::into_params(parameter_in));
        all
    }
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
    #[schema(required = true)]
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
    params(SuggestQuery, AcceptLanguage),
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
    let params = Params::of::<SuggestQuery>(&req)?;
    let requested = Requested::from_request(&req, &params, false)?;
    let suggest: SuggestParams = params.read()?;
    let searcher = searcher(&state)?;
    let snapshot = state.snapshot().await?;
    let seq = searcher.applied_seq() as i64;
    state
        .cache
        .respond(&req, &requested, seq, async {
            let listings = searcher
                .suggest(SuggestRequest {
                    text: suggest.q.unwrap_or_default(),
                    limit: suggest.limit.unwrap_or(DEFAULT_SUGGESTIONS),
                })
                .await?;
            let render = Render::new(&state, &snapshot.catalog, &requested.ranges);
            let items: Vec<Suggestion> = listings
                .iter()
                .map(|listing| {
                    let summary = render.publication_summary(&listing.row, &listing.heads, &[]);
                    Suggestion {
                        id: summary.id,
                        slug: summary.slug,
                        title: summary.title,
                        language: summary.language,
                        derived_from: summary.derived_from,
                    }
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
