//! `GET /v1/changes`: the change feed. Partners keep a copy of the archive
//! in step by reading it from where they stopped: every write to a
//! publication or to the vocabulary, in order, as the public sees it now.

use std::collections::HashMap;

use actix_web::http::header::HeaderValue;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::render::Render;
use super::views::PublicationDetail;
use crate::db::models::ChangeRow;
use crate::db::{changes, publications};
use crate::domain::catalog::Catalog;
use crate::domain::PublicationStatus;
use crate::http::error::{ApiError, Problem};
use crate::http::negotiate::{AcceptLanguage, Requested};
use crate::http::params;
use crate::http::respond;
use crate::state::AppState;

/// The most events one page holds.
const MAX_LIMIT: i64 = 1_000;

/// Query parameters of `GET /v1/changes`.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ChangeParams {
    /// The `next_since` of the previous page; 0 (the default) starts at the
    /// beginning of the archive.
    #[param(value_type = Option<i64>, minimum = 0, example = 0)]
    #[serde(deserialize_with = "since")]
    since: Option<i64>,
    /// The `next_cursor` of the previous page, as every list takes it (the
    /// same position as `since`; give one or the other).
    #[param(value_type = Option<String>)]
    #[serde(deserialize_with = "since")]
    cursor: Option<i64>,
    /// Events per page, 1 to 1,000 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, example = 100)]
    #[serde(deserialize_with = "limit")]
    limit: Option<i64>,
    /// `publication`: embed each published publication as its detail
    /// endpoint serves it.
    #[param(value_type = Option<String>, example = "publication")]
    #[serde(deserialize_with = "include")]
    include: Option<bool>,
    /// Language of embedded publications (overrides `Accept-Language`).
    #[serde(deserialize_with = "params::text")]
    lang: Option<String>,
}

fn since<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    params::one(deserializer, |raw| {
        raw.parse::<i64>()
            .ok()
            .filter(|since| *since >= 0)
            .ok_or_else(|| "must be a whole number, 0 or more".to_owned())
    })
}

fn limit<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    params::one(deserializer, |raw| {
        raw.parse::<i64>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| format!("must be an integer from 1 to {MAX_LIMIT}"))
    })
}

/// Reads `include`: whether to embed publications.
fn include<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    params::one(deserializer, |raw| match raw {
        "publication" => Ok(true),
        other => Err(format!(
            "{other:?} is not something to include; use publication"
        )),
    })
}

/// One change, as the public sees the entity now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangeEvent {
    /// The change log's sequence number: events come in this order.
    pub seq: i64,
    /// `publication`, `organisation`, `field`, `project` or `event`.
    #[schema(example = "publication")]
    pub entity: String,
    pub id: String,
    /// The current slug; null for a deletion.
    pub slug: Option<String>,
    /// `upsert`: fetch (or use the embedded) current version. `delete`:
    /// drop it. A publication that was unpublished, withdrawn or deleted is a
    /// `delete`, as is any change to one that is not public.
    #[schema(example = "upsert")]
    pub operation: &'static str,
    /// When the change was made (RFC 3339, UTC).
    pub changed_at: String,
    /// With `include=publication`: the publication, for upserts of publications.
    #[schema(required = true)]
    pub publication: Option<Box<PublicationDetail>>,
}

/// A page of the change feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangePage {
    pub items: Vec<ChangeEvent>,
    /// Pass as `since` for the next page (also in the `Link` header); when
    /// the page is not full, it is where to poll from later.
    pub next_since: i64,
    /// Whether more events were waiting when this page was made.
    pub has_more: bool,
    /// Pass as `cursor` for the next page; null on the last page (poll
    /// with `next_since` for what comes later).
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// How many events follow the requested position, this page included.
    #[schema(example = 42)]
    pub total: i64,
}

