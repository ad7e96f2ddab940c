//! `/v1/search`, and the index kept in step with the change log.

use super::publications::fixture;
use super::{assert_problem, Backend, TestApp, TestDb};
use crate::on_both_backends;

fn slugs(results: &serde_json::Value) -> Vec<String> {
    results["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["slug"].as_str().map(str::to_owned))
        .collect()
}

/// GETs `/v1/search?q=…` (and `rest`), asserts a 200 and reads the JSON.
async fn search_json(app: &TestApp, q: &str, rest: &str) -> serde_json::Value {
    let uri = format!(
        "/v1/search?q={}{rest}",
        percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC)
    );
    let reply = app.get(&uri).await;
    assert_eq!(
        reply.status,
        200,
        "{q}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

on_both_backends!(
    one_publication_is_found_in_every_language_and_script,
    |backend| {
        let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
        let target = "conclusions-expert-discussion-2024-10-31";
        // The Serbian variant is stored only in Cyrillic; Latin with or without
        // diacritics finds it too, and so do Albanian and English words.
        for q in [
            "Приштини",
            "Prištini",
            "Pristini",
            "Prishtinë",
            "Prishtine",
            "normalization process",
            "\"expert discussion\"",
        ] {
            let results = search_json(&app, q, "").await;
            assert!(
                slugs(&results).contains(&target.to_owned()),
                "{q}: {:?}",
                slugs(&results)
            );
            let mut unique = slugs(&results);
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), slugs(&results).len(), "each publication once");
        }
        // Served in the negotiated language, whatever variant matched.
        let results = app
            .get("/v1/search?q=%D0%9F%D1%80%D0%B8%D1%88%D1%82%D0%B8%D0%BD%D0%B8&lang=sq")
            .await
            .json();
        let hit = results["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["slug"] == target)
            .cloned()
            .expect("hit");
        assert_eq!(hit["language"], "sq");
        assert!(hit["score"].as_f64().is_some_and(|s| s > 0.0));
    }
);

on_both_backends!(filters_sorts_and_paging, |backend| {
    let db = TestDb::new(backend).expect("backend");
    db.import(&fixture(30));
    let app = TestApp::with_search(db);
    let all = app.get("/v1/search").await.json();
    assert_eq!(
        all["total"], 30,
        "an empty query lists every public publication"
    );
    let dates: Vec<&str> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["published_on"].as_str())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest first without a query");
    assert_eq!(
        app.get("/v1/search?q=title&kind=report").await.json()["total"],
        15
    );
    assert_eq!(
        app.get("/v1/search?q=title&project=project-p&year=2023")
            .await
            .json()["total"],
        5
    );
    // Years repeat: any of them, in the index as in the database.
    let total = |uri: &'static str| {
        let app = &app;
        async move { app.get(uri).await.json()["total"].as_u64().unwrap_or(0) }
    };
    let (y2023, y2024) = (
        total("/v1/search?q=title&year=2023").await,
        total("/v1/search?q=title&year=2024").await,
    );
    assert!(y2023 > 0 && y2024 > 0, "{y2023} {y2024}");
    assert_eq!(
        total("/v1/search?q=title&year=2023,2024").await,
        y2023 + y2024
    );
    assert_eq!(
        total("/v1/search?q=title&year=2024&year=2023").await,
        y2023 + y2024
    );
    assert_eq!(
        app.get("/v1/search?q=titulli").await.json()["total"],
        8,
        "Albanian titles"
    );
    assert_eq!(app.get("/v1/search?language=sq").await.json()["total"], 8);
    let page = app.get("/v1/search?q=title&limit=7&offset=28").await.json();
    assert_eq!(page["total"], 30);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        app.get("/v1/search?q=draft").await.json()["total"],
        0,
        "drafts are not in the index"
    );
    assert_eq!(
        app.get("/v1/search?q=secret").await.json()["total"],
        0,
        "nor withdrawn work"
    );
});

