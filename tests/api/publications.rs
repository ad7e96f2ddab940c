//! `/v1/publications`: filters, sorts, pagination, detail, visibility.

use super::{assert_problem, demo_app, slugs, TestApp, TestDb};
use crate::on_both_backends;

/// A small archive with every status and a spread of dates.
pub fn fixture(n: usize) -> String {
    let mut lines = vec![
        r#"{"type":"organisation","slug":"funder-a","name":{"en":"Funder A"},"roles":["funder"]}"#.to_owned(),
        r#"{"type":"organisation","slug":"partner-b","name":{"en":"Partner B","sq":"Partneri B"},"roles":["partner"]}"#.to_owned(),
        r#"{"type":"field","slug":"field-x","label":{"en":"Field X","sr-Cyrl":"Поље X"}}"#.to_owned(),
        r#"{"type":"project","slug":"project-p","title":{"en":"Project P"},"funders":[{"organisation":"funder-a","grant_number":"G-1"}],"partners":["partner-b"],"fields":["field-x"]}"#.to_owned(),
        r#"{"type":"project","slug":"project-q","title":{"en":"Project Q"},"funders":[],"partners":[],"fields":[]}"#.to_owned(),
    ];
    for i in 0..n {
        let project = if i % 2 == 0 { "project-p" } else { "project-q" };
        let kind = ["report", "policy_paper"][i % 2];
        let month = i % 12 + 1;
        lines.push(format!(
            r#"{{"type":"publication","slug":"pub-{i:03}","kind":"{kind}","status":"published","published_on":"202{y}-{month:02}-01","project":"{project}","fields":{fields},"variants":{{"en":{{"title":"Title {i:03}","summary":"Summary {i}","body":"Body {i}"}}{sq}}}}}"#,
            y = i % 3 + 2,
            fields = if i % 3 == 0 { r#"["field-x"]"# } else { "[]" },
            sq = if i % 4 == 0 { format!(r#","sq":{{"title":"Titulli {i:03}"}}"#) } else { String::new() },
        ));
    }
    lines.push(r#"{"type":"publication","slug":"secret-draft","kind":"report","status":"draft","project":"project-p","variants":{"en":{"title":"Draft"}}}"#.to_owned());
    lines.push(r#"{"type":"publication","slug":"gone","kind":"report","status":"withdrawn","withdrawn_reason":"superseded by a new edition","published_on":"2023-01-01","variants":{"en":{"title":"Withdrawn","body":"secret body"}}}"#.to_owned());
    lines.join("\n")
}

on_both_backends!(
    pages_follow_cursors_through_every_published_publication,
    |backend| {
        let db = TestDb::new(backend).expect("backend");
        db.import(&fixture(45));
        let app = TestApp::new(db);
        for sort in ["-published_on", "published_on", "title", "-updated_at"] {
            let mut seen = Vec::new();
            let mut uri = format!("/v1/publications?limit=10&sort={sort}");
            loop {
                let reply = app.get(&uri).await;
                assert_eq!(
                    reply.status,
                    200,
                    "{}",
                    String::from_utf8_lossy(&reply.body)
                );
                let page = reply.json();
                assert_eq!(page["total"], 45);
                seen.extend(slugs(&page));
                match page["next_cursor"].as_str() {
                    Some(cursor) => {
                        let link = reply
                            .header("link")
                            .expect("Link header on a page with a next one");
                        assert!(
                            link.contains(cursor) && link.ends_with("rel=\"next\""),
                            "{link}"
                        );
                        // Follow the Link header, as a harvester would.
                        let target = link
                            .trim_start_matches('<')
                            .split('>')
                            .next()
                            .unwrap_or_default();
                        assert!(
                            target.starts_with("/v1/publications?")
                                && target.contains(&format!("sort={sort}")),
                            "{link}"
                        );
                        uri = target.to_owned();
                    }
                    None => {
                        assert!(reply.header("link").is_none());
                        break;
                    }
                }
            }
            assert_eq!(seen.len(), 45, "sort {sort}: every publication once");
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 45, "sort {sort}: no publication twice");
            assert!(
                !seen.iter().any(|s| s == "secret-draft" || s == "gone"),
                "drafts and withdrawn stay hidden"
            );
            if sort == "title" {
                let mut sorted = seen.clone();
                sorted.sort();
                assert_eq!(seen, sorted, "titles are Title 000…Title 044, in order");
            }
        }
    }
);

on_both_backends!(filters_narrow_the_list_and_the_total, |backend| {
    let db = TestDb::new(backend).expect("backend");
    db.import(&fixture(24));
    let app = TestApp::new(db);
    let total = |uri: &'static str| {
        let app = &app;
        async move {
            let reply = app.get(uri).await;
            assert_eq!(
                reply.status,
                200,
                "{uri}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            let page = reply.json();
            assert_eq!(
                page["items"].as_array().map(Vec::len),
                Some(page["total"].as_u64().unwrap_or(0).min(20) as usize)
            );
            page["total"].as_i64().unwrap_or(-1)
        }
    };
    assert_eq!(total("/v1/publications").await, 24);
    assert_eq!(total("/v1/publications?kind=report").await, 12);
    assert_eq!(total("/v1/publications?kind=report,policy_paper").await, 24);
    assert_eq!(
        total("/v1/publications?kind=report&kind=policy_paper").await,
        24
    );
    assert_eq!(total("/v1/publications?project=project-p").await, 12);
    assert_eq!(total("/v1/publications?funder=funder-a").await, 12);
    assert_eq!(
        total("/v1/publications?partner=partner-b&kind=policy_paper").await,
        0
    );
    assert_eq!(total("/v1/publications?field=field-x").await, 8);
    assert_eq!(total("/v1/publications?language=sq").await, 6);
    assert_eq!(total("/v1/publications?year=2023").await, 8);
    // Years repeat, or go comma-separated: any of them.
    let (y2023, y2024) = (
        total("/v1/publications?year=2023").await,
        total("/v1/publications?year=2024").await,
    );
    assert!(y2024 > 0);
    assert_eq!(
        total("/v1/publications?year=2023,2024").await,
        y2023 + y2024
    );
    assert_eq!(
        total("/v1/publications?year=2024&year=2023&kind=report").await,
        total("/v1/publications?year=2023&kind=report").await
            + total("/v1/publications?year=2024&kind=report").await
    );
    assert_eq!(total("/v1/publications?year=1999,2023").await, y2023);
    assert_eq!(
        total("/v1/publications?published_from=2023-01-01&published_to=2023-06-30").await,
        4
    );
    assert_eq!(total("/v1/publications?project=no-such-project").await, 0);
    assert_eq!(total("/v1/publications?updated_since=2000-01-01").await, 24);
    assert_eq!(
        total("/v1/publications?updated_since=2999-01-01T00:00:00Z").await,
        0
    );
});

on_both_backends!(detail_embeds_everything_a_page_needs, |backend| {
    let app = demo_app(backend);
    let reply = app
        .get("/v1/publications/conclusions-expert-discussion-2024-10-31")
        .await;
    assert_eq!(reply.status, 200);
    let publication = reply.json();
    assert_eq!(publication["kind"], "discussion_conclusions");
    assert_eq!(publication["language"], "en");
    assert_eq!(publication["project"]["slug"], "dialogue-solutions-future");
    assert_eq!(
        publication["funders"][0]["slug"],
        "german-federal-foreign-office"
    );
    assert_eq!(publication["partners"][0]["slug"], "isp-musine-kokalari");
    assert_eq!(publication["event"]["slug"], "expert-discussion-2024-10-31");
    assert_eq!(publication["event"]["place"], "Pristina");
    assert!(publication["fields"]
        .as_array()
        .is_some_and(|f| !f.is_empty()));
    assert!(publication["body"].as_str().is_some_and(|b| b.len() > 200));

    // The same publication by its id.
    let id = publication["id"].as_str().expect("id");
    let by_id = app.get(&format!("/v1/publications/{id}")).await;
    assert_eq!(
        by_id.json()["slug"],
        "conclusions-expert-discussion-2024-10-31"
    );
});

on_both_backends!(drafts_are_not_found_and_withdrawn_work_is_gone, |backend| {
    let db = TestDb::new(backend).expect("backend");
    db.import(&fixture(2));
    let app = TestApp::new(db);
    assert_problem(
        &app.get("/v1/publications/secret-draft").await,
        404,
        "not_found",
    );
    let gone = app.get("/v1/publications/gone").await;
    let problem = assert_problem(&gone, 410, "withdrawn");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("superseded")),
        "{problem}"
    );
    assert!(!String::from_utf8_lossy(&gone.body).contains("secret body"));
    // Not in project details either.
    let project = app.get("/v1/projects/project-p").await.json();
    assert_eq!(project["publications_total"], 1);
    assert!(!project.to_string().contains("secret-draft"));
});

on_both_backends!(etags_answer_if_none_match_with_304, |backend| {
    let app = demo_app(backend);
    for uri in [
        "/v1/publications",
        "/v1/publications/association-community-of-serb-majority-municipalities",
        "/v1/projects",
        "/v1/projects/dialogue-solutions-future",
        "/v1/organisations",
        "/v1/organisations/kcss",
        "/v1/fields",
        "/v1/fields/citizen-participation",
        "/v1/events",
        "/v1/events/kosovo-peace-and-democracy-summit-2024",
        "/v1/errors",
        "/openapi.json",
        "/healthz",
        "/readyz",
    ] {
        let first = app.get(uri).await;
        assert_eq!(first.status, 200, "{uri}");
        let etag = first
            .header("etag")
            .unwrap_or_else(|| panic!("{uri} has no ETag"));
        let again = app.get_with(uri, &[("If-None-Match", &etag)]).await;
        assert_eq!(again.status, 304, "{uri}");
        assert!(again.body.is_empty());
        let stale = app.get_with(uri, &[("If-None-Match", "\"0000\"")]).await;
        assert_eq!(stale.status, 200, "{uri}");
    }
});

on_both_backends!(
    writes_by_another_process_show_without_a_restart,
    |backend| {
        let db = TestDb::new(backend).expect("backend");
        db.import(&fixture(3));
        let writer = db.another_writer();
        let app = TestApp::new(db);
        let uri = "/v1/publications/pub-001";
        assert_eq!(app.get(uri).await.json()["title"], "Title 001");
        assert_eq!(
            app.get("/v1/projects/project-q").await.json()["title"],
            "Project Q"
        );

        // `arkiv import` running beside the server: same database, other pool.
        writer.import(
            &fixture(3)
                .replace("\"Title 001\"", "\"Title one\"")
                .replace("\"Project Q\"", "\"Project Queue\""),
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let title = app.get(uri).await.json()["title"].clone();
            let project = app.get("/v1/projects/project-q").await.json()["title"].clone();
            if title == "Title one" && project == "Project Queue" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still {title} / {project} after 5 s"
            );
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let listed = app.get("/v1/publications?sort=title").await.json();
        assert!(
            listed.to_string().contains("Title one"),
            "lists see the change too"
        );
    }
);

on_both_backends!(cards_get_an_excerpt_and_details_a_reading_time, |backend| {
    let db = TestDb::new(backend).expect("backend").with_demo();
    // No summary, a long body, stored only in Cyrillic.
    let words: Vec<String> = (0..450).map(|i| format!("реч{i}")).collect();
    let body = words.join(" \n ");
    let record = serde_json::json!({
        "type": "publication", "slug": "a-long-read", "kind": "report",
        "status": "published", "published_on": "2026-01-10",
        "variants": {"sr-Cyrl": {"title": "Дуго читање", "body": body}}
    });
    db.import(&record.to_string());
    let app = TestApp::with_search(db);
    let detail = app
        .get("/v1/publications/a-long-read?lang=sr-Latn")
        .await
        .json();
    assert_eq!(detail["reading_minutes"], 3, "450 words at 200 a minute");
    let excerpt = detail["excerpt"].as_str().expect("excerpt");
    assert!(excerpt.chars().count() <= 300, "{excerpt}");
    assert!(excerpt.ends_with('…'), "{excerpt}");
    assert!(
        excerpt.starts_with("reč0 reč1 reč2"),
        "transliterated: {excerpt}"
    );
    let latin_body = detail["body"].as_str().expect("body");
    let collapsed: Vec<&str> = latin_body.split_whitespace().collect();
    assert!(collapsed
        .join(" ")
        .starts_with(excerpt.trim_end_matches('…')));

    // The list and a search hit carry the same excerpt.
    let listed = app
        .get("/v1/publications?lang=sr-Latn&limit=100")
        .await
        .json();
    let item = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["slug"] == "a-long-read")
        .cloned()
        .expect("listed");
    assert_eq!(item["excerpt"], detail["excerpt"]);
    assert!(item.get("reading_minutes").is_none(), "only on the detail");
    let hits = app.get("/v1/search?q=re%C4%8D1&lang=sr-Latn").await.json();
    let hit = hits["items"]
        .as_array()
        .expect("hits")
        .iter()
        .find(|h| h["slug"] == "a-long-read")
        .cloned()
        .expect("found");
    assert_eq!(hit["excerpt"], detail["excerpt"]);

    // With a summary, the summary is the excerpt.
    let with_summary = app
        .get("/v1/publications/conclusions-expert-discussion-2024-10-31?lang=en")
        .await
        .json();
    let summary: Vec<&str> = with_summary["summary"]
        .as_str()
        .expect("summary")
        .split_whitespace()
        .collect();
    let excerpt = with_summary["excerpt"].as_str().expect("excerpt");
    assert!(summary.join(" ").starts_with(excerpt.trim_end_matches('…')));
    assert!(with_summary["reading_minutes"]
        .as_u64()
        .is_some_and(|m| m > 0));
});
