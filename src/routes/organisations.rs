//! `/v1/organisations`: funders, partners and implementers.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;

use super::render::Render;
use super::views::{OrganisationDetail, OrganisationList, OrganisationProject, OrganisationView};
use super::vocabulary::{self, Localised, VocabularyRead};
use crate::db::publications;
use crate::domain::catalog::{Organisation, Project};
use crate::domain::links::PageType;
use crate::domain::Role;
use crate::http::error::{ApiError, Problem};
use crate::http::negotiate::AcceptLanguage;
use crate::http::params;
use crate::http::respond;
use crate::state::AppState;

/// Query parameters of `GET /v1/organisations`.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct OrganisationListParams {
    /// Only organisations with one of these roles: `funder`, `partner`, `implementer`.
    #[param(value_type = Option<String>, example = "funder")]
    #[serde(deserialize_with = "roles")]
    role: Vec<Role>,
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

vocabulary::list_params!(OrganisationListParams);

fn roles<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Role>, D::Error> {
    params::list(deserializer, Role::parse)
}

/// Query parameters of a single vocabulary resource.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct LangParams {
    /// Language to serve (overrides `Accept-Language`): `en`, `sq`, `sr`, `sr-Latn`, `sr-Cyrl`.
    #[param(example = "sr-Cyrl")]
    #[serde(deserialize_with = "params::text")]
    lang: Option<String>,
}

impl Localised for LangParams {
    fn lang(&self) -> Option<&str> {
        self.lang.as_deref()
    }
}

pub fn organisation_view(render: &Render<'_>, org: &Organisation) -> OrganisationView {
    let picked = render.pick(&org.name);
    OrganisationView {
        id: org.id.clone(),
        slug: org.slug.clone(),
        name: picked.text,
        links: render.links(PageType::Organisations, &org.slug, &org.id),
        image: render.image(org.image.as_ref()),
        description: render.description(&org.description),
        language: picked.served.lang,
        derived_from: picked.served.derived_from,
        available_languages: picked.available,
        roles: org.roles.clone(),
        role_labels: org
            .roles
            .iter()
            .map(|role| role.label(render.labels()).to_owned())
            .collect(),
        website: org.website.clone(),
        ror: org.ror.clone(),
    }
}

/// List organisations
///
/// Every funder, partner and implementer, by slug, names in the negotiated language.
#[utoipa::path(
    tag = "organisations",
    params(OrganisationListParams, AcceptLanguage),
    responses(
        (status = 200, description = "The organisations", body = OrganisationList, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations")]
pub async fn list_organisations(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let read = VocabularyRead::<OrganisationListParams>::open(&req, &state).await?;
    let roles = &read.params.role;
    let render = read.render(&state);
    let items: Vec<OrganisationView> = read
        .snapshot
        .catalog
        .organisations
        .iter()
        .filter(|org| roles.is_empty() || org.roles.iter().any(|role| roles.contains(role)))
        .map(|org| organisation_view(&render, org))
        .collect();
    read.list::<OrganisationList>(&req, items)
}

/// Get an organisation
///
/// One organisation by id or slug, with the projects it funds or implements
/// and the events it organised.
#[utoipa::path(
    tag = "organisations",
    params(("id_or_slug" = String, Path, description = "The organisation's UUID or slug", example = "isp-musine-kokalari"), LangParams, AcceptLanguage),
    responses(
        (status = 200, description = "The organisation", body = OrganisationDetail, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed id, slug or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No organisation has this id or slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/{id_or_slug}")]
pub async fn find_organisation(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let (read, key) = VocabularyRead::<LangParams>::open_one(&req, &state, &raw).await?;
    let catalog = &read.snapshot.catalog;
    let org = vocabulary::find(&catalog.organisations, &key, "organisation", &raw)?;
    let counts = state
        .db
        .read(|conn| -> Result<_, ApiError> { Ok(publications::published_by_project(conn)?) })
        .await?;
    let render = read.render(&state);
    let organisation = organisation_view(&render, org);
    let projects = |role: fn(&Project, &str) -> bool| -> Vec<OrganisationProject> {
        catalog
            .projects
            .iter()
            .filter(|p| role(p, &org.id))
            .filter_map(|p| {
                Some(OrganisationProject {
                    project: render.project_ref(&p.id)?,
                    publications_total: counts.get(&p.id).copied().unwrap_or(0),
                })
            })
            .collect()
    };
    // Its publications: those of every project it has a role in.
    let related: Vec<&Project> = catalog
        .projects
        .iter()
        .filter(|p| {
            p.funders.iter().any(|f| f.organisation_id == org.id)
                || p.partner_ids.contains(&org.id)
                || p.implementer_ids.contains(&org.id)
        })
        .collect();
    let filter = publications::Filter {
        project_ids: Some(related.iter().map(|p| p.id.clone()).collect()),
        ..super::publications::published()
    };
    let slugs: Vec<&str> = related.iter().map(|p| p.slug.as_str()).collect();
    let query = format!("project={}", slugs.join(","));
    let embedded = super::publications::embedded(
        &state,
        &render,
        filter,
        &query,
        super::projects::EMBEDDED_PUBLICATIONS,
    )
    .await?;
    let detail = OrganisationDetail {
        publications: embedded.items,
        publications_total: embedded.total,
        publications_next: embedded.next,
        funded_projects: projects(|p, org| p.funders.iter().any(|f| f.organisation_id == org)),
        partner_projects: projects(|p, org| p.partner_ids.iter().any(|id| id == org)),
        implemented_projects: projects(|p, org| p.implementer_ids.iter().any(|id| id == org)),
        organised_events: catalog
            .events
            .iter()
            .filter(|e| e.organiser_ids.contains(&org.id))
            .map(|e| render.event_ref(e))
            .collect(),
        organisation,
        requested_languages: read.requested.tags(),
    };
    let language = detail.organisation.language.as_str();
    respond::json_versioned(&req, &detail, &[language], &org.version)
}
