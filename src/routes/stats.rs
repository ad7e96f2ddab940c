//! Reader statistics: what counts a read (details and downloads call
//! [`count`]), the beacon of front ends that serve readers from their own
//! cache, and the reads: one publication over time, the most read, and the
//! funder report.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use actix_web::http::header;
use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::body;
use super::publications::{csv_row, filter_of, load_page, FilterParams};
use super::render::Render;
use super::views::PublicationSummary;
use crate::db::publications::{Bodies, Sort};
use crate::db::stats::{self as stored, Rank};
use crate::domain::{IdOrSlug, Lang, PublicationStatus};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode, Problem};
use crate::http::negotiate::{AcceptLanguage, Requested};
use crate::http::params::{self, Params};
use crate::http::respond;
use crate::state::AppState;
use crate::stats::{Counts, Event};

/// The longest period a statistics read covers, in days (ten years).
const MAX_DAYS: i64 = 3660;

/// Counts one read by the sender of `req`: not when it came with a key
/// (editors, admins and partners are not readers) or as HEAD; the rules
/// of [`crate::stats::Stats::record`] (robots, repeats) apply after.
pub fn count(
    req: &HttpRequest,
    caller: &Caller,
    state: &AppState,
    event: Event,
    publication_id: &str,
    lang: &str,
) {
    if !matches!(caller, Caller::Anonymous)
        || req.extensions().contains::<crate::http::HeadRequest>()
    {
        return;
    }
    let client = state
        .proxies
        .client(req.headers(), req.peer_addr().map(|addr| addr.ip()));
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok());
    state
        .stats
        .record(event, publication_id, lang, client, agent);
}

/// A view a front end served from its own cache.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewBeacon {
    /// The publication's id or slug.
    #[schema(example = "dialogue-brief-2024")]
    pub publication: String,
    /// The language the reader was shown: `en`, `sq`, `sr-Latn`, `sr-Cyrl`.
    #[schema(example = "sr-Latn")]
    pub language: String,
}

/// Count a view served from a front end's cache
///
/// For a website that serves publication pages from its own cache, so
/// that arkiv's detail is not read for every reader: send one beacon per
/// page shown, from the reader's browser (`navigator.sendBeacon` may send
/// it as `text/plain`) or from the site's server with the reader's address
/// in `X-Forwarded-For` (when the archive trusts the proxy). The rules of
/// a detail read apply: robots, requests with an API key and repeats by
/// the same reader within 30 seconds are not counted. No key; rate limited
/// as any anonymous request. 204 whether or not the view was counted.
#[utoipa::path(
    tag = "statistics",
    request_body(content = ViewBeacon, description = "The publication and the language shown",
        extensions(("x-max-body-bytes" = json!(BEACON_LIMIT)))),
    responses(
        (status = 204, description = "Received (counted unless a rule says not to)"),
        (status = 400, description = "A malformed body or id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published publication has this id or slug", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The publication was withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON (nor `text/plain`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The publication has no edition in this language", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/stats/views")]
pub async fn view_beacon(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    body::check_declared(&req, BEACON_LIMIT as u64)?;
    let media_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    if !matches!(
        media_type.as_deref(),
        Some("application/json" | "text/plain")
    ) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the beacon as Content-Type: application/json (or text/plain)",
        ));
    }
    let raw = body::read(&req, payload, BEACON_LIMIT).await?;
    let beacon: ViewBeacon = body::parse_json(&raw)?;
    let key = IdOrSlug::parse(&beacon.publication)
        .map_err(|message| ApiError::invalid_field("publication", message))?;
    let lang = Lang::from_str(&beacon.language)
        .map_err(|message| ApiError::invalid_field("language", message))?;
    let (id, slug) = key.key();
    let slug = slug.map(str::to_owned);
    let found = state
        .db
        .read(move |conn| -> Result<_, ApiError> {
            Ok(stored::editions(conn, id.as_deref(), slug.as_deref())?)
        })
        .await?;
    let Some((id, status, langs)) = found else {
        return Err(ApiError::not_found("publication", &beacon.publication));
    };
    match PublicationStatus::parse(&status) {
        Ok(PublicationStatus::Published) => {}
        Ok(PublicationStatus::Withdrawn) => {
            return Err(ApiError::new(
                ErrorCode::Withdrawn,
                format!("the publication {:?} was withdrawn", beacon.publication),
            ))
        }
        _ => return Err(ApiError::not_found("publication", &beacon.publication)),
    }
    let shown = langs.iter().any(|stored| {
        stored == lang.as_str() || (lang == Lang::SrLatn && stored == Lang::SrCyrl.as_str())
    });
    if !shown {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!(
                "the publication {:?} has no {} edition",
                beacon.publication,
                lang.as_str()
            ),
        ));
    }
    count(&req, &caller, &state, Event::View, &id, lang.as_str());
    Ok(HttpResponse::NoContent().finish())
}

