//! `/v1/projects`: the organisation's projects (its "Reference List").

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::organisations::LangParams;
use super::publications::{embedded, published};
use super::render::Render;
use super::views::{ProjectDetail, ProjectList, ProjectView};
use super::vocabulary::{self, VocabularyRead};
use crate::domain::catalog::Project;
use crate::domain::links::PageType;
use crate::http::error::{ApiError, Problem};
use crate::http::negotiate::AcceptLanguage;
use crate::http::params;
use crate::http::respond;
use crate::state::AppState;

/// How many publications a project's detail embeds.
pub(crate) const EMBEDDED_PUBLICATIONS: i64 = 20;

/// Query parameters of `GET /v1/projects`.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ProjectListParams {
    /// Only projects funded by one of these organisations (slug or id).
    #[param(value_type = Option<String>, example = "national-endowment-for-democracy")]
    #[serde(deserialize_with = "params::keys")]
    funder: Vec<String>,
    /// Only projects with one of these implementing partners (slug or id).
    #[param(value_type = Option<String>, example = "isp-musine-kokalari")]
    #[serde(deserialize_with = "params::keys")]
    partner: Vec<String>,
    /// Only projects in one of these fields of work (slug or id).
    #[param(value_type = Option<String>, example = "citizen-participation")]
    #[serde(deserialize_with = "params::keys")]
    field: Vec<String>,
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

vocabulary::list_params!(ProjectListParams);

pub fn project_view(render: &Render<'_>, project: &Project) -> ProjectView {
    let picked = render.pick(&project.title);
    ProjectView {
        id: project.id.clone(),
        slug: project.slug.clone(),
        title: picked.text,
        links: render.links(PageType::Projects, &project.slug, &project.id),
        image: render.image(project.image.as_ref()),
        description: render.description(&project.description),
        language: picked.served.lang,
        derived_from: picked.served.derived_from,
        available_languages: picked.available,
        starts_on: project.starts_on.clone(),
        ends_on: project.ends_on.clone(),
        funders: render.funders(project),
        partners: render.organisations(&project.partner_ids),
        implementers: render.organisations(&project.implementer_ids),
        fields: render.fields(&project.field_ids),
    }
}

/// List projects
///
/// Every project, by slug, with its funders, partners and fields.
#[utoipa::path(
    tag = "projects",
    params(ProjectListParams, AcceptLanguage),
    responses(
        (status = 200, description = "The projects", body = ProjectList, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/projects")]
pub async fn list_projects(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let read = VocabularyRead::<ProjectListParams>::open(&req, &state).await?;
    let ProjectListParams {
        funder: funders,
        partner: partners,
        field: fields,
        ..
    } = &read.params;
    let catalog = &read.snapshot.catalog;
    let ids = |keys: &[String], table: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
        keys.iter().filter_map(|key| table(key)).collect()
    };
    let funder_ids = ids(funders, &|key| catalog.organisations.id_of(key));
    let partner_ids = ids(partners, &|key| catalog.organisations.id_of(key));
    let field_ids = ids(fields, &|key| catalog.fields.id_of(key));
    let render = read.render(&state);
    let items: Vec<ProjectView> = catalog
        .projects
        .iter()
        .filter(|p| {
            funders.is_empty()
                || p.funders
                    .iter()
                    .any(|f| funder_ids.contains(&f.organisation_id))
        })
        .filter(|p| partners.is_empty() || p.partner_ids.iter().any(|id| partner_ids.contains(id)))
        .filter(|p| fields.is_empty() || p.field_ids.iter().any(|id| field_ids.contains(id)))
        .map(|project| project_view(&render, project))
        .collect();
    read.list::<ProjectList>(&req, items)
}

/// Get a project
///
/// One project by id or slug, with its funders (and grant numbers),
/// partners, fields, events and newest publications.
#[utoipa::path(
    tag = "projects",
    params(("id_or_slug" = String, Path, description = "The project's UUID or slug", example = "dialogue-solutions-future"), LangParams, AcceptLanguage),
    responses(
        (status = 200, description = "The project", body = ProjectDetail, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed id, slug or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No project has this id or slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/projects/{id_or_slug}")]
pub async fn find_project(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let (read, key) = VocabularyRead::<LangParams>::open_one(&req, &state, &raw).await?;
    let catalog = &read.snapshot.catalog;
    let project = vocabulary::find(&catalog.projects, &key, "project", &raw)?;
    state
        .cache
        .respond(&req, &read.requested, read.snapshot.seq, async {
            let render = read.render(&state);
            let view = project_view(&render, project);
            let filter = crate::db::publications::Filter {
                project_ids: Some(vec![project.id.clone()]),
                ..published()
            };
            let query = format!("project={}", project.slug);
            let embedded = embedded(&state, &render, filter, &query, EMBEDDED_PUBLICATIONS).await?;
            let mut events: Vec<_> = catalog
                .events
                .iter()
                .filter(|e| e.project_id.as_deref() == Some(&project.id))
                .collect();
            events.sort_by(|a, b| b.starts_on.cmp(&a.starts_on));
            let events = events.into_iter().map(|e| render.event_ref(e)).collect();
            let language = view.language.as_str();
            let detail = ProjectDetail {
                project: view,
                events,
                publications: embedded.items,
                publications_total: embedded.total,
                publications_next: embedded.next,
                requested_languages: read.requested.tags(),
            };
            respond::with_version(respond::encode(&detail, &[language])?, &project.version)
        })
        .await
}
