//! Citations, read back by real parsers: Python's bibtexparser and rispy.

use serde_json::Value;

use super::{assert_problem, demo_app, python_parser};
use crate::on_both_backends;

/// Parses a citation with a Python library; None when it is not installed here.
fn parse_with(kind: &str, text: &[u8]) -> Option<Value> {
    let script = r#"
import json, sys
path, kind = sys.argv[1], sys.argv[2]
try:
    if kind == "bibtex":
        import bibtexparser
        from bibtexparser.bparser import BibTexParser
        from bibtexparser.customization import convert_to_unicode
        parser = BibTexParser(common_strings=True)
        parser.customization = convert_to_unicode
        with open(path, encoding="utf-8") as f:
            db = bibtexparser.load(f, parser=parser)
        # Each author as BibTeX splits it, read without the unicode
        # conversion (which drops braces): an organisation in braces is one
        # last name, nothing else.
        from bibtexparser.customization import splitname
        with open(path, encoding="utf-8") as f:
            raw = bibtexparser.load(f, parser=BibTexParser(common_strings=True))
        for entry, as_written in zip(db.entries, raw.entries):
            names = [n.strip() for n in as_written.get("author", "").split(" and ") if n.strip()]
            entry["author_parts"] = [splitname(n) for n in names]
        print(json.dumps(db.entries))
    else:
        import rispy
        with open(path, encoding="utf-8") as f:
            print(json.dumps(rispy.load(f), default=str))
except ImportError:
    print("null")
"#;
    python_parser(script, text, &[kind], "bibtexparser and rispy")
}

