//! `/v1/publications`: the filtered, paginated list and one publication.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;

use super::citations::{self, Delivery};
use super::editing;
use super::render::{stored_languages, Render};
use super::views::{PublicationDetail, PublicationPage, PublicationSummary};
use crate::db::documents::{self, Rendered};
use crate::db::models::{PublicationRow, VariantHeadRow};
use crate::db::publications::{self, After, Bodies, Filter, Full, Sort};
use crate::domain::catalog::Catalog;
use crate::domain::keys::Role;
use crate::domain::lang::LanguageRange;
use crate::domain::{self, IdOrSlug, Lang, PublicationKind, PublicationStatus};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode, Problem, Tombstone};
use crate::http::negotiate::{AcceptLanguage, Requested};
use crate::http::params::{self, Params};
use crate::http::respond::{self, Encoded};
use crate::state::AppState;
use crate::stats::{Counts, Event};

/// The filters of `GET /v1/publications`, its CSV and search. List
/// filters take several values, repeated (`kind=a&kind=b`) or
/// comma-separated (`kind=a,b`): values of one filter are alternatives,
/// different filters must all hold.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Kinds: `report`, `policy_paper`, `discussion_conclusions`, `media_monitoring`.
    #[param(value_type = Option<String>, example = "report,policy_paper")]
    #[serde(deserialize_with = "kinds")]
    pub kind: Vec<PublicationKind>,
    /// Fields of work, by slug or id.
    #[param(value_type = Option<String>, example = "normalization-dialogue")]
    #[serde(deserialize_with = "params::keys")]
    pub field: Vec<String>,
    /// Projects, by slug or id.
    #[param(value_type = Option<String>, example = "dialogue-solutions-future")]
    #[serde(deserialize_with = "params::keys")]
    pub project: Vec<String>,
    /// Funders of the publication's project, by slug or id.
    #[param(value_type = Option<String>, example = "german-federal-foreign-office")]
    #[serde(deserialize_with = "params::keys")]
    pub funder: Vec<String>,
    /// Implementing partners of the publication's project, by slug or id.
    #[param(value_type = Option<String>, example = "isp-musine-kokalari")]
    #[serde(deserialize_with = "params::keys")]
    pub partner: Vec<String>,
    /// Events, by slug or id.
    #[param(value_type = Option<String>, example = "expert-discussion-2024-10-31")]
    #[serde(deserialize_with = "params::keys")]
    pub event: Vec<String>,
    /// Has a variant in: `en`, `sq`, `sr` (either script), `sr-Latn` (stored
    /// or derived from Cyrillic), `sr-Cyrl`.
    #[param(value_type = Option<String>, example = "sq")]
    #[serde(deserialize_with = "languages")]
    pub language: Vec<Vec<String>>,
    /// Published in one of these years.
    #[param(value_type = Option<String>, example = "2023,2024")]
    #[serde(deserialize_with = "params::years")]
    pub year: Vec<i32>,
    /// Published on or after this date.
    #[param(value_type = Option<chrono::NaiveDate>, example = "2024-10-01")]
    #[serde(deserialize_with = "date")]
    pub published_from: Option<chrono::NaiveDate>,
    /// Published on or before this date.
    #[param(value_type = Option<chrono::NaiveDate>, example = "2024-12-31")]
    #[serde(deserialize_with = "date")]
    pub published_to: Option<chrono::NaiveDate>,
    /// Changed at or after this time (RFC 3339, or a date meaning its midnight UTC).
    #[param(value_type = Option<String>, example = "2024-11-01T00:00:00Z")]
    #[serde(deserialize_with = "timestamp")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the list and its CSV take besides the filters.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListingParams {
    /// Statuses (editor keys only, for anything but `published`): `draft`,
    /// `published`, `withdrawn`. Default: `published`.
    #[param(value_type = Option<String>, example = "draft")]
    #[serde(deserialize_with = "statuses")]
    status: Vec<PublicationStatus>,
    /// Order: `-published_on` (default), `published_on`, `title`, `-updated_at`.
    #[param(value_type = Option<String>, example = "-published_on")]
    #[serde(deserialize_with = "sort")]
    sort: Option<Sort>,
    /// Language to serve (overrides `Accept-Language`): `en`, `sq`, `sr`, `sr-Latn`, `sr-Cyrl`.
    #[param(example = "sq")]
    #[serde(deserialize_with = "params::text")]
    lang: Option<String>,
}

