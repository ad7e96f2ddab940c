//! Feeds of the newest publications for feed readers and aggregators:
//! Atom (RFC 4287) and JSON Feed 1.1, filtered like the list, each entry in
//! the requested language with links to its other languages.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::publications::{self, filter_of, newest, published, FilterParams};
use super::render::Render;
use super::views::{Alternate, PublicationSummary};
use crate::domain::PublicationKind;
use crate::http::error::{ApiError, Problem};
use crate::http::negotiate::{AcceptLanguage, Requested};
use crate::http::params;
use crate::http::respond;
use crate::state::AppState;

/// How many entries a feed holds.
const ENTRIES: i64 = 50;

/// Query parameters of the feeds.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Language of the entries (overrides `Accept-Language`): `en`, `sq`,
    /// `sr`, `sr-Latn`, `sr-Cyrl`.
    #[param(example = "sq")]
    #[serde(deserialize_with = "params::text")]
    lang: Option<String>,
    /// Kinds: `report`, `policy_paper`, `discussion_conclusions`, `media_monitoring`.
    #[param(value_type = Option<String>, example = "policy_paper")]
    #[serde(deserialize_with = "publications::kinds")]
    kind: Vec<PublicationKind>,
    /// Fields of work, by slug or id.
    #[param(value_type = Option<String>, example = "normalization-dialogue")]
    #[serde(deserialize_with = "params::keys")]
    field: Vec<String>,
    /// Projects, by slug or id.
    #[param(value_type = Option<String>, example = "dialogue-solutions-future")]
    #[serde(deserialize_with = "params::keys")]
    project: Vec<String>,
}

/// The newest published publications matching the request's filters,
/// rendered in its language, and the base URL links are made from.
async fn entries(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(Vec<PublicationSummary>, Requested, String), ApiError> {
    let query: FeedParams = params::read(req)?;
    let requested = Requested::new(req, query.lang.as_deref(), false)?;
    let snapshot = state.snapshot().await?;
    let filters = FilterParams {
        kind: query.kind,
        field: query.field,
        project: query.project,
        ..FilterParams::default()
    };
    let filter = crate::db::publications::Filter {
        statuses: published().statuses,
        ..filter_of(&filters, &snapshot.catalog)
    };
    let render = Render::new(state, &snapshot.catalog, &requested.ranges);
    let (items, _) = newest(state, &render, filter, ENTRIES).await?;
    Ok((items, requested, state.public_url.to_string()))
}

/// The path and query the feed was asked at: never the scheme and host of
/// a request target in absolute form, which the client chose.
fn path_and_query(req: &HttpRequest) -> &str {
    req.uri()
        .path_and_query()
        .map_or("/", |path_and_query| path_and_query.as_str())
}

/// An item's language editions with their links, the served one first.
fn editions(item: &PublicationSummary) -> impl Iterator<Item = &Alternate> {
    let served = item
        .alternates
        .iter()
        .filter(|a| a.language == item.language);
    served.chain(
        item.alternates
            .iter()
            .filter(|a| a.language != item.language),
    )
}

/// `YYYY-MM-DD` as the RFC 3339 instant of its midnight UTC.
fn midnight(date: &str) -> String {
    format!("{date}T00:00:00Z")
}

/// Escapes text for XML element content and attribute values, dropping
/// the control characters XML 1.0 cannot carry.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Publications as Atom
///
/// The 50 newest published publications (filtered like the list) as an
/// Atom 1.0 feed: each entry in the requested language, with `alternate`
/// links (`hreflang`) to its other languages, its authors, its kind and
/// fields as categories.
#[utoipa::path(
    tag = "partners",
    params(FeedParams, AcceptLanguage),
    responses(
        (status = 200, description = "An Atom feed", content_type = "application/atom+xml", body = String),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/publications.atom")]
pub async fn atom_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (items, requested, base) = entries(&req, &state).await?;
    let language = requested
        .tags()
        .first()
        .cloned()
        .unwrap_or_else(|| "en".into());
    let self_url = format!("{base}{}", path_and_query(&req));
    let updated = items
        .iter()
        .map(|item| item.updated_at.as_str())
        .max()
        .unwrap_or("1970-01-01T00:00:00Z");
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n\
         <id>{}</id>\n<title>New Social Initiative: publications</title>\n\
         <updated>{}</updated>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n\
         <author><name>New Social Initiative</name></author>\n",
        escape(&language),
        escape(&format!("{base}/v1/feeds/publications.atom")),
        escape(updated),
        escape(&self_url),
    );
    for item in &items {
        let lang = item.language.as_str();
        xml.push_str("<entry>\n");
        xml.push_str(&format!("<id>urn:uuid:{}</id>\n", escape(&item.id)));
        xml.push_str(&format!(
            "<title xml:lang=\"{}\">{}</title>\n",
            escape(lang),
            escape(&item.title)
        ));
        xml.push_str(&format!(
            "<updated>{}</updated>\n",
            escape(&item.updated_at)
        ));
        if let Some(date) = &item.published_on {
            xml.push_str(&format!(
                "<published>{}</published>\n",
                escape(&midnight(date))
            ));
        }
        // The reader's pages on the site first, then the API's, one per
        // language edition.
        for edition in editions(item) {
            if let Some(page) = &edition.links.site {
                xml.push_str(&format!(
                    "<link rel=\"alternate\" type=\"text/html\" hreflang=\"{}\" href=\"{}\"/>\n",
                    escape(edition.language.as_str()),
                    escape(page)
                ));
            }
        }
        for edition in editions(item) {
            xml.push_str(&format!(
                "<link rel=\"alternate\" type=\"application/json\" hreflang=\"{}\" href=\"{}\"/>\n",
                escape(edition.language.as_str()),
                escape(&edition.links.self_url)
            ));
        }
        for author in &item.authors {
            xml.push_str(&format!(
                "<author><name>{}</name></author>\n",
                escape(author)
            ));
        }
        xml.push_str(&format!(
            "<category term=\"{}\" label=\"{}\"/>\n",
            escape(item.kind.as_str()),
            escape(&item.kind_label)
        ));
        for field in &item.fields {
            xml.push_str(&format!(
                "<category term=\"{}\" label=\"{}\"/>\n",
                escape(&field.slug),
                escape(&field.label)
            ));
        }
        if !item.summary.is_empty() {
            xml.push_str(&format!(
                "<summary xml:lang=\"{}\">{}</summary>\n",
                escape(lang),
                escape(&item.summary)
            ));
        }
        xml.push_str("</entry>\n");
    }
    xml.push_str("</feed>\n");
    let languages: Vec<&str> = items.iter().map(|item| item.language.as_str()).collect();
    let mut encoded = respond::encode_bytes(xml.into_bytes(), &languages)?;
    encoded.content_type = Some("application/atom+xml; charset=utf-8");
    Ok(respond::send(&req, &encoded))
}

