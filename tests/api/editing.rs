//! Editors write publications: the role matrix, drafts that only editors
//! see, publish and withdraw, optimistic concurrency with If-Match, and
//! validation that lists every problem.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use serde_json::{json, Value};

use super::{assert_problem, Reply, TestApp, TestDb};
use crate::on_both_backends;

fn draft(slug: &str) -> Value {
    json!({
        "slug": slug,
        "kind": "policy_paper",
        "project": "dialogue-solutions-future",
        "fields": ["normalization-dialogue"],
        "variants": {
            "en": {"title": "Water after the agreement", "summary": "Who runs the Ibar-Lepenac system.", "body": "The hydropower question remains open."},
            "sq": {"title": "Uji pas marrëveshjes", "body": "Çështja e hidrocentralit mbetet e hapur."}
        }
    })
}

fn with_key(request: TestRequest, key: &str) -> TestRequest {
    request.insert_header(("Authorization", format!("Bearer {key}")))
}

async fn get_as(app: &TestApp, uri: &str, key: Option<&str>) -> Reply {
    let mut request = TestRequest::get().uri(uri);
    if let Some(key) = key {
        request = with_key(request, key);
    }
    app.send(request).await
}

async fn edit(
    app: &TestApp,
    method: Method,
    uri: &str,
    key: &str,
    if_match: Option<&str>,
    body: &Value,
) -> Reply {
    let mut request = with_key(TestRequest::default().method(method).uri(uri), key).set_json(body);
    if let Some(tag) = if_match {
        request = request.insert_header(("If-Match", tag));
    }
    app.send(request).await
}

