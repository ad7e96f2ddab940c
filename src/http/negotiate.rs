//! Language negotiation at the edge: `?lang=` over `Accept-Language` over `en`.

use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::HttpRequest;

use crate::domain::lang::{parse_accept_language, LanguageRange};
use crate::http::error::ApiError;
use crate::http::params::Params;

/// The `Accept-Language` request header, as the OpenAPI document shows it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(
    dead_code,
    reason = "documents the header; it is read in Requested::from_request"
)]
pub struct AcceptLanguage {
    /// Preferred languages with q-values; `?lang=` overrides it.
    #[param(rename = "Accept-Language", example = "sq, en;q=0.5")]
    accept_language: Option<String>,
}

/// What a request asked for.
#[derive(Debug, Clone)]
pub struct Requested {
    /// Ranges in order of preference; never empty (falls back to `en`).
    pub ranges: Vec<LanguageRange>,
    /// `?lang=all`: every variant (publication detail only).
    pub all: bool,
}

impl Requested {
    /// Reads `?lang=` (when `allow_all`, also `all`), else `Accept-Language`.
    pub fn from_request(
        req: &HttpRequest,
        params: &Params,
        allow_all: bool,
    ) -> Result<Self, ApiError> {
        Self::new(req, params.one("lang")?, allow_all)
    }

    /// Reads `lang`, the `?lang=` value (when `allow_all`, also `all`), else
    /// `Accept-Language`.
    pub fn new(req: &HttpRequest, lang: Option<&str>, allow_all: bool) -> Result<Self, ApiError> {
        if let Some(raw) = lang {
            if raw.eq_ignore_ascii_case("all") {
                if allow_all {
                    return Ok(Self {
                        ranges: vec![LanguageRange::Exact(crate::domain::Lang::En)],
                        all: true,
                    });
                }
                return Err(ApiError::invalid(
                    "lang",
                    "\"all\" is accepted only by a publication's detail and /v1/labels",
                ));
            }
            let range =
                LanguageRange::parse(raw).map_err(|message| ApiError::invalid("lang", message))?;
            if range == LanguageRange::Any {
                return Err(ApiError::invalid("lang", "must name a language, not *"));
            }
            return Ok(Self {
                ranges: vec![range],
                all: false,
            });
        }
        let mut ranges = req
            .headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .map(parse_accept_language)
            .unwrap_or_default();
        if ranges.is_empty() {
            ranges.push(LanguageRange::Exact(crate::domain::Lang::En));
        }
        Ok(Self { ranges, all: false })
    }

    /// The language a response with no items of its own is in: the first
    /// supported tag asked for, else `en`.
    pub fn primary(&self) -> crate::domain::Lang {
        use crate::domain::Lang;
        self.ranges
            .iter()
            .find_map(|range| match range {
                LanguageRange::Exact(lang) => Some(*lang),
                LanguageRange::SerbianAnyScript => Some(Lang::SrLatn),
                _ => None,
            })
            .unwrap_or(Lang::En)
    }

    /// The `Content-Language` tags of a list: those its items are served in,
    /// or the primary language when it has none.
    pub fn list_languages(
        &self,
        items: impl Iterator<Item = crate::domain::Lang>,
    ) -> Vec<&'static str> {
        let tags: Vec<&'static str> = items.map(|lang| lang.as_str()).collect();
        if tags.is_empty() {
            vec![self.primary().as_str()]
        } else {
            tags
        }
    }

    /// The tags as the response reports them.
    pub fn tags(&self) -> Vec<String> {
        if self.all {
            return vec!["all".to_owned()];
        }
        self.ranges.iter().map(LanguageRange::tag).collect()
    }
}