/// Publications as JSON Feed
///
/// The same entries as the Atom feed, as JSON Feed 1.1. The other
/// languages of each item are under `_arkiv.alternates`.
#[utoipa::path(
    tag = "partners",
    params(FeedParams, AcceptLanguage),
    responses(
        (status = 200, description = "A JSON Feed", content_type = "application/feed+json", body = Object),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/publications.json")]
pub async fn json_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (items, requested, base) = entries(&req, &state).await?;
    let language = requested
        .tags()
        .first()
        .cloned()
        .unwrap_or_else(|| "en".into());
    let feed_items: Vec<serde_json::Value> = items
        .iter()
        .map(|item| {
            let lang = item.language.as_str();
            let mut editions = editions(item);
            let api_url = editions
                .next()
                .map(|served| served.links.self_url.clone())
                .unwrap_or_default();
            let alternates: Vec<serde_json::Value> = editions
                .map(|edition| {
                    json!({
                        "language": edition.language.as_str(),
                        "url": edition.links.self_url,
                        "site": edition.links.site,
                    })
                })
                .collect();
            let mut tags = vec![item.kind_label.clone()];
            tags.extend(item.fields.iter().map(|f| f.label.clone()));
            json!({
                "id": format!("urn:uuid:{}", item.id),
                "url": item.links.site.as_ref().unwrap_or(&api_url),
                "external_url": item.links.site.is_some().then_some(&api_url),
                "title": item.title,
                "summary": item.summary,
                "content_text": if item.summary.is_empty() { &item.title } else { &item.summary },
                "date_published": item.published_on.as_deref().map(midnight),
                "date_modified": item.updated_at,
                "authors": item.authors.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
                "tags": tags,
                "language": lang,
                "_arkiv": {"slug": item.slug, "kind": item.kind.as_str(), "alternates": alternates},
            })
        })
        .collect();
    let feed = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "New Social Initiative: publications",
        "home_page_url": format!("{base}/v1/publications"),
        "feed_url": format!("{base}{}", path_and_query(&req)),
        "language": language,
        "authors": [{"name": "New Social Initiative"}],
        "items": feed_items,
    });
    let languages: Vec<&str> = items.iter().map(|item| item.language.as_str()).collect();
    let bytes = serde_json::to_vec(&feed).map_err(ApiError::internal)?;
    let mut encoded = respond::encode_bytes(bytes, &languages)?;
    encoded.content_type = Some("application/feed+json");
    Ok(respond::send(&req, &encoded))
}
