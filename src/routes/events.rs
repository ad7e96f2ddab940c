//! `/v1/events`: discussions, summits, focus groups and conferences.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;

use super::organisations::LangParams;
use super::publications::{embedded, published};
use super::render::Render;
use super::views::{EventDetail, EventList, EventView};
use super::vocabulary::{self, VocabularyRead};
use crate::domain::catalog::Event;
use crate::domain::EventKind;
use crate::http::error::{ApiError, Problem};
use crate::http::negotiate::AcceptLanguage;
use crate::http::params;
use crate::http::respond;
use crate::state::AppState;

/// How many publications an event's detail embeds.
const EMBEDDED_PUBLICATIONS: i64 = 100;

/// Query parameters of `GET /v1/events`.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct EventListParams {
    /// Kinds: `expert_discussion`, `informal_discussion`, `summit`, `focus_group`, `conference`.
    #[param(value_type = Option<String>, example = "expert_discussion")]
    #[serde(deserialize_with = "kinds")]
    kind: Vec<EventKind>,
    /// Only events of these projects (slug or id).
    #[param(value_type = Option<String>, example = "dialogue-solutions-future")]
    #[serde(deserialize_with = "params::keys")]
    project: Vec<String>,
    /// Only events that started in one of these years.
    #[param(value_type = Option<String>, example = "2024")]
    #[serde(deserialize_with = "params::years")]
    year: Vec<i32>,
    /// Language to serve (overrides `Accept-Language`).
    #[param(example = "sq")]
    #[serde(deserialize_with = "params::text")]
    lang: Option<String>,
    /// Page size, 1 to 100 (default 100, so most vocabularies come whole).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    #[serde(deserialize_with = "params::limit")]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(deserialize_with = "params::text")]
    cursor: Option<String>,
}

vocabulary::list_params!(EventListParams);

fn kinds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<EventKind>, D::Error> {
    params::list(deserializer, EventKind::parse)
}

fn event_view(render: &Render<'_>, event: &Event) -> EventView {
    let picked = render.pick(&event.title);
    EventView {
        event: render.event_ref(event),
        description: render.description(&event.description),
        language: picked.served.lang,
        derived_from: picked.served.derived_from,
        available_languages: picked.available,
        organisers: render.organisations(&event.organiser_ids),
        project: event
            .project_id
            .as_deref()
            .and_then(|id| render.project_ref(id)),
    }
}

/// List events
///
/// Every event, newest first.
#[utoipa::path(
    tag = "events",
    params(EventListParams, AcceptLanguage),
    responses(
        (status = 200, description = "The events", body = EventList, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events")]
pub async fn list_events(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let read = VocabularyRead::<EventListParams>::open(&req, &state).await?;
    let EventListParams {
        kind: kinds,
        project: projects,
        year,
        ..
    } = &read.params;
    let years: Vec<String> = year.iter().map(|year| format!("{year:04}-")).collect();
    let catalog = &read.snapshot.catalog;
    let project_ids: Vec<String> = projects
        .iter()
        .filter_map(|key| catalog.projects.id_of(key))
        .collect();
    let render = read.render(&state);
    let mut events: Vec<&Event> = catalog
        .events
        .iter()
        .filter(|e| kinds.is_empty() || kinds.contains(&e.kind))
        .filter(|e| {
            projects.is_empty()
                || e.project_id
                    .as_ref()
                    .is_some_and(|id| project_ids.contains(id))
        })
        .filter(|e| {
            years.is_empty()
                || years
                    .iter()
                    .any(|year| e.starts_on.starts_with(year.as_str()))
        })
        .collect();
    events.sort_by(|a, b| b.starts_on.cmp(&a.starts_on).then(a.slug.cmp(&b.slug)));
    let items: Vec<EventView> = events
        .into_iter()
        .map(|event| event_view(&render, event))
        .collect();
    read.list::<EventList>(&req, items)
}

/// Get an event
///
/// One event by id or slug, with its organisers, project and the
/// publications (conclusions) that came out of it.
#[utoipa::path(
    tag = "events",
    params(("id_or_slug" = String, Path, description = "The event's UUID or slug", example = "expert-discussion-2024-10-31"), LangParams, AcceptLanguage),
    responses(
        (status = 200, description = "The event", body = EventDetail, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed id, slug or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No event has this id or slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{id_or_slug}")]
pub async fn find_event(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let (read, key) = VocabularyRead::<LangParams>::open_one(&req, &state, &raw).await?;
    let event = vocabulary::find(&read.snapshot.catalog.events, &key, "event", &raw)?;
    state
        .cache
        .respond(&req, &read.requested, read.snapshot.seq, async {
            let render = read.render(&state);
            let view = event_view(&render, event);
            let filter = crate::db::publications::Filter {
                event_ids: Some(vec![event.id.clone()]),
                ..published()
            };
            let query = format!("event={}", event.slug);
            let embedded = embedded(&state, &render, filter, &query, EMBEDDED_PUBLICATIONS).await?;
            let language = view.language.as_str();
            let detail = EventDetail {
                event: view,
                publications: embedded.items,
                publications_total: embedded.total,
                publications_next: embedded.next,
                requested_languages: read.requested.tags(),
            };
            respond::with_version(respond::encode(&detail, &[language])?, &event.version)
        })
        .await
}