/// The largest beacon body.
pub const BEACON_LIMIT: usize = 1024;

/// The steps of a time series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    #[default]
    Month,
}

impl Interval {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "day" => Ok(Self::Day),
            "month" => Ok(Self::Month),
            _ => Err(format!("{raw:?} is not an interval: `day` or `month`")),
        }
    }

    /// The first day of the step `day` falls in.
    fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => day,
            Self::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the next step.
    fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => start.succ_opt().unwrap_or(start),
            Self::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start),
        }
    }
}

fn interval<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Interval>, D::Error> {
    params::one(deserializer, Interval::parse)
}

/// Query parameters of `GET /v1/publications/{id_or_slug}/stats`.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PublicationStatsParams {
    /// The first day counted (UTC). Default: 364 days before `to`.
    #[param(value_type = Option<chrono::NaiveDate>, example = "2026-01-01")]
    #[serde(deserialize_with = "super::publications::date")]
    from: Option<NaiveDate>,
    /// The last day counted (UTC). Default: today.
    #[param(value_type = Option<chrono::NaiveDate>, example = "2026-12-31")]
    #[serde(deserialize_with = "super::publications::date")]
    to: Option<NaiveDate>,
    /// The steps of `series`: `day` or `month` (default).
    #[param(value_type = Option<String>, example = "month")]
    #[serde(deserialize_with = "interval")]
    interval: Option<Interval>,
}

/// One step of a time series.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsPoint {
    /// The step's first day (a month's first, or the day itself).
    #[schema(example = "2026-03-01")]
    pub start: String,
    #[schema(example = 120)]
    pub views: i64,
    #[schema(example = 35)]
    pub downloads: i64,
}

/// One publication's readers over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationStats {
    pub id: String,
    #[schema(example = "dialogue-brief-2024")]
    pub slug: String,
    #[schema(example = "2026-01-01")]
    pub from: String,
    #[schema(example = "2026-12-31")]
    pub to: String,
    pub interval: Interval,
    /// Over the period, all languages together.
    pub total: Counts,
    /// Over the period, by the language read (`en`, `sq`, `sr-Latn`,
    /// `sr-Cyrl`); only languages read at all.
    #[schema(example = json!({"en": {"views": 80, "downloads": 20}, "sr-Latn": {"views": 40, "downloads": 15}}))]
    pub languages: BTreeMap<String, Counts>,
    /// Every step from `from` to `to`, zeros included, in time order.
    pub series: Vec<StatsPoint>,
    /// Since counting began (what the detail's `stats` shows).
    pub all_time: Counts,
}