/// Creates a publication with `key`: `POST /v1/publications`.
async fn create(app: &TestApp, key: &str, body: &Value) -> Reply {
    edit(app, Method::POST, "/v1/publications", key, None, body).await
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

on_both_backends!(
    drafts_are_made_by_editors_and_seen_only_by_them,
    |backend| {
        let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
        let (editor, partner, admin) = (
            app.key(Role::Editor),
            app.key(Role::Partner),
            app.key(Role::Admin),
        );
        let body = draft("water-after-the-agreement");
        // Who may create: nobody without a key, not a partner.
        assert_problem(
            &app.send(TestRequest::post().uri("/v1/publications").set_json(&body))
                .await,
            401,
            "unauthorized",
        );
        assert_problem(&create(&app, &partner, &body).await, 403, "forbidden");

        let made = create(&app, &editor, &body).await;
        assert_eq!(made.status, 201, "{}", text(&made));
        let location = made.header("location").expect("Location");
        assert!(made.header("etag").is_some());
        let created = made.json();
        assert_eq!(created["status"], "draft");
        assert_eq!(created["available_languages"], json!(["en", "sq"]));
        let id = created["id"].as_str().expect("id").to_owned();
        assert_eq!(location, format!("/v1/publications/{id}"));

        // Anonymous callers never see it: detail, list, search.
        assert_problem(&app.get(&location).await, 404, "not_found");
        assert_problem(
            &app.get("/v1/publications/water-after-the-agreement").await,
            404,
            "not_found",
        );
        let listed = app.get("/v1/publications?limit=100").await.json();
        assert!(!listed.to_string().contains(&id));
        assert_problem(
            &app.get("/v1/publications?status=draft").await,
            401,
            "unauthorized",
        );
        assert_problem(
            &get_as(&app, "/v1/publications?status=draft", Some(&partner)).await,
            403,
            "forbidden",
        );
        app.sync();
        assert_eq!(app.get("/v1/search?q=hydropower").await.json()["total"], 0);
        // Editors do.
        let seen = get_as(&app, &location, Some(&editor)).await;
        assert_eq!(seen.status, 200);
        assert_eq!(seen.json()["status"], "draft");
        let drafts = get_as(&app, "/v1/publications?status=draft", Some(&editor))
            .await
            .json();
        assert_eq!(drafts["total"], 1);
        assert_eq!(drafts["items"][0]["id"], id.as_str());

        // A draft cannot be withdrawn: its tombstone would make it public.
        let too_early = edit(
            &app,
            Method::POST,
            &format!("{location}/withdraw"),
            &editor,
            None,
            &json!({"reason": "never mind"}),
        )
        .await;
        assert_problem(&too_early, 409, "invalid_transition");
        assert_problem(&app.get(&location).await, 404, "not_found");

        // Published: everyone sees it, search finds it.
        let published = edit(
            &app,
            Method::POST,
            &format!("{location}/publish"),
            &editor,
            None,
            &json!({}),
        )
        .await;
        assert_eq!(published.status, 200, "{}", text(&published));
        assert_eq!(published.json()["status"], "published");
        assert!(published.json()["published_on"].is_string());
        assert_eq!(app.get(&location).await.status, 200);
        app.sync();
        assert_eq!(app.get("/v1/search?q=hydropower").await.json()["total"], 1);

        // Withdrawn: 410 with the reason; gone from search.
        let no_reason = edit(
            &app,
            Method::POST,
            &format!("{location}/withdraw"),
            &editor,
            None,
            &json!({"reason": " "}),
        )
        .await;
        assert_problem(&no_reason, 400, "invalid_body");
        let withdrawn = edit(
            &app,
            Method::POST,
            &format!("{location}/withdraw"),
            &editor,
            None,
            &json!({"reason": "Superseded by the 2026 edition"}),
        )
        .await;
        assert_eq!(withdrawn.status, 200, "{}", text(&withdrawn));
        let gone = assert_problem(&app.get(&location).await, 410, "withdrawn");
        assert!(gone["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Superseded"));
        app.sync();
        assert_eq!(app.get("/v1/search?q=hydropower").await.json()["total"], 0);

        // Deleting is for admins, against the current version.
        let etag = get_as(&app, &location, Some(&admin))
            .await
            .header("etag")
            .expect("etag");
        let delete = |key: &str, tag: Option<&str>| {
            let mut request = with_key(TestRequest::delete().uri(&location), key);
            if let Some(tag) = tag {
                request = request.insert_header(("If-Match", tag.to_owned()));
            }
            request
        };
        assert_problem(
            &app.send(delete(&editor, Some(&etag))).await,
            403,
            "forbidden",
        );
        assert_problem(
            &app.send(delete(&admin, None)).await,
            428,
            "precondition_required",
        );
        let deleted = app.send(delete(&admin, Some(&etag))).await;
        assert_eq!(deleted.status, 204, "{}", text(&deleted));
        assert_problem(
            &get_as(&app, &location, Some(&admin)).await,
            404,
            "not_found",
        );
    }
);

on_both_backends!(two_editors_never_overwrite_each_other, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let (alice, bob) = (app.key(Role::Editor), app.key(Role::Editor));
    let made = edit(
        &app,
        Method::POST,
        "/v1/publications",
        &alice,
        None,
        &draft("shared-draft"),
    )
    .await;
    assert_eq!(made.status, 201, "{}", text(&made));
    let uri = made.header("location").expect("Location");
    // Both read the same version.
    let seen_by_alice = get_as(&app, &uri, Some(&alice))
        .await
        .header("etag")
        .expect("etag");
    let seen_by_bob = get_as(&app, &uri, Some(&bob))
        .await
        .header("etag")
        .expect("etag");
    assert_eq!(seen_by_alice, seen_by_bob);
    // Serbian readers get another representation of the same version: it
    // is accepted too.
    let in_serbian = get_as(&app, &format!("{uri}?lang=sr"), Some(&bob))
        .await
        .header("etag")
        .expect("etag");
    assert_ne!(in_serbian, seen_by_bob);

    // Alice changes the English title.
    let patch = json!({"variants": {"en": {"title": "Water after the Brussels agreement"}}});
    assert_problem(
        &edit(&app, Method::PATCH, &uri, &alice, None, &patch).await,
        428,
        "precondition_required",
    );
    let alice_done = edit(
        &app,
        Method::PATCH,
        &uri,
        &alice,
        Some(&seen_by_alice),
        &patch,
    )
    .await;
    assert_eq!(alice_done.status, 200, "{}", text(&alice_done));
    let current = alice_done.header("etag").expect("etag");
    // Bob, still on the old version, is refused and told the current one.
    let bob_patch = json!({"keywords": ["water", "energy"]});
    let refused = edit(
        &app,
        Method::PATCH,
        &uri,
        &bob,
        Some(&in_serbian),
        &bob_patch,
    )
    .await;
    assert_problem(&refused, 412, "precondition_failed");
    // If-Match compares strongly: a weak form of the current tag is refused.
    let weak = edit(
        &app,
        Method::PATCH,
        &uri,
        &bob,
        Some(&format!("W/{current}")),
        &bob_patch,
    )
    .await;
    assert_problem(&weak, 412, "precondition_failed");
    assert_eq!(refused.header("etag").as_deref(), Some(current.as_str()));
    // With it, his change goes in and Alice's stays.
    let bob_done = edit(&app, Method::PATCH, &uri, &bob, Some(&current), &bob_patch).await;
    assert_eq!(bob_done.status, 200, "{}", text(&bob_done));
    let both = get_as(&app, &format!("{uri}?lang=en"), Some(&alice))
        .await
        .json();
    assert_eq!(both["title"], "Water after the Brussels agreement");
    assert_eq!(both["keywords"], json!(["water", "energy"]));
    assert_eq!(both["variants"], Value::Null);
    let export = get_as(&app, &format!("{uri}?lang=all"), Some(&alice))
        .await
        .json();
    assert_eq!(
        export["variants"]["sq"]["title"], "Uji pas marrëveshjes",
        "the patch merged"
    );

    // A replacement is checked the same way.
    let mut whole = draft("shared-draft-renamed");
    whole["variants"]["en"]["title"] = json!("Water, renamed");
    let stale = edit(&app, Method::PUT, &uri, &alice, Some(&current), &whole).await;
    assert_problem(&stale, 412, "precondition_failed");
    let fresh = bob_done.header("etag").expect("etag");
    let replaced = edit(&app, Method::PUT, &uri, &alice, Some(&fresh), &whole).await;
    assert_eq!(replaced.status, 200, "{}", text(&replaced));
    assert_eq!(replaced.json()["slug"], "shared-draft-renamed");
    assert_eq!(
        replaced.json()["status"],
        "draft",
        "status kept when left out"
    );
    assert_eq!(
        replaced.json()["keywords"],
        json!([]),
        "a replacement replaces"
    );
});