on_both_backends!(every_publication_cites_in_every_format, |backend| {
    let app = demo_app(backend);
    let listed = app
        .get("/v1/publications?limit=100&lang=sr-Latn")
        .await
        .json();
    let items = listed["items"].as_array().expect("items").clone();
    assert!(!items.is_empty());
    for item in &items {
        let slug = item["slug"].as_str().expect("slug");
        let title = item["title"].as_str().expect("title");
        let base = format!("/v1/publications/{slug}/citation");

        let bib = app.get(&format!("{base}?lang=sr-Latn")).await;
        assert_eq!(bib.status, 200);
        assert_eq!(
            bib.header("content-disposition"),
            Some(format!("attachment; filename=\"{slug}.bib\""))
        );
        assert!(bib
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/x-bibtex")));
        if let Some(entries) = parse_with("bibtex", &bib.body) {
            assert_eq!(entries.as_array().map(Vec::len), Some(1), "{slug}");
            let entry = &entries[0];
            assert_eq!(entry["title"], title, "{slug}: Serbian letters survive");
            assert!(entry["url"].as_str().is_some_and(|u| u.ends_with(slug)));
            // The demo's authors are organisations: each stays one name,
            // braced, never a person with a first name.
            let authors: Vec<&str> = item["authors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let parts = entry["author_parts"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(parts.len(), authors.len(), "{slug}: {entry}");
            for (name, part) in authors.iter().zip(&parts) {
                assert_eq!(
                    part["last"],
                    serde_json::json!([format!("{{{name}}}")]),
                    "{slug}"
                );
                assert!(
                    part["first"].as_array().is_none_or(Vec::is_empty),
                    "{slug}: {name} split into {part}"
                );
            }
        }

        let ris = app
            .get_with(
                &base,
                &[
                    ("Accept", "application/x-research-info-systems"),
                    ("Accept-Language", "sq"),
                ],
            )
            .await;
        assert_eq!(ris.status, 200);
        assert!(ris
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/x-research-info-systems")));
        let title_sq = app
            .get(&format!("/v1/publications/{slug}?lang=sq"))
            .await
            .json()["title"]
            .clone();
        if let Some(records) = parse_with("ris", &ris.body) {
            assert_eq!(records.as_array().map(Vec::len), Some(1), "{slug}");
            assert_eq!(
                records[0]["title"], title_sq,
                "{slug}: Albanian letters survive"
            );
            assert_eq!(
                records[0]["type_of_reference"]
                    .as_str()
                    .map(|t| t == "RPRT" || t == "GEN"),
                Some(true)
            );
        }

        let csl = app.get(&format!("{base}?format=csl-json")).await;
        assert_eq!(
            csl.header("content-type").as_deref(),
            Some("application/vnd.citationstyles.csl+json")
        );
        let csl = csl.json();
        assert_eq!(csl[0]["type"], "report");
        assert!(csl[0]["title"].is_string());

        let ld = app
            .get_with(&base, &[("Accept", "application/ld+json")])
            .await;
        assert_eq!(
            ld.header("content-disposition"),
            Some(format!("attachment; filename=\"{slug}.jsonld\""))
        );
        let ld = ld.json();
        assert_eq!(ld["@context"], "https://schema.org");
        assert!(ld["@type"] == "Report" || ld["@type"] == "ScholarlyArticle");
        assert!(ld["inLanguage"].is_string());
        let others = item["available_languages"].as_array().map_or(0, Vec::len) - 1;
        assert_eq!(
            ld["workTranslation"].as_array().map(Vec::len),
            Some(others),
            "{slug}"
        );
        // Organisations are typed as such; a project is a series (the
        // range of isPartOf is a creative work) funded by a grant from
        // each funder.
        for author in ld["author"].as_array().into_iter().flatten() {
            assert_eq!(author["@type"], "Organization", "{slug}: {author}");
        }
        if !item["project"].is_null() {
            assert_eq!(ld["isPartOf"]["@type"], "CreativeWorkSeries");
            assert_eq!(ld["isPartOf"]["identifier"], item["project"]["slug"]);
            assert!(ld["isPartOf"]["name"].is_string());
        }
        let funders = item["funders"].as_array().cloned().unwrap_or_default();
        if !funders.is_empty() {
            assert!(ld["funder"].as_array().is_some_and(|f| !f.is_empty()));
            let grants = ld["funding"].as_array().cloned().unwrap_or_default();
            assert_eq!(grants.len(), funders.len(), "{slug}");
            for (grant, funder) in grants.iter().zip(&funders) {
                assert_eq!(grant["@type"], "MonetaryGrant");
                assert_eq!(grant["funder"]["@type"], "Organization");
                assert!(grant["funder"]["name"].is_string());
                assert_eq!(grant["identifier"], funder["grant_number"]);
            }
        }
        assert!(ld.get("encoding").is_none(), "the demo has no files");
    }
    assert_problem(
        &app.get("/v1/publications/nowhere/citation").await,
        404,
        "not_found",
    );
    let slug = items[0]["slug"].as_str().expect("slug");
    assert_problem(
        &app.get(&format!("/v1/publications/{slug}/citation?format=word"))
            .await,
        400,
        "invalid_parameter",
    );
});

on_both_backends!(json_ld_can_be_pasted_into_a_script_element, |backend| {
    let app = super::demo_app(backend);
    let editor = app.key(arkiv::domain::keys::Role::Editor);
    let title = "</script><script>alert(1)</script> & <b>Ujë</b>";
    let made = app
        .send_json(
            actix_web::http::Method::POST,
            "/v1/publications",
            Some(&editor),
            &serde_json::json!({"slug": "script-in-title", "kind": "report", "status": "published",
                    "published_on": "2026-02-01", "authors": ["A <i>B</i>"], "keywords": ["x&y"],
                    "variants": {"sq": {"title": title}}}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    let uri = "/v1/publications/script-in-title/citation";
    for reply in [
        app.get(&format!("{uri}?format=jsonld")).await,
        app.get_with(uri, &[("Accept", "application/ld+json")])
            .await,
    ] {
        assert_eq!(reply.status, 200);
        let text = String::from_utf8(reply.body.clone()).expect("UTF-8");
        assert!(!text.contains(['<', '>', '&']), "{text}");
        assert!(text.contains("\\u003c/script\\u003e"), "{text}");
        // Still the same JSON.
        let ld = reply.json();
        assert_eq!(ld["name"], title);
        assert_eq!(ld["headline"], title);
        assert_eq!(ld["author"][0]["name"], "A <i>B</i>");
        assert_eq!(ld["author"][0]["@type"], "Person");
        assert_eq!(ld["keywords"][0], "x&y");
    }
});

on_both_backends!(a_publication_url_answers_json_ld_when_asked, |backend| {
    let app = demo_app(backend);
    let uri = "/v1/publications/conclusions-expert-discussion-2024-10-31";
    let citation = app
        .get(&format!("{uri}/citation?format=jsonld&lang=sq"))
        .await
        .json();
    for accept in [
        "application/ld+json",
        "application/json;q=0.5, application/ld+json",
        "text/html, application/ld+json;q=0.9, */*;q=0.1",
    ] {
        let reply = app
            .get_with(&format!("{uri}?lang=sq"), &[("Accept", accept)])
            .await;
        assert_eq!(reply.status, 200, "{accept}");
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/ld+json"),
            "{accept}"
        );
        assert_eq!(reply.header("content-disposition"), None, "not a download");
        assert!(reply
            .header("vary")
            .is_some_and(|vary| vary.contains("Accept,") || vary.ends_with("Accept")));
        assert_eq!(reply.json(), citation, "{accept}");
    }
    // Plain JSON wins a tie it is listed first in, and by default; both
    // answers say that they vary on Accept.
    for accept in [
        None,
        Some("*/*"),
        Some("application/json, application/ld+json"),
        Some("application/ld+json;q=0.2, application/json"),
    ] {
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("Accept", *a)).collect();
        let reply = app.get_with(uri, &headers).await;
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/json")
        );
        assert!(reply.json()["slug"].is_string(), "{accept:?}");
        let vary = reply.header("vary").unwrap_or_default();
        assert!(
            vary.split(", ").any(|name| name == "Accept"),
            "{accept:?}: {vary}"
        );
    }
    assert_problem(
        &app.get_with(
            &format!("{uri}?lang=all"),
            &[("Accept", "application/ld+json")],
        )
        .await,
        400,
        "invalid_parameter",
    );
});
