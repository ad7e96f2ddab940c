//! `/v1/labels`: every closed vocabulary with its labels, so a front end
//! writes no label of its own (facets, badges, language switchers).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::vocabulary::{EventKind, PublicationKind, PublicationStatus, Role};
use crate::domain::Lang;
use crate::http::error::{ApiError, Problem};
use crate::http::negotiate::{AcceptLanguage, Requested};
use crate::http::params;
use crate::http::respond;

/// How long a cache may keep the labels without asking again: they change
/// only with a new release, and the ETag answers a revalidation cheaply.
const MAX_AGE: &str = "public, max-age=86400";

/// Query parameters of `/v1/labels`.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct LabelsParams {
    /// Language of the labels (overrides `Accept-Language`): `en`, `sq`,
    /// `sr`, `sr-Latn`, `sr-Cyrl`, or `all` for every language at once.
    #[param(example = "sq")]
    #[serde(deserialize_with = "params::text")]
    lang: Option<String>,
}

/// A publication kind, named for one item and for a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindLabel {
    pub value: PublicationKind,
    #[schema(example = "Policy paper")]
    pub label: String,
    /// The heading of a listing of this kind.
    #[schema(example = "Policy papers")]
    pub plural: String,
}

/// A publication status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusLabel {
    pub value: PublicationStatus,
    #[schema(example = "Published")]
    pub label: String,
}

/// An event kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventKindLabel {
    pub value: EventKind,
    #[schema(example = "Expert discussion")]
    pub label: String,
}

/// An organisation's role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleLabel {
    pub value: Role,
    #[schema(example = "Funder")]
    pub label: String,
}

/// A language, named in the labels' language and in itself (a switcher
/// shows the latter).
#[derive(Debug, Serialize, ToSchema)]
pub struct LanguageLabel {
    pub value: Lang,
    #[schema(example = "Albanian")]
    pub label: String,
    #[schema(example = "Shqip")]
    pub native: String,
}

/// Every closed vocabulary in one language, each in its canonical order.
#[derive(Debug, Serialize, ToSchema)]
pub struct Labels {
    /// The language of every label here.
    pub language: Lang,
    pub publication_kinds: Vec<KindLabel>,
    pub publication_statuses: Vec<StatusLabel>,
    pub event_kinds: Vec<EventKindLabel>,
    pub organisation_roles: Vec<RoleLabel>,
    pub languages: Vec<LanguageLabel>,
}

/// The labels in every language (`?lang=all`), keyed by language tag.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllLabels {
    pub en: Labels,
    pub sq: Labels,
    #[serde(rename = "sr-Latn")]
    pub sr_latn: Labels,
    #[serde(rename = "sr-Cyrl")]
    pub sr_cyrl: Labels,
}

/// The answer of `/v1/labels`: one language, or all four with `?lang=all`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LabelsResponse {
    One(Labels),
    All(Box<AllLabels>),
}

impl Labels {
    /// Builds every vocabulary's labels in `lang`.
    pub fn new(lang: Lang) -> Self {
        Self {
            language: lang,
            publication_kinds: PublicationKind::ALL
                .iter()
                .map(|&value| KindLabel {
                    value,
                    label: value.label(lang).to_owned(),
                    plural: value.plural(lang).to_owned(),
                })
                .collect(),
            publication_statuses: PublicationStatus::ALL
                .iter()
                .map(|&value| StatusLabel {
                    value,
                    label: value.label(lang).to_owned(),
                })
                .collect(),
            event_kinds: EventKind::ALL
                .iter()
                .map(|&value| EventKindLabel {
                    value,
                    label: value.label(lang).to_owned(),
                })
                .collect(),
            organisation_roles: Role::ALL
                .iter()
                .map(|&value| RoleLabel {
                    value,
                    label: value.label(lang).to_owned(),
                })
                .collect(),
            languages: Lang::ALL
                .iter()
                .map(|&value| LanguageLabel {
                    value,
                    label: value.name_in(lang).to_owned(),
                    native: value.name_in(value).to_owned(),
                })
                .collect(),
        }
    }
}

/// List the vocabularies' labels
///
/// Every closed vocabulary — publication kinds (singular and plural),
/// publication statuses, event kinds, organisation roles and the archive's
/// languages — with its labels in the negotiated language, or in all four
/// with `?lang=all`. The same labels every other response carries, so a
/// front end can render facets and switchers without hard-coding any.
/// Cacheable for a day; the ETag revalidates.
#[utoipa::path(
    tag = "site",
    params(LabelsParams, AcceptLanguage),
    responses(
        (status = 200, description = "The labels", body = LabelsResponse, headers(("ETag" = String), ("Content-Language" = String), ("Cache-Control" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/labels")]
pub async fn list_labels(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query: LabelsParams = params::read(&req)?;
    let requested = Requested::new(&req, query.lang.as_deref(), true)?;
    let (body, languages) = if requested.all {
        let all = AllLabels {
            en: Labels::new(Lang::En),
            sq: Labels::new(Lang::Sq),
            sr_latn: Labels::new(Lang::SrLatn),
            sr_cyrl: Labels::new(Lang::SrCyrl),
        };
        let tags: Vec<&str> = Lang::ALL.iter().map(|lang| lang.as_str()).collect();
        (LabelsResponse::All(Box::new(all)), tags)
    } else {
        let lang = crate::domain::lang::label_language(&requested.ranges);
        (LabelsResponse::One(Labels::new(lang)), vec![lang.as_str()])
    };
    let mut response = respond::json(&req, &body, &languages)?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(MAX_AGE));
    Ok(response)
}
