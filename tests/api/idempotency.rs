//! `Idempotency-Key`: a client that timed out retries a POST with the same
//! key and gets the first answer, never a second write.

use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use serde_json::{json, Value};

use super::{assert_problem, bearer, demo_app, Reply, TestApp};
use crate::on_both_backends;

fn draft(title: &str) -> Value {
    let slug: String = title
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    json!({
        "slug": slug,
        "kind": "report",
        "project": "dialogue-solutions-future",
        "variants": {"en": {"title": title}}
    })
}

async fn post(
    app: &TestApp,
    uri: &str,
    key: &str,
    idempotency: Option<&str>,
    body: &Value,
) -> Reply {
    let mut request = TestRequest::post()
        .uri(uri)
        .insert_header(bearer(key))
        .set_json(body);
    if let Some(idempotency) = idempotency {
        request = request.insert_header(("Idempotency-Key", idempotency));
    }
    app.send(request).await
}

/// How many publications have this English title (drafts included).
async fn titled(app: &TestApp, key: &str, title: &str) -> usize {
    let page = app
        .send(
            TestRequest::get()
                .uri("/v1/publications?status=draft&limit=100")
                .insert_header(bearer(key)),
        )
        .await
        .json();
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|item| item["title"] == title)
        .count()
}

on_both_backends!(
    a_retried_post_is_answered_once_and_written_once,
    |backend| {
        let app = demo_app(backend);
        let editor = app.key(Role::Editor);

        // Without a key, a retry of a POST that was written is refused (the
        // slug is taken), and the client never sees the answer it missed.
        let first = post(
            &app,
            "/v1/publications",
            &editor,
            None,
            &draft("Twice without a key"),
        )
        .await;
        assert_eq!(
            first.status,
            201,
            "{}",
            String::from_utf8_lossy(&first.body)
        );
        let retried = post(
            &app,
            "/v1/publications",
            &editor,
            None,
            &draft("Twice without a key"),
        )
        .await;
        assert_problem(&retried, 409, "slug_taken");

        // With one, the retry gets the first answer, byte for byte.
        let key = "6f1c2d9e-0a51-4c47-b0b3-2b8d0f1e9a10";
        let first = post(
            &app,
            "/v1/publications",
            &editor,
            Some(key),
            &draft("Once with a key"),
        )
        .await;
        assert_eq!(
            first.status,
            201,
            "{}",
            String::from_utf8_lossy(&first.body)
        );
        assert_eq!(first.header("idempotent-replayed"), None);
        let again = post(
            &app,
            "/v1/publications",
            &editor,
            Some(key),
            &draft("Once with a key"),
        )
        .await;
        assert_eq!(again.status, 201);
        assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(again.body, first.body);
        for header in ["location", "etag", "content-type"] {
            assert_eq!(again.header(header), first.header(header), "{header}");
        }
        assert_eq!(titled(&app, &editor, "Once with a key").await, 1);

        // The same key for another request is refused and writes nothing.
        let other = post(
            &app,
            "/v1/publications",
            &editor,
            Some(key),
            &draft("Another request"),
        )
        .await;
        assert_problem(&other, 422, "idempotency_key_reused");
        assert_eq!(titled(&app, &editor, "Another request").await, 0);

        // Keys belong to the API key that sent them.
        let colleague = app.key(Role::Editor);
        let theirs = post(
            &app,
            "/v1/publications",
            &colleague,
            Some(key),
            &draft("Another request"),
        )
        .await;
        assert_eq!(
            theirs.status,
            201,
            "{}",
            String::from_utf8_lossy(&theirs.body)
        );
        assert_eq!(theirs.header("idempotent-replayed"), None);

        // A refusal is an answer too: kept and replayed, not run again.
        let invalid = json!({"kind": "report", "variants": {}});
        let refused = post(
            &app,
            "/v1/publications",
            &editor,
            Some("invalid-once"),
            &invalid,
        )
        .await;
        assert_eq!(
            refused.status,
            400,
            "{}",
            String::from_utf8_lossy(&refused.body)
        );
        let refused_again = post(
            &app,
            "/v1/publications",
            &editor,
            Some("invalid-once"),
            &invalid,
        )
        .await;
        assert_eq!(refused_again.status, 400);
        assert_eq!(refused_again.body, refused.body);
        assert_eq!(
            refused_again.header("idempotent-replayed").as_deref(),
            Some("true")
        );
    }
);

on_both_backends!(transitions_take_idempotency_keys_too, |backend| {
    let app = demo_app(backend);
    let editor = app.key(Role::Editor);
    let made = post(
        &app,
        "/v1/publications",
        &editor,
        None,
        &draft("To be published"),
    )
    .await;
    let slug = made.json()["slug"].as_str().expect("slug").to_owned();
    let publish = format!("/v1/publications/{slug}/publish");

    let first = post(&app, &publish, &editor, Some("publish-1"), &json!({})).await;
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let again = post(&app, &publish, &editor, Some("publish-1"), &json!({})).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
});

on_both_backends!(bad_keys_and_other_methods, |backend| {
    let app = demo_app(backend);
    let editor = app.key(Role::Editor);
    for bad in ["two words", &"k".repeat(256)] {
        let reply = post(
            &app,
            "/v1/publications",
            &editor,
            Some(bad),
            &draft("Bad key"),
        )
        .await;
        assert_problem(&reply, 400, "bad_request");
    }
    assert_eq!(titled(&app, &editor, "Bad key").await, 0);
    // A GET with the header is an ordinary GET, and anonymous POSTs (the
    // views beacon) pass through.
    let read = app
        .get_with("/v1/publications?limit=1", &[("Idempotency-Key", "read-1")])
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.header("idempotent-replayed"), None);
    let slug = read.json()["items"][0]["slug"]
        .as_str()
        .expect("slug")
        .to_owned();
    for _ in 0..2 {
        let beacon = app
            .send(
                TestRequest::post()
                    .uri("/v1/stats/views")
                    .insert_header(("Idempotency-Key", "beacon-1"))
                    .set_json(json!({"publication": slug, "language": "en"})),
            )
            .await;
        assert_eq!(beacon.status, 204);
        assert_eq!(beacon.header("idempotent-replayed"), None);
    }
});
