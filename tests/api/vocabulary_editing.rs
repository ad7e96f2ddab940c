//! Editors write organisations, fields, projects and events.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use serde_json::{json, Value};

use super::{assert_problem, Reply, TestApp, TestDb};
use crate::on_both_backends;

async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    key: &str,
    if_match: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut request = TestRequest::default()
        .method(method)
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {key}")));
    if let Some(body) = body {
        request = request.set_json(body);
    }
    if let Some(tag) = if_match {
        request = request.insert_header(("If-Match", tag.to_owned()));
    }
    app.send(request).await
}

on_both_backends!(editors_write_every_kind_of_vocabulary, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let (editor, admin, partner) = (
        app.key(Role::Editor),
        app.key(Role::Admin),
        app.key(Role::Partner),
    );
    let cases = [
        (
            "/v1/organisations",
            json!({"slug": "kosovo-water-forum", "name": {"en": "Kosovo Water Forum", "sq": "Forumi i Ujit"}, "description": {"en": "Keeps rivers on the agenda."}, "roles": ["partner"]}),
            "name",
        ),
        (
            "/v1/fields",
            json!({"slug": "water", "label": {"en": "Water", "sr-Latn": "Voda"}}),
            "label",
        ),
        (
            "/v1/projects",
            json!({"slug": "water-dialogue", "title": {"en": "Water dialogue"}, "funders": ["national-endowment-for-democracy"], "partners": ["kosovo-water-forum"], "implementers": ["new-social-initiative"], "fields": ["water"]}),
            "title",
        ),
        (
            "/v1/events",
            json!({"slug": "water-roundtable-2026", "kind": "focus_group", "title": {"en": "Water roundtable"}, "description": {"sq": "Tryezë për ujin."}, "starts_on": "2026-12-01", "project": "water-dialogue", "organisers": ["kosovo-water-forum"]}),
            "title",
        ),
    ];
    let mut made = Vec::new();
    for (collection, body, text_field) in &cases {
        assert_problem(
            &send(&app, Method::POST, collection, &partner, None, Some(body)).await,
            403,
            "forbidden",
        );
        let reply = send(&app, Method::POST, collection, &editor, None, Some(body)).await;
        assert_eq!(
            reply.status,
            201,
            "{collection}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let location = reply.header("location").expect("Location");
        let id = reply.json()["id"].as_str().expect("id").to_owned();
        assert_eq!(location, format!("{collection}/{id}"));
        // Readers see it at once, by slug, with an ETag that carries its version.
        let slug = body["slug"].as_str().unwrap();
        let read = app.get(&format!("{collection}/{slug}")).await;
        assert_eq!(read.status, 200, "{collection}/{slug}");
        let etag = read.header("etag").expect("etag");
        // A slug in use: 409.
        assert_problem(
            &send(&app, Method::POST, collection, &editor, None, Some(body)).await,
            409,
            "slug_taken",
        );
        // Patch the texts: needs If-Match.
        let patch = json!({ *text_field: {"sr-Cyrl": "Ново"} });
        assert_problem(
            &send(&app, Method::PATCH, &location, &editor, None, Some(&patch)).await,
            428,
            "precondition_required",
        );
        let patched = send(
            &app,
            Method::PATCH,
            &location,
            &editor,
            Some(&etag),
            Some(&patch),
        )
        .await;
        assert_eq!(
            patched.status,
            200,
            "{collection}: {}",
            String::from_utf8_lossy(&patched.body)
        );
        assert_eq!(patched.json()[*text_field]["sr-Cyrl"], "Ново");
        assert!(
            patched.json()[*text_field]["en"].is_string(),
            "merged, not replaced"
        );
        let stale = send(
            &app,
            Method::PATCH,
            &location,
            &editor,
            Some(&etag),
            Some(&patch),
        )
        .await;
        assert_problem(&stale, 412, "precondition_failed");
        made.push((location, patched.header("etag").expect("etag")));
    }
    // A reference to nothing is named.
    let dangling =
        json!({"slug": "orphan", "title": {"en": "Orphan"}, "funders": ["nobody-at-all"]});
    let problem = assert_problem(
        &send(
            &app,
            Method::POST,
            "/v1/projects",
            &editor,
            None,
            Some(&dangling),
        )
        .await,
        422,
        "validation_failed",
    );
    assert!(problem.to_string().contains("nobody-at-all"));
    // The new project lists its partner and implementer.
    let project = app.get("/v1/projects/water-dialogue").await.json();
    assert_eq!(
        project["partners"][0]["slug"], "kosovo-water-forum",
        "{project}"
    );
    assert_eq!(project["implementers"][0]["slug"], "new-social-initiative");
    let implementer = app
        .get("/v1/organisations/new-social-initiative")
        .await
        .json();
    let implemented: Vec<&str> = implementer["implemented_projects"]
        .as_array()
        .expect("implemented projects")
        .iter()
        .filter_map(|p| p["slug"].as_str())
        .collect();
    assert!(implemented.contains(&"water-dialogue"), "{implemented:?}");
    // Descriptions are stored, served and patched like any text.
    let forum = app.get("/v1/organisations/kosovo-water-forum").await.json();
    assert_eq!(forum["description"], "Keeps rivers on the agenda.");
    let roundtable = app
        .get("/v1/events/water-roundtable-2026?lang=sq")
        .await
        .json();
    assert_eq!(roundtable["description"], "Tryezë për ujin.");
    let blank = json!({"slug": "blank", "label": {"en": "Blank"}, "description": {"en": "  "}});
    let problem = assert_problem(
        &send(
            &app,
            Method::POST,
            "/v1/fields",
            &editor,
            None,
            Some(&blank),
        )
        .await,
        422,
        "validation_failed",
    );
    assert!(
        problem["errors"].to_string().contains("description"),
        "{problem}"
    );
    // An implementer that is no organisation, or named twice, is named.
    for (implementers, named) in [
        (json!(["nobody-at-all"]), "nobody-at-all"),
        (json!(["kcss", "kcss"]), "implementers"),
    ] {
        let body =
            json!({"slug": "another", "title": {"en": "Another"}, "implementers": implementers});
        let problem = assert_problem(
            &send(
                &app,
                Method::POST,
                "/v1/projects",
                &editor,
                None,
                Some(&body),
            )
            .await,
            422,
            "validation_failed",
        );
        assert!(problem["errors"].to_string().contains(named), "{problem}");
    }

    // Deleting: admins only; refused while referred to; then allowed, last first.
    let (event, event_tag) = &made[3];
    assert_problem(
        &send(&app, Method::DELETE, event, &editor, Some(event_tag), None).await,
        403,
        "forbidden",
    );
    let (org, org_tag) = &made[0];
    assert_problem(
        &send(&app, Method::DELETE, org, &admin, Some(org_tag), None).await,
        409,
        "in_use",
    );
    for (location, tag) in made.iter().rev() {
        let deleted = send(&app, Method::DELETE, location, &admin, Some(tag), None).await;
        assert_eq!(
            deleted.status,
            204,
            "{location}: {}",
            String::from_utf8_lossy(&deleted.body)
        );
        assert_problem(&app.get(location).await, 404, "not_found");
    }
});

// The same refusal of U+0000 as for publications (a 500 on PostgreSQL
// before), for a vocabulary record.
on_both_backends!(nul_characters_in_vocabulary_bodies_are_a_400, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    let field = json!({"slug": "x-nul", "label": {"en": "Water\u{0}"}});
    let reply = send(
        &app,
        Method::POST,
        "/v1/fields",
        &editor,
        None,
        Some(&field),
    )
    .await;
    assert_problem(&reply, 400, "invalid_body");
    assert_problem(&app.get("/v1/fields/x-nul").await, 404, "not_found");
});
