//! Bad input: every malformed request is a problem+json 4xx that names what
//! was wrong, never a 5xx.

use actix_web::test::TestRequest;

use super::{assert_problem, demo_app};
use crate::on_both_backends;

on_both_backends!(malformed_requests_are_4xx_problems, |backend| {
    let app = demo_app(backend);
    let cases: &[(&str, u16, &str, &str)] = &[
        (
            "/v1/publications?limit=0",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?limit=101",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?limit=ten",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?limit=-1",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?limit=1&limit=2",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?cursor=garbage",
            400,
            "invalid_cursor",
            "cursor",
        ),
        (
            "/v1/publications?limit=%2B5",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?cursor=WyJ4Il0",
            400,
            "invalid_cursor",
            "cursor",
        ),
        (
            "/v1/publications?sort=newest",
            400,
            "invalid_parameter",
            "sort",
        ),
        (
            "/v1/publications?kind=book",
            400,
            "invalid_parameter",
            "kind",
        ),
        ("/v1/publications?year=24", 400, "invalid_parameter", "year"),
        (
            "/v1/publications?published_from=2024-13-01",
            400,
            "invalid_parameter",
            "published_from",
        ),
        (
            "/v1/publications?published_to=yesterday",
            400,
            "invalid_parameter",
            "published_to",
        ),
        (
            "/v1/publications?updated_since=soon",
            400,
            "invalid_parameter",
            "updated_since",
        ),
        (
            "/v1/publications?language=klingon!",
            400,
            "invalid_parameter",
            "language",
        ),
        (
            "/v1/publications?language=de",
            400,
            "invalid_parameter",
            "language",
        ),
        (
            "/v1/publications?lang=e%20n",
            400,
            "invalid_parameter",
            "lang",
        ),
        ("/v1/publications?lang=*", 400, "invalid_parameter", "lang"),
        (
            "/v1/publications?project=Not%20A%20Slug",
            400,
            "invalid_parameter",
            "project",
        ),
        (
            "/v1/publications?q=words",
            400,
            "unknown_query_parameter",
            "q",
        ),
        ("/v1/publications?lang=%FF", 400, "invalid_query_string", ""),
        (
            "/v1/publications?kind=%E2%82",
            400,
            "invalid_query_string",
            "",
        ),
        (
            "/v1/publications/Not%20a%20slug",
            400,
            "invalid_parameter",
            "id_or_slug",
        ),
        (
            "/v1/publications/UPPER",
            400,
            "invalid_parameter",
            "id_or_slug",
        ),
        ("/v1/publications/no-such-publication", 404, "not_found", ""),
        (
            "/v1/publications/0192f5e4-1c2b-7cc3-9a4e-6f1d2b3c4d5e",
            404,
            "not_found",
            "",
        ),
        (
            "/v1/publications/a--b",
            400,
            "invalid_parameter",
            "id_or_slug",
        ),
        (
            "/v1/projects/%2e%2e",
            400,
            "invalid_parameter",
            "id_or_slug",
        ),
        ("/v1/organisations/nobody", 404, "not_found", ""),
        (
            "/v1/organisations?role=donor",
            400,
            "invalid_parameter",
            "role",
        ),
        ("/v1/events?kind=party", 400, "invalid_parameter", "kind"),
        ("/v1/events/no-event", 404, "not_found", ""),
        ("/v1/fields/no-field", 404, "not_found", ""),
        (
            "/v1/fields?limit=5",
            400,
            "unknown_query_parameter",
            "limit",
        ),
        ("/v1/nothing-here", 404, "route_not_found", ""),
        ("/nothing", 404, "route_not_found", ""),
    ];
    for (uri, status, code, field) in cases {
        let reply = app.get(uri).await;
        let problem = assert_problem(&reply, *status, code);
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{uri}: {problem}"
        );
        if !field.is_empty() {
            assert_eq!(problem["errors"][0]["field"], *field, "{uri}: {problem}");
        }
    }
    let long = format!("/v1/publications?kind={}", "a".repeat(10_000));
    assert_problem(&app.get(&long).await, 414, "query_too_long");
    // Upper-case UUIDs name the same resource as lower-case ones.
    let project = app
        .get("/v1/projects/dialogue-solutions-future")
        .await
        .json();
    let upper = project["id"].as_str().expect("id").to_uppercase();
    assert_eq!(
        app.get(&format!("/v1/projects/{upper}")).await.json()["slug"],
        "dialogue-solutions-future"
    );
    let filtered = app
        .get(&format!("/v1/publications?project={upper}"))
        .await
        .json();
    assert_eq!(filtered["total"], project["publications_total"]);
});

