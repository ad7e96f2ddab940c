//! Cross-origin requests: answered for configured origins only, without
//! credentials unless configured.

use actix_web::test::TestRequest;
use actix_web::web;
use arkiv::http::cors::CorsSettings;
use arkiv::state::AppState;

use super::{assert_problem, Reply, TestApp, TestDb};
use crate::on_both_backends;

fn app_with(backend: super::Backend, origins: &[&str], credentials: bool) -> TestApp {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let settings = CorsSettings::new(origins.iter().map(|o| o.to_string()).collect(), credentials)
        .expect("settings");
    let state = AppState::new(
        app.db.db.clone(),
        16 << 20,
        arkiv::files::FileStore::new(app.files.path().to_owned()),
    )
    .expect("state")
    .with_cors(settings);
    TestApp {
        state: web::Data::new(state),
        ..app
    }
}

fn preflight(origin: &str) -> TestRequest {
    TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/v1/admin/keys")
        .insert_header(("Origin", origin))
        .insert_header(("Access-Control-Request-Method", "POST"))
        .insert_header((
            "Access-Control-Request-Headers",
            "authorization, content-type",
        ))
}

on_both_backends!(configured_origins_get_cors_headers, |backend| {
    let app = app_with(backend, &["https://nsi-ks.com"], false);
    let answer = app.send(preflight("https://nsi-ks.com")).await;
    assert!(answer.status.is_success(), "{}", answer.status);
    assert_eq!(
        answer.header("access-control-allow-origin").as_deref(),
        Some("https://nsi-ks.com")
    );
    let methods = answer
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );
    let headers = answer
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(headers.contains("authorization"), "{headers}");
    assert_eq!(answer.header("access-control-allow-credentials"), None);

    let read = app
        .get_with(
            "/v1/publications?limit=1",
            &[("Origin", "https://nsi-ks.com")],
        )
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.header("access-control-allow-origin").as_deref(),
        Some("https://nsi-ks.com")
    );
    let exposed = read
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("link"),
        "{exposed}"
    );

    // Another origin is refused outright, with a problem.
    let other = app.send(preflight("https://evil.example")).await;
    assert_problem(&other, 403, "cors_origin_forbidden");
    assert_eq!(other.header("access-control-allow-origin"), None);
    let other_read = app
        .get_with(
            "/v1/publications?limit=1",
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_problem(&other_read, 403, "cors_origin_forbidden");
    assert_eq!(other_read.header("access-control-allow-origin"), None);
    for origin in [
        "null",
        "https://nsi-ks.com.evil.example",
        "http://nsi-ks.com",
    ] {
        let reply = app.get_with("/v1/fields", &[("Origin", origin)]).await;
        assert_problem(&reply, 403, "cors_origin_forbidden");
    }
});

/// The names in a response's `Vary`, which must be one header.
fn vary(reply: &Reply) -> Vec<String> {
    let values: Vec<&str> = reply
        .headers
        .get_all("vary")
        .filter_map(|value| value.to_str().ok())
        .collect();
    assert_eq!(values.len(), 1, "one Vary header: {values:?}");
    values[0]
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .collect()
}

on_both_backends!(vary_keeps_every_negotiated_header, |backend| {
    let app = app_with(backend, &["https://nsi-ks.com"], false);
    let origin = ("Origin", "https://nsi-ks.com");
    let slug = "conclusions-expert-discussion-2024-10-31";
    let detail = format!("/v1/publications/{slug}");
    let citation = format!("/v1/publications/{slug}/citation");
    let cases: [(&str, Vec<(&str, &str)>); 6] = [
        ("/v1/publications?limit=1", vec![origin]),
        (
            "/v1/publications?limit=1",
            vec![origin, ("Accept-Encoding", "br")],
        ),
        (
            &detail,
            vec![
                origin,
                ("Accept-Encoding", "gzip"),
                ("Accept-Language", "sq"),
            ],
        ),
        (&detail, vec![("Accept-Encoding", "br")]),
        (&citation, vec![origin, ("Accept", "application/ld+json")]),
        ("/v1/fields", vec![origin]),
    ];
    for (uri, headers) in &cases {
        let reply = app.get_with(uri, headers).await;
        assert_eq!(reply.status, 200, "{uri}");
        let names = vary(&reply);
        for wanted in ["origin", "accept-encoding", "accept-language"] {
            assert_eq!(
                names.iter().filter(|name| *name == wanted).count(),
                1,
                "{uri} {headers:?}: {names:?}"
            );
        }
    }
    // A 304 says the same, and so does a problem.
    let first = app.get_with(&detail, &[origin]).await;
    let tag = first.header("etag").expect("etag");
    let again = app
        .get_with(&detail, &[origin, ("If-None-Match", &tag)])
        .await;
    assert_eq!(again.status, 304);
    assert!(vary(&again).contains(&"accept-language".to_owned()));
    assert!(vary(&again).contains(&"origin".to_owned()));
    let missing = app
        .get_with("/v1/publications/no-such-thing", &[origin])
        .await;
    assert_problem(&missing, 404, "not_found");
    assert!(vary(&missing).contains(&"origin".to_owned()));
});

