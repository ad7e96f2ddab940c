//! `/v1/organisations`: funders, partners and implementers.

use actix_web::{get, web, HttpRequest, HttpResponse};
use utoipa::IntoParams;

use super::negotiate::{AcceptLanguage, Requested};
use super::params::{self, names_of, Params};
use super::render::Render;
use super::respond;
use super::views::{OrganisationDetail, OrganisationList, OrganisationView};
use crate::catalog::Organisation;
use crate::domain::Role;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Query parameters of `GET /v1/organisations`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "documents the query parameters; they are read through Params"
)]
pub struct OrganisationListParams {
    /// Only organisations with one of these roles: `funder`, `partner`, `implementer`.
    #[param(example = "funder")]
    role: Option<String>,
    /// Language to serve (overrides `Accept-Language`).
    #[param(example = "sq")]
    lang: Option<String>,
}

/// Query parameters of a single vocabulary resource.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "documents the query parameters; they are read through Params"
)]
pub struct LangParams {
    /// Language to serve (overrides `Accept-Language`): `en`, `sq`, `sr`, `sr-Latn`, `sr-Cyrl`.
    #[param(example = "sr-Cyrl")]
    lang: Option<String>,
}

pub fn organisation_view(render: &Render<'_>, org: &Organisation) -> OrganisationView {
    let picked = render.pick(&org.name);
    OrganisationView {
        id: org.id.clone(),
        slug: org.slug.clone(),
        name: picked.text,
        language: picked.served.lang,
        derived_from: picked.served.derived_from,
        available_languages: picked.available,
        roles: org.roles.clone(),
        role_labels: org
            .roles
            .iter()
            .map(|role| {
                role.label(render.label_language(picked.served.lang))
                    .to_owned()
            })
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
    let params = Params::parse(&req, names_of::<OrganisationListParams>())?;
    let requested = Requested::from_request(&req, &params, false)?;
    let roles = params.parsed_list("role", Role::parse)?;
    let snapshot = state.snapshot().await?;
    let catalog = snapshot.catalog.clone();
    let render = Render::new(&catalog, &requested.ranges);
    let items: Vec<OrganisationView> = catalog
        .organisations
        .iter()
        .filter(|org| roles.is_empty() || org.roles.iter().any(|role| roles.contains(role)))
        .map(|org| organisation_view(&render, org))
        .collect();
    let languages = requested.list_languages(items.iter().map(|item| item.language));
    let list = OrganisationList {
        total: items.len() as i64,
        items,
        next_cursor: None,
        requested_languages: requested.tags(),
    };
    respond::json(&req, &list, &languages)
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
    let params = Params::parse(&req, names_of::<LangParams>())?;
    let requested = Requested::from_request(&req, &params, false)?;
    let raw = path.into_inner();
    let key = params::path_key(&raw)?;
    let snapshot = state.snapshot().await?;
    let catalog = snapshot.catalog.clone();
    let org = catalog
        .organisations
        .find(&key)
        .ok_or_else(|| ApiError::not_found("organisation", &raw))?;
    let render = Render::new(&catalog, &requested.ranges);
    let organisation = organisation_view(&render, org);
    let detail = render.in_language(organisation.language, |render| OrganisationDetail {
        funded_projects: catalog
            .projects
            .iter()
            .filter(|p| p.funders.iter().any(|f| f.organisation_id == org.id))
            .filter_map(|p| render.project_ref(&p.id))
            .collect(),
        partner_projects: catalog
            .projects
            .iter()
            .filter(|p| p.partner_ids.contains(&org.id))
            .filter_map(|p| render.project_ref(&p.id))
            .collect(),
        organised_events: catalog
            .events
            .iter()
            .filter(|e| e.organiser_ids.contains(&org.id))
            .map(|e| render.event_ref(e))
            .collect(),
        organisation,
        requested_languages: requested.tags(),
    });
    let language = detail.organisation.language.as_str();
    respond::json_versioned(&req, &detail, &[language], &org.version)
}