on_both_backends!(unknown_parameters_list_the_allowed_ones, |backend| {
    let app = demo_app(backend);
    let problem = assert_problem(
        &app.get("/v1/publications?colour=red&page=2").await,
        400,
        "unknown_query_parameter",
    );
    let allowed: Vec<&str> = problem["allowed"]
        .as_array()
        .expect("allowed")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    for name in [
        "kind",
        "field",
        "project",
        "funder",
        "partner",
        "event",
        "language",
        "year",
        "published_from",
        "published_to",
        "updated_since",
        "sort",
        "limit",
        "cursor",
        "lang",
    ] {
        assert!(allowed.contains(&name), "{name} missing from {allowed:?}");
    }
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["colour", "page"]);
});

on_both_backends!(other_methods_get_405_and_head_works, |backend| {
    let app = demo_app(backend);
    for (request, allowed) in [
        (
            TestRequest::put().uri("/v1/publications"),
            "GET, HEAD, POST",
        ),
        (
            TestRequest::post().uri("/v1/publications/conclusions-expert-discussion-2024-10-31"),
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
        (
            TestRequest::get()
                .uri("/v1/publications/conclusions-expert-discussion-2024-10-31/publish"),
            "POST",
        ),
        (
            TestRequest::post().uri("/v1/projects/dialogue-solutions-future"),
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
        (TestRequest::put().uri("/v1/errors"), "GET, HEAD"),
        (TestRequest::delete().uri("/v1/search"), "GET, HEAD"),
    ] {
        let reply = app.send(request).await;
        assert_problem(&reply, 405, "method_not_allowed");
        assert_eq!(reply.header("allow").as_deref(), Some(allowed));
    }
    assert_problem(
        &app.send(TestRequest::post().uri("/v1/nowhere")).await,
        404,
        "route_not_found",
    );
    let head = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/v1/publications"),
        )
        .await;
    assert_eq!(head.status, 200);
    assert!(head.header("etag").is_some());
});

on_both_backends!(odd_headers_and_parameterless_endpoints, |backend| {
    let app = demo_app(backend);
    let garbled = app
        .get_with("/v1/publications", &[("Accept-Language", ";;;q=,,,")])
        .await;
    assert_eq!(garbled.status, 200);
    assert_eq!(
        garbled.json()["requested_languages"],
        serde_json::json!(["en"])
    );
    let odd_etag = app
        .get_with("/v1/publications", &[("If-None-Match", "garbage")])
        .await;
    assert_eq!(odd_etag.status, 200);
    for uri in [
        "/healthz?x=1",
        "/readyz?verbose",
        "/v1/errors?page=2",
        "/openapi.json?v=3",
    ] {
        assert_problem(&app.get(uri).await, 400, "unknown_query_parameter");
    }
    let table = app.get("/v1/errors").await.json();
    let codes: Vec<&str> = table["items"]
        .as_array()
        .expect("table")
        .iter()
        .filter_map(|row| row["code"].as_str())
        .collect();
    assert_eq!(table["total"].as_u64(), Some(codes.len() as u64));
    for code in [
        "invalid_cursor",
        "not_found",
        "method_not_allowed",
        "withdrawn",
        "query_too_long",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
});
