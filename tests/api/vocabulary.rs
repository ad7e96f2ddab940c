//! `/v1/projects`, `/v1/organisations`, `/v1/fields`, `/v1/events` and the
//! service endpoints.

use super::{assert_problem, demo_app};
use crate::on_both_backends;

on_both_backends!(
    projects_embed_funders_partners_and_publications,
    |backend| {
        let app = demo_app(backend);
        let list = app
            .get("/v1/projects?funder=national-endowment-for-democracy")
            .await
            .json();
        assert_eq!(list["total"], 1);
        assert_eq!(
            list["items"][0]["slug"],
            "strengthening-youth-civic-participation"
        );

        let project = app
            .get("/v1/projects/dialogue-solutions-future")
            .await
            .json();
        assert_eq!(
            project["funders"][0]["slug"],
            "german-federal-foreign-office"
        );
        assert_eq!(project["partners"][0]["slug"], "isp-musine-kokalari");
        let slugs: Vec<&str> = project["publications"]
            .as_array()
            .expect("publications")
            .iter()
            .filter_map(|p| p["slug"].as_str())
            .collect();
        assert!(
            slugs.contains(&"integrating-kosovo-serbs-challenges-and-opportunities"),
            "{slugs:?}"
        );
        assert!(
            slugs.contains(&"conclusions-expert-discussion-2024-10-31"),
            "{slugs:?}"
        );
        assert_eq!(
            project["publications_total"].as_u64(),
            Some(slugs.len() as u64)
        );
        assert!(project["events"].as_array().is_some_and(|e| e.len() == 2));
        assert_problem(
            &app.get("/v1/projects/no-such-project").await,
            404,
            "not_found",
        );
    }
);

on_both_backends!(organisations_fields_and_events_answer, |backend| {
    let app = demo_app(backend);
    let funders = app.get("/v1/organisations?role=funder").await.json();
    let slugs: Vec<&str> = funders["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["slug"].as_str())
        .collect();
    assert_eq!(
        slugs,
        vec![
            "german-federal-foreign-office",
            "national-endowment-for-democracy"
        ]
    );
    let kcss = app.get("/v1/organisations/kcss").await.json();
    assert_eq!(
        kcss["partner_projects"][0]["slug"],
        "kosovo-peace-and-democracy-summit"
    );
    assert!(kcss["organised_events"]
        .as_array()
        .is_some_and(|e| !e.is_empty()));

    // An organisation's projects by role, each with its published count,
    // the same the project's own page gives.
    let nsi = app
        .get("/v1/organisations/new-social-initiative")
        .await
        .json();
    let implemented = nsi["implemented_projects"].as_array().expect("projects");
    assert_eq!(implemented.len(), 3, "{nsi}");
    let mut counted = 0;
    for project in implemented {
        let slug = project["slug"].as_str().expect("slug");
        let detail = app.get(&format!("/v1/projects/{slug}")).await.json();
        assert_eq!(
            project["publications_total"], detail["publications_total"],
            "{slug}"
        );
        assert_eq!(detail["implementers"][0]["slug"], "new-social-initiative");
        counted += project["publications_total"].as_i64().unwrap_or_default();
    }
    assert!(counted > 0);
    assert_eq!(nsi["funded_projects"], serde_json::json!([]));
    let ned = app
        .get("/v1/organisations/national-endowment-for-democracy")
        .await
        .json();
    assert_eq!(
        ned["funded_projects"][0]["slug"],
        "strengthening-youth-civic-participation"
    );
    assert!(ned["funded_projects"][0]["publications_total"].is_i64());

    // Descriptions come in the page's language where they exist, else
    // through the fallback chain, and are null where there is none.
    let field = app
        .get("/v1/fields/normalization-dialogue?lang=sq")
        .await
        .json();
    assert!(field["description"]
        .as_str()
        .is_some_and(|d| d.starts_with("NSI lehtëson")));
    assert!(app
        .get("/v1/organisations/new-social-initiative?lang=sr-Cyrl")
        .await
        .json()["description"]
        .as_str()
        .is_some_and(|d| d.starts_with("A think tank")));
    let kcss = app.get("/v1/organisations/kcss").await.json();
    assert!(kcss
        .get("description")
        .is_some_and(serde_json::Value::is_null));
    let event = app
        .get("/v1/events/diplomats-discussion-kpds-2024")
        .await
        .json();
    assert!(event
        .get("description")
        .is_some_and(serde_json::Value::is_null));

    let fields = app.get("/v1/fields").await.json();
    assert_eq!(fields["total"], 4);
    let field = app
        .get("/v1/fields/citizen-participation?lang=sq")
        .await
        .json();
    assert_eq!(field["language"], "sq");

    let events = app.get("/v1/events").await.json();
    let dates: Vec<&str> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["starts_on"].as_str())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest first");
    let summit = app
        .get("/v1/events/kosovo-peace-and-democracy-summit-2024")
        .await
        .json();
    assert_eq!(summit["kind"], "summit");
    assert_eq!(summit["ends_on"], "2024-09-26");
    assert_eq!(
        summit["publications"][0]["slug"],
        "conclusions-kosovo-peace-and-democracy-summit-2024"
    );
    assert_eq!(app.get("/v1/events?kind=summit").await.json()["total"], 1);
    assert_eq!(app.get("/v1/events?year=2023").await.json()["total"], 0);
    let in_2024 = app.get("/v1/events?year=2024").await.json()["total"].clone();
    assert!(in_2024.as_u64().is_some_and(|n| n > 0));
    assert_eq!(
        app.get("/v1/events?year=2023,2024").await.json()["total"],
        in_2024
    );
    assert_eq!(
        app.get("/v1/events?year=2023&year=2024").await.json()["total"],
        in_2024
    );
});

