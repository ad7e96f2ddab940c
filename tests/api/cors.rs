//! Cross-origin requests: answered for configured origins only, without
//! credentials unless configured.

use actix_web::test::TestRequest;
use actix_web::web;
use arkiv::cors::CorsSettings;
use arkiv::state::AppState;

use super::{TestApp, TestDb};
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

    // Another origin gets no permission.
    let other = app.send(preflight("https://evil.example")).await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    let other_read = app
        .get_with(
            "/v1/publications?limit=1",
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(other_read.header("access-control-allow-origin"), None);
});

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
