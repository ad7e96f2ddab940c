//! Atom and JSON Feed, read by real feed parsers: Python's feedparser for
//! Atom (it has no JSON Feed support in a release), the `feed-rs` crate
//! for both.

use serde_json::Value;

use super::{assert_problem, demo_app, python_parser};
use crate::on_both_backends;

/// Parses a feed with feedparser; None when it is not installed here.
fn feedparser(feed: &[u8], content_type: &str) -> Option<Value> {
    let script = r#"
import json, sys
try:
    import feedparser
except ImportError:
    print("null"); sys.exit(0)
d = feedparser.parse(sys.argv[1], response_headers={"content-type": sys.argv[2]})
print(json.dumps({
    "bozo": bool(d.bozo), "error": str(d.get("bozo_exception", "")),
    "version": d.version, "title": d.feed.get("title"), "language": d.feed.get("language"),
    "entries": [{
        "id": e.get("id"), "title": e.get("title"), "summary": e.get("summary"),
        "authors": [a.get("name") for a in e.get("authors", [])],
        "tags": [t.get("term") for t in e.get("tags", [])],
        "links": [{"rel": l.get("rel"), "hreflang": l.get("hreflang"), "href": l.get("href")} for l in e.get("links", [])],
        "published": e.get("published"),
    } for e in d.entries],
}))
"#;
    python_parser(script, feed, &[content_type], "feedparser")
}

on_both_backends!(feeds_parse_and_link_every_language, |backend| {
    let app = demo_app(backend);
    let listed = app.get("/v1/publications?limit=100").await.json();
    let published = listed["total"].as_u64().expect("total") as usize;

    let atom = app.get("/v1/feeds/publications.atom?lang=sq").await;
    assert_eq!(atom.status, 200);
    assert!(atom
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/atom+xml")));
    assert!(atom.header("etag").is_some());
    let json = app.get("/v1/feeds/publications.json?lang=sq").await;
    assert_eq!(json.status, 200);
    assert_eq!(
        json.header("content-type").as_deref(),
        Some("application/feed+json")
    );
    assert_eq!(json.json()["version"], "https://jsonfeed.org/version/1.1");

    // feed-rs reads both.
    for (body, kind) in [
        (&atom.body, feed_rs::model::FeedType::Atom),
        (&json.body, feed_rs::model::FeedType::JSON),
    ] {
        let feed = feed_rs::parser::parse(&body[..]).expect("a feed feed-rs can read");
        assert_eq!(feed.feed_type, kind);
        assert_eq!(feed.entries.len(), published.min(50));
        for entry in &feed.entries {
            assert!(entry.id.starts_with("urn:uuid:"), "{}", entry.id);
            assert!(entry.title.as_ref().is_some_and(|t| !t.content.is_empty()));
            assert!(entry.updated.is_some());
        }
    }
    let Some(atom) = feedparser(&atom.body, "application/atom+xml") else {
        return;
    };
    assert_eq!(atom["bozo"], false, "{}", atom["error"]);
    assert_eq!(atom["version"], "atom10");
    let entries = atom["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), published.min(50));
    // Entries in Albanian, with links to the other languages.
    let listed_sq = app.get("/v1/publications?limit=100&lang=sq").await.json();
    let titles_sq: Vec<&str> = listed_sq["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect();
    for entry in entries {
        assert!(
            titles_sq.contains(&entry["title"].as_str().unwrap_or_default()),
            "{entry}"
        );
    }
    let hreflangs: Vec<String> = entries
        .iter()
        .flat_map(|e| e["links"].as_array().cloned().unwrap_or_default())
        .filter_map(|l| l["hreflang"].as_str().map(str::to_owned))
        .collect();
    for lang in ["sq", "en", "sr-Cyrl"] {
        assert!(
            hreflangs.iter().any(|h| h == lang),
            "{lang} in {hreflangs:?}"
        );
    }

    // Filters narrow the feed; unknown parameters are refused.
    let reports = app
        .get("/v1/feeds/publications.json?kind=report")
        .await
        .json();
    for item in reports["items"].as_array().expect("items") {
        assert_eq!(item["_arkiv"]["kind"], "report");
    }
    assert_problem(
        &app.get("/v1/feeds/publications.atom?colour=red").await,
        400,
        "unknown_query_parameter",
    );
});
