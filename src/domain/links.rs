//! Links to the organisation's own website: the page a reader should open
//! for a publication, project, organisation, event or field of work, made
//! from URL templates (`ARKIV_SITE_URL` and its per-type overrides).

use super::Lang;

/// The sitemap protocol's limit of URLs in one sitemap file.
pub const MAX_SITEMAP_URLS: usize = 50_000;

/// The kinds of page a site has, as `{type}` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageType {
    Publications,
    Projects,
    Organisations,
    Events,
    Fields,
}

impl PageType {
    /// Every type, in the order the sitemap lists them.
    pub const ALL: [PageType; 5] = [
        PageType::Publications,
        PageType::Projects,
        PageType::Organisations,
        PageType::Events,
        PageType::Fields,
    ];

    /// The `{type}` value, also the API's collection name.
    pub fn as_str(self) -> &'static str {
        match self {
            PageType::Publications => "publications",
            PageType::Projects => "projects",
            PageType::Organisations => "organisations",
            PageType::Events => "events",
            PageType::Fields => "fields",
        }
    }

    /// The suffix of the per-type override's variable (`ARKIV_SITE_URL_…`).
    pub fn env_suffix(self) -> &'static str {
        match self {
            PageType::Publications => "PUBLICATIONS",
            PageType::Projects => "PROJECTS",
            PageType::Organisations => "ORGANISATIONS",
            PageType::Events => "EVENTS",
            PageType::Fields => "FIELDS",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Lang,
    Type,
    Slug,
    Id,
}

/// A checked URL template: `https://example.org/{lang}/{type}/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteTemplate {
    parts: Vec<Part>,
    has_lang: bool,
}

/// The longest template accepted: a URL, not a document.
const MAX_TEMPLATE_LEN: usize = 2048;

impl SiteTemplate {
    /// Parses a template: an `http(s)` URL with a host, no spaces, and the
    /// placeholders `{lang}`, `{type}`, `{slug}` and `{id}`, at least one of
    /// the last two (else every page would have one address).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() > MAX_TEMPLATE_LEN {
            return Err(format!("must be at most {MAX_TEMPLATE_LEN} characters"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters".into());
        }
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err("has a '}' without its '{'".into());
            }
            let close = rest[open..]
                .find('}')
                .map(|at| open + at)
                .ok_or("has a '{' without its '}'")?;
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            parts.push(match &rest[open + 1..close] {
                "lang" => Part::Lang,
                "type" => Part::Type,
                "slug" => Part::Slug,
                "id" => Part::Id,
                other => {
                    return Err(format!(
                        "names {{{other}}}; the placeholders are {{lang}}, {{type}}, {{slug}} and {{id}}"
                    ))
                }
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Slug | Part::Id)) {
            return Err("must contain {slug} or {id}".into());
        }
        let template = Self {
            has_lang: parts.contains(&Part::Lang),
            parts,
        };
        let sample = template.expand(
            PageType::Publications,
            Lang::SrLatn,
            "sample-slug",
            "0193a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b",
        );
        check_url(&sample)?;
        Ok(template)
    }

    /// Whether the page's address depends on its language.
    pub fn has_lang(&self) -> bool {
        self.has_lang
    }

    /// Fills the template in. Slugs, ids, types and tags are URL-safe by
    /// construction, so they go in as they are.
    pub fn expand(&self, page: PageType, lang: Lang, slug: &str, id: &str) -> String {
        let mut url = String::with_capacity(96);
        for part in &self.parts {
            match part {
                Part::Text(text) => url.push_str(text),
                Part::Lang => url.push_str(lang.as_str()),
                Part::Type => url.push_str(page.as_str()),
                Part::Slug => url.push_str(slug),
                Part::Id => url.push_str(id),
            }
        }
        url
    }
}

/// Checks what a template gives: `http` or `https`, a host, no user name.
fn check_url(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err("must name a host".into());
    }
    if authority.contains('@') {
        return Err("must not carry a user name or password".into());
    }
    Ok(())
}

