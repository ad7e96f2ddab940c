//! `/v1/labels`: the closed vocabularies with their labels, the same ones
//! every other response carries, in one language or in all four.

use serde_json::Value;

use super::{assert_problem, demo_app, Backend, TestApp, TestDb};

fn values(labels: &Value, vocabulary: &str) -> Vec<String> {
    labels[vocabulary]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter_map(|entry| entry["value"].as_str().map(str::to_owned))
        .collect()
}

fn label_of(labels: &Value, vocabulary: &str, value: &str) -> Value {
    labels[vocabulary]
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["value"] == value))
        .cloned()
        .unwrap_or(Value::Null)
}

#[actix_web::test]
async fn labels_come_in_the_language_asked_and_match_what_items_carry() {
    let db = TestDb::new(Backend::Sqlite).expect("SQLite").with_demo();
    let app = TestApp::with_search(db);
    let reply = app.get("/v1/labels?lang=sq").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-language").as_deref(), Some("sq"));
    assert_eq!(
        reply.header("cache-control").as_deref(),
        Some("public, max-age=86400")
    );
    let labels = reply.json();
    assert_eq!(labels["language"], "sq");
    assert_eq!(
        values(&labels, "publication_kinds"),
        [
            "report",
            "policy_paper",
            "discussion_conclusions",
            "media_monitoring"
        ]
    );
    assert_eq!(
        values(&labels, "publication_statuses"),
        ["draft", "published", "withdrawn"]
    );
    assert_eq!(values(&labels, "event_kinds").len(), 5);
    assert_eq!(
        values(&labels, "organisation_roles"),
        ["funder", "partner", "implementer"]
    );
    let policy = label_of(&labels, "publication_kinds", "policy_paper");
    assert_eq!(policy["label"], "Dokument politikash");
    assert_eq!(policy["plural"], "Dokumente politikash");
    let cyrillic = label_of(&labels, "languages", "sr-Cyrl");
    assert_eq!(cyrillic["label"], "Serbisht (cirilik)");
    assert_eq!(cyrillic["native"], "Српски (ћирилица)");

    // The labels are those a publication and a search facet carry.
    let publication = app
        .get("/v1/publications/conclusions-expert-discussion-2024-10-31?lang=sq")
        .await
        .json();
    let kind = publication["kind"].as_str().unwrap_or_default();
    assert_eq!(
        label_of(&labels, "publication_kinds", kind)["label"],
        publication["kind_label"]
    );
    let search = app
        .get("/v1/search?q=dialogue&facets=kind,language&lang=sq")
        .await
        .json();
    for facet in search["facets"]["kind"].as_array().expect("kind facet") {
        let value = facet["value"].as_str().unwrap_or_default();
        assert_eq!(
            label_of(&labels, "publication_kinds", value)["label"],
            facet["label"]
        );
    }
    for facet in search["facets"]["language"].as_array().expect("facet") {
        let value = facet["value"].as_str().unwrap_or_default();
        assert_eq!(
            label_of(&labels, "languages", value)["label"],
            facet["label"]
        );
    }
}

#[actix_web::test]
async fn labels_negotiate_like_every_read_and_come_all_at_once() {
    let app = demo_app(Backend::Sqlite);
    let cyrillic = app
        .get_with("/v1/labels", &[("Accept-Language", "de, sr-Cyrl;q=0.5")])
        .await
        .json();
    assert_eq!(cyrillic["language"], "sr-Cyrl");
    assert_eq!(
        label_of(&cyrillic, "event_kinds", "summit")["label"],
        "Самит"
    );
    // `sr` in either script: Latin labels.
    assert_eq!(
        app.get("/v1/labels?lang=sr").await.json()["language"],
        "sr-Latn"
    );
    assert_eq!(app.get("/v1/labels").await.json()["language"], "en");

    let reply = app.get("/v1/labels?lang=all").await;
    assert_eq!(
        reply.header("content-language").as_deref(),
        Some("en, sq, sr-Cyrl, sr-Latn")
    );
    let all = reply.json();
    let tags: Vec<&String> = all.as_object().expect("object").keys().collect();
    assert_eq!(tags, ["en", "sq", "sr-Cyrl", "sr-Latn"]);
    for (tag, labels) in all.as_object().expect("object") {
        assert_eq!(&labels["language"], tag);
        assert_eq!(
            labels,
            &app.get(&format!("/v1/labels?lang={tag}")).await.json()
        );
    }
    let distinct: std::collections::BTreeSet<String> = all
        .as_object()
        .expect("object")
        .values()
        .map(|labels| label_of(labels, "publication_kinds", "report")["plural"].to_string())
        .collect();
    assert_eq!(distinct.len(), 4, "{distinct:?}");

    // Revalidation is cheap; a wrong parameter is named.
    let etag = reply.header("etag").expect("etag");
    let again = app
        .get_with("/v1/labels?lang=all", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    assert_problem(
        &app.get("/v1/labels?lang=xx-").await,
        400,
        "invalid_parameter",
    );
    assert_problem(
        &app.get("/v1/labels?language=sq").await,
        400,
        "unknown_query_parameter",
    );
}