on_both_backends!(health_and_readiness, |backend| {
    let app = demo_app(backend);
    assert_eq!(app.get("/healthz").await.json()["status"], "ok");
    let ready = app.get("/readyz").await.json();
    let expected = match backend {
        crate::api::Backend::Sqlite => "sqlite",
        crate::api::Backend::Postgres => "postgres",
    };
    assert_eq!(ready["database"], expected);
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status, 200);
    assert!(
        String::from_utf8_lossy(&docs.body).contains("swagger"),
        "Swagger UI is served"
    );
});

on_both_backends!(every_vocabulary_list_pages_with_a_cursor, |backend| {
    let app = demo_app(backend);
    for collection in ["organisations", "projects", "fields", "events"] {
        let whole = app.get(&format!("/v1/{collection}?lang=sq")).await.json();
        let all: Vec<serde_json::Value> = whole["items"].as_array().expect("items").clone();
        assert!(
            whole["next_cursor"].is_null(),
            "{collection} comes whole by default"
        );
        assert_eq!(whole["total"], all.len());
        // Two at a time, following Link until it stops.
        let mut uri = format!("/v1/{collection}?lang=sq&limit=2");
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let reply = app.get(&uri).await;
            assert_eq!(reply.status, 200, "{uri}");
            let page = reply.json();
            assert_eq!(page["total"], all.len(), "{uri}");
            let items = page["items"].as_array().expect("items");
            assert!(items.len() <= 2);
            seen.extend(items.iter().cloned());
            pages += 1;
            match (page["next_cursor"].as_str(), reply.header("link")) {
                (Some(cursor), Some(link)) => {
                    assert!(link.contains(&format!("cursor={cursor}")), "{link}");
                    assert!(
                        link.contains("lang=sq") && link.contains("limit=2"),
                        "{link}"
                    );
                    uri = link
                        .trim_start_matches('<')
                        .split_once('>')
                        .map(|(target, _)| target.to_owned())
                        .expect("a target");
                }
                (None, None) => break,
                other => panic!("{uri}: cursor and Link disagree: {other:?}"),
            }
            assert!(pages < 50);
        }
        assert_eq!(seen, all, "{collection}: every item once, in order");
        assert_eq!(pages, all.len().div_ceil(2).max(1));
        assert_problem(
            &app.get(&format!("/v1/{collection}?cursor=bm90LWEtY3Vyc29y"))
                .await,
            400,
            "invalid_cursor",
        );
        assert_problem(
            &app.get(&format!("/v1/{collection}?limit=0")).await,
            400,
            "invalid_parameter",
        );
        // A cursor past the end (or at the end of usize) is an empty page.
        let far = "bzoxODQ0Njc0NDA3MzcwOTU1MTYxNQ"; // "o:18446744073709551615"
        let empty = app
            .get(&format!("/v1/{collection}?cursor={far}"))
            .await
            .json();
        assert_eq!(empty["items"], serde_json::json!([]));
        assert!(empty["next_cursor"].is_null());
    }
});

on_both_backends!(details_embed_a_first_page_and_link_to_the_rest, |backend| {
    let db = crate::api::TestDb::new(backend)
        .expect("backend")
        .with_demo();
    // 25 more publications of one project, and of one event.
    let lines: String = (0..25)
            .map(|n| {
                format!(
                    concat!(
                        r#"{{"type":"publication","slug":"extra-{n}","kind":"report","status":"published","#,
                        r#""published_on":"2023-01-{day:02}","project":"dialogue-solutions-future","#,
                        r#""variants":{{"en":{{"title":"Extra {n}"}}}}}}"#,
                        "\n"
                    ),
                    n = n,
                    day = 1 + n % 28
                )
            })
            .collect();
    db.import(&lines);
    let app = crate::api::TestApp::new(db);
    let path_of = |url: &str| -> String {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        rest.find('/')
            .map_or(String::new(), |at| rest[at..].to_owned())
    };
    let slugs = |items: &serde_json::Value| -> Vec<String> {
        items
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|i| i["slug"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };

    for uri in [
        "/v1/projects/dialogue-solutions-future?lang=sq",
        "/v1/organisations/new-social-initiative?lang=sq",
    ] {
        let detail = app.get(uri).await.json();
        let total = detail["publications_total"].as_i64().expect("total");
        assert!(total > 25, "{uri}: {total}");
        let mut seen = slugs(&detail["publications"]);
        assert_eq!(seen.len(), 20, "{uri}");
        // The rest, by the link, in the page's language.
        let mut next: Option<String> = detail["publications_next"].as_str().map(str::to_owned);
        assert!(
            next.as_deref().is_some_and(|url| url.contains("lang=sq")),
            "{next:?}"
        );
        while let Some(url) = next {
            let reply = app.get(&path_of(&url)).await;
            assert_eq!(
                reply.status,
                200,
                "{url}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            next = reply.header("link").and_then(|link| {
                let target = link.strip_prefix('<')?.split_once('>')?.0;
                Some(target.to_owned())
            });
            let page = reply.json();
            assert_eq!(page["total"], total, "{url}");
            seen.extend(slugs(&page["items"]));
            assert!(seen.len() <= 200, "no end to {uri}");
        }
        let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len() as i64, total, "{uri}: every one once");
    }

    // A detail whose publications all fit says so with null.
    let event = app
        .get("/v1/events/expert-discussion-2024-10-31")
        .await
        .json();
    assert_eq!(event["publications_next"], serde_json::Value::Null);
    assert_eq!(event["publications_total"], 1);
});