on_both_backends!(bad_bodies_are_refused_whole_and_write_nothing, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    let post = |body: Value| {
        let (app, editor) = (&app, editor.clone());
        async move { edit(app, Method::POST, "/v1/publications", &editor, None, &body).await }
    };
    let before = get_as(
        &app,
        "/v1/publications?status=draft,published,withdrawn&limit=1",
        Some(&editor),
    )
    .await
    .json()["total"]
        .clone();

    let mut unknown = draft("x-unknown");
    unknown["colour"] = json!("red");
    assert_problem(&post(unknown).await, 400, "invalid_body");
    let mut bad_kind = draft("x-kind");
    bad_kind["kind"] = json!("novel");
    let reply = post(bad_kind).await;
    let problem = assert_problem(&reply, 400, "invalid_body");
    assert_eq!(problem["errors"][0]["field"], "kind");

    // Every problem at once.
    let mut many = draft("x-many");
    many["variants"]["en"]["title"] = json!(" ");
    many["variants"]["sq"]["title"] = json!("");
    many["status"] = json!("published");
    let problem = assert_problem(&post(many).await, 422, "validation_failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    for field in ["variants.en.title", "variants.sq.title", "published_on"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    // A reference to nothing is named.
    let mut dangling = draft("x-dangling");
    dangling["project"] = json!("no-such-project");
    let problem = assert_problem(&post(dangling).await, 422, "validation_failed");
    assert!(problem.to_string().contains("no-such-project"), "{problem}");
    // A slug in use.
    let taken = post(draft("conclusions-expert-discussion-2024-10-31")).await;
    assert_problem(&taken, 409, "slug_taken");
    // Too large: a problem, not a plain-text page.
    let mut huge = draft("x-huge");
    huge["variants"]["en"]["body"] = json!("x".repeat(17 << 20));
    assert_problem(&post(huge).await, 413, "payload_too_large");
    // Not JSON.
    let as_text = with_key(TestRequest::post().uri("/v1/publications"), &editor)
        .insert_header(("Content-Type", "text/plain"))
        .set_payload("slug=x");
    assert_problem(&app.send(as_text).await, 415, "unsupported_media_type");

    let after = get_as(
        &app,
        "/v1/publications?status=draft,published,withdrawn&limit=1",
        Some(&editor),
    )
    .await
    .json()["total"]
        .clone();
    assert_eq!(before, after, "nothing was written");
});