on_both_backends!(odd_queries_never_fail, |backend| {
    let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
    for q in [
        "%22unbalanced",
        "-",
        "OR",
        ":",
        "title_en:",
        "a%20OR",
        "%01%02control",
        "(((",
        "%2B%2B",
        "*",
    ] {
        let reply = app.get(&format!("/v1/search?q={q}")).await;
        assert_eq!(
            reply.status,
            200,
            "{q}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    // Syntax alone has nothing to look for: an empty result, not everything.
    for q in ["-", ":", "(((", "%2B%2B", "%22%22", "--", "OR", "title_en:"] {
        let results = app.get(&format!("/v1/search?q={q}")).await.json();
        assert_eq!(results["total"], 0, "{q}: {results}");
    }
    assert_problem(
        &app.get(&format!("/v1/search?q={}", "a".repeat(5_000)))
            .await,
        400,
        "invalid_parameter",
    );
    assert_problem(
        &app.get("/v1/search?limit=0").await,
        400,
        "invalid_parameter",
    );
    assert_problem(
        &app.get("/v1/search?offset=-1").await,
        400,
        "invalid_parameter",
    );
    assert_problem(
        &app.get("/v1/search?sort=best").await,
        400,
        "invalid_parameter",
    );
    assert_problem(
        &app.get("/v1/search?q=%FF").await,
        400,
        "invalid_query_string",
    );
    let past_the_end = app.get("/v1/search?q=dialogue&offset=10000").await.json();
    assert_eq!(past_the_end["items"], serde_json::json!([]));
    // Without an index the endpoint says so.
    let plain = TestApp::new(TestDb::new(backend).expect("backend"));
    assert_problem(&plain.get("/v1/search?q=x").await, 503, "unavailable");
});

/// Parentheses nested hundreds deep used to overflow the stack of the
/// thread that parsed them, which aborts the whole server: one anonymous
/// GET took it down. Past a few levels the text runs as its plain words.
#[actix_web::test]
async fn deep_nesting_is_searched_as_words_not_a_crash() {
    let app = TestApp::with_search(TestDb::new(Backend::Sqlite).expect("backend").with_demo());
    let words = search_json(&app, "normalization process", "").await;
    assert!(words["total"].as_u64().unwrap_or(0) > 0, "{words}");
    for depth in [20, 300, 970] {
        for q in [
            "(".repeat(depth),
            format!("-{}", "(".repeat(depth - 1)),
            format!(
                "{}normalization process{}",
                "(".repeat(depth / 2),
                ")".repeat(depth / 2)
            ),
        ] {
            let found = search_json(&app, &q, "").await;
            let expected = if q.contains("normalization") {
                &words["total"]
            } else {
                &serde_json::json!(0)
            };
            assert_eq!(&found["total"], expected, "{depth} deep: {found}");
        }
    }
}

/// `fixture(4)` with `pub-002` back to draft and `Title 001` renamed.
fn renamed_and_unpublished() -> String {
    fixture(4)
        .replace(
            r#""slug":"pub-002","kind":"report","status":"published","#,
            r#""slug":"pub-002","kind":"report","status":"draft","#,
        )
        .replace("\"Title 001\"", "\"Renamed one\"")
}

on_both_backends!(the_index_follows_the_change_log_and_resumes, |backend| {
    let db = TestDb::new(backend).expect("backend");
    db.import(&fixture(4));
    let app = TestApp::with_search(db);
    assert_eq!(
        app.get("/v1/search?q=%22Title%20002%22").await.json()["total"],
        1
    );

    // Unpublish one, rename another, rename a project: after a catch-up the
    // index reflects all three.
    app.db.import(&renamed_and_unpublished());
    assert!(app.sync() > 0);
    assert_eq!(
        app.get("/v1/search?q=%22Title%20002%22").await.json()["total"],
        0,
        "unpublished is gone"
    );
    assert_eq!(app.get("/v1/search?q=renamed").await.json()["total"], 1);

    // A new index on the same directory (a restart) resumes from the
    // commit's payload: nothing to do, nothing lost.
    let index_dir = app.index_dir.as_ref().expect("index dir").path().to_owned();
    let seq_before = app.state.search.as_ref().expect("index").applied_seq();
    drop(app.state.clone());
    let TestApp { db, state, .. } = app;
    drop(state);
    let reopened = arkiv::search::index::SearchIndex::open(&index_dir).expect("reopen");
    assert_eq!(reopened.applied_seq(), seq_before);
    assert_eq!(
        arkiv::search::sync::catch_up(&mut db.db.conn().expect("connection"), &reopened)
            .expect("catch up"),
        0
    );
    assert_eq!(reopened.len(), 3, "four published, one unpublished");
});

on_both_backends!(hits_come_from_the_index_unless_changed_since, |backend| {
    use diesel::connection::SimpleConnection;

    let db = TestDb::new(backend).expect("backend");
    db.import(&fixture(4));
    let app = TestApp::with_search(db);
    // Each request its own URL: the response cache keys on the index's
    // position, which these steps leave where it is on purpose.
    let titles = |reply: crate::api::Reply| -> Vec<String> {
        reply.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["title"].as_str().expect("title").to_owned())
            .collect()
    };
    assert_eq!(
        titles(app.get("/v1/search?q=%22Title%20001%22&limit=1").await),
        ["Title 001"]
    );

    // A write that bypasses the change log is not seen: with no change
    // after the index's position, a page of hits is what the index stored.
    app.db
        .db
        .conn()
        .expect("connection")
        .batch_execute("UPDATE variants SET title = 'Quietly changed' WHERE title = 'Title 001'")
        .expect("update");
    assert_eq!(
        titles(app.get("/v1/search?q=%22Title%20001%22&limit=2").await),
        ["Title 001"]
    );

    // Logged changes the indexer has not applied yet: the hits they touch
    // come from the database (renamed), or are left out (unpublished),
    // while the index still finds them by their old words.
    app.db.import(&renamed_and_unpublished());
    assert_eq!(
        titles(app.get("/v1/search?q=%22Title%20001%22&limit=3").await),
        ["Renamed one"]
    );
    let unpublished = app.get("/v1/search?q=%22Title%20002%22&limit=3").await;
    assert_eq!(unpublished.json()["items"], serde_json::json!([]));
    assert_eq!(
        titles(app.get("/v1/search/suggest?q=title%20001&limit=3").await),
        ["Renamed one"],
        "suggestions too"
    );

    // Once applied, the index's own listing is the new one.
    assert!(app.sync() > 0);
    assert_eq!(
        titles(app.get("/v1/search?q=renamed&limit=4").await),
        ["Renamed one"]
    );
    assert_eq!(
        app.get("/v1/search?q=%22Title%20002%22&limit=4")
            .await
            .json()["total"],
        0
    );
});

on_both_backends!(facets_count_every_match_with_labels, |backend| {
    let db = TestDb::new(backend).expect("backend");
    db.import(&fixture(30));
    let app = TestApp::with_search(db);
    let results = app
        .get("/v1/search?q=title&limit=1&facets=kind,field,project,funder,language,year")
        .await
        .json();
    let facet = |name: &str| {
        results["facets"][name]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let count_of = |name: &str, value: &str| {
        facet(name)
            .iter()
            .find(|v| v["value"] == value)
            .and_then(|v| v["count"].as_u64())
            .unwrap_or(0)
    };
    assert_eq!(count_of("kind", "report"), 15, "{results}");
    assert_eq!(count_of("kind", "policy_paper"), 15);
    assert_eq!(count_of("project", "project-p"), 15, "values are slugs");
    assert_eq!(count_of("funder", "funder-a"), 15);
    assert_eq!(count_of("field", "field-x"), 10);
    assert_eq!(count_of("language", "en"), 30);
    assert_eq!(count_of("language", "sq"), 8);
    assert_eq!(facet("year").len(), 3, "2022, 2023 and 2024");
    assert_eq!(facet("year")[0]["value"], "2024", "years newest first");
    assert_eq!(
        facet("kind")
            .iter()
            .find(|v| v["value"] == "report")
            .map(|v| v["label"].clone()),
        Some("Report".into())
    );
    // Labels follow the language; counts follow the filters.
    let sq = app
        .get("/v1/search?q=title&facets=kind&lang=sq&kind=report")
        .await
        .json();
    assert_eq!(
        sq["facets"]["kind"],
        serde_json::json!([{"value": "report", "label": "Raport", "count": 15}])
    );
    let language_label = |query: &str, value: &str| {
        let query = query.to_owned();
        let value = value.to_owned();
        let app = &app;
        async move {
            let results = app
                .get(&format!("/v1/search?q=title&facets=language&{query}"))
                .await
                .json();
            results["facets"]["language"]
                .as_array()
                .and_then(|values| values.iter().find(|v| v["value"] == value.as_str()))
                .map(|v| v["label"].clone())
        }
    };
    assert_eq!(
        language_label("lang=en", "sq").await,
        Some("Albanian".into())
    );
    assert_eq!(language_label("lang=sq", "sq").await, Some("Shqip".into()));
    assert_eq!(
        language_label("lang=sq", "en").await,
        Some("Anglisht".into())
    );
    assert_problem(
        &app.get("/v1/search?facets=colour").await,
        400,
        "invalid_parameter",
    );
});

on_both_backends!(
    highlights_mark_the_served_variant_or_the_one_that_matched,
    |backend| {
        let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
        let target = "conclusions-expert-discussion-2024-10-31";
        let hit_of = |results: serde_json::Value| {
            results["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|i| i["slug"] == target)
                .cloned()
                .expect("hit")
        };
        // Served in Albanian, matched in Albanian: the Albanian body is marked.
        let hit = hit_of(app.get("/v1/search?q=Prishtin%C3%AB&lang=sq").await.json());
        let body = hit["highlights"]["body"][0]
            .as_str()
            .expect("a body fragment")
            .to_owned();
        assert!(body.contains("<mark>"), "{body}");
        assert_eq!(hit["language"], "sq");
        // Matched only in Cyrillic, served as derived Latin: marked in Latin.
        let hit = hit_of(
            app.get("/v1/search?q=%D0%BF%D1%80%D0%BE%D1%86%D0%B5%D1%81%D1%83&lang=sr-Latn")
                .await
                .json(),
        );
        let marked = hit["highlights"].to_string();
        assert!(
            marked.contains("<mark>")
                && !marked
                    .chars()
                    .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
            "{marked}"
        );
        // No query, no highlights.
        let listed = app
            .get("/v1/search?kind=discussion_conclusions")
            .await
            .json();
        assert_eq!(
            listed["items"][0]["highlights"],
            serde_json::json!({"title": null, "body": []})
        );
    }
);

on_both_backends!(suggest_completes_titles_in_any_script, |backend| {
    let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
    let target = "conclusions-expert-discussion-2024-10-31";
    for (typed, lang) in [
        ("normaliz", "sr-Cyrl"),
        ("%D0%BD%D0%BE%D1%80%D0%BC%D0%B0%D0%BB", "sr-Cyrl"),
        ("challenges%20and%20opp", "en"),
        ("Sfidat", "sq"),
    ] {
        let results = app
            .get(&format!("/v1/search/suggest?q={typed}&lang={lang}"))
            .await
            .json();
        let items = results["items"].as_array().cloned().unwrap_or_default();
        let hit = items
            .iter()
            .find(|item| item["slug"] == target)
            .unwrap_or_else(|| panic!("{typed}: {results}"));
        assert_eq!(hit["language"], lang, "{typed}");
        assert!(hit["title"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let cyrillic = app
        .get("/v1/search/suggest?q=normaliz&lang=sr-Cyrl")
        .await
        .json();
    let title = cyrillic["items"][0]["title"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        title
            .chars()
            .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
        "{title}"
    );
    assert_eq!(
        app.get("/v1/search/suggest?q=").await.json()["items"],
        serde_json::json!([])
    );
    assert_eq!(
        app.get("/v1/search/suggest?q=zzqx").await.json()["items"],
        serde_json::json!([])
    );
    assert_eq!(
        app.get("/v1/search/suggest?q=normaliz&limit=1")
            .await
            .json()["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_problem(
        &app.get("/v1/search/suggest?limit=0").await,
        400,
        "invalid_parameter",
    );
    assert_problem(
        &app.get("/v1/search/suggest?q=a&page=2").await,
        400,
        "unknown_query_parameter",
    );
});

on_both_backends!(
    a_kill_between_batches_loses_nothing_and_adds_nothing_twice,
    |backend| {
        let db = TestDb::new(backend).expect("backend");
        db.import(&fixture(40));
        let index_dir = tempfile::tempdir().expect("temporary directory");
        {
            let index = arkiv::search::index::SearchIndex::open(index_dir.path()).expect("index");
            // One batch of 10 changes, then the process "dies": the writer is
            // dropped without a word, mid-log.
            let applied = arkiv::search::sync::apply_next_batch(
                &mut db.db.conn().expect("connection"),
                &index,
                10,
            )
            .expect("batch");
            assert_eq!(applied, 10);
            assert_eq!(index.applied_seq(), 10);
        }
        // Meanwhile the archive changes: one publication is withdrawn, one renamed.
        let edited = fixture(40)
        .replace(
            r#""slug":"pub-003","kind":"policy_paper","status":"published","#,
            r#""slug":"pub-003","kind":"policy_paper","status":"withdrawn","withdrawn_reason":"retracted","#,
        )
        .replace("\"Title 005\"", "\"Fifth title\"");
        db.import(&edited);

        let index = arkiv::search::index::SearchIndex::open(index_dir.path()).expect("reopen");
        assert_eq!(
            index.applied_seq(),
            10,
            "resumes from the last commit's payload"
        );
        arkiv::search::sync::catch_up(&mut db.db.conn().expect("connection"), &index)
            .expect("catch up");
        assert_eq!(
            index.len(),
            39,
            "every published publication once; the withdrawn one gone"
        );
        let no_filter = arkiv::db::publications::Filter {
            statuses: vec![arkiv::domain::PublicationStatus::Published],
            ..Default::default()
        };
        for i in 0..40 {
            let query = format!("\"Title {i:03}\"");
            let page = index
                .search(
                    &*index.query(&query, &no_filter),
                    arkiv::search::index::SearchOrder::Relevance,
                    10,
                    0,
                )
                .expect("search");
            let expected = usize::from(i != 3 && i != 5);
            assert_eq!(page.total, expected, "{query}: {:?}", page.hits);
        }
        let renamed = index
            .search(
                &*index.query("fifth", &no_filter),
                arkiv::search::index::SearchOrder::Relevance,
                10,
                0,
            )
            .expect("search")
            .total;
        assert_eq!(renamed, 1, "nothing stale");
    }
);

on_both_backends!(a_typo_in_a_longer_word_still_finds, |backend| {
    let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
    let exact = app.get("/v1/search?q=normalization").await.json();
    assert_eq!(exact["fuzzy"], false);
    let exact_total = exact["total"].as_u64().unwrap_or(0);
    assert!(exact_total > 0);
    // One transposition, one substitution: found, and said to be approximate.
    for typo in [
        "normaliaztion",
        "normalizatoin",
        "Muncipalities",
        "negotaitions",
    ] {
        let results = app.get(&format!("/v1/search?q={typo}")).await.json();
        assert_eq!(results["fuzzy"], true, "{typo}: {results}");
        assert!(results["total"].as_u64().unwrap_or(0) > 0, "{typo}");
    }
    // The first letter is never taken for a typo.
    for typo in ["bormalization", "Ormalization"] {
        let results = app.get(&format!("/v1/search?q={typo}")).await.json();
        assert_eq!(results["total"], 0, "{typo}: {results}");
    }
    // Short words are never fuzzed; nonsense finds nothing.
    let short = app.get("/v1/search?q=xyz").await.json();
    assert_eq!(
        (short["total"].clone(), short["fuzzy"].clone()),
        (serde_json::json!(0), serde_json::json!(false))
    );
    assert_eq!(app.get("/v1/search?q=qwrtzpl").await.json()["total"], 0);
});

on_both_backends!(
    a_typo_finds_a_word_in_any_field_of_its_language,
    |backend| {
        // A typo's candidates come from the bodies' dictionary, and are looked
        // up in titles and summaries too: here the word is in one body, one
        // summary, one of each, and one Albanian title.
        let db = TestDb::new(backend).expect("backend");
        db.import(
        &[
            r#"{"type":"publication","slug":"in-body","kind":"report","status":"published","published_on":"2024-01-01","variants":{"en":{"title":"First","summary":"One","body":"The ombudsperson reported."}}}"#,
            r#"{"type":"publication","slug":"in-summary","kind":"report","status":"published","published_on":"2024-01-02","variants":{"en":{"title":"Second","summary":"An ombudsperson","body":"Nothing else."}}}"#,
            r#"{"type":"publication","slug":"in-both","kind":"report","status":"published","published_on":"2023-01-01","variants":{"en":{"title":"Third","summary":"The ombudsperson","body":"What the ombudsperson said."}}}"#,
            r#"{"type":"publication","slug":"in-title","kind":"report","status":"published","published_on":"2024-01-03","variants":{"sq":{"title":"Avokati i popullit","body":"Raport vjetor."}}}"#,
            r#"{"type":"publication","slug":"elsewhere","kind":"report","status":"published","published_on":"2024-01-04","variants":{"sq":{"title":"Tjetër","body":"Avokatët flasin."}}}"#,
        ]
        .join("\n"),
    );
        let app = TestApp::with_search(db);
        let found = app.get("/v1/search?q=ombudspreson").await.json();
        assert_eq!(found["fuzzy"], true, "{found}");
        let marked = found["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|item| item["slug"] == "in-body")
            .expect("in-body")["highlights"]["body"]
            .clone();
        assert_eq!(
            marked,
            serde_json::json!(["The <mark>ombudsperson</mark> reported."]),
            "what the typo matched is marked"
        );
        let mut found = slugs(&found);
        assert_eq!(found[0], "in-both", "more fields with the word rank higher");
        found.sort();
        assert_eq!(
            found,
            ["in-body", "in-both", "in-summary"],
            "from any segment"
        );
        // Found through the unstemmed titles of every language, which no
        // body has the word of, and marked in the title all the same.
        let found = app.get("/v1/search?q=poppullit").await.json();
        assert_eq!(found["fuzzy"], true, "{found}");
        assert_eq!(slugs(&found), ["in-title"]);
        assert_eq!(
            found["items"][0]["highlights"]["title"], "Avokati i <mark>popullit</mark>",
            "{found}"
        );
    }
);

on_both_backends!(
    a_typo_in_an_ending_the_stemmer_takes_off_still_finds,
    |backend| {
        // "raportev" is one letter short of "raporteve", whose stem "raport"
        // the index holds, but two edits from "raport" itself.
        let db = TestDb::new(backend).expect("backend");
        db.import(
            &[
                r#"{"type":"publication","slug":"raportet","kind":"report","status":"published","published_on":"2024-01-01","variants":{"sq":{"title":"Vlerësimi vjetor","body":"Përmbledhje e raporteve të komunave."}}}"#,
                r#"{"type":"publication","slug":"tjeter","kind":"report","status":"published","published_on":"2024-01-02","variants":{"sq":{"title":"Tjetër","body":"Rrugët e qytetit."}}}"#,
            ]
            .join("\n"),
        );
        let app = TestApp::with_search(db);
        let exact = app.get("/v1/search?q=raporteve&lang=sq").await.json();
        assert_eq!(
            (slugs(&exact), exact["fuzzy"].clone()),
            (vec!["raportet".to_owned()], serde_json::json!(false))
        );
        for typo in ["raportev", "raportteve", "raporetve", "raportevr"] {
            let found = app
                .get(&format!("/v1/search?q={typo}&lang=sq"))
                .await
                .json();
            assert_eq!(found["fuzzy"], true, "{typo}: {found}");
            assert_eq!(slugs(&found), ["raportet"], "{typo}");
            assert_eq!(
                found["items"][0]["highlights"]["body"],
                serde_json::json!(["Përmbledhje e <mark>raporteve</mark> të komunave."]),
                "{typo}: what the typo matched is marked"
            );
        }
        // An ending two edits from any the stemmer takes off finds nothing.
        let far = app.get("/v1/search?q=raportxyz&lang=sq").await.json();
        assert_eq!(far["total"], 0, "{far}");
    }
);

on_both_backends!(common_words_side_by_side_as_typed_rank_first, |backend| {
    // The same words: only their order differs. Without the pair, "apart"
    // would rank first: the index adds the pair "kjo nuk" to the other
    // body, which makes it a term longer.
    let db = TestDb::new(backend).expect("backend");
    db.import(
        &[
            r#"{"type":"publication","slug":"apart","kind":"report","status":"published","published_on":"2024-01-01","variants":{"sq":{"title":"Një","body":"Nuk ndodhi kurrë kjo."}}}"#,
            r#"{"type":"publication","slug":"side-by-side","kind":"report","status":"published","published_on":"2024-01-01","variants":{"sq":{"title":"Dy","body":"Kjo nuk ndodhi kurrë."}}}"#,
        ]
        .join("\n"),
    );
    let app = TestApp::with_search(db);
    let found = app.get("/v1/search?q=kjo%20nuk&lang=sq").await.json();
    assert_eq!(slugs(&found), ["side-by-side", "apart"], "{found}");
    assert_eq!(
        found["items"][0]["highlights"]["body"],
        serde_json::json!(["<mark>Kjo</mark> <mark>nuk</mark> ndodhi kurrë."]),
        "the words are marked as before"
    );
    // A text with an OR (or a phrase, an exclusion) is not plain words:
    // the pair is not looked for.
    let or = app.get("/v1/search?q=kjo%20OR%20nuk&lang=sq").await.json();
    assert_eq!(slugs(&or), ["apart", "side-by-side"], "{or}");
});

on_both_backends!(highlights_survive_text_that_is_not_nfc, |backend| {
    let db = TestDb::new(backend).expect("backend");
    // "й" written as и + combining breve before the word that matches: the
    // analyzer sees NFC text, so its offsets must be applied to NFC text.
    let body = "Краj: и\u{0306}и\u{0306}и\u{0306} и онда Приштина на крају.";
    db.import(&format!(
        r#"{{"type":"publication","slug":"decomposed","kind":"report","status":"published","published_on":"2024-01-01","variants":{{"sr-Cyrl":{{"title":"Наслов","body":"{body}"}}}}}}"#
    ));
    let app = TestApp::with_search(db);
    let reply = app
        .get("/v1/search?q=%D0%9F%D1%80%D0%B8%D1%88%D1%82%D0%B8%D0%BD%D0%B0&lang=sr-Cyrl")
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let fragment = reply.json()["items"][0]["highlights"]["body"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(fragment.contains("<mark>Приштина</mark>"), "{fragment}");
});

on_both_backends!(
    highlights_find_the_words_of_either_serbian_script,
    |backend| {
        let db = TestDb::new(backend).expect("backend");
        // Both Serbian variants share the index's `sr` fields, Cyrillic first:
        // a word only in the Latin one is numbered after every Cyrillic word.
        db.import(
        r#"{"type":"publication","slug":"two-scripts","kind":"report","status":"published","published_on":"2024-01-01","variants":{"en":{"title":"Water in the north","body":"The water supply in the north was discussed."},"sr-Cyrl":{"title":"Вода на северу","body":"Разговарано је о води на северу и о општинама."},"sr-Latn":{"title":"Voda na severu & jugu","body":"Razgovarano je o vodi na severu, a posebno o Zubinom Potoku i Ibru."}}}"#,
    );
        let app = TestApp::with_search(db);
        let first = |reply: &crate::api::Reply| reply.json()["items"][0]["highlights"].clone();
        let latin = first(&app.get("/v1/search?q=potoku&lang=sr-Latn").await);
        assert_eq!(
            latin["body"][0].as_str().unwrap_or_default(),
            "Razgovarano je o vodi na severu, a posebno o Zubinom <mark>Potoku</mark> i Ibru."
        );
        assert_eq!(latin["title"], serde_json::Value::Null);
        let both = first(&app.get("/v1/search?q=jugu&lang=sr-Latn").await);
        assert_eq!(
            both["title"].as_str().unwrap_or_default(),
            "Voda na severu &amp; <mark>jugu</mark>"
        );
        let cyrillic = first(&app.get("/v1/search?q=opstinama&lang=sr-Cyrl").await);
        assert_eq!(
            cyrillic["body"][0].as_str().unwrap_or_default(),
            "Разговарано је о води на северу и о <mark>општинама</mark>."
        );
        // Served in English, which did not match: the variant that did.
        let fallback = first(&app.get("/v1/search?q=potoku&lang=en").await);
        assert!(
            fallback["body"][0]
                .as_str()
                .unwrap_or_default()
                .contains("<mark>Potoku</mark>"),
            "{fallback}"
        );
    }
);

on_both_backends!(phrases_of_common_words_match_only_side_by_side, |backend| {
    let db = TestDb::new(backend).expect("backend");
    // "da se" and "që të" are pairs of common words, which the index also
    // holds as one term; "it is the" is two overlapping pairs.
    let publication = |slug: &str, lang: &str, body: &str| {
        format!(
            r#"{{"type":"publication","slug":"{slug}","kind":"report","status":"published","published_on":"2024-01-01","variants":{{"{lang}":{{"title":"{slug}","body":"{body}"}}}}}}"#
        )
    };
    db.import(
        &[
            publication("adjacent-sr", "sr-Latn", "Treba da se razgovara o svemu."),
            publication("cyrillic-sr", "sr-Cyrl", "Треба да се разговара."),
            publication("apart-sr", "sr-Latn", "Da li se razgovara? Se i da."),
            publication("adjacent-sq", "sq", "Është koha që të flasim."),
            publication("apart-sq", "sq", "Të gjithë e dinë që ka kohë."),
            publication("adjacent-en", "en", "Where it is the end of the road."),
            publication("apart-en", "en", "Is it the end? It surely is."),
        ]
        .join("\n"),
    );
    let app = TestApp::with_search(db);
    let found = |q: &'static str| {
        let app = &app;
        async move {
            let results = search_json(app, q, "").await;
            let mut found = slugs(&results);
            found.sort();
            (found, results)
        }
    };
    for (q, expected) in [
        ("\"da se\"", &["adjacent-sr", "cyrillic-sr"][..]),
        ("\"да се\"", &["adjacent-sr", "cyrillic-sr"]),
        ("\"da se razgovara\"", &["adjacent-sr", "cyrillic-sr"]),
        ("\"që të\"", &["adjacent-sq"]),
        ("\"qe te\"", &["adjacent-sq"]),
        ("\"it is the\"", &["adjacent-en"]),
        ("\"is the end of the\"", &["adjacent-en"]),
        ("\"the end\"", &["adjacent-en", "apart-en"]),
    ] {
        let (slugs, results) = found(q).await;
        assert_eq!(slugs, expected, "{q}: {results}");
        assert_eq!(results["total"], expected.len(), "{q}");
    }
    // Unquoted, the words need not stand together.
    let (slugs, _) = found("da se").await;
    assert_eq!(slugs, ["adjacent-sr", "apart-sr", "cyrillic-sr"]);
    // With slop, the words may stand apart.
    let (slugs, results) = found("\"it the\"~1").await;
    assert_eq!(slugs, ["adjacent-en", "apart-en"], "{results}");
    // Both words of a pair are marked.
    let (_, results) = found("\"da se\"").await;
    let marked: Vec<String> = results["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|hit| hit["highlights"]["body"][0].as_str().map(str::to_owned))
        .collect();
    assert!(
        marked.contains(&"Treba <mark>da</mark> <mark>se</mark> razgovara o svemu.".to_owned()),
        "{marked:?}"
    );
    // In the Serbian fields, where both words are common, the phrase is
    // asked for as the pair's one term, not as its two words.
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = arkiv::search::index::SearchIndex::open(dir.path()).expect("index");
    let schema = index.index.schema();
    let mut terms = Vec::new();
    index
        .query("\"da se\"", &Default::default())
        .query_terms(&mut |term, _| {
            if schema.get_field_name(term.field()).ends_with("_sr") {
                terms.extend(term.value().as_str().map(str::to_owned));
            }
        });
    terms.sort();
    terms.dedup();
    assert_eq!(terms, ["da se"]);
});

on_both_backends!(
    a_single_word_ranks_and_counts_as_when_every_match_is_scored,
    |backend| {
        let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
        // A word alone is ranked by block-max WAND and counted apart; with a
        // filter every publication passes, every match is scored and
        // counted in one pass. Both must give the same pages and total.
        let pages = |filter: &'static str| {
            let app = &app;
            async move {
                let mut pages = Vec::new();
                let mut total = None;
                for offset in [0, 2, 4] {
                    let uri = format!("/v1/search?q=Kosovo&limit=2&offset={offset}{filter}");
                    let results = app.get(&uri).await.json();
                    total = Some(results["total"].clone());
                    pages.push(slugs(&results));
                }
                (pages, total)
            }
        };
        let (pruned, pruned_total) = pages("").await;
        let (scored, scored_total) = pages("&published_from=1900-01-01").await;
        let total = pruned_total
            .as_ref()
            .and_then(|t| t.as_u64())
            .expect("total");
        assert!(
            total >= 6,
            "a word in many of the demo publications: {total}"
        );
        assert_eq!(pruned_total, scored_total);
        assert_eq!(pruned, scored);
        assert!(pruned.iter().all(|page| page.len() == 2), "{pruned:?}");
    }
);

/// Publications for the query syntax: which words stand where is the point.
fn syntax_fixture() -> String {
    let publication = |slug: &str, title: &str, body: &str, authors: &str| {
        let keywords = if slug == "water" {
            r#""Elections","Општина""#
        } else {
            ""
        };
        format!(
            r#"{{"type":"publication","slug":"{slug}","kind":"report","status":"published","published_on":"2024-05-01","authors":[{authors}],"keywords":[{keywords}],"variants":{{"en":{{"title":"{title}","summary":"","body":"{body}"}}}}}}"#
        )
    };
    [
        publication(
            "water",
            "Water policy in the north",
            "Rivers and reservoirs of the municipalities.",
            r#""Jelena Ivanović""#,
        ),
        publication(
            "energy",
            "Energy markets",
            "Prices of water and electricity rose in winter.",
            r#""Arben Hoxha""#,
        ),
        publication(
            "budgets",
            "Municipal budgets",
            "Spending of the northern municipalities on schools.",
            "",
        ),
    ]
    .join("\n")
}

on_both_backends!(query_syntax_does_what_it_says, |backend| {
    let db = TestDb::new(backend).expect("backend");
    db.import(&syntax_fixture());
    let app = TestApp::with_search(db);
    let search = |q: &'static str| {
        let app = &app;
        async move {
            let results = search_json(app, q, "&sort=published_on").await;
            let mut found = slugs(&results);
            found.sort();
            (found, results["fuzzy"] == true)
        }
    };
    let found = |q: &'static str| {
        let search = &search;
        async move { search(q).await.0 }
    };
    assert_eq!(found("water").await, ["energy", "water"]);
    // Exclusion, alone too; OR; phrases.
    assert_eq!(found("water -electricity").await, ["water"]);
    assert_eq!(found("-water").await, ["budgets"]);
    assert_eq!(
        found("reservoirs OR electricity").await,
        ["energy", "water"]
    );
    assert_eq!(found("\"water policy\"").await, ["water"]);
    // Field prefixes: a kind of text in every language, or one language's.
    assert_eq!(found("title:water").await, ["water"]);
    assert_eq!(found("Title:water").await, ["water"]);
    assert_eq!(found("body_en:water").await, ["energy"]);
    assert_eq!(found("body:municipalities").await, ["budgets", "water"]);
    // Author names meet across scripts and diacritics.
    assert_eq!(found("authors:Ivanovic").await, ["water"]);
    assert_eq!(found("Ивановић").await, ["water"]);
    // So do keywords, stemmed as English.
    assert_eq!(found("keywords:election").await, ["water"]);
    assert_eq!(found("keywords:opstina").await, ["water"]);
    assert_eq!(found("Општина").await, ["water"]);
    // What a search doesn't offer runs as plain words, never a 500.
    assert_eq!(found("Municipal: budgets").await, ["budgets"]);
    assert_eq!(
        found("published_on:[2020 TO 2025] budgets").await,
        Vec::<String>::new()
    );
    for q in [
        "x:*",
        "title_en:*",
        "year:abc",
        "title_xx:water",
        "kind: IN [report]",
        "body_en:/wat.*/",
    ] {
        search(q).await;
    }
    assert_eq!(
        found("title_xx:water").await,
        Vec::<String>::new(),
        "title_xx is a word"
    );
    // The typo retry keeps exclusions, phrases and prefixes as typed.
    assert_eq!(search("resevoirs").await, (vec!["water".to_owned()], true));
    assert_eq!(
        search("rivers -resevoirs").await,
        (vec!["water".to_owned()], false)
    );
    assert_eq!(search("resevoirs -policy").await, (Vec::new(), true));
    assert_eq!(search("reservoirz -water").await, (Vec::new(), true));
    assert_eq!(
        search("resevoirs title:water").await,
        (vec!["water".to_owned()], true)
    );
    assert_eq!(search("resevoirs title:energy").await, (Vec::new(), true));
    assert_eq!(
        search("resevoirs \"water policy\"").await,
        (vec!["water".to_owned()], true)
    );
    assert_eq!(
        search("resevoirs \"policy water\"").await,
        (Vec::new(), true)
    );
});

on_both_backends!(search_takes_updated_since, |backend| {
    let db = TestDb::new(backend).expect("backend");
    db.import(&syntax_fixture());
    let app = TestApp::with_search(db);
    let total = |query: &'static str| {
        let app = &app;
        async move {
            let reply = app.get(&format!("/v1/search?{query}")).await;
            assert_eq!(
                reply.status,
                200,
                "{query}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            reply.json()["total"].clone()
        }
    };
    assert_eq!(total("updated_since=2000-01-01").await, 3);
    assert_eq!(total("q=water&updated_since=2000-01-01T00:00:00Z").await, 2);
    assert_eq!(total("updated_since=2999-01-01").await, 0);
    assert_problem(
        &app.get("/v1/search?updated_since=yesterday").await,
        400,
        "invalid_parameter",
    );
});

/// The server's indexer thread, not a test's catch-up, makes a write
/// searchable (SQLite only: the thread outlives the test and keeps its
/// connections, which would keep a PostgreSQL test database from being dropped).
#[actix_web::test]
async fn the_indexer_thread_makes_a_write_searchable() {
    let db = TestDb::new(super::Backend::Sqlite).expect("backend");
    db.import(&fixture(2));
    let app = TestApp::with_search(db);
    let index = std::sync::Arc::clone(app.state.search.as_ref().expect("index"));
    arkiv::search::sync::spawn_indexer(app.db.db.clone(), index).expect("indexer");
    app.db.import(&syntax_fixture());
    // Await the condition, bounded: the thread polls the change log.
    let started = std::time::Instant::now();
    let total = loop {
        let total = app.get("/v1/search?q=reservoirs").await.json()["total"].clone();
        if total == 1 || started.elapsed() > std::time::Duration::from_secs(30) {
            break total;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(total, 1, "not searchable after {:?}", started.elapsed());
    eprintln!("a write was searchable after {:?}", started.elapsed());
}

on_both_backends!(a_phrase_is_marked_only_where_it_stands, |backend| {
    let db = TestDb::new(backend).expect("backend");
    db.import(concat!(
        r#"{"type":"publication","slug":"talks","kind":"report","status":"published","published_on":"2024-05-01","variants":{"en":{"title":"Talks","summary":"","body":"Between the rivers, a dialogue began. The dialogue between neighbours went on."}}}"#,
        "\n",
        r#"{"type":"publication","slug":"road","kind":"report","status":"published","published_on":"2024-05-01","variants":{"en":{"title":"Road","summary":"","body":"The end of the road. Of course the talks went on."}}}"#,
    ));
    let app = TestApp::with_search(db);
    let body = |q: &'static str| {
        let app = &app;
        async move {
            let results = search_json(app, q, "").await;
            results["items"][0]["highlights"]["body"][0]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    let phrase = body("\"dialogue between\"").await;
    assert_eq!(
        phrase,
        "Between the rivers, a dialogue began. The <mark>dialogue</mark> <mark>between</mark> neighbours went on."
    );
    // A word also typed on its own is marked wherever it stands.
    let both = body("\"dialogue between\" rivers").await;
    assert_eq!(both.matches("<mark>").count(), 3, "{both}");
    let alone = body("dialogue between").await;
    assert_eq!(alone.matches("<mark>").count(), 4, "{alone}");
    // A phrase with slop has the whole query parsed word by word, common
    // pairs too ("of the"), and each phrase is still marked where it stands.
    assert_eq!(
        body("\"of the\" \"talks went\"~2").await,
        "The end <mark>of</mark> <mark>the</mark> road. Of course the <mark>talks</mark> <mark>went</mark> on."
    );
    assert_eq!(
        body("\"of the\" road").await,
        "The end <mark>of</mark> <mark>the</mark> <mark>road</mark>. Of course the talks went on."
    );
});

on_both_backends!(a_burst_of_searches_is_refused_not_queued, |backend| {
    let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
    // Every slot and waiting place taken, as by a burst of slow searches.
    let held: Vec<_> = std::iter::from_fn(|| app.state.search_queue.admit().ok()).collect();
    assert!(!held.is_empty());
    for uri in ["/v1/search?q=dialogue", "/v1/search/suggest?q=dial"] {
        let refused = app.get(uri).await;
        assert_problem(&refused, 503, "busy");
        let retry: u32 = refused
            .header("retry-after")
            .and_then(|value| value.parse().ok())
            .expect("Retry-After");
        assert!(retry >= 1);
    }
    // Readers of everything else are served meanwhile.
    assert_eq!(app.get("/v1/publications").await.status, 200);
    drop(held);
    assert_eq!(app.get("/v1/search?q=dialogue").await.status, 200);
    assert_eq!(app.get("/v1/search/suggest?q=dial").await.status, 200);
});

on_both_backends!(
    search_pages_with_a_cursor_and_still_takes_offset,
    |backend| {
        let db = TestDb::new(backend).expect("backend");
        db.import(&fixture(23));
        let app = TestApp::with_search(db);
        let slugs_of = |page: &serde_json::Value| -> Vec<String> {
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|hit| hit["slug"].as_str().map(str::to_owned))
                .collect()
        };
        let whole = app
            .get("/v1/search?q=title&limit=100&highlight=false")
            .await
            .json();
        let all = slugs_of(&whole);
        assert_eq!(all.len(), 23);
        assert!(whole["next_cursor"].is_null());
        // Without highlighting, every hit says so with null; with it, an object.
        assert!(whole["items"]
            .as_array()
            .is_some_and(|hits| hits.iter().all(|hit| hit["highlights"].is_null())));
        let marked = app.get("/v1/search?q=title&limit=3").await.json();
        assert!(
            marked["items"][0]["highlights"]["body"].is_array(),
            "{marked}"
        );
        // Pages of 10 by following Link, which keeps the other parameters.
        let mut uri = "/v1/search?q=title&limit=10&highlight=false".to_owned();
        let mut seen = Vec::new();
        for page_number in 0.. {
            assert!(page_number < 5, "too many pages");
            let reply = app.get(&uri).await;
            assert_eq!(reply.status, 200, "{uri}");
            let page = reply.json();
            seen.extend(slugs_of(&page));
            match (page["next_cursor"].as_str(), reply.header("link")) {
                (Some(cursor), Some(link)) => {
                    assert!(link.contains(&format!("cursor={cursor}")), "{link}");
                    assert!(
                        link.contains("q=title") && !link.contains("offset="),
                        "{link}"
                    );
                    uri = link
                        .trim_start_matches('<')
                        .split_once('>')
                        .map(|(target, _)| target.to_owned())
                        .expect("target");
                }
                (None, None) => break,
                other => panic!("cursor and Link disagree: {other:?}"),
            }
        }
        assert_eq!(seen, all);
        // Offset still pages as before, and its next page is a cursor.
        let by_offset = app
            .get("/v1/search?q=title&limit=10&offset=20&highlight=false")
            .await
            .json();
        assert_eq!(slugs_of(&by_offset), all[20..].to_vec());
        assert!(by_offset["next_cursor"].is_null());
        let middle = app.get("/v1/search?q=title&limit=10&offset=5").await.json();
        assert!(middle["next_cursor"].is_string());
        assert_problem(
            &app.get("/v1/search?q=title&offset=10&cursor=bzoxMA").await,
            400,
            "invalid_parameter",
        );
        assert_problem(
            &app.get("/v1/search?q=title&cursor=garbage").await,
            400,
            "invalid_cursor",
        );
        // "o:18446744073709551615": beyond where a search pages.
        assert_problem(
            &app.get("/v1/search?q=title&cursor=bzoxODQ0Njc0NDA3MzcwOTU1MTYxNQ")
                .await,
            400,
            "invalid_cursor",
        );
    }
);