/// The days a read covers: both ends checked, defaults filled in.
fn period(
    state: &AppState,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = to.unwrap_or_else(|| state.stats.clock.now().date_naive());
    let from = from.unwrap_or_else(|| to - chrono::Duration::days(364));
    if from > to {
        return Err(ApiError::invalid("from", "`from` is after `to`"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "from",
            format!("a period covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// A publication's readers
///
/// Views and downloads of one publication from `from` to `to` (UTC days):
/// the total, the split by the language read and a time series by day or
/// month. Drafts and withdrawn publications answer 404 and 410 as their
/// detail does (editors see their counts, which are those of before).
/// Counts may lag by the flush interval (5 s by default) plus the age of a
/// cached response (at most 60 s).
#[utoipa::path(
    tag = "statistics",
    params(("id_or_slug" = String, Path, description = "The publication's id or slug"), PublicationStatsParams),
    responses(
        (status = 200, description = "The publication's readers over the period", body = PublicationStats),
        (status = 400, description = "A malformed parameter, `from` after `to`, or a period over ten years", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published publication has this id or slug", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The publication was withdrawn", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/publications/{id_or_slug}/stats")]
pub async fn publication_stats(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query: PublicationStatsParams = params::read(&req)?;
    let raw = path.into_inner();
    let key = IdOrSlug::parse(&raw).map_err(|message| ApiError::invalid("id_or_slug", message))?;
    let (from, to) = period(&state, query.from, query.to)?;
    let interval = query.interval.unwrap_or_default();
    let full = super::publications::find_for(&state, &caller, &key, &raw, Bodies::None).await?;
    let (id, slug) = (full.row.id, full.row.slug);
    let days = {
        let id = id.clone();
        state
            .db
            .read(move |conn| -> Result<_, ApiError> {
                Ok(stored::days(conn, &id, &day_text(from), &day_text(to))?)
            })
            .await?
    };
    let mut total = Counts::default();
    let mut languages: BTreeMap<String, Counts> = BTreeMap::new();
    let mut steps: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
    let mut start = interval.start_of(from);
    while start <= to {
        steps.insert(start, Counts::default());
        start = interval.next(start);
    }
    for row in days {
        let Ok(day) = crate::domain::parse_date(&row.day) else {
            continue;
        };
        for counts in [
            &mut total,
            languages.entry(row.lang).or_default(),
            steps.entry(interval.start_of(day)).or_default(),
        ] {
            counts.views += row.views;
            counts.downloads += row.downloads;
        }
    }
    let answer = PublicationStats {
        all_time: state.stats.totals(&id),
        id,
        slug,
        from: day_text(from),
        to: day_text(to),
        interval,
        total,
        languages,
        series: steps
            .into_iter()
            .map(|(start, counts)| StatsPoint {
                start: day_text(start),
                views: counts.views,
                downloads: counts.downloads,
            })
            .collect(),
    };
    Ok(respond::send(&req, &respond::encode(&answer, &[])?))
}

/// What a most-read list covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub enum Period {
    #[serde(rename = "7d")]
    Week,
    #[default]
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "365d")]
    Year,
}

impl Period {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "7d" => Ok(Self::Week),
            "30d" => Ok(Self::Month),
            "365d" => Ok(Self::Year),
            _ => Err(format!("{raw:?} is not a period: `7d`, `30d` or `365d`")),
        }
    }

    fn days(self) -> i64 {
        match self {
            Self::Week => 7,
            Self::Month => 30,
            Self::Year => 365,
        }
    }
}

/// What a most-read list ranks by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RankBy {
    #[default]
    Views,
    Downloads,
}

fn period_param<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Period>, D::Error> {
    params::one(deserializer, Period::parse)
}

fn rank_param<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<RankBy>, D::Error> {
    params::one(deserializer, |raw| match raw {
        "views" => Ok(RankBy::Views),
        "downloads" => Ok(RankBy::Downloads),
        _ => Err(format!("{raw:?} is not a ranking: `views` or `downloads`")),
    })
}

/// What `GET /v1/stats/top` takes besides the publication filters.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct TopParams {
    /// The days counted, up to today (UTC): `7d`, `30d` (default), `365d`.
    #[param(value_type = Option<String>, example = "30d")]
    #[serde(deserialize_with = "period_param")]
    period: Option<Period>,
    /// Rank by `views` (default) or `downloads`.
    #[param(value_type = Option<String>, example = "views")]
    #[serde(deserialize_with = "rank_param")]
    by: Option<RankBy>,
    /// How many, 1 to 100 (default 10).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 5)]
    #[serde(deserialize_with = "params::limit")]
    limit: Option<i64>,
    /// Language to serve (overrides `Accept-Language`): `en`, `sq`, `sr`, `sr-Latn`, `sr-Cyrl`.
    #[param(example = "sq")]
    #[serde(deserialize_with = "params::text")]
    lang: Option<String>,
}

/// Query parameters of `GET /v1/stats/top`: the list's filters, then the ranking.
pub struct StatsTopParams;