// PostgreSQL cannot store U+0000 in text; it was a 500 there. Now it is
// the same 400 on both backends, and nothing is written.
on_both_backends!(nul_characters_in_bodies_are_a_400, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    let mut nul_title = draft("x-nul");
    nul_title["variants"]["en"]["title"] = json!("Water\u{0}after");
    let reply = create(&app, &editor, &nul_title).await;
    let problem = assert_problem(&reply, 400, "invalid_body");
    assert!(
        problem["detail"].as_str().expect("detail").contains("NUL"),
        "{problem}"
    );
    let mut nul_key = draft("x-nul-key");
    nul_key["variants"]["en"]["summary"] = json!("fine");
    nul_key["keywords"] = json!(["a\u{0}"]);
    let reply = create(&app, &editor, &nul_key).await;
    assert_problem(&reply, 400, "invalid_body");
    assert_problem(
        &get_as(&app, "/v1/publications/x-nul", Some(&editor)).await,
        404,
        "not_found",
    );

    // A withdrawal's reason is stored text too.
    let uri = "/v1/publications/conclusions-expert-discussion-2024-10-31/withdraw";
    let reason = json!({"reason": "retracted\u{0}"});
    let reply = edit(&app, Method::POST, uri, &editor, None, &reason).await;
    assert_problem(&reply, 400, "invalid_body");
    let still = get_as(
        &app,
        "/v1/publications/conclusions-expert-discussion-2024-10-31",
        None,
    )
    .await;
    assert_eq!(still.status, 200, "{}", text(&still));

    // Other control characters are text and round-trip.
    let mut control = draft("x-control");
    control["variants"]["en"]["title"] = json!("Water\u{1}after");
    let reply = create(&app, &editor, &control).await;
    assert_eq!(reply.status, 201, "{}", text(&reply));
    assert_eq!(reply.json()["title"], "Water\u{1}after");
});

// A signed year (`-001-01-01`) was taken and stored as `-0001-01-01`,
// which an export wrote and an import of that export refused.
on_both_backends!(dates_with_a_signed_year_are_a_400, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    for date in ["-001-01-01", "+001-01-01"] {
        let mut signed = draft("x-signed");
        signed["published_on"] = json!(date);
        let reply = create(&app, &editor, &signed).await;
        let problem = assert_problem(&reply, 400, "invalid_body");
        assert_eq!(problem["errors"][0]["field"], "published_on", "{problem}");
    }
    let reply = app.get("/v1/publications?published_from=-001-01-01").await;
    assert_problem(&reply, 400, "invalid_parameter");
});

on_both_backends!(every_write_is_in_the_audit_log, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let (editor, admin) = (app.key(Role::Editor), app.key(Role::Admin));
    let made = edit(
        &app,
        Method::POST,
        "/v1/publications",
        &editor,
        None,
        &draft("audited"),
    )
    .await;
    let uri = made.header("location").expect("Location");
    let id = made.json()["id"].as_str().expect("id").to_owned();
    let tag = made.header("etag").expect("etag");
    let patched = edit(
        &app,
        Method::PATCH,
        &uri,
        &editor,
        Some(&tag),
        &json!({"keywords": ["x"]}),
    )
    .await;
    assert_eq!(patched.status, 200);
    edit(
        &app,
        Method::POST,
        &format!("{uri}/publish"),
        &editor,
        None,
        &json!({}),
    )
    .await;
    let tag = get_as(&app, &uri, Some(&admin))
        .await
        .header("etag")
        .expect("etag");
    let deleted = app
        .send(with_key(TestRequest::delete().uri(&uri), &admin).insert_header(("If-Match", tag)))
        .await;
    assert_eq!(deleted.status, 204);
    // A refused write leaves no entry.
    let refused = edit(
        &app,
        Method::POST,
        "/v1/publications",
        &editor,
        None,
        &json!({"slug": "x"}),
    )
    .await;
    assert_eq!(refused.status, 400);

    assert_problem(
        &get_as(&app, "/v1/admin/audit", Some(&editor)).await,
        403,
        "forbidden",
    );
    let log = get_as(
        &app,
        &format!("/v1/admin/audit?entity_id={id}"),
        Some(&admin),
    )
    .await;
    assert_eq!(log.status, 200, "{}", text(&log));
    let log = log.json();
    let entries: Vec<(String, String)> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap_or_default().to_owned(),
                e["key_name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("create", "test editor"),
        ("patch", "test editor"),
        ("publish", "test editor"),
        ("delete", "test admin"),
    ]
    .iter()
    .map(|(op, key)| (op.to_string(), key.to_string()))
    .collect();
    assert_eq!(entries, expected);
    assert_eq!(log["total"], 4);
    // Paging.
    let first = get_as(
        &app,
        &format!("/v1/admin/audit?entity_id={id}&limit=3"),
        Some(&admin),
    )
    .await;
    let link = first.header("link").expect("a Link to the next page");
    let first = first.json();
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    assert!(
        link.contains(&format!("cursor={cursor}")) && link.contains("entity_id="),
        "{link}"
    );
    let rest = get_as(
        &app,
        &format!("/v1/admin/audit?entity_id={id}&limit=3&cursor={cursor}"),
        Some(&admin),
    )
    .await
    .json();
    assert_eq!(rest["items"][0]["operation"], "delete");
    assert_eq!(rest["next_cursor"], Value::Null);
    assert_problem(
        &get_as(&app, "/v1/admin/audit?cursor=abc", Some(&admin)).await,
        400,
        "invalid_parameter",
    );
});