/// Paging of `GET /v1/publications`.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    #[serde(deserialize_with = "params::limit")]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(deserialize_with = "params::text")]
    cursor: Option<String>,
}

/// Reads a list of publication kinds.
pub fn kinds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<PublicationKind>, D::Error> {
    params::list(deserializer, PublicationKind::parse)
}

fn languages<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Vec<String>>, D::Error> {
    params::list(deserializer, stored_tags_for)
}

pub(crate) fn date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<chrono::NaiveDate>, D::Error> {
    params::one(deserializer, domain::parse_date)
}

fn timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    params::one(deserializer, domain::parse_timestamp)
}

fn statuses<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<PublicationStatus>, D::Error> {
    params::list(deserializer, PublicationStatus::parse)
}

fn sort<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Sort>, D::Error> {
    params::one(deserializer, Sort::parse)
}

/// Query parameters of `GET /v1/publications.csv`: the filters, status,
/// sort and language.
pub struct PublicationFilterParams;

impl IntoParams for PublicationFilterParams {
    fn into_params(
        parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let mut params = FilterParams::into_params(&parameter_in_provider);
        params.extend(ListingParams::into_params(parameter_in_provider));
        params
    }
}

/// Query parameters of `GET /v1/publications`: those of the CSV, then paging.
pub struct PublicationListParams;

impl IntoParams for PublicationListParams {
    fn into_params(
        parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let mut params = PublicationFilterParams::into_params(&parameter_in_provider);
        params.extend(PageParams::into_params(parameter_in_provider));
        params
    }
}

/// Query parameters of `GET /v1/publications/{id_or_slug}`.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PublicationDetailParams {
    /// Language to serve (overrides `Accept-Language`); `all` adds every variant.
    #[param(example = "sr-Latn")]
    #[serde(deserialize_with = "params::text")]
    lang: Option<String>,
}

const DEFAULT_LIMIT: i64 = 20;

