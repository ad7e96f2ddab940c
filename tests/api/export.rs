//! `GET /v1/export.ndjson`: the public archive for everyone, all of it for
//! admins, in a form `arkiv import` takes back.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::auth::Role;
use serde_json::{json, Value};

use super::{assert_problem, Backend, TestApp, TestDb};
use crate::on_both_backends;

fn publications(ndjson: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(ndjson)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("one JSON record a line"))
        .filter(|record| record["type"] == "publication")
        .collect()
}

on_both_backends!(
    the_export_is_public_for_readers_and_whole_for_admins,
    |backend| {
        let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
        let (editor, admin) = (app.key(Role::Editor), app.key(Role::Admin));
        let draft = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "export-draft", "kind": "report", "variants": {"en": {"title": "Secret"}}}),
        )
        .await;
        assert_eq!(draft.status, 201);

        let public = app.get("/v1/export.ndjson").await;
        assert_eq!(public.status, 200);
        assert_eq!(
            public.header("content-type").as_deref(),
            Some("application/x-ndjson")
        );
        let listed = app.get("/v1/publications?limit=100").await.json();
        let exported = publications(&public.body);
        assert_eq!(
            exported.len() as u64,
            listed["total"].as_u64().expect("total")
        );
        assert!(exported.iter().all(|p| p["status"] == "published"));
        assert!(!String::from_utf8_lossy(&public.body).contains("export-draft"));

        let whole = app
            .send(
                TestRequest::get()
                    .uri("/v1/export.ndjson")
                    .insert_header(("Authorization", format!("Bearer {admin}"))),
            )
            .await;
        assert!(
            String::from_utf8_lossy(&whole.body).contains("export-draft"),
            "admins get drafts"
        );
        assert!(publications(&whole.body).len() > exported.len());

        // What a partner downloads imports into an empty archive.
        let mirror = TestDb::new(Backend::Sqlite).expect("sqlite");
        let report = mirror.import(&String::from_utf8_lossy(&public.body));
        let created = report
            .created
            .get(&arkiv::import::format::Entity::Publication)
            .copied()
            .unwrap_or(0);
        assert_eq!(created, exported.len(), "{report}");
        assert_problem(
            &app.get("/v1/export.ndjson?since=1").await,
            400,
            "unknown_query_parameter",
        );
    }
);
