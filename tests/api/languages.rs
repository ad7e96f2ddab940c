//! Language negotiation: `?lang=` over `Accept-Language` over `en`, the
//! fallback chain, derived Latin, and the headers that say what was served.

use super::{assert_problem, demo_app, TestApp, TestDb};
use crate::on_both_backends;

const CONCLUSIONS: &str = "/v1/publications/conclusions-expert-discussion-2024-10-31";

on_both_backends!(the_demo_archive_answers_in_all_four_tags, |backend| {
    let app = demo_app(backend);
    let mut titles = Vec::new();
    for tag in ["en", "sq", "sr-Latn", "sr-Cyrl"] {
        let reply = app.get(&format!("{CONCLUSIONS}?lang={tag}")).await;
        assert_eq!(reply.status, 200);
        let publication = reply.json();
        assert_eq!(publication["language"], tag);
        assert_eq!(reply.header("content-language").as_deref(), Some(tag));
        assert_eq!(
            reply.header("vary").as_deref(),
            Some("Accept-Language, Accept, Accept-Encoding"),
            "the same URL answers JSON-LD to Accept"
        );
        assert_eq!(publication["requested_languages"], serde_json::json!([tag]));
        assert_eq!(
            publication["available_languages"],
            serde_json::json!(["en", "sq", "sr-Latn", "sr-Cyrl"])
        );
        titles.push(publication["title"].as_str().unwrap_or_default().to_owned());
    }
    let distinct: std::collections::BTreeSet<&String> = titles.iter().collect();
    assert_eq!(distinct.len(), 4, "four different titles: {titles:?}");
    // Only Cyrillic is stored: Latin is derived, marked, and exact.
    let latin = app.get(&format!("{CONCLUSIONS}?lang=sr-Latn")).await.json();
    let cyrillic = app.get(&format!("{CONCLUSIONS}?lang=sr-Cyrl")).await.json();
    assert_eq!(latin["derived_from"], "sr-Cyrl");
    assert!(cyrillic["derived_from"].is_null());
    let expected =
        arkiv::domain::translit::cyrillic_to_latin(cyrillic["body"].as_str().unwrap_or_default());
    assert_eq!(latin["body"], expected);
    assert!(!latin["body"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)));
    // Vocabulary comes in the served language too.
    assert_eq!(cyrillic["kind_label"], "Закључци дискусије");
    assert_eq!(
        app.get(&format!("{CONCLUSIONS}?lang=sq")).await.json()["kind_label"],
        "Përfundimet e diskutimit"
    );
});

on_both_backends!(accept_language_q_values_and_fallbacks, |backend| {
    let app = demo_app(backend);
    // q-values order the preferences; unsupported tags are skipped.
    let reply = app
        .get_with(
            CONCLUSIONS,
            &[("Accept-Language", "de;q=1, sr-Cyrl;q=0.4, sq;q=0.8")],
        )
        .await;
    assert_eq!(reply.json()["language"], "sq");
    assert_eq!(
        reply.json()["requested_languages"],
        serde_json::json!(["de", "sq", "sr-Cyrl"])
    );
    // ?lang= wins over the header.
    let reply = app
        .get_with(
            &format!("{CONCLUSIONS}?lang=en"),
            &[("Accept-Language", "sq")],
        )
        .await;
    assert_eq!(reply.json()["language"], "en");
    // No preference at all: English.
    assert_eq!(app.get(CONCLUSIONS).await.json()["language"], "en");
    // `sr` takes the stored script: Latin first where both exist.
    let both = "/v1/publications/conclusions-informal-discussion-2024-10-24?lang=sr";
    assert_eq!(app.get(both).await.json()["language"], "sr-Latn");
    assert_eq!(
        app.get(&format!("{CONCLUSIONS}?lang=sr")).await.json()["language"],
        "sr-Cyrl"
    );
    // An English-only publication falls back to English whatever is asked.
    let english_only = app
        .get("/v1/publications/conclusions-diplomats-discussion-kpds-2024?lang=sq")
        .await;
    assert_eq!(english_only.json()["language"], "en");
    assert_eq!(
        english_only.json()["available_languages"],
        serde_json::json!(["en"])
    );
    assert_eq!(
        english_only.header("content-language").as_deref(),
        Some("en")
    );
    // Cyrillic asked, only Latin stored: the other script.
    let latin_only = app
        .get("/v1/publications/media-monitoring-report-2024-q4?lang=sr-Cyrl")
        .await;
    assert_eq!(latin_only.json()["language"], "sr-Latn");
});

