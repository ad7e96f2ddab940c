//! `/sitemap.xml`: the organisation's website pages of every published
//! publication and of every project, organisation, event and field, each
//! language edition with its `hreflang` alternates (sitemaps.org 0.9).

use std::fmt::Write as _;

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;

use super::feeds::escape;
use super::publications::published_editions;
use crate::domain::catalog::Catalog;
use crate::domain::lang::{available, LanguageRange};
use crate::domain::links::{PageType, SiteLinks, MAX_SITEMAP_URLS};
use crate::domain::records::LangMap;
use crate::domain::Lang;
use crate::http::error::{ApiError, ErrorCode, Problem};
use crate::http::negotiate::Requested;
use crate::http::params;
use crate::http::respond;
use crate::state::AppState;

/// Query parameters of `/sitemap.xml`.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SitemapParams {
    /// One file of a sitemap index, from 1: the index lists them when the
    /// site has more pages than one sitemap may hold.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000000, example = 1)]
    #[serde(deserialize_with = "page_number")]
    page: Option<u64>,
}

fn page_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    params::one(deserializer, |raw| params::parse_bounded(raw, 1, 1_000_000))
}

/// One page of the site, in one language.
struct SiteUrl {
    loc: String,
    lastmod: Option<String>,
    /// Every language edition of the same resource, itself included; empty
    /// when there is only one.
    alternates: Vec<(Lang, String)>,
}

/// Adds the pages of one resource: one per language edition when the
/// template names `{lang}`, else one.
fn add(
    urls: &mut Vec<SiteUrl>,
    site: &SiteLinks,
    page: PageType,
    (id, slug): (&str, &str),
    languages: &[Lang],
    lastmod: Option<&str>,
) {
    let Some(template) = site.template(page) else {
        return;
    };
    let lastmod = lastmod.map(str::to_owned);
    if !template.has_lang() {
        let lang = languages.first().copied().unwrap_or(Lang::En);
        urls.push(SiteUrl {
            loc: template.expand(page, lang, slug, id),
            lastmod,
            alternates: Vec::new(),
        });
        return;
    }
    let editions: Vec<(Lang, String)> = languages
        .iter()
        .map(|&lang| (lang, template.expand(page, lang, slug, id)))
        .collect();
    let alternates = if editions.len() > 1 {
        editions.clone()
    } else {
        Vec::new()
    };
    for (_, loc) in editions {
        urls.push(SiteUrl {
            loc,
            lastmod: lastmod.clone(),
            alternates: alternates.clone(),
        });
    }
}

fn languages_of(texts: &LangMap) -> Vec<Lang> {
    let stored: Vec<Lang> = texts.keys().copied().collect();
    available(&stored)
}

/// Every page of the site, publications first (newest first), then the
/// vocabulary in catalog order: a stable order, so pages of an index hold
/// the same URLs from one request to the next.
async fn site_urls(state: &AppState, catalog: &Catalog) -> Result<Vec<SiteUrl>, ApiError> {
    let site = &state.site;
    let mut urls = Vec::new();
    if site.template(PageType::Publications).is_some() {
        for editions in published_editions(state).await? {
            add(
                &mut urls,
                site,
                PageType::Publications,
                (&editions.id, &editions.slug),
                &editions.languages,
                Some(&editions.updated_at),
            );
        }
    }
    for project in catalog.projects.iter() {
        let languages = languages_of(&project.title);
        let key = (project.id.as_str(), project.slug.as_str());
        add(&mut urls, site, PageType::Projects, key, &languages, None);
    }
    for org in catalog.organisations.iter() {
        let languages = languages_of(&org.name);
        let key = (org.id.as_str(), org.slug.as_str());
        add(
            &mut urls,
            site,
            PageType::Organisations,
            key,
            &languages,
            None,
        );
    }
    for event in catalog.events.iter() {
        let languages = languages_of(&event.title);
        let key = (event.id.as_str(), event.slug.as_str());
        add(&mut urls, site, PageType::Events, key, &languages, None);
    }
    for field in catalog.fields.iter() {
        let languages = languages_of(&field.label);
        let key = (field.id.as_str(), field.slug.as_str());
        add(&mut urls, site, PageType::Fields, key, &languages, None);
    }
    Ok(urls)
}

fn urlset(urls: &[SiteUrl]) -> String {
    let mut xml = String::with_capacity(urls.len() * 256 + 256);
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for url in urls {
        let _ = write!(xml, "<url><loc>{}</loc>", escape(&url.loc));
        if let Some(lastmod) = &url.lastmod {
            let _ = write!(xml, "<lastmod>{}</lastmod>", escape(lastmod));
        }
        for (lang, href) in &url.alternates {
            let _ = write!(
                xml,
                "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                lang.as_str(),
                escape(href)
            );
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}

fn index(base: &str, pages: usize) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for page in 1..=pages {
        let _ = writeln!(
            xml,
            "<sitemap><loc>{}</loc></sitemap>",
            escape(&format!("{base}/sitemap.xml?page={page}"))
        );
    }
    xml.push_str("</sitemapindex>\n");
    xml
}

/// The website's sitemap
///
/// The pages of the organisation's website (`ARKIV_SITE_URL`) for every
/// published publication and every project, organisation, event and field
/// of work: one `<url>` per language edition, each with `xhtml:link`
/// alternates (`hreflang`) to the others, publications with `lastmod`.
/// Past 50,000 URLs it is a sitemap index whose files are `?page=1`, `?page=2`, ….
/// 404 when no site URL is configured.
#[utoipa::path(
    tag = "site",
    params(SitemapParams),
    responses(
        (status = 200, description = "A sitemap (`urlset`) or, past 50,000 URLs, a sitemap index", content_type = "application/xml", body = String, headers(("ETag" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No site URL is configured, or the index has no such page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sitemap.xml")]
pub async fn sitemap(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query: SitemapParams = params::read(&req)?;
    if !state.site.is_configured() {
        return Err(ApiError::new(
            ErrorCode::SiteNotConfigured,
            "no site URL is configured (ARKIV_SITE_URL), so there are no site pages to list",
        ));
    }
    let snapshot = state.snapshot().await?;
    // The same for every language: cached under one, until the next write.
    let requested = Requested {
        ranges: vec![LanguageRange::Exact(Lang::En)],
        all: false,
    };
    state
        .cache
        .respond(&req, &requested, snapshot.seq, async {
            let urls = site_urls(&state, &snapshot.catalog).await?;
            let per_file = state.sitemap_urls.clamp(1, MAX_SITEMAP_URLS);
            let files = urls.len().div_ceil(per_file).max(1);
            let xml = match query.page {
                None if files == 1 => urlset(&urls),
                None => index(state.public_url.as_str(), files),
                Some(page) => {
                    let page = usize::try_from(page).unwrap_or(usize::MAX);
                    if page > files {
                        return Err(ApiError::not_found("sitemap page", &page.to_string()));
                    }
                    let start = (page - 1) * per_file;
                    urlset(&urls[start..urls.len().min(start + per_file)])
                }
            };
            let mut encoded = respond::encode_bytes(xml.into_bytes(), &[])?;
            encoded.content_type = Some("application/xml; charset=utf-8");
            Ok(encoded)
        })
        .await
}