/// What to percent-encode in a query name or value: all but RFC 3986's
/// unreserved characters.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Encodes where the next page starts, for this sort only.
fn encode_cursor(sort: Sort, after: &After) -> String {
    let json = serde_json::json!([sort.as_str(), after.key, after.id]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(raw: &str, sort: Sort) -> Result<After, ApiError> {
    let invalid = |why: &str| ApiError {
        code: ErrorCode::InvalidCursor,
        ..ApiError::invalid("cursor", why)
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| invalid("is not a cursor this API issued"))?;
    let (cursor_sort, key, id): (String, String, String) =
        serde_json::from_slice(&bytes).map_err(|_| invalid("is not a cursor this API issued"))?;
    if cursor_sort != sort.as_str() {
        return Err(invalid(&format!(
            "was issued for sort={cursor_sort}, not sort={}",
            sort.as_str()
        )));
    }
    Ok(After { key, id })
}

/// Resolves entity filters (slugs or ids) to ids; unknown values match nothing.
fn resolve<T>(table: &crate::domain::catalog::Table<T>, keys: &[String]) -> Option<Vec<String>> {
    (!keys.is_empty()).then(|| keys.iter().filter_map(|key| table.id_of(key)).collect())
}

/// Keeps the ids in both lists, where both filters are set.
fn intersect(a: Option<Vec<String>>, b: Option<Vec<String>>) -> Option<Vec<String>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.into_iter().filter(|id| b.contains(id)).collect()),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The values of the `language` filter, as the OpenAPI document lists them
/// (tags are compared case-insensitively, and a region is ignored).
pub const LANGUAGE_FILTERS: [&str; 5] = ["en", "sq", "sr", "sr-Latn", "sr-Cyrl"];

/// Maps a `language` filter value to the stored tags that satisfy it.
fn stored_tags_for(raw: &str) -> Result<Vec<String>, String> {
    let tags: &[Lang] = match LanguageRange::parse(raw)? {
        LanguageRange::Exact(Lang::SrLatn) => &[Lang::SrLatn, Lang::SrCyrl],
        LanguageRange::Exact(Lang::En) => &[Lang::En],
        LanguageRange::Exact(Lang::Sq) => &[Lang::Sq],
        LanguageRange::Exact(Lang::SrCyrl) => &[Lang::SrCyrl],
        LanguageRange::SerbianAnyScript => &[Lang::SrLatn, Lang::SrCyrl],
        LanguageRange::Any | LanguageRange::Unsupported(_) => {
            return Err(format!(
                "{raw:?} is not one of {}",
                LANGUAGE_FILTERS.join(", ")
            ))
        }
    };
    Ok(tags.iter().map(|lang| lang.as_str().to_owned()).collect())
}

/// Resolves the list filters against the catalog.
pub fn filter_of(params: &FilterParams, catalog: &Catalog) -> Filter {
    let FilterParams {
        kind: kinds,
        field: fields,
        project: projects,
        funder: funders,
        partner: partners,
        event: events,
        language: languages,
        year,
        published_from,
        published_to,
        updated_since,
    } = params;
    let projects_of_orgs = |org_keys: &[String], funded: bool| -> Option<Vec<String>> {
        let org_ids = resolve(&catalog.organisations, org_keys)?;
        Some(
            catalog
                .projects
                .iter()
                .filter(|project| {
                    if funded {
                        project
                            .funders
                            .iter()
                            .any(|f| org_ids.contains(&f.organisation_id))
                    } else {
                        project.partner_ids.iter().any(|id| org_ids.contains(id))
                    }
                })
                .map(|project| project.id.clone())
                .collect(),
        )
    };
    let mut project_ids = resolve(&catalog.projects, projects);
    project_ids = intersect(project_ids, projects_of_orgs(funders, true));
    project_ids = intersect(project_ids, projects_of_orgs(partners, false));

    let mut years = year.clone();
    years.sort_unstable();
    years.dedup();
    // `sr,sr-Latn` names the same stored tags twice; each goes in once.
    let language_tags: Vec<String> = languages
        .iter()
        .flatten()
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();

    Filter {
        statuses: vec![PublicationStatus::Published],
        kinds: kinds.clone(),
        field_ids: resolve(&catalog.fields, fields),
        project_ids,
        event_ids: resolve(&catalog.events, events),
        languages: (!language_tags.is_empty()).then_some(language_tags),
        years,
        published_from: published_from.map(|d| d.to_string()),
        published_to: published_to.map(|d| d.to_string()),
        updated_since: updated_since.map(domain::format_timestamp),
    }
}

/// Builds the URL of the next page: this request's query with the cursor replaced.
fn next_link(req: &HttpRequest, params: &Params, cursor: &str) -> String {
    let mut query: Vec<String> = params
        .pairs()
        .iter()
        .filter(|(name, _)| name != "cursor")
        .map(|(name, value)| {
            format!(
                "{}={}",
                utf8_percent_encode(name, QUERY_COMPONENT),
                utf8_percent_encode(value, QUERY_COMPONENT)
            )
        })
        .collect();
    query.push(format!("cursor={cursor}"));
    format!("<{}?{}>; rel=\"next\"", req.path(), query.join("&"))
}

/// List publications
///
/// Published publications, newest first by default, with filters, four sort
/// orders and keyset pagination: follow `next_cursor` (or the `Link:
/// rel="next"` header) until it is null. Each item comes in the negotiated
/// language (`?lang=` over `Accept-Language` over `en`, falling back to the
/// other Serbian script, then English, then any variant) and says which
/// language it is in and which exist.
#[utoipa::path(
    tag = "publications",
    params(PublicationListParams, AcceptLanguage),
    responses(
        (status = 200, description = "A page of publications", body = PublicationPage,
            headers(("ETag" = String), ("Content-Language" = String), ("Link" = String, description = "The next page, when there is one"))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`status` asks for drafts or withdrawn publications and no valid key was sent", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`status` asks for drafts or withdrawn publications and the key is not an editor's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/publications")]
pub async fn list_publications(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<PublicationListParams>(&req)?;
    let filters: FilterParams = params.read()?;
    let listing: ListingParams = params.read()?;
    let paging: PageParams = params.read()?;
    let requested = Requested::new(&req, listing.lang.as_deref(), false)?;
    let sort = listing.sort.unwrap_or(Sort::PublishedDesc);
    let limit = paging.limit.unwrap_or(DEFAULT_LIMIT);
    let after = paging
        .cursor
        .as_deref()
        .map(|raw| decode_cursor(raw, sort))
        .transpose()?;
    let snapshot = state.snapshot().await?;
    let catalog = &snapshot.catalog;
    let mut filter = filter_of(&filters, catalog);
    // Checked before the response cache: an answer with drafts is only ever
    // cached under a query that anonymous callers are refused.
    read_statuses(&listing.status, &caller, &mut filter)?;
    state
        .cache
        .respond(&req, &requested, snapshot.seq, async {
            let page = load_page(&state, filter, sort, after, limit).await?;
            let next_cursor = page
                .next_after
                .as_ref()
                .map(|after| encode_cursor(sort, after));
            let items = page.summaries(&Render::new(&state, catalog, &requested.ranges));
            let languages = requested.list_languages(items.iter().map(|item| item.language));
            let page = PublicationPage {
                items,
                total: page.total,
                next_cursor: next_cursor.clone(),
                requested_languages: requested.tags(),
            };
            let mut encoded = respond::encode(&page, &languages)?;
            encoded.link = next_cursor.and_then(|cursor| {
                header::HeaderValue::from_str(&next_link(&req, &params, &cursor)).ok()
            });
            Ok(encoded)
        })
        .await
}

/// Get a publication
///
/// One published publication by id or slug, in the negotiated language, with
/// its project, funders, partners, event and fields embedded, so one request
/// renders a detail page. `?lang=all` adds every variant. A Serbian text
/// stored only in Cyrillic is served as `sr-Latn` by transliteration, with
/// `derived_from: "sr-Cyrl"`. A withdrawn publication answers 410. Asked
/// for with `Accept: application/ld+json` (preferred to `application/json`),
/// the same URL answers with the schema.org JSON-LD of its citation, for
/// linked-data clients.
#[utoipa::path(
    tag = "publications",
    params(
        ("id_or_slug" = String, Path, description = "The publication's UUID or slug", example = "conclusions-expert-discussion-2024-10-31"),
        PublicationDetailParams,
        AcceptLanguage,
    ),
    responses(
        (status = 200, description = "The publication", content(
            (PublicationDetail = "application/json"),
            (Object = "application/ld+json"),
        ), headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed id, slug or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published publication has this id or slug", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The publication was withdrawn", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/publications/{id_or_slug}")]
pub async fn find_publication(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query: PublicationDetailParams = params::read(&req)?;
    let raw = path.into_inner();
    if citations::prefers_json_ld(&req) {
        let requested = Requested::new(&req, query.lang.as_deref(), false)?;
        let format = citations::Format::JsonLd;
        let mut response = citations::cite(
            &req,
            &state,
            &raw,
            &requested,
            format,
            Delivery::Representation,
        )
        .await?;
        response.headers_mut().insert(
            header::VARY,
            header::HeaderValue::from_static("Accept, Accept-Language"),
        );
        return Ok(response);
    }
    let requested = Requested::new(&req, query.lang.as_deref(), true)?;
    let key = IdOrSlug::parse(&raw).map_err(|message| ApiError::invalid("id_or_slug", message))?;
    let snapshot = state.snapshot().await?;
    let tags = requested.tags();
    // The detail as encoded, and the same without the parts that vary by
    // request (what a stored document holds).
    let render_detail = |full: &Full| -> Result<(Encoded, Vec<u8>), ApiError> {
        let render = Render::new(&state, &snapshot.catalog, &requested.ranges);
        let detail = render.publication_detail(
            &full.row,
            &full.variants,
            &full.field_ids,
            tags.clone(),
            requested.all,
        );
        let languages: Vec<String> = match &detail.variants {
            Some(variants) => variants.keys().map(|lang| lang.to_string()).collect(),
            None => vec![detail.summary.language.to_string()],
        };
        let served = detail.summary.language.to_string();
        let stats = detail.stats;
        let document = document_of(detail)?;
        let body = assemble(&document, &tags, stats)?;
        let languages: Vec<&str> = languages.iter().map(String::as_str).collect();
        let mut encoded = respond::with_version(
            respond::encode_bytes(body, &languages)?,
            editing::version_of(full),
        )?;
        encoded.subject = Some(respond::Subject {
            publication_id: full.row.id.clone(),
            lang: served,
        });
        Ok((encoded, document))
    };
    if caller.has(Role::Editor) {
        // Editors see every status. Their answers skip the response cache,
        // which anonymous readers share.
        let full = find_for(&state, &caller, &key, &raw, bodies(&requested)).await?;
        let mut response = respond::send(&req, &render_detail(&full)?.0);
        response
            .headers_mut()
            .append(header::VARY, header::HeaderValue::from_static("Accept"));
        return Ok(response);
    }
    let encoded = state
        .cache
        .encoded(&req, &requested, snapshot.seq, async {
            let Some(lang) = stored_edition(&state, &requested) else {
                let full = find_public(&state, &key, &raw, bodies(&requested)).await?;
                return Ok(render_detail(&full)?.0);
            };
            let render_key = state.render_key(&snapshot);
            let found = {
                let (id, slug) = key.key();
                let slug = slug.map(str::to_owned);
                let render_key = render_key.clone();
                state
                    .db
                    .read(move |conn| -> Result<_, ApiError> {
                        Ok(documents::current(
                            conn,
                            id.as_deref(),
                            slug.as_deref(),
                            lang.as_str(),
                            &render_key,
                        )?)
                    })
                    .await?
            };
            if let Some((current, document)) = found.and_then(|current| {
                let document = crate::documents::decompress(&current.document)?;
                Some((current, document))
            }) {
                state.documents.hit();
                let stats = state.stats.totals(&current.publication_id);
                let body = assemble(&document, &tags, stats)?;
                let mut encoded = respond::with_version(
                    respond::encode_bytes(body, &[lang.as_str()])?,
                    &current.content_hash,
                )?;
                encoded.subject = Some(respond::Subject {
                    publication_id: current.publication_id,
                    lang: lang.to_string(),
                });
                return Ok(encoded);
            }
            let full = find_public(&state, &key, &raw, bodies(&requested)).await?;
            let (encoded, document) = render_detail(&full)?;
            // Kept only when served in the language asked for: another
            // reader asking for it gets the same.
            if encoded
                .subject
                .as_ref()
                .is_some_and(|subject| subject.lang == lang.as_str())
            {
                state.documents.queue(Rendered {
                    publication_id: full.row.id,
                    lang: lang.to_string(),
                    content_hash: full.row.content_hash,
                    updated_at: full.row.updated_at,
                    render_key,
                    document,
                });
            }
            Ok(encoded)
        })
        .await?;
    if let Some(subject) = &encoded.subject {
        super::stats::count(
            &req,
            &caller,
            &state,
            Event::View,
            &subject.publication_id,
            &subject.lang,
        );
    }
    let mut response = respond::send(&req, &encoded);
    // The same URL answers JSON-LD to those who ask (above).
    response
        .headers_mut()
        .append(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(response)
}

/// The language of the stored document that may answer `requested`: one
/// asked for by itself (`?lang=sq`, an `Accept-Language` of one tag, or
/// none, which is `en`), when stored documents are on. A request with more
/// languages may fall back differently from one publication (or project
/// name) to the next, so it is rendered.
fn stored_edition(state: &AppState, requested: &Requested) -> Option<Lang> {
    match requested.ranges.as_slice() {
        [LanguageRange::Exact(lang)] if !requested.all && state.documents.enabled() => Some(*lang),
        _ => None,
    }
}

/// The two parts of a detail that vary by request, last in its JSON.
#[derive(serde::Serialize)]
struct Tail<'a> {
    requested_languages: &'a [String],
    stats: Counts,
}

/// A detail's JSON without its tail: everything up to and including
/// `variants`, what a stored document holds.
fn document_of(mut detail: PublicationDetail) -> Result<Vec<u8>, ApiError> {
    detail.requested_languages = Vec::new();
    detail.stats = Counts::default();
    let mut json = serde_json::to_vec(&detail).map_err(ApiError::internal)?;
    let empty = serde_json::to_vec(&Tail {
        requested_languages: &[],
        stats: Counts::default(),
    })
    .map_err(ApiError::internal)?;
    // The detail ends with `,"requested_languages":[],"stats":{…}}`: the
    // empty tail with a comma for its opening brace.
    let cut = json.len().checked_sub(empty.len());
    match cut {
        Some(cut) if json[cut] == b',' && json[cut + 1..] == empty[1..] => {
            json.truncate(cut);
            Ok(json)
        }
        _ => Err(ApiError::internal(
            "a publication detail does not end with its requested languages and counts",
        )),
    }
}

/// A detail's JSON: its stored part, then the languages asked for and the
/// reader counts.
fn assemble(document: &[u8], tags: &[String], stats: Counts) -> Result<Vec<u8>, ApiError> {
    let tail = serde_json::to_vec(&Tail {
        requested_languages: tags,
        stats,
    })
    .map_err(ApiError::internal)?;
    let mut body = Vec::with_capacity(document.len() + tail.len());
    body.extend_from_slice(document);
    body.push(b',');
    body.extend_from_slice(&tail[1..]);
    Ok(body)
}

/// The bodies a detail in the `requested` languages shows.
fn bodies(requested: &Requested) -> Bodies {
    if requested.all {
        Bodies::Every
    } else {
        Bodies::Served(requested.ranges.clone())
    }
}

/// One page of publications as loaded: rows with their variant heads and
/// fields, the total over all pages, and where the next page starts.
pub(crate) struct Page {
    pub total: i64,
    pub rows: Vec<PublicationRow>,
    pub heads: HashMap<String, Vec<VariantHeadRow>>,
    pub fields: HashMap<String, Vec<String>>,
    pub next_after: Option<After>,
}

impl Page {
    fn summaries(&self, render: &Render<'_>) -> Vec<PublicationSummary> {
        self.rows
            .iter()
            .map(|row| {
                let heads = self
                    .heads
                    .get(&row.id)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let fields = self
                    .fields
                    .get(&row.id)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                render.publication_summary(row, heads, fields)
            })
            .collect()
    }
}

/// Loads a page of at most `limit` publications after `after`, in one trip
/// to the blocking pool.
pub(crate) async fn load_page(
    state: &AppState,
    filter: Filter,
    sort: Sort,
    after: Option<After>,
    limit: i64,
) -> Result<Page, ApiError> {
    let totals = std::sync::Arc::clone(&state.totals);
    state
        .db
        .read(move |conn| -> Result<_, ApiError> {
            let total = totals.count(conn, &filter)?;
            let mut rows = publications::page(conn, &filter, sort, after.as_ref(), limit)?;
            let next_after = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|last| After {
                    key: sort.key_of(last),
                    id: last.id.clone(),
                })
            } else {
                None
            };
            let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
            let heads = publications::variant_heads(conn, &ids)?;
            let fields = publications::field_ids(conn, &ids)?;
            Ok(Page {
                total,
                rows,
                heads,
                fields,
                next_after,
            })
        })
        .await
}

/// Loads a publication as `caller` may see it: editors any status,
/// everyone else what [`find_public`] gives.
pub async fn find_for(
    state: &AppState,
    caller: &Caller,
    key: &IdOrSlug,
    raw: &str,
    bodies: Bodies,
) -> Result<Full, ApiError> {
    if !caller.has(Role::Editor) {
        return find_public(state, key, raw, bodies).await;
    }
    let (id, slug) = key.key();
    let slug = slug.map(str::to_owned);
    state
        .db
        .read(move |conn| -> Result<_, ApiError> {
            Ok(publications::find_edition(
                conn,
                id.as_deref(),
                slug.as_deref(),
                &bodies,
            )?)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("publication", raw))
}

/// Loads a publication anonymous callers may see: a draft is 404, a
/// withdrawn one 410 with its reason. `raw` is the key as the client wrote it.
/// `bodies` says which variants' bodies it reads.
pub async fn find_public(
    state: &AppState,
    key: &IdOrSlug,
    raw: &str,
    bodies: Bodies,
) -> Result<Full, ApiError> {
    let (id, slug) = key.key();
    let slug = slug.map(str::to_owned);
    let found = state
        .db
        .read(move |conn| -> Result<_, ApiError> {
            Ok(publications::find_edition(
                conn,
                id.as_deref(),
                slug.as_deref(),
                &bodies,
            )?)
        })
        .await?;
    let Some(full) = found else {
        return Err(ApiError::not_found("publication", raw));
    };
    match full.row.status {
        PublicationStatus::Published => Ok(full),
        PublicationStatus::Withdrawn => {
            let reason = full
                .row
                .withdrawn_reason
                .clone()
                .unwrap_or_else(|| "no reason was given".into());
            let mut error = ApiError::new(
                ErrorCode::Withdrawn,
                format!("the publication {raw:?} was withdrawn: {reason}"),
            );
            error.tombstone = Some(Box::new(Tombstone {
                id: full.row.id.clone(),
                slug: full.row.slug.clone(),
                titles: full
                    .variants
                    .iter()
                    .map(|v| (v.lang.clone(), v.title.clone()))
                    .collect(),
                withdrawn_at: full.row.updated_at.clone(),
                reason,
            }));
            Err(error)
        }
        PublicationStatus::Draft => Err(ApiError::not_found("publication", raw)),
    }
}

/// Loads the newest published publications matching `filter`, rendered,
/// with their total: what project and event details embed.
pub async fn newest(
    state: &AppState,
    render: &Render<'_>,
    filter: Filter,
    limit: i64,
) -> Result<(Vec<PublicationSummary>, i64), ApiError> {
    let page = load_page(state, filter, Sort::PublishedDesc, None, limit).await?;
    let items = page.summaries(render);
    Ok((items, page.total))
}

/// The first page of the published publications a detail page embeds
/// (a project's, an event's, an organisation's), with where the rest are.
pub struct Embedded {
    pub items: Vec<PublicationSummary>,
    pub total: i64,
    /// The next page of `GET /v1/publications` with the same filter, in
    /// the page's language; None when every one is embedded.
    pub next: Option<String>,
}

/// The newest `limit` publications `filter` selects; `query` is that
/// filter as the list spells it (`project=<slug>`), for the link to the
/// rest.
pub async fn embedded(
    state: &AppState,
    render: &Render<'_>,
    filter: Filter,
    query: &str,
    limit: i64,
) -> Result<Embedded, ApiError> {
    let sort = Sort::PublishedDesc;
    let page = load_page(state, filter, sort, None, limit).await?;
    let next = page.next_after.as_ref().map(|after| {
        format!(
            "{}/v1/publications?{query}&lang={}&cursor={}",
            state.public_url.as_str(),
            render.labels().as_str(),
            encode_cursor(sort, after)
        )
    });
    Ok(Embedded {
        items: page.summaries(render),
        total: page.total,
        next,
    })
}

/// A published publication as the sitemap lists it.
pub struct Editions {
    pub id: String,
    pub slug: String,
    pub updated_at: String,
    /// Every tag it can be served in (a derived `sr-Latn` included).
    pub languages: Vec<Lang>,
}

/// Every published publication's language editions, newest first, read a
/// page at a time so no query holds the whole archive.
pub async fn published_editions(state: &AppState) -> Result<Vec<Editions>, ApiError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = load_page(state, published(), Sort::PublishedDesc, after, 1000).await?;
        for row in &page.rows {
            let heads = page
                .heads
                .get(&row.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            out.push(Editions {
                id: row.id.clone(),
                slug: row.slug.clone(),
                updated_at: row.updated_at.clone(),
                languages: crate::domain::lang::available(&stored_languages(heads)),
            });
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}

/// The filter of everything public.
pub fn published() -> Filter {
    Filter {
        statuses: vec![PublicationStatus::Published],
        ..Filter::default()
    }
}

/// Applies `?status=` to a list filter: anything but `published` needs an
/// editor key.
fn read_statuses(
    statuses: &[PublicationStatus],
    caller: &Caller,
    filter: &mut Filter,
) -> Result<(), ApiError> {
    if statuses.is_empty() {
        return Ok(());
    }
    if statuses.iter().any(|s| *s != PublicationStatus::Published) {
        caller.require(Role::Editor)?;
    }
    filter.statuses = statuses.to_vec();
    Ok(())
}

/// Writes one CSV record: its fields as [`csv_field`] writes them, then CRLF.
pub(crate) fn csv_row(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, cell);
    }
    out.push_str("\r\n");
}

/// Writes a CSV field: neutralised when it starts like a formula, quoted
/// when it holds a comma, a quote or a line break (RFC 4180).
fn csv_field(out: &mut String, value: &str) {
    // A cell that starts like a formula (=, +, -, @, or a tab or carriage
    // return before one) would run as one in a spreadsheet: OWASP's
    // advice is a leading apostrophe, which spreadsheets show as text.
    let neutralised;
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        neutralised = format!("'{value}");
        neutralised.as_str()
    } else {
        value
    };
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Publications as CSV
///
/// Every publication the list filters match (not one page), one row each,
/// in the negotiated language, for spreadsheets: id, slug, kind, status,
/// date, language, title, summary, authors, keywords, project, funders,
/// partners, fields, event, languages, URL. Multiple values are separated
/// by `; `. UTF-8 with a byte-order mark, so spreadsheet programs read
/// Albanian and Serbian letters right. A cell that would start a formula
/// (`=`, `+`, `-`, `@`, a tab or a carriage return first) starts with `'`,
/// so that opening the file runs nothing.
#[utoipa::path(
    tag = "publications",
    params(PublicationFilterParams, AcceptLanguage),
    responses(
        (status = 200, description = "One row a publication", content_type = "text/csv", body = String),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`status` asks for drafts or withdrawn publications and no valid key was sent", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`status` asks for drafts or withdrawn publications and the key is not an editor's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/publications.csv")]