on_both_backends!(
    concurrent_edits_of_different_publications_all_land,
    |backend| {
        let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
        let editor = app.key(Role::Editor);
        let mut targets = Vec::new();
        for i in 0..6 {
            let made = edit(
                &app,
                Method::POST,
                "/v1/publications",
                &editor,
                None,
                &draft(&format!("parallel-{i}")),
            )
            .await;
            assert_eq!(made.status, 201);
            targets.push((
                made.header("location").expect("Location"),
                made.header("etag").expect("etag"),
            ));
        }
        // Each edit reads before it writes; on SQLite, a transaction that did
        // so while another committed used to fail instead of waiting.
        let patch = json!({"keywords": ["parallel"]});
        let replies = futures_util::future::join_all(
            targets
                .iter()
                .map(|(uri, tag)| edit(&app, Method::PATCH, uri, &editor, Some(tag), &patch)),
        )
        .await;
        for reply in &replies {
            assert_eq!(reply.status, 200, "{}", text(reply));
        }
        let listed = get_as(
            &app,
            "/v1/publications?status=draft&limit=100",
            Some(&editor),
        )
        .await
        .json();
        let patched = listed["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|item| item["keywords"] == json!(["parallel"]))
            .count();
        assert_eq!(patched, 6);
    }
);

// A write answers with the publication as it now is; `?lang=` (in the
// spec) picks the language of that answer, and a write takes no other
// parameter.
on_both_backends!(a_write_answers_in_the_language_asked_for, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    let body = draft("water-in-albanian");
    let made = edit(
        &app,
        Method::POST,
        "/v1/publications?lang=sq",
        &editor,
        None,
        &body,
    )
    .await;
    assert_eq!(made.status, 201, "{}", text(&made));
    assert_eq!(made.header("content-language").as_deref(), Some("sq"));
    assert_eq!(made.json()["title"], "Uji pas marrëveshjes");
    let refused = edit(
        &app,
        Method::POST,
        "/v1/publications?language=sq",
        &editor,
        None,
        &draft("water-elsewhere"),
    )
    .await;
    let problem = assert_problem(&refused, 400, "unknown_query_parameter");
    assert_eq!(problem["allowed"], json!(["lang"]));
});

/// The field names a problem's `errors` lists, in order.
fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A body with several fields of the wrong type, or unknown, names every
/// one of them, so an editing form can mark them all at once.
#[actix_web::test]
async fn every_field_of_the_wrong_type_is_named_at_once() {
    let app = TestApp::new(
        TestDb::new(super::Backend::Sqlite)
            .expect("sqlite")
            .with_demo(),
    );
    let editor = app.key(Role::Editor);
    let body = json!({
        "slug": "several-wrongs",
        "kind": "bogus",
        "published_on": "soon",
        "authors": "not a list",
        "colour": "red",
        "variants": {"en": {"title": "T", "body_format": "rtf", "summary": 5}}
    });
    let reply = app
        .send_json(Method::POST, "/v1/publications", Some(&editor), &body)
        .await;
    let problem = assert_problem(&reply, 400, "invalid_body");
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "authors",
            "colour",
            "kind",
            "published_on",
            "variants.en.body_format",
            "variants.en.summary"
        ],
        "{problem}"
    );

    // A missing required field the parse took out is not named twice; a
    // genuinely missing one is named.
    let reply = app
        .send_json(
            Method::POST,
            "/v1/organisations",
            Some(&editor),
            &json!({"slug": "org-with-wrongs", "roles": "funder", "website": 7}),
        )
        .await;
    let problem = assert_problem(&reply, 400, "invalid_body");
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["", "roles", "website"], "{problem}");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing field `name`"))
            || problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("missing field `name`")),
        "{problem}"
    );
}