/// The site's page templates: one for every type, and overrides per type.
/// A type with neither has no site pages (`links.site` is null).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteLinks {
    templates: [Option<SiteTemplate>; 5],
}

impl SiteLinks {
    /// Builds the templates from the shared one and the per-type ones.
    pub fn new(default: Option<SiteTemplate>, overrides: Vec<(PageType, SiteTemplate)>) -> Self {
        let mut templates: [Option<SiteTemplate>; 5] = Default::default();
        for page in PageType::ALL {
            templates[page.index()] = default.clone();
        }
        for (page, template) in overrides {
            templates[page.index()] = Some(template);
        }
        Self { templates }
    }

    /// Whether any type has site pages.
    pub fn is_configured(&self) -> bool {
        self.templates.iter().any(Option::is_some)
    }

    /// The template of a type, if the site has such pages.
    pub fn template(&self, page: PageType) -> Option<&SiteTemplate> {
        self.templates[page.index()].as_ref()
    }

    /// The site's page for a resource in a language, if there is one.
    pub fn page(&self, page: PageType, lang: Lang, slug: &str, id: &str) -> Option<String> {
        self.template(page)
            .map(|template| template.expand(page, lang, slug, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0193a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b";

    #[test]
    fn a_template_fills_in_every_placeholder() {
        let template =
            SiteTemplate::parse("https://nsi-ks.com/{lang}/{type}/{slug}?ref={id}").expect("valid");
        assert!(template.has_lang());
        assert_eq!(
            template.expand(PageType::Events, Lang::SrCyrl, "summit-2024", ID),
            format!("https://nsi-ks.com/sr-Cyrl/events/summit-2024?ref={ID}")
        );
        let by_id = SiteTemplate::parse("http://localhost:3000/p/{id}").expect("valid");
        assert!(!by_id.has_lang());
    }

    #[test]
    fn templates_that_cannot_make_a_page_address_are_refused() {
        for (raw, why) in [
            ("https://nsi-ks.com/{lang}/{type}", "{slug} or {id}"),
            ("https://nsi-ks.com/{language}/{slug}", "{language}"),
            ("https://nsi-ks.com/{slug", "without its '}'"),
            ("https://nsi-ks.com/slug}", "without its '{'"),
            ("ftp://nsi-ks.com/{slug}", "http://"),
            ("javascript:alert(1)//{slug}", "http://"),
            ("https:///{slug}", "host"),
            ("https://user:pw@nsi-ks.com/{slug}", "user name"),
            ("https://nsi-ks.com/a b/{slug}", "spaces"),
        ] {
            let error = SiteTemplate::parse(raw).expect_err(raw);
            assert!(error.contains(why), "{raw}: {error}");
        }
    }

    #[test]
    fn overrides_win_and_types_without_a_template_have_no_page() {
        let shared = SiteTemplate::parse("https://nsi-ks.com/{lang}/{type}/{slug}").ok();
        let reports = SiteTemplate::parse("https://nsi-ks.com/{lang}/raporte/{slug}").expect("ok");
        let links = SiteLinks::new(shared, vec![(PageType::Publications, reports)]);
        assert_eq!(
            links
                .page(PageType::Publications, Lang::Sq, "a", ID)
                .as_deref(),
            Some("https://nsi-ks.com/sq/raporte/a")
        );
        assert_eq!(
            links.page(PageType::Fields, Lang::En, "b", ID).as_deref(),
            Some("https://nsi-ks.com/en/fields/b")
        );
        let only = SiteLinks::new(
            None,
            vec![(
                PageType::Projects,
                SiteTemplate::parse("https://x.org/{slug}").expect("ok"),
            )],
        );
        assert!(only.is_configured());
        assert_eq!(only.page(PageType::Events, Lang::En, "c", ID), None);
        assert!(!SiteLinks::default().is_configured());
    }
}
