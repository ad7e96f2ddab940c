//! Links to the organisation's website (`ARKIV_SITE_URL`): `links.site` on
//! every resource, the site in feeds, OAI-PMH and citations, alternates for
//! a language switcher, and `/sitemap.xml`.

use std::collections::{BTreeMap, BTreeSet};

use arkiv::domain::links::{PageType, SiteLinks, SiteTemplate};
use serde_json::Value;

use super::{assert_problem, TestApp, TestDb};
use crate::on_both_backends;

const SITE: &str = "https://nsi.example/{lang}/{type}/{slug}";
const PUBLICATION_PAGES: &str = "https://nsi.example/{lang}/botime/{slug}";
const CONCLUSIONS: &str = "conclusions-expert-discussion-2024-10-31";
const ENGLISH_ONLY: &str = "conclusions-diplomats-discussion-kpds-2024";
const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

fn template(raw: &str) -> SiteTemplate {
    SiteTemplate::parse(raw).expect("a valid template")
}

/// The shared template, with publications under their own path.
fn site() -> SiteLinks {
    SiteLinks::new(
        Some(template(SITE)),
        vec![(PageType::Publications, template(PUBLICATION_PAGES))],
    )
}

/// The demo archive, searchable, with site links configured as `site`.
fn app_with(backend: super::Backend, site: SiteLinks, sitemap_urls: Option<usize>) -> TestApp {
    let mut app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
    let index = app.state.search.clone().expect("index");
    app.restart(move |state| {
        let state = state.with_search(index).with_site(site);
        match sitemap_urls {
            Some(urls) => state.with_sitemap_urls(urls),
            None => state,
        }
    });
    app
}

