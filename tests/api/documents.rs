//! Stored rendered details (`publication_documents`): a detail answered
//! from its stored document is byte for byte the one rendered, and a
//! stored document is never served once its publication, the vocabulary
//! it names or its status moved on.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use actix_web::web;
use arkiv::domain::keys::Role;
use arkiv::state::AppState;
use serde_json::json;

use super::{assert_problem, bearer, demo_app, extract_settings, Reply, TestApp};
use crate::on_both_backends;

const SLUG: &str = "media-monitoring-report-2024-q4";

/// The demo archive with no response cache in front of the details, so
/// every GET reaches the handler; `documents` switches the stored details.
fn uncached_app(backend: super::Backend, documents: bool) -> TestApp {
    let mut app = demo_app(backend);
    let store = arkiv::files::FileStore::new(app.files.path().to_owned());
    app.state = web::Data::new(
        AppState::new(app.db.db.clone(), 0, store)
            .expect("state")
            .with_extractor(extract_settings())
            .with_documents(documents),
    );
    app
}

/// Writes the queued documents, as the flush thread does.
fn flush(app: &TestApp) -> usize {
    let mut conn = app.db.db.conn().expect("connection");
    app.state.documents.flush(&mut conn).expect("flush")
}

/// (from stored documents, rendered) so far, from the metrics.
fn sources(app: &TestApp) -> (u64, u64) {
    let mut out = String::new();
    app.state.documents.render_metrics(&mut out);
    let count = |source: &str| {
        let prefix = format!("arkiv_documents_total{{source=\"{source}\"}} ");
        out.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {source} count in {out}"))
    };
    (count("stored"), count("rendered"))
}

