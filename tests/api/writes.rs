//! The write service: one record written through the API resolves only
//! the slugs it names, with the same problems (codes, fields, messages)
//! as an import line; the resolver and the queries a single write makes.

use std::sync::{Arc, Mutex};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::db::write::existing_by_slug;
use arkiv::domain::keys::Role;
use arkiv::domain::records::{Entity, Record};
use arkiv::write::resolve::{place, resolve_references, Archive};
use diesel::connection::{Connection, InstrumentationEvent};
use serde_json::{json, Value};

use super::{assert_problem, TestApp, TestDb};
use crate::on_both_backends;

fn publication(slug: &str) -> Value {
    json!({
        "slug": slug,
        "kind": "report",
        "project": "dialogue-solutions-future",
        "fields": ["normalization-dialogue"],
        "variants": {"en": {"title": "Roads and bridges"}}
    })
}

async fn post(app: &TestApp, uri: &str, key: &str, body: &Value) -> super::Reply {
    app.send(
        TestRequest::post()
            .uri(uri)
            .insert_header(("Authorization", format!("Bearer {key}")))
            .set_json(body),
    )
    .await
}

/// The (field, message) pairs of a 422.
fn problems(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            (
                error["field"].as_str().unwrap_or_default().to_owned(),
                error["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn unknown(entity: &str, slug: &str) -> String {
    format!("no {entity} has the slug {slug:?} in this file or in the archive")
}

on_both_backends!(
    a_write_naming_an_unknown_slug_is_refused_as_before,
    |backend| {
        let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
        let editor = app.key(Role::Editor);

        // A new publication: every unknown slug named by its field.
        let mut body = publication("roads-and-bridges");
        body["project"] = json!("no-such-project");
        body["event"] = json!("no-such-event");
        body["fields"] = json!(["normalization-dialogue", "no-such-field"]);
        let reply = post(&app, "/v1/publications", &editor, &body).await;
        let problem = assert_problem(&reply, 422, "validation_failed");
        assert_eq!(
            problems(&problem),
            vec![
                ("fields[1]".to_owned(), unknown("field", "no-such-field")),
                ("project".to_owned(), unknown("project", "no-such-project")),
                ("event".to_owned(), unknown("event", "no-such-event")),
            ]
        );

        // A patch of a stored one.
        let uri = "/v1/publications/conclusions-expert-discussion-2024-10-31";
        let reply = app
            .change(
                Method::PATCH,
                uri,
                &editor,
                Some(json!({"event": "no-such-event"})),
            )
            .await;
        let problem = assert_problem(&reply, 422, "validation_failed");
        assert_eq!(
            problems(&problem),
            vec![("event".to_owned(), unknown("event", "no-such-event"))]
        );

        // The vocabulary: a project's funders and partners, an event's project.
        let project = json!({
            "slug": "roads-project",
            "title": {"en": "Roads"},
            "funders": [{"organisation": "no-such-funder", "grant_number": "1"}],
            "partners": ["kcss", "no-such-partner"]
        });
        let reply = post(&app, "/v1/projects", &editor, &project).await;
        let problem = assert_problem(&reply, 422, "validation_failed");
        assert_eq!(
            problems(&problem),
            vec![
                (
                    "funders[0]".to_owned(),
                    unknown("organisation", "no-such-funder")
                ),
                (
                    "partners[1]".to_owned(),
                    unknown("organisation", "no-such-partner")
                ),
            ]
        );
        let reply = app
            .change(
                Method::PATCH,
                "/v1/events/expert-discussion-2024-10-31",
                &editor,
                Some(json!({"project": "no-such-project"})),
            )
            .await;
        let problem = assert_problem(&reply, 422, "validation_failed");
        assert_eq!(
            problems(&problem),
            vec![("project".to_owned(), unknown("project", "no-such-project"))]
        );

        // Nothing of any of them was written.
        let listed = app
            .send(
                TestRequest::get()
                    .uri("/v1/publications/roads-and-bridges")
                    .insert_header(("Authorization", format!("Bearer {editor}"))),
            )
            .await;
        assert_eq!(listed.status, 404);
        assert_eq!(app.get("/v1/projects/roads-project").await.status, 404);
    }
);

on_both_backends!(a_patch_that_changes_a_reference_resolves_it, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    let uri = "/v1/publications/conclusions-expert-discussion-2024-10-31";
    let reply = app
        .change(
            Method::PATCH,
            uri,
            &editor,
            Some(json!({
                "project": "strengthening-youth-civic-participation",
                "event": null,
                "fields": ["citizen-participation", "media-monitoring"]
            })),
        )
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let detail = app.get(uri).await.json();
    assert_eq!(
        detail["project"]["slug"],
        "strengthening-youth-civic-participation"
    );
    assert_eq!(detail["event"], Value::Null);
    let fields: Vec<&str> = detail["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|field| field["slug"].as_str())
        .collect();
    assert_eq!(fields, ["citizen-participation", "media-monitoring"]);

    // A vocabulary patch resolves its slugs too, and answers with them.
    let reply = app
        .change(
            Method::PATCH,
            "/v1/projects/dialogue-solutions-future",
            &editor,
            Some(json!({"partners": ["sbunker", "kcss"]})),
        )
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["partners"], json!(["sbunker", "kcss"]));
    let project = app
        .get("/v1/projects/dialogue-solutions-future")
        .await
        .json();
    let partners: Vec<&str> = project["partners"]
        .as_array()
        .expect("partners")
        .iter()
        .filter_map(|partner| partner["slug"].as_str())
        .collect();
    assert_eq!(partners, ["sbunker", "kcss"]);
});

on_both_backends!(
    the_resolver_looks_up_only_the_slugs_a_record_names,
    |backend| {
        let db = TestDb::new(backend).expect("backend").with_demo();
        let mut conn = db.db.conn().expect("connection");
        let record = Record::from_json(json!({
            "type": "project",
            "slug": "roads-project",
            "title": {"en": "Roads"},
            "funders": ["german-federal-foreign-office"],
            "partners": ["kcss", "german-federal-foreign-office", "no-such-partner"],
            "fields": ["citizen-participation"]
        }))
        .expect("a project");
        let (ids, problems) = resolve_references(&mut conn, &record).expect("resolved");
        // Two organisations and one field, of the demo's seven and four.
        assert_eq!(ids.len(), 3, "{ids:?}");
        for (entity, slug) in [
            (Entity::Organisation, "german-federal-foreign-office"),
            (Entity::Organisation, "kcss"),
            (Entity::Field, "citizen-participation"),
        ] {
            let stored = existing_by_slug(&mut conn, entity, slug)
                .expect("query")
                .expect("stored");
            assert_eq!(ids.get(entity, slug), Some(stored.id.as_str()), "{slug}");
        }
        assert_eq!(
            problems,
            vec![(
                "partners[2]".to_owned(),
                unknown("organisation", "no-such-partner")
            )]
        );

        // Placing: a stored slug keeps its id; a new one gets a fresh id; an
        // id another kind of entity has is a problem on `id`.
        let stored = existing_by_slug(&mut conn, Entity::Project, "dialogue-solutions-future")
            .expect("query")
            .expect("stored");
        let same = Record::from_json(json!({
            "type": "project", "slug": "dialogue-solutions-future", "title": {"en": "D"}
        }))
        .expect("a project");
        let placed = place(&mut Archive(&mut conn), &same)
            .expect("query")
            .expect("placed");
        assert_eq!(placed.id, stored.id);
        assert!(placed.existing.is_some());
        let placed = place(&mut Archive(&mut conn), &record)
            .expect("query")
            .expect("placed");
        assert_ne!(placed.id, stored.id);
        assert!(placed.existing.is_none());
        let field = existing_by_slug(&mut conn, Entity::Field, "media-monitoring")
            .expect("query")
            .expect("stored");
        let clash = Record::from_json(json!({
            "type": "project", "id": field.id, "slug": "clash", "title": {"en": "C"}
        }))
        .expect("a project");
        let (path, message) = place(&mut Archive(&mut conn), &clash)
            .expect("query")
            .expect_err("refused");
        assert_eq!(path, "id");
        assert_eq!(
            message,
            format!("{} is already the id of an field", field.id)
        );
    }
);

on_both_backends!(a_single_write_reads_no_whole_table, |backend| {
    let db = TestDb::new(backend).expect("backend").with_demo();
    let mut conn = db.db.conn().expect("connection");
    let statements = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&statements);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            if let Ok(mut seen) = seen.lock() {
                seen.push(query.to_string());
            }
        }
    });
    let mut record = publication("roads-and-bridges");
    record["type"] = json!("publication");
    record["status"] = json!("draft");
    let created = Record::from_json(record.clone()).expect("a publication");
    arkiv::write::save(&mut conn, &created).expect("created");
    record["variants"]["en"]["title"] = json!("Roads, bridges and tunnels");
    record["fields"] = json!(["citizen-participation"]);
    let changed = Record::from_json(record).expect("a publication");
    arkiv::write::save(&mut conn, &changed).expect("changed");
    let project = Record::from_json(json!({
        "type": "project", "slug": "roads-project", "title": {"en": "Roads"},
        "funders": ["german-federal-foreign-office"], "fields": ["citizen-participation"]
    }))
    .expect("a project");
    arkiv::write::save(&mut conn, &project).expect("a project");

    let statements = statements.lock().expect("statements").clone();
    let reads: Vec<&String> = statements
        .iter()
        .filter(|sql| sql.trim_start().to_ascii_uppercase().starts_with("SELECT"))
        .collect();
    assert!(!reads.is_empty(), "{statements:#?}");
    for sql in reads {
        let upper = sql.to_ascii_uppercase();
        // MAX(seq) of the change log reads one end of its primary key;
        // PostgreSQL's advisory lock orders change-log writers.
        let bounded = upper.contains(" WHERE ")
            || upper.starts_with("SELECT MAX(")
            || upper.starts_with("SELECT PG_ADVISORY_XACT_LOCK(");
        assert!(bounded, "a single write read a whole table: {sql}");
    }
});