/// Every `links` object anywhere in a JSON document, with where it was.
fn all_links<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "links" {
                    out.push((path.clone(), inner));
                } else {
                    all_links(inner, format!("{path}.{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                all_links(inner, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The path and query of an absolute API link, to send to the test app.
fn local(url: &str) -> &str {
    url.strip_prefix("http://127.0.0.1:8080")
        .unwrap_or_else(|| panic!("{url} is not an API link"))
}

on_both_backends!(every_resource_links_to_its_site_page, |backend| {
    let app = app_with(backend, site(), None);
    let mut documents = Vec::new();
    for uri in [
        format!("/v1/publications/{ENGLISH_ONLY}?lang=sq"),
        "/v1/publications?lang=sq&limit=100".to_owned(),
        "/v1/search?q=dialogue&lang=sq".to_owned(),
        "/v1/projects?lang=sq".to_owned(),
        "/v1/projects/kosovo-peace-and-democracy-summit?lang=sq".to_owned(),
        "/v1/organisations?lang=sq".to_owned(),
        "/v1/organisations/kcss?lang=sq".to_owned(),
        "/v1/events?lang=sq".to_owned(),
        "/v1/events/diplomats-discussion-kpds-2024?lang=sq".to_owned(),
        "/v1/fields?lang=sq".to_owned(),
        "/v1/fields/normalization-dialogue?lang=sq".to_owned(),
    ] {
        let reply = app.get(&uri).await;
        assert_eq!(reply.status, 200, "{uri}");
        documents.push((uri, reply.json()));
    }
    let mut checked = 0;
    for (uri, document) in &documents {
        let mut found = Vec::new();
        all_links(document, String::new(), &mut found);
        assert!(!found.is_empty(), "{uri} has links");
        for (path, links) in found {
            if path.contains("alternates") {
                continue;
            }
            let own = links["self"].as_str().expect("links.self");
            // /v1/<type>/<slug>?lang=sq, and the site page of the same.
            let rest = own
                .strip_prefix("http://127.0.0.1:8080/v1/")
                .unwrap_or_else(|| panic!("{uri}{path}: {own}"));
            let (kind, rest) = rest.split_once('/').expect("type/slug");
            let (slug, query) = rest.split_once('?').expect("a language");
            assert_eq!(
                query, "lang=sq",
                "{uri}{path}: links in the page's language"
            );
            let expected = if kind == "publications" {
                format!("https://nsi.example/sq/botime/{slug}")
            } else {
                format!("https://nsi.example/sq/{kind}/{slug}")
            };
            assert_eq!(links["site"], expected.as_str(), "{uri}{path}");
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} links");

    // A link to the API leads to the resource it names.
    let detail = &documents[0].1;
    for own in [
        &detail["links"]["self"],
        &detail["project"]["links"]["self"],
    ] {
        let own = own.as_str().expect("self");
        let followed = app.get(local(own)).await;
        assert_eq!(followed.status, 200, "{own}");
        assert!(own.contains(followed.json()["slug"].as_str().expect("slug")));
    }

    // Without a site URL the links stay, with a null site.
    let plain = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let detail = plain
        .get(&format!("/v1/publications/{CONCLUSIONS}"))
        .await
        .json();
    assert_eq!(
        detail["links"]["self"],
        format!("http://127.0.0.1:8080/v1/publications/{CONCLUSIONS}?lang=en").as_str()
    );
    assert!(detail["links"].get("site").is_some_and(Value::is_null));
    assert!(detail["project"]["links"]["site"].is_null());
    assert_problem(&plain.get("/sitemap.xml").await, 404, "site_not_configured");
});

on_both_backends!(
    feeds_oai_and_citations_point_readers_at_the_site,
    |backend| {
        let app = app_with(backend, site(), None);
        let page = |lang: &str, slug: &str| format!("https://nsi.example/{lang}/botime/{slug}");

        let atom = app.get("/v1/feeds/publications.atom?lang=en").await;
        let feed = feed_rs::parser::parse(&atom.body[..]).expect("an Atom feed");
        let entry = feed
            .entries
            .iter()
            .find(|e| e.links.iter().any(|l| l.href == page("en", CONCLUSIONS)))
            .expect("the entry links to its site page");
        let html: BTreeMap<Option<String>, String> = entry
            .links
            .iter()
            .filter(|l| l.media_type.as_deref() == Some("text/html"))
            .map(|l| (l.href_lang.clone(), l.href.clone()))
            .collect();
        assert_eq!(html.len(), 4, "one page per language edition: {html:?}");
        assert_eq!(
            html.get(&Some("sr-Cyrl".to_owned())),
            Some(&page("sr-Cyrl", CONCLUSIONS))
        );

        let json = app.get("/v1/feeds/publications.json?lang=sq").await.json();
        let item = json["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["_arkiv"]["slug"] == CONCLUSIONS)
            .cloned()
            .expect("listed");
        assert_eq!(item["url"], page("sq", CONCLUSIONS).as_str());
        assert!(item["external_url"]
            .as_str()
            .is_some_and(|url| url.ends_with(&format!("/v1/publications/{CONCLUSIONS}?lang=sq"))));

        let id = app
            .get(&format!("/v1/publications/{CONCLUSIONS}"))
            .await
            .json()["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let record = app
            .get(&format!(
                "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:arkiv.example.org:{id}"
            ))
            .await;
        let xml = String::from_utf8(record.body).expect("UTF-8");
        let doc = roxmltree::Document::parse(&xml).expect("XML");
        let identifiers: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name(("http://purl.org/dc/elements/1.1/", "identifier")))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(
            identifiers.first().copied(),
            Some(page("en", CONCLUSIONS).as_str())
        );
        assert_eq!(identifiers.len(), 2, "the site's page, then the API's");

        let citation = format!("/v1/publications/{CONCLUSIONS}/citation?lang=sq");
        let bibtex = app.get(&format!("{citation}&format=bibtex")).await;
        let bibtex = String::from_utf8(bibtex.body).expect("UTF-8");
        assert!(
            bibtex.contains(&format!("url = {{{}}}", page("sq", CONCLUSIONS))),
            "{bibtex}"
        );
        let json_ld = app.get(&format!("{citation}&format=jsonld")).await.json();
        assert_eq!(json_ld["@id"], page("sq", CONCLUSIONS).as_str());
        assert_eq!(json_ld["url"], json_ld["@id"]);
        let translations: BTreeSet<&str> = json_ld["workTranslation"]
            .as_array()
            .expect("translations")
            .iter()
            .filter_map(|t| t["@id"].as_str())
            .collect();
        assert!(translations.contains(page("sr-Cyrl", CONCLUSIONS).as_str()));
    }
);

on_both_backends!(alternates_name_every_language_edition, |backend| {
    let app = app_with(backend, site(), None);
    let detail = app
        .get(&format!("/v1/publications/{CONCLUSIONS}?lang=sq"))
        .await
        .json();
    let alternates = detail["alternates"].as_array().expect("alternates");
    let languages: Vec<&str> = alternates
        .iter()
        .filter_map(|a| a["language"].as_str())
        .collect();
    assert_eq!(
        Value::from(languages.clone()),
        detail["available_languages"],
        "one per edition, in the same order"
    );
    for alternate in alternates {
        let lang = alternate["language"].as_str().expect("language");
        assert_eq!(
            alternate["links"]["site"],
            format!("https://nsi.example/{lang}/botime/{CONCLUSIONS}").as_str()
        );
        // The switcher's link serves that edition, with that title.
        let edition = app
            .get(local(alternate["links"]["self"].as_str().expect("self")))
            .await
            .json();
        assert_eq!(edition["language"], lang);
        assert_eq!(edition["title"], alternate["title"]);
        assert_eq!(
            alternate["derived"],
            edition.get("derived_from").is_some_and(|d| !d.is_null()),
            "{lang}"
        );
    }
    assert!(alternates
        .iter()
        .any(|a| a["language"] == "sr-Latn" && a["derived"] == true));

    // Lists and search hits carry the same editions.
    let listed = app.get("/v1/publications?lang=sq&limit=100").await.json();
    let item = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["slug"] == CONCLUSIONS)
        .cloned()
        .expect("listed");
    assert_eq!(item["alternates"], detail["alternates"]);
    let hits = app.get("/v1/search?q=normalization&lang=sq").await.json();
    let hit = hits["items"]
        .as_array()
        .expect("hits")
        .iter()
        .find(|h| h["slug"] == CONCLUSIONS)
        .cloned()
        .expect("found");
    assert_eq!(hit["alternates"], detail["alternates"]);
    // An English-only publication has one edition.
    let single = app
        .get(&format!("/v1/publications/{ENGLISH_ONLY}?lang=sq"))
        .await
        .json();
    assert_eq!(single["alternates"].as_array().map(Vec::len), Some(1));
});

/// A sitemap's `<url>` entries: loc → (lastmod, hreflang → href).
type Urls = BTreeMap<String, (Option<String>, BTreeMap<String, String>)>;

fn read_urlset(xml: &str) -> Urls {
    let doc = roxmltree::Document::parse(xml).expect("XML");
    let root = doc.root_element();
    assert!(root.has_tag_name((SITEMAP_NS, "urlset")), "{xml}");
    let mut urls = Urls::new();
    for url in root.children().filter(|n| n.is_element()) {
        assert!(url.has_tag_name((SITEMAP_NS, "url")));
        let mut loc = None;
        let mut lastmod = None;
        let mut alternates = BTreeMap::new();
        for child in url.children().filter(|n| n.is_element()) {
            if child.has_tag_name((SITEMAP_NS, "loc")) {
                loc = child.text().map(str::to_owned);
            } else if child.has_tag_name((SITEMAP_NS, "lastmod")) {
                lastmod = child.text().map(str::to_owned);
            } else if child.has_tag_name((XHTML_NS, "link")) {
                assert_eq!(child.attribute("rel"), Some("alternate"));
                alternates.insert(
                    child.attribute("hreflang").expect("hreflang").to_owned(),
                    child.attribute("href").expect("href").to_owned(),
                );
            } else {
                panic!("unexpected element {:?}", child.tag_name());
            }
        }
        let loc = loc.expect("every url has a loc");
        assert!(loc.len() <= 2048);
        assert!(
            urls.insert(loc.clone(), (lastmod, alternates)).is_none(),
            "{loc} listed twice"
        );
    }
    urls
}

on_both_backends!(the_sitemap_lists_every_page_with_its_editions, |backend| {
    let app = app_with(backend, site(), None);
    // A draft has no public page.
    let editor = app.key(arkiv::domain::keys::Role::Editor);
    let draft = serde_json::json!({
        "slug": "an-unpublished-draft",
        "kind": "report",
        "variants": {"en": {"title": "Not yet", "body": "Still being written."}}
    });
    let made = app
        .send_json(
            actix_web::http::Method::POST,
            "/v1/publications",
            Some(&editor),
            &draft,
        )
        .await;
    assert_eq!(made.status, 201);
    let reply = app.get("/sitemap.xml").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/xml; charset=utf-8")
    );
    let urls = read_urlset(std::str::from_utf8(&reply.body).expect("UTF-8"));

    // Every published publication, once per language edition, with lastmod
    // and every edition as an alternate (itself included).
    let listed = app.get("/v1/publications?limit=100").await.json();
    let mut expected = 0;
    for item in listed["items"].as_array().expect("items") {
        let slug = item["slug"].as_str().expect("slug");
        let languages: Vec<&str> = item["available_languages"]
            .as_array()
            .expect("languages")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for lang in &languages {
            let loc = format!("https://nsi.example/{lang}/botime/{slug}");
            let (lastmod, alternates) = urls.get(&loc).unwrap_or_else(|| panic!("{loc}"));
            assert_eq!(lastmod.as_deref(), item["updated_at"].as_str());
            if languages.len() > 1 {
                let hreflangs: Vec<&str> = alternates.keys().map(String::as_str).collect();
                let mut sorted = languages.clone();
                sorted.sort_unstable();
                assert_eq!(hreflangs, sorted, "{loc}");
                assert_eq!(alternates.get(*lang), Some(&loc));
            } else {
                assert!(alternates.is_empty(), "{loc}");
            }
            expected += 1;
        }
    }
    assert!(urls.keys().all(|loc| !loc.contains("an-unpublished-draft")));
    let publications = urls.keys().filter(|loc| loc.contains("/botime/")).count();
    assert_eq!(publications, expected, "only published ones");
    for kind in ["projects", "organisations", "events", "fields"] {
        let count = urls
            .keys()
            .filter(|loc| loc.contains(&format!("/{kind}/")))
            .count();
        let total = app.get(&format!("/v1/{kind}")).await.json()["total"]
            .as_i64()
            .unwrap_or_default() as usize;
        assert!(count >= total, "{kind}: {count} pages for {total}");
    }
    assert!(app
        .get("/sitemap.xml?page=0")
        .await
        .status
        .is_client_error());
    assert_problem(&app.get("/sitemap.xml?page=2").await, 404, "not_found");

    // Past the limit it becomes an index, whose files hold the same URLs.
    let small = app_with(backend, site(), Some(10));
    let index = small.get("/sitemap.xml").await;
    let xml = String::from_utf8(index.body).expect("UTF-8");
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    assert!(doc
        .root_element()
        .has_tag_name((SITEMAP_NS, "sitemapindex")));
    let files: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name((SITEMAP_NS, "loc")))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect();
    assert_eq!(files.len(), urls.len().div_ceil(10));
    let mut union = Urls::new();
    for file in &files {
        let part = small.get(local(file)).await;
        assert_eq!(part.status, 200, "{file}");
        let part = read_urlset(std::str::from_utf8(&part.body).expect("UTF-8"));
        assert!(part.len() <= 10);
        union.extend(part);
    }
    // Another database (the demo loaded again): the same pages and
    // editions, with its own times.
    let pages = |urls: &Urls| -> BTreeMap<String, BTreeMap<String, String>> {
        urls.iter()
            .map(|(loc, (_, alternates))| (loc.clone(), alternates.clone()))
            .collect()
    };
    assert!(
        pages(&union) == pages(&urls),
        "the index's files hold every page once"
    );

    // A site without language paths has one page per resource.
    let single = SiteLinks::new(
        Some(template("https://nsi.example/{type}/{id}")),
        Vec::new(),
    );
    let flat = app_with(backend, single, None);
    let flat =
        read_urlset(std::str::from_utf8(&flat.get("/sitemap.xml").await.body).expect("UTF-8"));
    assert!(flat.values().all(|(_, alternates)| alternates.is_empty()));
    assert_eq!(
        flat.keys()
            .filter(|loc| loc.contains("/publications/"))
            .count(),
        listed["items"].as_array().map_or(0, Vec::len)
    );
});