impl IntoParams for StatsTopParams {
    fn into_params(
        parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let mut params = FilterParams::into_params(&parameter_in_provider);
        params.extend(TopParams::into_params(parameter_in_provider));
        params
    }
}

/// One of the most read publications.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopItem {
    pub publication: PublicationSummary,
    /// Over the period (in the languages asked for, when `language` is given).
    pub views: i64,
    pub downloads: i64,
}

/// The most read publications.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopList {
    pub period: Period,
    pub by: RankBy,
    #[schema(example = "2026-11-08")]
    pub from: String,
    #[schema(example = "2026-12-07")]
    pub to: String,
    /// Most read first; publications not read in the period are left out.
    pub items: Vec<TopItem>,
    /// The languages the request asked for, in order of preference.
    pub requested_languages: Vec<String>,
}

/// The tags reads are counted under that a `language` filter value means:
/// `sr` both Serbian scripts, any other tag itself.
fn read_languages(params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    let values = params.list("language");
    if values.is_empty() {
        return Ok(None);
    }
    let mut tags = Vec::new();
    for value in values {
        for one in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            if one.eq_ignore_ascii_case("sr") {
                tags.extend([Lang::SrLatn, Lang::SrCyrl].map(|l| l.as_str().to_owned()));
            } else {
                let lang = Lang::from_str(one)
                    .map_err(|message| ApiError::invalid("language", message))?;
                tags.push(lang.as_str().to_owned());
            }
        }
    }
    tags.sort();
    tags.dedup();
    Ok(Some(tags))
}

/// The most read publications
///
/// The published publications most viewed (or downloaded) in the last 7,
/// 30 or 365 days, up to today (UTC): for "most read" lists. The list's
/// filters apply (`kind`, `field`, `project`, `funder`, …); `language`
/// also counts only reads in that language ("most read in Albanian").
/// Counts may lag by the flush interval plus the age of a cached response
/// (at most 60 s).
#[utoipa::path(
    tag = "statistics",
    params(StatsTopParams, AcceptLanguage),
    responses(
        (status = 200, description = "The most read, most first", body = TopList),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/top")]
pub async fn top(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<StatsTopParams>(&req)?;
    let filters: FilterParams = params.read()?;
    let ranking: TopParams = params.read()?;
    let languages = read_languages(&params)?;
    let requested = Requested::new(&req, ranking.lang.as_deref(), false)?;
    let snapshot = state.snapshot().await?;
    let encoded = state
        .cache
        .encoded(&req, &requested, snapshot.seq, async {
            let filter = filter_of(&filters, &snapshot.catalog);
            let period = ranking.period.unwrap_or_default();
            let by = ranking.by.unwrap_or_default();
            let limit = ranking.limit.unwrap_or(10) as usize;
            let to = state.stats.clock.now().date_naive();
            let from = to - chrono::Duration::days(period.days() - 1);
            let rank = match by {
                RankBy::Views => Rank::Views,
                RankBy::Downloads => Rank::Downloads,
            };
            let (from_text, to_text) = (day_text(from), day_text(to));
            let listed = state
                .db
                .read(move |conn| -> Result<_, ApiError> {
                    let ranked = stored::top(
                        conn,
                        &filter,
                        languages.as_deref(),
                        (&from_text, &to_text),
                        rank,
                        limit,
                    )?;
                    let ids: Vec<String> = ranked.iter().map(|row| row.0.clone()).collect();
                    Ok((ranked, crate::db::publications::by_ids(conn, &ids)?))
                })
                .await?;
            let (ranked, listed) = listed;
            let render = Render::new(&state, &snapshot.catalog, &requested.ranges);
            let rows: HashMap<&str, _> = listed
                .rows
                .iter()
                .map(|row| (row.id.as_str(), row))
                .collect();
            let items = ranked
                .iter()
                .filter_map(|(id, _, views, downloads)| {
                    let row = rows.get(id.as_str())?;
                    let heads = listed.heads.get(id).map(Vec::as_slice).unwrap_or_default();
                    let fields = listed
                        .field_ids
                        .get(id)
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    Some(TopItem {
                        publication: render.publication_summary(row, heads, fields),
                        views: *views,
                        downloads: *downloads,
                    })
                })
                .collect::<Vec<_>>();
            let languages: Vec<&str> = items
                .iter()
                .map(|item| item.publication.language.as_str())
                .collect();
            let answer = TopList {
                period,
                by,
                from: day_text(from),
                to: day_text(to),
                items,
                requested_languages: requested.tags(),
            };
            respond::encode(&answer, &languages)
        })
        .await?;
    Ok(respond::send(&req, &encoded))
}

/// What the funder report takes besides the publication filters.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The first day counted (UTC). Default: 364 days before `to`.
    #[param(value_type = Option<chrono::NaiveDate>, example = "2026-01-01")]
    #[serde(deserialize_with = "super::publications::date")]
    from: Option<NaiveDate>,
    /// The last day counted (UTC). Default: today.
    #[param(value_type = Option<chrono::NaiveDate>, example = "2026-12-31")]
    #[serde(deserialize_with = "super::publications::date")]
    to: Option<NaiveDate>,
}

