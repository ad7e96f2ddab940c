//! `/v1/fields`: the fields of work.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::organisations::LangParams;
use super::render::Render;
use super::views::{FieldList, FieldView};
use super::vocabulary::{self, VocabularyRead};
use crate::domain::catalog::Field;
use crate::domain::links::PageType;
use crate::http::error::{ApiError, Problem};
use crate::http::negotiate::AcceptLanguage;
use crate::http::params;
use crate::http::respond;
use crate::state::AppState;

/// Query parameters of the list of fields.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct FieldListParams {
    /// Language to serve (overrides `Accept-Language`): `en`, `sq`, `sr`, `sr-Latn`, `sr-Cyrl`.
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

vocabulary::list_params!(FieldListParams);

fn field_view(render: &Render<'_>, field: &Field) -> FieldView {
    let picked = render.pick(&field.label);
    FieldView {
        id: field.id.clone(),
        slug: field.slug.clone(),
        label: picked.text,
        links: render.links(PageType::Fields, &field.slug, &field.id),
        description: render.description(&field.description),
        language: picked.served.lang,
        derived_from: picked.served.derived_from,
        available_languages: picked.available,
    }
}

/// List fields of work
///
/// Every field of work, labels in the negotiated language.
#[utoipa::path(
    tag = "fields",
    params(FieldListParams, AcceptLanguage),
    responses(
        (status = 200, description = "The fields of work", body = FieldList, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/fields")]
pub async fn list_fields(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let read = VocabularyRead::<FieldListParams>::open(&req, &state).await?;
    let render = read.render(&state);
    let items: Vec<FieldView> = read
        .snapshot
        .catalog
        .fields
        .iter()
        .map(|field| field_view(&render, field))
        .collect();
    read.list::<FieldList>(&req, items)
}

/// Get a field of work
#[utoipa::path(
    tag = "fields",
    params(("id_or_slug" = String, Path, description = "The field's UUID or slug", example = "citizen-participation"), LangParams, AcceptLanguage),
    responses(
        (status = 200, description = "The field of work", body = FieldView, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed id, slug or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No field has this id or slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/fields/{id_or_slug}")]
pub async fn find_field(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let (read, key) = VocabularyRead::<LangParams>::open_one(&req, &state, &raw).await?;
    let field = vocabulary::find(&read.snapshot.catalog.fields, &key, "field", &raw)?;
    let view = field_view(&read.render(&state), field);
    let language = view.language.as_str();
    respond::json_versioned(&req, &view, &[language], &field.version)
}
