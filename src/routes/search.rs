//! `/v1/search` and `/v1/search/suggest`: the query string read into a
//! typed request for the search service (`crate::search::service`), and
//! its result rendered as the wire views, cached under the index's
//! change-log position.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};

use super::publications::read_filter;
use super::render::Render;
use super::views::PublicationSummary;
use crate::db::publications::Filter;
use crate::domain::{Lang, PublicationKind};
use crate::http::error::{ApiError, ErrorCode, Problem};
use crate::http::negotiate::{AcceptLanguage, Requested};
use crate::http::params::{self, names_of, Params};
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

/// The query parameters of `GET /v1/search` that the search reads itself,
/// each parsed into its type (the bad ones named, with why); the others
/// are in [`SearchFilterParams`]. The spec lists both, in
/// [`SearchQuery`]'s order.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words (all must match), `"phrases"`, `-exclusion`, `OR`, and field
    /// prefixes: `title:`, `summary:`, `body:` (every language's), one
    /// language's (`title_en:`, `body_sr:`), `keywords:`, `authors:`. A query
    /// the parser rejects, or with another prefix, is run as plain words.
    /// Empty: every publication the filters allow, newest first.
    #[param(value_type = Option<String>, example = "Pristina dialogue")]
    q: String,
    /// Order: `relevance` (default with a query), `-published_on` (default without), `published_on`.
    #[param(value_type = Option<String>, example = "relevance")]
    sort: Option<SearchOrder>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    limit: usize,
    /// How many hits to skip, 0 to 10,000.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 10000, example = 0)]
    offset: usize,
    /// `false` leaves out the `highlights` (faster); default `true`.
    #[param(value_type = Option<bool>, example = true)]
    highlight: bool,
    /// Count all matches by these: `kind`, `field`, `project`, `funder`,
    /// `language`, `year` (comma-separated).
    #[param(value_type = Option<String>, example = "kind,field,language,year")]
    facets: Vec<Facet>,
}

impl SearchParams {
    /// Reads the parameters, in this order, with each parser's message.
    fn read(params: &Params) -> Result<Self, ApiError> {
        let q = query_text(params)?;
        let sort = params.parsed("sort", parse_sort)?;
        let limit = params.parsed("limit", params::parse_limit)?;
        let offset = params.parsed("offset", parse_offset)?;
        let highlight = params.parsed("highlight", parse_bool)?;
        let mut facets = params.parsed_list("facets", Facet::parse)?;
        facets.sort();
        facets.dedup();
        Ok(Self {
            q,
            sort,
            limit: limit.map_or(DEFAULT_LIMIT, |limit| limit as usize),
            offset: offset.unwrap_or(0),
            highlight: highlight.unwrap_or(true),
            facets,
        })
    }

    /// The search these parameters ask for: by relevance when there is a
    /// text, newest first when there is none.
    fn into_request(self, filter: Filter, requested: &Requested) -> SearchRequest {
        let default_order = if self.q.trim().is_empty() {
            SearchOrder::PublishedDesc
        } else {
            SearchOrder::Relevance
        };
        SearchRequest {
            order: self.sort.unwrap_or(default_order),
            text: self.q,
            filter,
            limit: self.limit,
            offset: self.offset,
            facets: self.facets,
            highlight: self.highlight,
            languages: requested.ranges.clone(),
        }
    }
}

/// The query parameters of `GET /v1/search` that shared readers parse:
/// the filters of `GET /v1/publications` (`publications::read_filter`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the filters; publications::read_filter reads them"
)]
pub struct SearchFilterParams {
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
}

/// `lang`, read by `Requested` with `Accept-Language`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents `lang`; Requested reads it")]
pub struct ServedLanguageParams {
    /// Language to serve (overrides `Accept-Language`).
    #[param(example = "sr-Latn")]
    lang: Option<String>,
}

/// Every query parameter of `GET /v1/search`, as the spec lists them: the
/// text, the filters of `GET /v1/publications`, the order, paging by
/// offset, highlights, facets, and the language to serve.
pub struct SearchQuery;

impl IntoParams for SearchQuery {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut own = SearchParams::into_params(&parameter_in).into_iter();
        let mut all: Vec<Parameter> = own.next().into_iter().collect();
        all.extend(SearchFilterParams::into_params(&parameter_in));
        all.extend(own);
        all.extend(ServedLanguageParams::into_params(parameter_in));
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
    outcome: SearchOutcome,
    render: &Render<'_>,
    requested: &Requested,
    offset: usize,
    limit: usize,
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
                highlights: hit.highlight.into(),
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
    let results = SearchResults {
        items,
        total: outcome.total,
        offset,
        limit,
        fuzzy: outcome.fuzzy,
        facets,
        requested_languages: requested.tags(),
    };
    respond::encode(&results, &languages)
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
    let params = Params::parse(&req, names_of::<SearchQuery>())?;
    let requested = Requested::from_request(&req, &params, false)?;
    let search = SearchParams::read(&params)?;
    let searcher = searcher(&state)?;
    let snapshot = state.snapshot().await?;
    let filter = read_filter(&params, &snapshot.catalog)?;
    let (offset, limit) = (search.offset, search.limit);
    let request = search.into_request(filter, &requested);
    // Hits come from the index, which follows the database a moment behind:
    // cached results live as long as the index stays where it is.
    let seq = searcher.applied_seq() as i64;
    state
        .cache
        .respond(&req, &requested, seq, async {
            let outcome = searcher.search(request).await?;
            let render = Render::new(&snapshot.catalog, &requested.ranges);
            render_results(outcome, &render, &requested, offset, limit)
        })
        .await
}

/// Query parameters of `GET /v1/search/suggest` that the completions read
/// themselves; `lang` is in [`ServedLanguageParams`].
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// What the user has typed so far; the last word may be unfinished.
    #[param(value_type = Option<String>, example = "normaliz")]
    q: String,
    /// How many completions, 1 to 20 (default 8).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 20, example = 8)]
    limit: usize,
}

impl SuggestParams {
    fn read(params: &Params) -> Result<Self, ApiError> {
        let q = query_text(params)?;
        let limit = params.parsed("limit", parse_suggest_limit)?;
        Ok(Self {
            q,
            limit: limit.unwrap_or(DEFAULT_SUGGESTIONS),
        })
    }
}

/// Every query parameter of `GET /v1/search/suggest`.
pub struct SuggestQuery;

impl IntoParams for SuggestQuery {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut all = SuggestParams::into_params(&parameter_in);
        all.extend(ServedLanguageParams::into_params(parameter_in));
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
    let params = Params::parse(&req, names_of::<SuggestQuery>())?;
    let requested = Requested::from_request(&req, &params, false)?;
    let suggest = SuggestParams::read(&params)?;
    let searcher = searcher(&state)?;
    let snapshot = state.snapshot().await?;
    let seq = searcher.applied_seq() as i64;
    state
        .cache
        .respond(&req, &requested, seq, async {
            let listings = searcher
                .suggest(SuggestRequest {
                    text: suggest.q,
                    limit: suggest.limit,
                })
                .await?;
            let render = Render::new(&snapshot.catalog, &requested.ranges);
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
