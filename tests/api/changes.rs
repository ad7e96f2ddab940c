//! `/v1/changes`: a mirror that replays the feed holds exactly what the
//! public sees, through edits, unpublishing, withdrawal and deletion.

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use serde_json::{json, Value};

use super::{assert_problem, bearer, TestApp, TestDb};
use crate::on_both_backends;

/// A partner's copy of the publications: id → slug.
#[derive(Default)]
struct Mirror {
    publications: BTreeMap<String, String>,
    since: i64,
}

impl Mirror {
    /// Reads the feed from where it stopped to its end, page by page.
    async fn follow(&mut self, app: &TestApp) {
        for _ in 0..1_000 {
            let reply = app
                .get(&format!(
                    "/v1/changes?since={}&limit=7&include=publication",
                    self.since
                ))
                .await;
            assert_eq!(
                reply.status,
                200,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            assert!(reply
                .header("link")
                .is_some_and(|l| l.contains("rel=\"next\"")));
            let page = reply.json();
            for event in page["items"].as_array().expect("items") {
                if event["entity"] != "publication" {
                    continue;
                }
                let id = event["id"].as_str().expect("id").to_owned();
                match event["operation"].as_str() {
                    Some("upsert") => {
                        assert_eq!(event["publication"]["id"], id.as_str(), "embedded");
                        self.publications
                            .insert(id, event["slug"].as_str().expect("slug").to_owned());
                    }
                    Some("delete") => {
                        assert_eq!(event["slug"], Value::Null);
                        self.publications.remove(&id);
                    }
                    other => panic!("operation {other:?}"),
                }
            }
            self.since = page["next_since"].as_i64().expect("next_since");
            if page["has_more"] == false {
                return;
            }
        }
        panic!("the feed never ended");
    }
}

/// What the public list shows: id → slug.
async fn public(app: &TestApp) -> BTreeMap<String, String> {
    let listed = app.get("/v1/publications?limit=100").await.json();
    assert!(listed["next_cursor"].is_null(), "fits one page");
    listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            (
                item["id"].as_str().unwrap_or_default().to_owned(),
                item["slug"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

on_both_backends!(
    a_mirror_replaying_the_feed_matches_the_public_archive,
    |backend| {
        let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
        let (editor, admin) = (app.key(Role::Editor), app.key(Role::Admin));
        let mut mirror = Mirror::default();
        mirror.follow(&app).await;
        assert!(!mirror.publications.is_empty());
        assert_eq!(mirror.publications, public(&app).await, "from 0");

        // A draft never reaches the mirror; published, it does.
        let made = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "feed-draft", "kind": "report", "variants": {"en": {"title": "Feed"}}}),
        )
        .await;
        let uri = made.header("location").expect("Location");
        mirror.follow(&app).await;
        assert_eq!(mirror.publications, public(&app).await, "draft stays out");
        let auth = ("Authorization", format!("Bearer {editor}"));
        app.send(
            TestRequest::post()
                .uri(&format!("{uri}/publish"))
                .insert_header(auth.clone()),
        )
        .await;
        // A rename, a withdrawal and a deletion of demo publications.
        let demo: Vec<String> = public(&app).await.into_keys().collect();
        let etag = |uri: String| {
            let app = &app;
            let auth = auth.clone();
            async move {
                app.send(TestRequest::get().uri(&uri).insert_header(auth))
                    .await
                    .header("etag")
                    .expect("etag")
            }
        };
        let renamed = format!("/v1/publications/{}", demo[0]);
        let tag = etag(renamed.clone()).await;
        let reply = app
            .send(
                TestRequest::patch()
                    .uri(&renamed)
                    .insert_header(auth.clone())
                    .insert_header(("If-Match", tag))
                    .set_json(json!({"slug": "renamed-for-the-feed"})),
            )
            .await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let withdrawn = format!("/v1/publications/{}", demo[1]);
        app.send(
            TestRequest::post()
                .uri(&format!("{withdrawn}/withdraw"))
                .insert_header(auth.clone())
                .set_json(json!({"reason": "superseded"})),
        )
        .await;
        let deleted = format!("/v1/publications/{}", demo[2]);
        let tag = etag(deleted.clone()).await;
        let reply = app
            .send(
                TestRequest::delete()
                    .uri(&deleted)
                    .insert_header(bearer(&admin))
                    .insert_header(("If-Match", tag)),
            )
            .await;
        assert_eq!(reply.status, 204);

        mirror.follow(&app).await;
        let now = public(&app).await;
        assert_eq!(mirror.publications, now, "after edits");
        assert_eq!(
            now.get(&demo[0]).map(String::as_str),
            Some("renamed-for-the-feed")
        );
        assert!(!now.contains_key(&demo[1]) && !now.contains_key(&demo[2]));
        assert!(now.values().any(|slug| slug == "feed-draft"));

        // Nothing new: an empty page that says where to poll from.
        let idle = app
            .get(&format!("/v1/changes?since={}", mirror.since))
            .await
            .json();
        assert_eq!(idle["items"], json!([]));
        assert_eq!(idle["next_since"], mirror.since);
        for bad in [
            "since=-1",
            "since=x",
            "limit=0",
            "limit=1001",
            "include=everything",
        ] {
            assert_problem(
                &app.get(&format!("/v1/changes?{bad}")).await,
                400,
                "invalid_parameter",
            );
        }
    }
);

on_both_backends!(the_feed_pages_with_a_cursor_like_every_list, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let whole = app.get("/v1/changes?limit=1000").await.json();
    let all: Vec<i64> = whole["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|event| event["seq"].as_i64())
        .collect();
    assert!(all.len() > 10, "{} events", all.len());
    assert_eq!(whole["total"], all.len());
    assert_eq!(whole["next_cursor"], Value::Null, "one page holds them all");

    // Pages of 4 by next_cursor: the same events, and total counts what
    // is left from each page on.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let uri = match &cursor {
            Some(cursor) => format!("/v1/changes?limit=4&cursor={cursor}"),
            None => "/v1/changes?limit=4".to_owned(),
        };
        let page = app.get(&uri).await.json();
        assert_eq!(page["total"], all.len() - seen.len(), "{uri}");
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|event| event["seq"].as_i64()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, all);
    assert_problem(
        &app.get("/v1/changes?since=1&cursor=2").await,
        400,
        "invalid_parameter",
    );
});