async fn read(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let reply = app.get_with(uri, headers).await;
    assert_eq!(
        reply.status,
        200,
        "{uri}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply
}

/// Two answers are the same: body, ETag and languages.
fn assert_same(stored: &Reply, rendered: &Reply) {
    assert_eq!(
        String::from_utf8_lossy(&stored.body),
        String::from_utf8_lossy(&rendered.body)
    );
    for name in ["etag", "content-language", "content-type", "vary"] {
        assert_eq!(stored.header(name), rendered.header(name), "{name}");
    }
}

on_both_backends!(stored_details_equal_rendered_ones, |backend| {
    let app = uncached_app(backend, true);
    let sq = format!("/v1/publications/{SLUG}?lang=sq");

    // The first reader of an edition gets it rendered; it is kept.
    let rendered = read(&app, &sq, &[]).await;
    assert_eq!(sources(&app), (0, 1));
    assert_eq!(flush(&app), 1);
    // The next one gets the stored document: the same answer.
    let stored = read(&app, &sq, &[]).await;
    assert_eq!(sources(&app), (1, 1));
    assert_same(&stored, &rendered);
    assert_eq!(stored.json()["requested_languages"], json!(["sq"]));
    // By id too, and through Accept-Language of one tag: the same document.
    let id = stored.json()["id"].as_str().expect("id").to_owned();
    let by_id = read(&app, &format!("/v1/publications/{id}?lang=sq"), &[]).await;
    assert_same(&by_id, &rendered);
    let by_header = read(
        &app,
        &format!("/v1/publications/{SLUG}"),
        &[("Accept-Language", "sq")],
    )
    .await;
    assert_same(&by_header, &rendered);
    assert_eq!(sources(&app), (3, 1));
    // A 304 from a stored document as from a rendered one.
    let tag = stored.header("etag").expect("etag");
    let again = app.get_with(&sq, &[("If-None-Match", &tag)]).await;
    assert_eq!(again.status, 304);

    // Each edition is its own document.
    let available: Vec<String> = rendered.json()["available_languages"]
        .as_array()
        .expect("languages")
        .iter()
        .filter_map(|lang| lang.as_str().map(str::to_owned))
        .filter(|lang| lang != "sq")
        .collect();
    assert!(!available.is_empty());
    for lang in &available {
        let uri = format!("/v1/publications/{SLUG}?lang={lang}");
        let first = read(&app, &uri, &[]).await;
        assert_eq!(flush(&app), 1);
        let second = read(&app, &uri, &[]).await;
        assert_same(&second, &first);
        assert_eq!(second.json()["language"], lang.as_str());
    }
    let editions = available.len() as u64;
    assert_eq!(sources(&app), (4 + editions, 1 + editions));

    // Several languages asked for, or every variant: rendered each time,
    // and they say what was asked.
    let several = read(
        &app,
        &format!("/v1/publications/{SLUG}"),
        &[("Accept-Language", "sq, en;q=0.5")],
    )
    .await;
    assert_eq!(several.json()["requested_languages"], json!(["sq", "en"]));
    read(&app, &format!("/v1/publications/{SLUG}?lang=all"), &[]).await;
    assert_eq!(sources(&app), (4 + editions, 1 + editions));
    assert_eq!(flush(&app), 0, "only one-language answers are kept");

    // Reader counts are the live ones, not those of the stored document.
    let mut conn = app.db.db.conn().expect("connection");
    app.state.stats.record(
        arkiv::stats::Event::View,
        &id,
        "sq",
        None,
        Some("Mozilla/5.0 Firefox/133.0"),
    );
    app.state.stats.flush(&mut conn).expect("stats flush");
    drop(conn);
    let counted = read(&app, &sq, &[]).await;
    assert_eq!(counted.json()["stats"]["views"], 1);
    assert_ne!(counted.header("etag"), rendered.header("etag"));
    assert_eq!(sources(&app).0, 5 + editions);
});

on_both_backends!(stored_details_never_outlive_what_they_show, |backend| {
    let app = uncached_app(backend, true);
    let editor = app.key(Role::Editor);
    let sq = format!("/v1/publications/{SLUG}?lang=sq");
    let before = read(&app, &sq, &[]).await.json();
    flush(&app);
    assert_eq!(read(&app, &sq, &[]).await.json(), before);
    assert_eq!(sources(&app), (1, 1));

    // An edit: the stored document is stale and not served.
    let edited = app
        .change(
            Method::PATCH,
            &format!("/v1/publications/{SLUG}"),
            &editor,
            Some(json!({"variants": {"sq": {"title": "Raporti i ri"}}})),
        )
        .await;
    assert_eq!(
        edited.status,
        200,
        "{}",
        String::from_utf8_lossy(&edited.body)
    );
    let after = read(&app, &sq, &[]).await;
    assert_eq!(after.json()["title"], "Raporti i ri");
    assert_eq!(sources(&app), (1, 2));
    flush(&app);
    assert_eq!(read(&app, &sq, &[]).await.json()["title"], "Raporti i ri");
    assert_eq!(sources(&app), (2, 2));

    // The vocabulary it names: a renamed project shows at once.
    let project = read(&app, &sq, &[]).await.json()["project"]["slug"]
        .as_str()
        .expect("a project")
        .to_owned();
    let renamed = app
        .change(
            Method::PATCH,
            &format!("/v1/projects/{project}"),
            &editor,
            Some(json!({"title": {"sq": "Projekti i riemërtuar"}})),
        )
        .await;
    assert_eq!(
        renamed.status,
        200,
        "{}",
        String::from_utf8_lossy(&renamed.body)
    );
    // The state notices changes when it next looks at the change log.
    let mut shown = String::new();
    for _ in 0..100 {
        shown = read(&app, &sq, &[]).await.json()["project"]["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if shown == "Projekti i riemërtuar" {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(shown, "Projekti i riemërtuar");

    // Withdrawn: 410, whatever is stored.
    flush(&app);
    read(&app, &sq, &[]).await;
    let withdrawn = app
        .act(
            &format!("/v1/publications/{SLUG}/withdraw"),
            &editor,
            Some(json!({"reason": "superseded"})),
        )
        .await;
    assert_eq!(
        withdrawn.status,
        200,
        "{}",
        String::from_utf8_lossy(&withdrawn.body)
    );
    assert_problem(&app.get(&sq).await, 410, "withdrawn");
    // Editors still see it, rendered.
    let seen = app
        .send(TestRequest::get().uri(&sq).insert_header(bearer(&editor)))
        .await;
    assert_eq!(seen.json()["status"], "withdrawn");
});

on_both_backends!(stored_details_can_be_switched_off, |backend| {
    let app = uncached_app(backend, false);
    let sq = format!("/v1/publications/{SLUG}?lang=sq");
    let first = read(&app, &sq, &[]).await;
    assert_eq!(flush(&app), 0, "nothing is queued");
    let second = read(&app, &sq, &[]).await;
    assert_same(&second, &first);
    assert_eq!(sources(&app), (0, 0));
});