on_both_backends!(labels_follow_the_page_not_the_fallen_back_text, |backend| {
    let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
    // Only English text exists; the page is Albanian: every label is too.
    let url = "/v1/publications/conclusions-diplomats-discussion-kpds-2024?lang=sq";
    let publication = app.get(url).await.json();
    assert_eq!(publication["language"], "en", "the text fell back");
    assert_eq!(publication["kind_label"], "Përfundimet e diskutimit");
    assert_eq!(
        publication["project"]["title"],
        "Samiti i Kosovës për Paqe dhe Demokraci"
    );
    assert_eq!(
        publication["fields"][0]["label"],
        "Normalizimi i marrëdhënieve/dialogu"
    );
    assert_eq!(
        publication["event"]["title"],
        "Diskutim joformal me diplomatë të SHBA-së dhe të BE-së për dialogun Kosovë-Serbi"
    );
    let partners: Vec<&str> = publication["partners"]
        .as_array()
        .expect("partners")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        partners.contains(&"Qendra Kosovare për Studime të Sigurisë"),
        "{partners:?}"
    );
    // The same item in a list and in a search hit carries the same labels.
    let page = app
        .get("/v1/publications?lang=sq&kind=discussion_conclusions&limit=100")
        .await
        .json();
    let item = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["slug"] == "conclusions-diplomats-discussion-kpds-2024")
        .cloned()
        .expect("listed");
    assert_eq!(item["language"], "en");
    assert_eq!(item["kind_label"], "Përfundimet e diskutimit");
    assert_eq!(
        item["event"]["kind_label"],
        publication["event"]["kind_label"]
    );
    let hits = app.get("/v1/search?q=diplomats&lang=sq").await.json();
    let hit = hits["items"]
        .as_array()
        .expect("hits")
        .iter()
        .find(|h| h["slug"] == "conclusions-diplomats-discussion-kpds-2024")
        .cloned()
        .expect("found");
    assert_eq!(hit["kind_label"], "Përfundimet e diskutimit");
    assert_eq!(
        hit["project"]["title"],
        "Samiti i Kosovës për Paqe dhe Demokraci"
    );
});

on_both_backends!(
    lang_all_lists_every_variant_with_the_derived_one,
    |backend| {
        let app = demo_app(backend);
        let publication = app.get(&format!("{CONCLUSIONS}?lang=all")).await.json();
        let variants = publication["variants"].as_object().expect("variants");
        let tags: Vec<&str> = variants.keys().map(String::as_str).collect();
        assert_eq!(
            tags,
            vec!["en", "sq", "sr-Cyrl", "sr-Latn"],
            "(sorted by the JSON map)"
        );
        assert_eq!(variants["sr-Latn"]["derived_from"], "sr-Cyrl");
        assert_eq!(
            publication["requested_languages"],
            serde_json::json!(["all"])
        );
        assert_problem(
            &app.get("/v1/publications?lang=all").await,
            400,
            "invalid_parameter",
        );
    }
);

on_both_backends!(lists_serve_each_item_in_its_best_language, |backend| {
    let app = demo_app(backend);
    let reply = app.get("/v1/publications?lang=sq&limit=100").await;
    let page = reply.json();
    let languages: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["language"].as_str())
        .collect();
    assert!(
        languages.contains(&"sq") && languages.contains(&"en"),
        "{languages:?}"
    );
    assert_eq!(reply.header("content-language").as_deref(), Some("en, sq"));
    // Labels of vocabulary in lists follow too.
    let fields = app.get("/v1/fields?lang=sr-Cyrl").await.json();
    assert!(
        fields["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|f| f["language"] == "sr-Cyrl"),
        "{fields}"
    );
    let organisations = app
        .get_with("/v1/organisations", &[("Accept-Language", "sr-Latn")])
        .await
        .json();
    let foreign_office = organisations["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|o| o["slug"] == "german-federal-foreign-office")
        .cloned()
        .expect("funder");
    assert_eq!(foreign_office["language"], "sr-Latn");
    assert!(
        foreign_office["name"]
            .as_str()
            .is_some_and(|n| n.contains("Nemačke")),
        "{foreign_office}"
    );
});