/// Query parameters of `GET /v1/stats/report.csv`: the list's filters, then the period.
pub struct StatsReportParams;

impl IntoParams for StatsReportParams {
    fn into_params(
        parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let mut params = FilterParams::into_params(&parameter_in_provider);
        params.extend(ReportParams::into_params(parameter_in_provider));
        params
    }
}

/// Readers per publication and language, as CSV
///
/// For a report to a funder: one row per published publication and each
/// language it can be read in (`sr-Latn` included where it is derived
/// from Cyrillic), zeros included, with its views and downloads from
/// `from` to `to` (UTC days; default the last 365 days): `slug`, `title`
/// (in that language), `kind`, `language`, `views`, `downloads`. The
/// list's filters apply (`project`, `funder`, `field`, …; `language`
/// keeps only those languages). UTF-8 with a byte-order mark; cells that
/// would start a formula start with `'`.
#[utoipa::path(
    tag = "statistics",
    params(StatsReportParams),
    responses(
        (status = 200, description = "One row a publication and language", content_type = "text/csv", body = String),
        (status = 400, description = "A malformed or unknown parameter, `from` after `to`, or a period over ten years", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/report.csv")]
pub async fn report_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<StatsReportParams>(&req)?;
    let filters: FilterParams = params.read()?;
    let range: ReportParams = params.read()?;
    let languages = read_languages(&params)?;
    let (from, to) = period(&state, range.from, range.to)?;
    let snapshot = state.snapshot().await?;
    let filter = filter_of(&filters, &snapshot.catalog);
    let counted: HashMap<(String, String), Counts> = {
        let filter = filter.clone();
        let (from, to) = (day_text(from), day_text(to));
        state
            .db
            .read(move |conn| -> Result<_, ApiError> {
                Ok(stored::by_language(conn, &filter, (&from, &to))?)
            })
            .await?
            .into_iter()
            .map(|(id, lang, views, downloads)| ((id, lang), Counts { views, downloads }))
            .collect()
    };
    let mut csv = String::from("\u{feff}slug,title,kind,language,views,downloads\r\n");
    let mut after = None;
    loop {
        let page = load_page(&state, filter.clone(), Sort::PublishedDesc, after, 500).await?;
        for row in &page.rows {
            let heads = page
                .heads
                .get(&row.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut editions: BTreeMap<String, String> = heads
                .iter()
                .map(|head| (head.lang.clone(), head.title.clone()))
                .collect();
            let derived = editions.get(Lang::SrCyrl.as_str()).cloned();
            if let Some(cyrillic) = derived {
                editions
                    .entry(Lang::SrLatn.as_str().to_owned())
                    .or_insert_with(|| crate::domain::translit::cyrillic_to_latin(&cyrillic));
            }
            for (lang, title) in editions {
                if languages
                    .as_ref()
                    .is_some_and(|wanted| !wanted.contains(&lang))
                {
                    continue;
                }
                let counts = counted
                    .get(&(row.id.clone(), lang.clone()))
                    .copied()
                    .unwrap_or_default();
                let cells = [
                    row.slug.clone(),
                    title,
                    row.kind.as_str().to_owned(),
                    lang,
                    counts.views.to_string(),
                    counts.downloads.to_string(),
                ];
                csv_row(&mut csv, &cells);
            }
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