/// Follow changes
///
/// Every write to the archive after `since`, oldest first: what changed
/// (entity, id, current slug), whether to fetch it or drop it, and when.
/// A mirror replays it from 0, then polls with `next_since`. Publications
/// that are not public (drafts, withdrawn, deleted) appear only as
/// deletions, so a mirror never holds what readers cannot see.
#[utoipa::path(
    tag = "partners",
    params(ChangeParams, AcceptLanguage),
    responses(
        (status = 200, description = "A page of changes", body = ChangePage,
            headers(("Link" = String, description = "rel=\"next\": the next page"), ("ETag" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query: ChangeParams = params::read(&req)?;
    let requested = Requested::new(&req, query.lang.as_deref(), false)?;
    if query.since.is_some() && query.cursor.is_some() {
        return Err(ApiError::invalid(
            "cursor",
            "give since or cursor, not both (they name the same position)",
        ));
    }
    let since = query.since.or(query.cursor).unwrap_or(0);
    let limit = query.limit.unwrap_or(100);
    let embed = query.include.unwrap_or(false);
    let snapshot = state.snapshot().await?;
    state
        .cache
        .respond(&req, &requested, snapshot.seq, async {
            let (mut rows, found, total) = state
                .db
                .read(move |conn| -> Result<_, ApiError> {
                    let rows = changes::after(conn, since, limit + 1)?;
                    let total = changes::count_after(conn, since)?;
                    let ids: Vec<String> = rows
                        .iter()
                        .filter(|row| row.entity == "publication")
                        .map(|row| row.entity_id.clone())
                        .collect();
                    let mut found = HashMap::new();
                    for id in ids {
                        if found.contains_key(&id) {
                            continue;
                        }
                        if let Some(full) = publications::find(conn, Some(&id), None)? {
                            found.insert(id, full);
                        }
                    }
                    Ok((rows, found, total))
                })
                .await?;
            let has_more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_since = rows.last().map_or(since, |row| row.seq);
            let render = Render::new(&state, &snapshot.catalog, &requested.ranges);
            let items: Vec<ChangeEvent> = rows
                .into_iter()
                .map(|row| {
                    event(
                        row,
                        &snapshot.catalog,
                        &found,
                        embed.then_some(&render),
                        &requested,
                    )
                })
                .collect();
            let languages: Vec<&str> = items
                .iter()
                .filter_map(|item| item.publication.as_ref())
                .map(|p| p.summary.language.as_str())
                .collect();
            let page = ChangePage {
                items,
                next_since,
                has_more,
                next_cursor: has_more.then(|| next_since.to_string()),
                total,
            };
            let mut encoded = respond::encode(&page, &languages)?;
            let mut next = format!("/v1/changes?since={next_since}&limit={limit}");
            if embed {
                next.push_str("&include=publication");
            }
            encoded.link = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")).ok();
            Ok(encoded)
        })
        .await
        .map(|mut response| {
            // Pollers want the newest changes, never a cache's copy.
            response.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                HeaderValue::from_static("public, no-cache"),
            );
            response
        })
}

/// One change log entry as the public sees its entity now.
fn event(
    row: ChangeRow,
    catalog: &Catalog,
    publications: &HashMap<String, publications::Full>,
    render: Option<&Render<'_>>,
    requested: &Requested,
) -> ChangeEvent {
    let mut publication = None;
    let slug = match row.entity.as_str() {
        "publication" => publications
            .get(&row.entity_id)
            .filter(|full| full.row.status == PublicationStatus::Published)
            .map(|full| {
                if let Some(render) = render {
                    publication = Some(Box::new(render.publication_detail(
                        &full.row,
                        &full.variants,
                        &full.field_ids,
                        requested.tags(),
                        false,
                    )));
                }
                full.row.slug.clone()
            }),
        "organisation" => catalog
            .organisations
            .by_id(&row.entity_id)
            .map(|e| e.slug.clone()),
        "field" => catalog.fields.by_id(&row.entity_id).map(|e| e.slug.clone()),
        "project" => catalog
            .projects
            .by_id(&row.entity_id)
            .map(|e| e.slug.clone()),
        "event" => catalog.events.by_id(&row.entity_id).map(|e| e.slug.clone()),
        _ => None,
    };
    ChangeEvent {
        seq: row.seq,
        operation: if slug.is_some() { "upsert" } else { "delete" },
        entity: row.entity,
        id: row.entity_id,
        slug,
        changed_at: row.changed_at,
        publication,
    }
}
