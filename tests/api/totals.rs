//! A list's `total` (kept per process from the change log, D92) is the
//! number of items its pages hold, for any filter, before and after writes.

use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use serde_json::json;

use super::{bearer, demo_app, TestApp};
use crate::on_both_backends;

/// Walks every page of `uri` (two at a time) and returns (total, items).
async fn walk(app: &TestApp, uri: &str, key: Option<&str>) -> (i64, usize) {
    let mut seen = 0;
    let mut total = None;
    let mut cursor: Option<String> = None;
    loop {
        let separator = if uri.contains('?') { '&' } else { '?' };
        let mut page_uri = format!("{uri}{separator}limit=2");
        if let Some(cursor) = &cursor {
            page_uri.push_str(&format!("&cursor={cursor}"));
        }
        let mut request = TestRequest::get().uri(&page_uri);
        if let Some(key) = key {
            request = request.insert_header(bearer(key));
        }
        let page = app.send(request).await;
        assert_eq!(
            page.status,
            200,
            "{page_uri}: {}",
            String::from_utf8_lossy(&page.body)
        );
        let page = page.json();
        let this_total = page["total"].as_i64().expect("total");
        assert_eq!(
            *total.get_or_insert(this_total),
            this_total,
            "{uri}: total changed between pages"
        );
        seen += page["items"].as_array().expect("items").len();
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    (total.unwrap_or(0), seen)
}

const LISTS: [&str; 14] = [
    "/v1/publications",
    "/v1/publications?kind=report",
    "/v1/publications?kind=report,media_monitoring",
    "/v1/publications?language=sq",
    "/v1/publications?language=sr",
    "/v1/publications?language=sr-Cyrl&sort=title",
    "/v1/publications?field=media-monitoring",
    "/v1/publications?field=media-monitoring,normalization-dialogue&sort=-updated_at",
    "/v1/publications?project=dialogue-solutions-future",
    "/v1/publications?project=no-such-project",
    "/v1/publications?year=2024",
    "/v1/publications?year=2024,2025&kind=report",
    "/v1/publications?published_from=2024-06-01&published_to=2025-01-31",
    "/v1/publications?updated_since=2000-01-01T00:00:00Z&language=en&sort=published_on",
];

on_both_backends!(totals_are_what_the_pages_hold, |backend| {
    let app = demo_app(backend);
    let editor = app.key(Role::Editor);
    let mut nonzero = 0;
    for uri in LISTS {
        let (total, seen) = walk(&app, uri, None).await;
        assert_eq!(total, seen as i64, "{uri}");
        nonzero += usize::from(total > 0);
    }
    assert!(nonzero >= 10, "the filters select something: {nonzero}");
    let (drafts, seen) = walk(
        &app,
        "/v1/publications?status=draft,published",
        Some(&editor),
    )
    .await;
    assert_eq!(drafts, seen as i64);

    // Writes move the totals at once: a draft (editors only), published,
    // given a language, withdrawn.
    let (before, _) = walk(&app, "/v1/publications?kind=policy_paper", None).await;
    let (before_sq, _) = walk(&app, "/v1/publications?language=sq&kind=policy_paper", None).await;
    let made = app
        .send(
            TestRequest::post()
                .uri("/v1/publications")
                .insert_header(bearer(&editor))
                .set_json(json!({
                    "slug": "counted-once",
                    "kind": "policy_paper",
                    "project": "dialogue-solutions-future",
                    "fields": ["media-monitoring"],
                    "variants": {"en": {"title": "Counted once"}}
                })),
        )
        .await;
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    assert_eq!(
        walk(&app, "/v1/publications?kind=policy_paper", None)
            .await
            .0,
        before
    );
    let published = app
        .act("/v1/publications/counted-once/publish", &editor, None)
        .await;
    assert_eq!(published.status, 200);
    assert_eq!(
        walk(&app, "/v1/publications?kind=policy_paper", None).await,
        (before + 1, before as usize + 1)
    );
    assert_eq!(
        walk(&app, "/v1/publications?language=sq&kind=policy_paper", None)
            .await
            .0,
        before_sq
    );
    let edited = app
        .change(
            actix_web::http::Method::PATCH,
            "/v1/publications/counted-once",
            &editor,
            Some(json!({"variants": {"sq": {"title": "Numëruar një herë"}}})),
        )
        .await;
    assert_eq!(
        edited.status,
        200,
        "{}",
        String::from_utf8_lossy(&edited.body)
    );
    assert_eq!(
        walk(&app, "/v1/publications?language=sq&kind=policy_paper", None).await,
        (before_sq + 1, before_sq as usize + 1)
    );
    let withdrawn = app
        .act(
            "/v1/publications/counted-once/withdraw",
            &editor,
            Some(json!({"reason": "counted"})),
        )
        .await;
    assert_eq!(withdrawn.status, 200);
    assert_eq!(
        walk(&app, "/v1/publications?kind=policy_paper", None)
            .await
            .0,
        before
    );
    for uri in LISTS {
        let (total, seen) = walk(&app, uri, None).await;
        assert_eq!(total, seen as i64, "{uri} after the writes");
    }
});
