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

/// A request with a JSON body nested `levels` deep.
fn nested(levels: usize) -> String {
    format!(
        r#"{{"slug": "deep", "kind": "report", "variants": {{"en": {{"title": "Deep", "authors": {}"x"{}}}}}}}"#,
        "[".repeat(levels),
        "]".repeat(levels)
    )
}

on_both_backends!(the_frameworks_own_errors_are_problems_too, |backend| {
    use actix_web::http::header::HeaderValue;
    use actix_web::http::Method;

    let app = demo_app(backend);
    let editor = app.key(arkiv::auth::Role::Editor);
    let bearer = format!("Bearer {editor}");
    let detail = "/v1/publications/conclusions-expert-discussion-2024-10-31";
    let get = |uri: &str| TestRequest::get().uri(uri);
    let json_post = |body: String| {
        TestRequest::post()
            .uri("/v1/publications")
            .insert_header(("Authorization", bearer.clone()))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body)
    };
    let obs_text = |bytes: &'static [u8]| HeaderValue::from_bytes(bytes).expect("obs-text");
    // (what, request, status, code)
    let cases: Vec<(&str, TestRequest, u16, &str)> = vec![
        (
            "byte not UTF-8",
            get("/v1/publications/%FF"),
            400,
            "invalid_path",
        ),
        (
            "bytes not UTF-8",
            get("/v1/publications/%C3%28/citation"),
            400,
            "invalid_path",
        ),
        (
            "bad escape",
            get("/v1/publications/%zz"),
            400,
            "invalid_path",
        ),
        ("cut escape", get("/docs/%E2%82"), 400, "invalid_path"),
        (
            "query not UTF-8",
            get("/v1/search?q=%C3%28"),
            400,
            "invalid_query_string",
        ),
        (
            "bad query escape",
            get("/v1/publications?kind=%ZZ"),
            400,
            "invalid_query_string",
        ),
        (
            "unknown route",
            get("/v1/nothing-here"),
            404,
            "route_not_found",
        ),
        (
            "unknown docs file",
            get("/docs/no-such-file.js"),
            404,
            "route_not_found",
        ),
        (
            "POST to a slug",
            TestRequest::post().uri("/v1/publications/publish"),
            405,
            "method_not_allowed",
        ),
        (
            "DELETE the spec",
            TestRequest::delete().uri("/openapi.json"),
            405,
            "method_not_allowed",
        ),
        (
            "POST to the docs",
            TestRequest::post().uri("/docs/"),
            405,
            "method_not_allowed",
        ),
        (
            "OPTIONS without CORS",
            TestRequest::default()
                .method(Method::OPTIONS)
                .uri("/v1/publications"),
            405,
            "method_not_allowed",
        ),
        ("100 levels", json_post(nested(100)), 400, "json_too_deep"),
        (
            "100,000 levels",
            json_post(nested(100_000)),
            400,
            "json_too_deep",
        ),
        (
            "cut JSON",
            json_post("{\"slug\": ".into()),
            400,
            "invalid_body",
        ),
        (
            "text/plain",
            json_post(nested(1)).insert_header(("Content-Type", "text/plain")),
            415,
            "unsupported_media_type",
        ),
        (
            "Content-Type not ASCII",
            json_post(nested(1)).insert_header(("Content-Type", obs_text(b"application/\xffjson"))),
            415,
            "unsupported_media_type",
        ),
        (
            "a body over the limit",
            TestRequest::post()
                .uri("/oai")
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(vec![b'a'; (16 << 20) + 1]),
            413,
            "payload_too_large",
        ),
        (
            "Authorization not ASCII",
            get("/v1/fields").insert_header(("Authorization", obs_text(b"Bearer \xff"))),
            401,
            "unauthorized",
        ),
        (
            "If-Match not ASCII",
            TestRequest::patch()
                .uri(detail)
                .insert_header(("Authorization", bearer.clone()))
                .insert_header(("If-Match", obs_text(b"\"\xff\"")))
                .insert_header(("Content-Type", "application/merge-patch+json"))
                .set_payload("{}"),
            412,
            "precondition_failed",
        ),
    ];
    for (what, request, status, code) in cases {
        let reply = app.send(request).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let problem = assert_problem(&reply, status, code);
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {problem}"
        );
        assert_eq!(
            reply.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}"
        );
    }

    // A 405 lists the methods of the route the path matched: a slug may
    // be "publish", and such a publication takes GET, PUT, PATCH, DELETE.
    for (request, allowed) in [
        (
            TestRequest::post().uri("/v1/publications/publish"),
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
        (TestRequest::get().uri(&format!("{detail}/publish")), "POST"),
        (TestRequest::delete().uri("/openapi.json"), "GET, HEAD"),
        (TestRequest::put().uri("/docs/index.html"), "GET, HEAD"),
        (TestRequest::get().uri("/v1/admin/keys/k"), "DELETE"),
    ] {
        let reply = app.send(request).await;
        let problem = assert_problem(&reply, 405, "method_not_allowed");
        assert_eq!(reply.header("allow").as_deref(), Some(allowed), "{problem}");
        let said = problem["detail"].as_str().expect("detail");
        assert!(said.contains(&format!("takes {allowed}, not ")), "{said}");
    }

    // Every endpoint that takes a body refuses one declared too large
    // before reading it, as a problem.
    let admin = app.key(arkiv::auth::Role::Admin);
    let spec = app.get("/openapi.json").await.json();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if operation.get("requestBody").is_none() {
                continue;
            }
            let uri = path
                .replace("{id_or_slug}", "conclusions-expert-discussion-2024-10-31")
                .replace("{lang}", "en");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let request = TestRequest::default()
                .method(method.clone())
                .uri(&uri)
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("If-Match", "*"))
                .set_payload("{}")
                .insert_header(("Content-Length", (1u64 << 30).to_string()));
            let reply = app.send(request).await;
            assert_problem(&reply, 413, "payload_too_large");
            checked += 1;
            let _ = method;
        }
    }
    assert!(checked >= 15, "{checked} endpoints take a body");
});