on_both_backends!(
    preflights_take_every_allowed_header_and_refuse_the_rest,
    |backend| {
        let app = app_with(backend, &["https://nsi-ks.com"], false);
        let allowed = [
            "x-requested-with",
            "if-match",
            "if-none-match",
            "authorization",
            "content-type",
            "idempotency-key",
            "accept-language",
            "range",
            "content-disposition",
        ];
        let ask = |method: &str, headers: &str| {
            TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/v1/publications/some-slug")
                .insert_header(("Origin", "https://nsi-ks.com"))
                .insert_header(("Access-Control-Request-Method", method.to_owned()))
                .insert_header(("Access-Control-Request-Headers", headers.to_owned()))
        };
        let mut requests: Vec<String> = allowed.iter().map(|h| h.to_string()).collect();
        requests.push(allowed.join(", "));
        requests.push("X-Requested-With, If-Match, Idempotency-Key".into());
        for headers in &requests {
            for method in ["GET", "POST", "PATCH", "DELETE"] {
                let reply = app.send(ask(method, headers)).await;
                assert_eq!(
                    reply.status,
                    200,
                    "{method} with {headers}: {}",
                    String::from_utf8_lossy(&reply.body)
                );
                assert_eq!(
                    reply.header("access-control-allow-origin").as_deref(),
                    Some("https://nsi-ks.com")
                );
                let names = vary(&reply);
                assert!(names.contains(&"origin".to_owned()), "{names:?}");
            }
        }
        let refused = app.send(ask("POST", "content-type, x-evil")).await;
        assert_problem(&refused, 403, "cors_preflight_refused");
        let refused = app.send(ask("TRACE", "content-type")).await;
        assert_problem(&refused, 403, "cors_preflight_refused");
        let refused = app.send(ask("POST", "bad header name")).await;
        assert_problem(&refused, 403, "cors_preflight_refused");

        // The API's own pages (its docs) are same-origin, configured or not.
        let own = app
            .send(
                TestRequest::post()
                    .uri("/v1/publications")
                    .insert_header(("Origin", "http://127.0.0.1:8080"))
                    .insert_header(("Content-Type", "application/json"))
                    .set_payload("{}"),
            )
            .await;
        assert_problem(&own, 401, "unauthorized");
    }
);

on_both_backends!(
    without_origins_there_is_no_cors_and_credentials_are_opt_in,
    |backend| {
        let plain = app_with(backend, &[], false);
        let read = plain
            .get_with(
                "/v1/publications?limit=1",
                &[("Origin", "https://nsi-ks.com")],
            )
            .await;
        assert_eq!(read.status, 200);
        assert_eq!(read.header("access-control-allow-origin"), None);

        let with_credentials = app_with(backend, &["https://nsi-ks.com"], true);
        let answer = with_credentials.send(preflight("https://nsi-ks.com")).await;
        assert_eq!(
            answer.header("access-control-allow-credentials").as_deref(),
            Some("true")
        );
        let any = app_with(backend, &["*"], false);
        let read = any
            .get_with(
                "/v1/publications?limit=1",
                &[("Origin", "https://anywhere.example")],
            )
            .await;
        assert_eq!(
            read.header("access-control-allow-origin").as_deref(),
            Some("*")
        );
    }
);