pub async fn publications_csv(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<PublicationFilterParams>(&req)?;
    let filters: FilterParams = params.read()?;
    let listing: ListingParams = params.read()?;
    let requested = Requested::new(&req, listing.lang.as_deref(), false)?;
    let sort = listing.sort.unwrap_or(Sort::PublishedDesc);
    let snapshot = state.snapshot().await?;
    let mut filter = filter_of(&filters, &snapshot.catalog);
    read_statuses(&listing.status, &caller, &mut filter)?;
    let render = Render::new(&state, &snapshot.catalog, &requested.ranges);
    let base = state.public_url.as_str();
    let mut csv = String::from(
        "\u{feff}id,slug,kind,status,published_on,language,title,summary,authors,keywords,project,funders,partners,fields,event,available_languages,url\r\n",
    );
    let mut after = None;
    loop {
        let page = load_page(&state, filter.clone(), sort, after, 500).await?;
        for item in page.summaries(&render) {
            let join = |values: Vec<&str>| values.join("; ");
            let cells = [
                item.id.clone(),
                item.slug.clone(),
                item.kind.as_str().to_owned(),
                item.status.as_str().to_owned(),
                item.published_on.clone().unwrap_or_default(),
                item.language.as_str().to_owned(),
                item.title.clone(),
                item.summary.clone(),
                join(item.authors.iter().map(String::as_str).collect()),
                join(item.keywords.iter().map(String::as_str).collect()),
                item.project
                    .as_ref()
                    .map(|p| p.slug.clone())
                    .unwrap_or_default(),
                join(item.funders.iter().map(|o| o.slug.as_str()).collect()),
                join(item.partners.iter().map(|o| o.slug.as_str()).collect()),
                join(item.fields.iter().map(|f| f.slug.as_str()).collect()),
                item.event
                    .as_ref()
                    .map(|e| e.slug.clone())
                    .unwrap_or_default(),
                join(
                    item.available_languages
                        .iter()
                        .map(|l| l.as_str())
                        .collect(),
                ),
                format!("{base}/v1/publications/{}", item.slug),
            ];
            csv_row(&mut csv, &cells);
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut encoded = respond::encode_bytes(csv.into_bytes(), &[])?;
    encoded.content_type = Some("text/csv; charset=utf-8; header=present");
    Ok(respond::send(&req, &encoded))
}
